"""Bad input of every kind gets a clear error and loses nothing.

A table of hand-picked cases runs the real CLI against a results folder that already holds a
finished run, and checks the exit code, a one-line message naming what is wrong, and that the
earlier run is byte-for-byte untouched. A hypothesis search then throws generated overrides at the
config layer: anything it cannot use must be a ConfigError (exit 2), never a traceback.
"""
from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from harness.app import preflight
from harness.cli import main
from harness.core.config import ConfigError
from harness.core.display import console
from harness.core.hardware import HardwareError
from harness.report import write_report
from harness.results.store import RunStore

SMALL = ["profile=smoke", "dataset=digits", "hardware.threads=1", "model=gaussian_nb"]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier(bench, tmp_path_factory):
    """A results folder with one finished run in it, shared by the cases."""
    results = tmp_path_factory.mktemp("bad-input") / "results"
    code, folder = bench(results, *SMALL)
    assert code == 0
    return results


def image_folder(root: Path, classes: dict[str, int]) -> Path:
    rng = np.random.default_rng(0)
    for cls, n in classes.items():
        (root / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(root / cls / f"{i}.png")
    return root


# (overrides, expected exit code, words the error must contain)
RUN_CASES = [
    (["suite=nope"], 2, ["unknown suite 'nope'", "valid suites"]),
    (["model=nope"], 2, ["unknown model 'nope'", "suite vision runs the models"]),
    (["dataset=nope"], 2, ["unknown dataset 'nope'", "suite vision runs the datasets"]),
    (["profile=huge"], 2, ["unknown profile 'huge'"]),
    (["hardware=tpu"], 2, ["unknown hardware 'tpu'"]),
    (["scaling=maybe"], 2, ["unknown scaling 'maybe'"]),
    (["learning_rate=0.1"], 2, ["learning_rate", "top-level keys"]),
    (["profile.max_trian=5"], 2, ["max_trian"]),
    (["profile.max_train=-5"], 2, ["profile.max_train must be at least 2"]),
    (["profile.max_train=abc"], 2, ["profile.max_train must be int"]),
    (["profile.max_train=0"], 2, ["at least 2"]),
    (["profile.max_test=0"], 2, ["profile.max_test must be at least 1"]),
    (["profile.max_epochs=0"], 2, ["profile.max_epochs must be at least 1"]),
    (["profile.patience=-1"], 2, ["profile.patience must be at least 0"]),
    (["profile.seeds=[a]"], 2, ["profile.seeds must be non-negative integers"]),
    (["profile.seeds=[-1]"], 2, ["profile.seeds must be non-negative integers"]),
    (["seed=-1"], 2, ["seed must be at least 0"]),
    (["seed=1.5"], 2, ["seed must be int"]),
    (["time_limit=-1"], 2, ["time_limit must be at least 0"]),
    (["time_limit=soon"], 2, ["time_limit must be"]),
    (["tune=maybe"], 2, ["tune must be bool"]),
    (["resume=sometimes"], 2, ["resume must be bool"]),
    (["hardware.threads=0"], 2, ["hardware.threads must be at least 1"]),
    (["isolation=thread"], 2, ["isolation must be one of process, none"]),
    (["model=gaussian_nb", "model.estimator._target_=os.system"], 2, ["os.system", "allow-list"]),
    (["model=mlp", "model.estimator.module=subprocess.call"], 2, ["subprocess.call", "allow-list"]),
    (["dataset=digits", "dataset.load._target_=builtins.eval"], 2, ["builtins.eval", "allow-list"]),
    (["dataset=idx"], 2, ["dataset idx needs a value for load.path"]),
    (["-m", "seed=0,x"], 2, ["seed must be int"]),
    (["-m", "suite=vision,nope"], 2, ["unknown suite 'nope'"]),
    (["-m", "model=gaussian_nb,nope"], 2, ["unknown model 'nope'"]),
    (["hydra/launcher=nope"], 2, ["launcher"]),
    (["--split=seed"], 2, ["--split takes one or both of model, dataset"]),
    (["model=null"], 2, ["Config group override must be a string"]),
    (["~model", "suite.models=[nope]"], 2, ["unknown model 'nope'"]),
    (["seed=[0"], 2, ["cannot parse overrides"]),
]


@pytest.mark.parametrize("overrides,code,words", RUN_CASES, ids=["config:" + " ".join(c[0]) for c in RUN_CASES])
def test_bad_run_input_is_exit_2_one_line_and_loses_nothing(earlier, overrides, code, words, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)  # rich would cut lines and tables at 80 columns
    before = snapshot(earlier)
    capsys.readouterr()
    keys = {x.split("=")[0].lstrip("~") for x in overrides}
    assert main(["run", *[o for o in SMALL if o.split("=")[0] not in keys],
                 *overrides, f"paths.results={earlier}"]) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for w in words:
        assert w in err, (w, err)
    assert "Traceback" not in err
    assert snapshot(earlier) == before


def run_dataset_case(results: Path, *overrides: str) -> tuple[int, list[str]]:
    import pandas as pd

    code = main(["run", "profile=smoke", "hardware.threads=1", "model=gaussian_nb", *overrides,
                 f"paths.results={results}"])
    found = sorted(results.glob("vision/*/results.parquet"))
    errors = list(pd.read_parquet(found[-1])["error"]) if found else []
    return code, errors


def test_a_results_path_that_is_a_file_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)  # rich would cut lines and tables at 80 columns
    (tmp_path / "file").write_text("not a folder")
    assert main(["run", *SMALL, f"paths.results={tmp_path / 'file'}"]) == 2
    assert "cannot hold results" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "not a folder"


def test_datasets_that_cannot_be_used_become_error_rows_and_lose_nothing(earlier, tmp_path):
    before = snapshot(earlier)
    cases = {
        "missing idx folder": (["dataset=idx", f"dataset.load.path={tmp_path / 'absent'}"], "absent"),
        "empty image folder": (["dataset=image_folder", f"dataset.load.path={tmp_path / 'empty'}"], "per class"),
        "one class": (["dataset=image_folder", f"dataset.load.path={image_folder(tmp_path / 'one', {'a': 5})}"],
                      "per class (found 1)"),
        "no images": (["dataset=image_folder", f"dataset.load.path={image_folder(tmp_path / 'none', {'a': 0, 'b': 0})}"],
                      "no images found"),
    }
    (tmp_path / "empty").mkdir()
    for name, (overrides, words) in cases.items():
        code, errors = run_dataset_case(earlier, *overrides)
        assert code == 1, name
        assert len(errors) == 1 and errors[0].startswith("dataset:") and words in errors[0], (name, errors)
    assert {k: v for k, v in snapshot(earlier).items() if k in before} == before


def test_damaged_result_files_are_named_and_what_is_readable_still_counts(earlier, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)  # rich would cut lines and tables at 80 columns
    good = next(earlier.glob("vision/*/cells/*.parquet")).read_bytes()
    broken = tmp_path / "broken"  # its only cell damaged: nothing to show
    (RunStore(broken).cells / "x.parquet").write_bytes(b"not parquet at all")
    half = tmp_path / "half"  # one damaged cell beside a good one: the good one stands
    RunStore(half).cells.joinpath("a.parquet").write_bytes(good)
    half.joinpath("cells", "b.parquet").write_bytes(good[: len(good) // 2])
    bad_json = tmp_path / "bad-json"  # damaged provenance: the rows stand without it
    RunStore(bad_json).cells.joinpath("y.parquet").write_bytes(good)
    (bad_json / "run.json").write_text("{not json")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [(["report", str(broken)], 2, ["x.parquet is damaged", "no finished cells"]),
             (["report", str(half)], 0, ["b.parquet is damaged"]),
             (["report", str(bad_json)], 0, ["run.json is damaged"]),
             (["report", str(empty)], 2, ["holds no bench run"]), (["report", str(tmp_path / "absent")], 2, ["no such results folder"]),
             (["compare", str(broken), str(earlier / "vision")], 2, ["x.parquet is damaged"]),
             (["compare", str(empty), str(earlier / "vision")], 2, ["holds no bench run"]),
             (["claims", str(broken)], 2, ["x.parquet is damaged"]), (["claims", str(bad_json)], 0, ["run.json is damaged"])]
    for argv, code, words in cases:
        capsys.readouterr()
        assert main(argv) == code, argv
        err = capsys.readouterr().err
        assert all(w in err for w in words) and "Traceback" not in err, (argv, err)
    assert not (broken / "report.html").exists() and (half / "report.html").exists()
    assert pd.read_parquet(half / "cells" / "a.parquet").equals(pd.read_parquet(bad_json / "cells" / "y.parquet"))


DAMAGE = {"truncated": lambda data: data[: len(data) // 2], "empty": lambda data: b"",
          "garbage": lambda data: bytes(range(256)) * 8, "flipped": lambda data: data[:8] + bytes(b ^ 0xFF for b in data[8:])}


DAMAGED_FILES = [(kind, damage) for kind in ["cell", "results.parquet", "run.json", "reference"] for damage in sorted(DAMAGE)]


@pytest.mark.parametrize("kind,damage", DAMAGED_FILES, ids=[f"damage:{k}-{d}" for k, d in DAMAGED_FILES])
def test_every_file_bench_reads_back_survives_damage_without_a_traceback(earlier, tmp_path, capsys, kind, damage):
    """Truncated, emptied, overwritten or bit-flipped: bench names the file, keeps everything else,
    and never shows a traceback. A reference (a consolidated run alone) is bad input (exit 2)."""
    import shutil

    run = next(p.parent for p in earlier.glob("vision/*/cells"))
    copy = tmp_path / "vision" / run.name
    shutil.copytree(run, copy)
    if kind == "reference":  # results/reference/<suite>: results.parquet only
        shutil.rmtree(copy / "cells")
    if kind == "cell":  # a run killed before it consolidated: its cells are what is read
        (copy / "results.parquet").unlink()
    target = {"cell": next((copy / "cells").glob("*.parquet")) if kind == "cell" else None,
              "results.parquet": copy / "results.parquet", "run.json": copy / "run.json",
              "reference": copy / "results.parquet"}[kind]
    target.write_bytes(DAMAGE[damage](target.read_bytes()))
    capsys.readouterr()
    code = main(["claims", str(copy)])
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(target.name) in err, err
    if kind == "reference":
        assert code == 2 and "cannot read result file" in err
    elif kind == "cell" and len(list((copy / "cells").glob("*.parquet"))) == 1:
        assert code == 2 and "no finished cells" in err  # its only cell: nothing left to judge, said plainly
    else:  # the other cells (or, for run.json, all of them) stand: the scorecard is computed from them
        assert code == 0
    assert main(["run", *SMALL, f"paths.results={tmp_path}", "seed=0"]) == 0  # a new run beside it: resume copes


def test_a_broken_earlier_run_does_not_stop_a_new_one(earlier, capsys):
    damaged = earlier / "vision" / "2000-01-01_00-00-00"
    RunStore(damaged).cells.joinpath("z.parquet").write_bytes(b"garbage")
    assert main(["run", *SMALL, f"paths.results={earlier}", "seed=3"]) == 0  # resume skips it with a warning


def test_report_escapes_every_string_from_config_and_data(tmp_path):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    store = RunStore(tmp_path / "run")
    for seed in (0, 1):
        for model, family in (("m" + hostile, "classical"), ("d" + hostile, "deep")):
            store.write_row({
                "suite": "vision", "dataset": "ds" + hostile, "model": model, "variant": "v" + hostile,
                "family": family, "params": hostile, "params_id": "p", "seed": seed, "n_train": 100, "n_test": 50,
                "profile": hostile, "status": "ok" if seed == 0 else "error", "error": None if seed == 0 else hostile,
                "accuracy": 0.9 if seed == 0 else np.nan, "f1_macro": 0.9, "train_seconds": 1.0,
                "predict_seconds_per_1k": 0.1, "peak_memory_mb": 1.0, "n_parameters": 10, "device": "cpu",
                "cpu_model": hostile, "gpu_name": None, "torch_threads": 1, "git_commit": hostile, "job": "0",
                "cell_started": f"2026{seed}", "cell_seconds": 1.0})
    store.consolidate()
    store.write_json("run.json", {"overrides": [hostile], "config": {"x": hostile}, "machine": {"cpu_model": hostile},
                                  "versions": {"torch": hostile}, "git_commit": hostile})
    md_path, html_path = write_report([store.folder], tmp_path / "out")
    page, md = html_path.read_text(), md_path.read_text()
    assert "<script" not in md and "<img src=x" not in md
    # The page has scripts of its own (plotly's library, its figures, the table script), none from data:
    # no tag or attribute comes from a string, inside or outside a script, and each is shown escaped.
    assert '<script>alert("x")' not in page and "<img src=x" not in page and "onerror=alert(1)>" not in page
    tags = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append((tag, dict(attrs)))
    parser.feed(page)
    assert not [(t, a) for t, a in tags if any(k.startswith("on") for k in a)], "an event handler from data"
    assert [a["src"][:11] for t, a in tags if t == "img"] == ["data:image/"] * sum(t == "img" for t, _ in tags)
    assert "&lt;script&gt;" in page
    assert "plotly-graph-div" in page  # the hostile names are drawn by plotly too, escaped before it sees them
    assert 'm&lt;script&gt;alert(\\"x\\")&lt;' in page  # a model's name in a figure's JSON


KEYS = ["seed", "tune", "time_limit", "resume", "isolation", "profile.max_train", "profile.max_test",
        "profile.max_epochs", "profile.patience", "hardware.threads", "suite", "model", "dataset", "profile",
        "hardware", "scaling", "interpret", "interpret.sample", "model.estimator.lr", "nonsense", "suite.models"]
values = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["null", "true", "false", "[]", "[1,2]", "{}", "''", "mlp", "digits", "vision", "smoke",
                     "cpu", "cuda", "on", "off", "${oops}", "${profile.max_epochs}", "[mlp,knn]"]),
    st.text(string.ascii_letters + string.digits + "_-.,[]{}$:'\" ", max_size=12))
override = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS), values)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(override, max_size=3))
def test_generated_overrides_are_either_valid_or_a_config_error(overrides):
    try:
        preflight(overrides)
    except (ConfigError, HardwareError) as e:
        assert str(e).strip() and "\n" not in str(e).strip()


UNSAFE_LOADS = re.compile(r"torch\.load\((?![^)]*weights_only\s*=\s*True)|pickle\.loads?\(|joblib\.load\(|"
                          r"allow_pickle\s*=\s*True|read_pickle\(|yaml\.load\(|yaml\.unsafe_load\(|dill\.loads?\(")


def test_nothing_unpickles_files_a_user_was_handed():
    # Result folders and datasets come from other people: rows are Parquet, provenance JSON, data
    # idx/.ts/CSV/images. A future loader that unpickles must opt in to weights_only or not exist.
    root = Path(__file__).parent.parent
    found = [f"{p.relative_to(root)}:{i + 1}: {line.strip()}"
             for top in ("harness", "baselines", "suites")
             for p in sorted((root / top).rglob("*.py"))
             for i, line in enumerate(p.read_text().splitlines()) if UNSAFE_LOADS.search(line)]
    assert not found, found
