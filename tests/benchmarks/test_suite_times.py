"""benchmarks/suite_times.py on tiny synthetic run folders: wall time from run.json (or the cells'
span), reused cells apart, slowest ordering, save/compare ratios, a changed machine flagged."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.results.store import RunStore
from tests.benchmarks import load_script

st = load_script("suite_times")
MACHINE = {"device": "cpu", "cpu_model": "AMD EPYC", "cpu_cores": 2, "gpu_name": None, "torch_threads": 1}


def row(model, seed, seconds, *, suite="vision", variant="", status="ok", reused_from=None, started="20260101T000000000000"):
    return {"suite": suite, "dataset": "digits", "model": model, "variant": variant, "params_id": "p", "seed": seed,
            "n_train": 100, "status": status, "train_seconds": seconds, "cell_seconds": seconds,
            "cell_started": started, "torch_threads": 1, "device": "cpu", "profile": "smoke",
            "reused_from": reused_from, "git_commit": "abc"}


def make_run(folder: Path, rows: list[dict], *, started="2026-01-01T00:00:00+00:00", ended="2026-01-01T00:01:40+00:00",
             machine=MACHINE, info=True) -> Path:
    store = RunStore(folder)
    for r in rows:
        store.write_row(r)
    store.consolidate()
    if info:
        store.write_json("run.json", {"suite": rows[0]["suite"], "started": started, "ended": ended,
                                      "machine": machine, "git_commit": "abc", "code_version": "c0de"})
    return folder


def test_wall_from_run_json_reused_apart_and_slowest_order(tmp_path):
    run = make_run(tmp_path / "vision" / "20260101T000000", [
        row("cnn", 0, 30.0), row("cnn", 1, 50.0), row("knn", 0, 5.0, variant="k=3"),
        row("mlp", 0, 12.0, status="error"),
        row("svm", 0, 999.0, reused_from="results/vision/old"),  # cost nothing in this run
    ])
    f = st.figures(run)
    assert f["wall_seconds"] == 100.0 and f["wall_from"] == "run.json"
    assert f["cells"] == {"ok": 3, "failed": 1, "reused": 1}
    assert f["cell_seconds_sum"] == pytest.approx(97.0)
    assert f["cells_per_minute"] == pytest.approx(4 / (100 / 60))
    assert [c["cell"] for c in f["slowest"]] == ["vision/digits/cnn seed 1", "vision/digits/cnn seed 0",
                                                 "vision/digits/mlp seed 0"]
    assert f["slowest"][2]["status"] == "error"
    assert f["model_mean_cell_seconds"] == {"cnn": 40.0, "knn[k=3]": 5.0}  # ok cells only, reused left out


def test_wall_falls_back_to_cell_span(tmp_path):
    run = make_run(tmp_path / "run", [row("cnn", 0, 10.0, started="20260101T000000000000"),
                                      row("cnn", 1, 5.0, started="20260101T000020000000"),
                                      row("svm", 0, 500.0, reused_from="x", started="20250101T000000000000")],
                   info=False)
    f = st.figures(run)
    assert f["wall_from"] == "cells" and f["wall_seconds"] == pytest.approx(25.0)
    assert f["machine"] is None


def test_resolve_takes_each_suites_newest_and_skips_reference(tmp_path):
    make_run(tmp_path / "vision" / "20260101T000000", [row("cnn", 0, 1.0)])
    new = make_run(tmp_path / "vision" / "20260102T000000", [row("cnn", 0, 2.0)])
    text = make_run(tmp_path / "text" / "20260101T000000", [row("nb", 0, 1.0, suite="text")])
    make_run(tmp_path / "reference" / "vision", [row("cnn", 0, 3.0)])
    assert sorted(st.resolve([tmp_path])) == sorted([new, text])
    assert st.resolve([tmp_path / "vision"]) == [new]
    assert st.resolve([tmp_path / "reference"]) == [tmp_path / "reference" / "vision"]
    figs = st.collect([tmp_path])
    assert figs["total_wall_seconds"] == 200.0
    assert [c["seconds"] for c in figs["slowest"]] == [2.0, 1.0]


def test_a_suite_with_no_cell_yet_is_left_out(tmp_path):
    # suite=all makes every member's folder at its start: read mid-run, the later ones are still empty
    new = make_run(tmp_path / "vision" / "20260101T000000", [row("cnn", 0, 1.0)])
    (tmp_path / "text" / "20260101T000000").mkdir(parents=True)
    assert st.figures(tmp_path / "text" / "20260101T000000") is None
    figs = st.collect([tmp_path])
    assert list(figs["suites"]) == ["vision"] and figs["suites"]["vision"]["folder"] == str(new)


def test_save_compare_ratios_and_machine_flagged(tmp_path, capsys):
    make_run(tmp_path / "old" / "vision" / "1", [row("cnn", 0, 40.0), row("knn", 0, 4.0)])
    make_run(tmp_path / "old" / "text" / "1", [row("nb", 0, 6.0, suite="text")])
    make_run(tmp_path / "new" / "vision" / "2", [row("cnn", 0, 10.0), row("knn", 0, 4.0)],
             ended="2026-01-01T00:00:50+00:00")
    make_run(tmp_path / "new" / "text" / "2", [row("nb", 0, 3.0, suite="text")],
             machine=MACHINE | {"cpu_model": "Intel Xeon", "cpu_cores": 8})
    saved = tmp_path / "before.json"
    assert st.main([str(tmp_path / "old"), "--save", str(saved)]) == 0
    assert json.loads(saved.read_text())["suites"]["vision"]["wall_seconds"] == 100.0
    md = tmp_path / "t.md"
    assert st.main([str(tmp_path / "new"), "--compare", str(saved), "--markdown", str(md)]) == 0
    cmp = st.compare(json.loads(saved.read_text()), st.collect([tmp_path / "new"]))
    assert cmp["vision"]["speedup"] == pytest.approx(2.0) and not cmp["vision"]["not_comparable"]
    assert cmp["vision"]["models"]["cnn"]["speedup"] == pytest.approx(4.0)
    assert cmp["vision"]["models"]["knn"]["speedup"] == pytest.approx(1.0)
    assert any("cpu_model" in w for w in cmp["text"]["not_comparable"])
    assert any("cpu_cores" in w for w in cmp["text"]["not_comparable"])
    out = capsys.readouterr().out
    assert "2.00x" in out and "NO: cpu_model AMD EPYC vs Intel Xeon" in out
    assert "| vision | 100.0 | 50.0 | 2.00x | yes |" in md.read_text()


def test_profile_difference_flagged():
    old = {"suites": {"s": {"wall_seconds": 10.0, "profile": "smoke", "machine": MACHINE, "model_mean_cell_seconds": {}}}}
    new = {"suites": {"s": {"wall_seconds": 20.0, "profile": "full", "machine": MACHINE, "model_mean_cell_seconds": {}}}}
    assert st.compare(old, new)["s"]["not_comparable"] == ["profile smoke vs full"]


def test_unreadable_input_exits_2(tmp_path, capsys):
    assert st.main([str(tmp_path / "missing")]) == 2
    assert "no such results folder" in capsys.readouterr().err


def test_sweep_wall_spans_every_job(tmp_path):
    """A sweep's jobs share the folder, each with its run.json: first start to last end."""
    run = make_run(tmp_path / "run", [row("cnn", 0, 10.0), row("knn", 0, 1.0)],
                   ended="2026-01-01T00:01:00+00:00")
    RunStore(run).write_json("jobs/1/run.json", {"suite": "vision", "started": "2026-01-01T00:00:10+00:00",
                                                "ended": "2026-01-01T00:02:00+00:00"})
    assert st.figures(run)["wall_seconds"] == 120.0
    RunStore(run).write_json("jobs/2/run.json", {"suite": "vision", "started": "2026-01-01T00:00:10+00:00",
                                                "ended": None})  # killed: the cells' span instead
    assert st.figures(run)["wall_from"] == "cells"
