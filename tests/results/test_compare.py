"""`bench compare`: changes beyond seed noise are regressions, machine speed is normalised away,
and the Markdown summary is safe to post. Synthetic runs pin the arithmetic; two real smoke runs
show a real regression (a learning rate 1,000 times too small) being caught end to end."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.core.display import console
from harness.results.compare import Thresholds, compare, load_side, to_markdown
from harness.results.store import RunStore


def fake_run(folder: Path, cells: list[dict], calibration: float | None = 0.1) -> Path:
    """A run folder with these rows (defaults fill the rest) and a calibration in run.json."""
    store = RunStore(folder)
    for i, c in enumerate(cells):
        row = {"suite": "vision", "dataset": "digits", "model": "m", "variant": "", "params_id": "p", "n_train": 300,
               "n_test": 200, "seed": 0, "status": "ok", "error": None, "accuracy": 0.9, "train_seconds": 1.0,
               "predict_seconds_per_1k": 0.01, "profile": "smoke", "torch_threads": 1, "device": "cpu",
               "reused_from": None, "cell_started": str(i)} | c
        store.write_row(row)
    store.consolidate()
    store.write_json("run.json", {"calibration": None if calibration is None else {"seconds": calibration}})
    return folder


def seeds(values: list[float], **fixed) -> list[dict]:
    return [{"seed": s, "accuracy": a} | fixed for s, a in enumerate(values)]


def verdicts(tmp_path: Path, base_cells, new_cells, base_cal=0.1, new_cal=0.1, **th) -> pd.DataFrame:
    b, _ = load_side(fake_run(tmp_path / "base", base_cells, base_cal))
    n, _ = load_side(fake_run(tmp_path / "new", new_cells, new_cal))
    return compare(b, n, Thresholds(**th)).set_index("model")


def test_identical_runs_are_unchanged(tmp_path):
    cells = seeds([0.90, 0.92, 0.91])
    df = verdicts(tmp_path, cells, cells)
    assert df.loc["m", "verdict"] == "unchanged" and df.loc["m", "accuracy_change"] == 0


def test_a_drop_inside_seed_noise_is_not_a_regression_but_one_outside_is(tmp_path):
    noisy = seeds([0.85, 0.91, 0.97])  # sd 0.06: band 3 * sqrt(2 * 0.06**2 / 3) = 0.147
    assert verdicts(tmp_path / "a", noisy, seeds([0.80, 0.86, 0.92])).loc["m", "verdict"] == "unchanged"
    df = verdicts(tmp_path / "b", noisy, seeds([0.60, 0.66, 0.72]))
    assert df.loc["m", "verdict"] == "regression" and "accuracy" in df.loc["m", "reasons"]
    assert df.loc["m", "accuracy_band"] == pytest.approx(3 * np.sqrt(2 * 0.06 ** 2 / 3))


def test_one_seed_per_side_uses_the_floor(tmp_path):
    assert verdicts(tmp_path / "a", seeds([0.90]), seeds([0.89])).loc["m", "verdict"] == "unchanged"
    assert verdicts(tmp_path / "b", seeds([0.90]), seeds([0.85])).loc["m", "verdict"] == "regression"
    assert verdicts(tmp_path / "c", seeds([0.90]), seeds([0.85]), accuracy_drop=0.1).loc["m", "verdict"] == "unchanged"


def test_a_slower_machine_is_not_a_regression(tmp_path):
    base = seeds([0.9, 0.9, 0.9], train_seconds=4.0)
    slower_machine = seeds([0.9, 0.9, 0.9], train_seconds=8.0)  # twice the time, twice the calibration
    df = verdicts(tmp_path, base, slower_machine, base_cal=0.1, new_cal=0.2)
    assert df.loc["m", "verdict"] == "unchanged" and df.loc["m", "train_ratio"] == pytest.approx(1.0)


def test_a_slower_model_on_the_same_machine_is(tmp_path):
    df = verdicts(tmp_path, seeds([0.9] * 3, train_seconds=4.0), seeds([0.9] * 3, train_seconds=9.0))
    assert df.loc["m", "verdict"] == "regression" and "train time x2.25" in df.loc["m", "reasons"]


def models(times: dict[str, float]) -> list[dict]:
    """Three seeds of each named model with this training time."""
    return [c | {"model": m} for m, t in times.items() for c in seeds([0.9] * 3, train_seconds=t)]


def test_a_run_wide_drift_is_divided_out_but_a_cell_beyond_it_is_caught(tmp_path):
    base = models({f"m{i}": 4.0 for i in range(6)} | {"hgb": 4.0})
    # the CI runner's case: every cell x1.3 slower after calibration, one x1.9 (x1.46 beyond the run)
    drifted = models({f"m{i}": 5.2 for i in range(6)} | {"hgb": 7.6})
    df = verdicts(tmp_path / "a", base, drifted)
    assert (df["verdict"] == "unchanged").all() and df.loc["m0", "train_drift"] == pytest.approx(1.3)
    slower = models({f"m{i}": 5.2 for i in range(6)} | {"hgb": 10.4})  # x2 beyond the run
    df = verdicts(tmp_path / "b", base, slower)
    assert df.loc["hgb", "verdict"] == "regression" and "x2.00 beyond the run's x1.30" in df.loc["hgb", "reasons"]
    assert (df.drop(index="hgb")["verdict"] == "unchanged").all()


def test_a_slowdown_of_everything_beyond_drift_ratio_still_fails(tmp_path):
    base = models({f"m{i}": 4.0 for i in range(6)})
    df = verdicts(tmp_path, base, models({f"m{i}": 10.0 for i in range(6)}))  # x2.5 > drift_ratio 2
    assert (df["verdict"] == "regression").all() and (df["train_drift"] == 1).all()


def test_a_faster_run_or_millisecond_cells_give_no_drift(tmp_path):
    """Only a slowdown of cells long enough to measure the machine is divided out: a run where the
    others sped up (a fixed cost gone, an idle machine) does not make a cell that kept its time slow."""
    base = models({f"m{i}": 4.0 for i in range(6)} | {"hgb": 4.0})
    df = verdicts(tmp_path / "a", base, models({f"m{i}": 2.0 for i in range(6)} | {"hgb": 4.0}))
    assert df.loc["hgb", "verdict"] == "unchanged" and df.loc["hgb", "train_drift"] == 1
    tiny = models({f"m{i}": 0.05 for i in range(6)} | {"hgb": 4.0, "rf": 4.0})
    df = verdicts(tmp_path / "b", tiny, models({f"m{i}": 0.10 for i in range(6)} | {"hgb": 6.8, "rf": 6.8}))
    assert (df.loc[["hgb", "rf"], "verdict"] == "regression").all()  # x1.7: the x2 of 50 ms cells is no drift


def test_few_cells_give_no_drift(tmp_path):
    df = verdicts(tmp_path, models({"a": 4.0, "b": 4.0}), models({"a": 6.8, "b": 6.8}))
    assert (df["verdict"] == "regression").all()  # x1.7 each, two cells: nothing to divide by


def test_millisecond_slowdowns_are_noise(tmp_path):
    df = verdicts(tmp_path, seeds([0.9] * 3, train_seconds=0.01), seeds([0.9] * 3, train_seconds=0.05))
    assert df.loc["m", "verdict"] == "unchanged"  # x5, but +0.04 s is under min_seconds


def test_a_failing_cell_is_a_regression_and_a_fixed_one_an_improvement(tmp_path):
    broken = seeds([0.9, 0.9, np.nan], status="ok")
    broken[2].update(status="timeout", error="killed after 3 s")
    df = verdicts(tmp_path / "a", seeds([0.9] * 3), broken)
    assert df.loc["m", "verdict"] == "regression" and "timeout" in df.loc["m", "reasons"]
    failing = [{"seed": 0, "status": "error", "error": "ValueError", "accuracy": np.nan}]
    assert verdicts(tmp_path / "b", failing, seeds([0.9])).loc["m", "verdict"] == "improvement"


def test_models_only_on_one_side_are_listed_not_failed(tmp_path):
    df = verdicts(tmp_path, seeds([0.9]) + [{"model": "gone"}], seeds([0.9]) + [{"model": "added"}])
    assert df.loc["gone", "verdict"] == "missing" and df.loc["added", "verdict"] == "new"


def test_reused_rows_are_normalised_by_the_run_that_timed_them(tmp_path):
    origin = fake_run(tmp_path / "origin", seeds([0.9], train_seconds=8.0), calibration=0.2)
    base = fake_run(tmp_path / "base", seeds([0.9], train_seconds=4.0), calibration=0.1)
    # `new` ran on a fast machine (calibration 0.05) but copied its cell from `origin` (slow machine)
    new = fake_run(tmp_path / "new", seeds([0.9], train_seconds=8.0, reused_from=str(origin)), calibration=0.05)
    b, _ = load_side(base)
    n, _ = load_side(new)
    assert compare(b, n, Thresholds()).iloc[0]["train_ratio"] == pytest.approx(1.0)


def test_markdown_escapes_what_comes_from_results(tmp_path):
    evil = "<script>alert(1)</script>|x"
    df = verdicts(tmp_path, seeds([0.9], model=evil), seeds([0.5], model=evil))
    md = to_markdown(df.reset_index(), "base", "new", [], Thresholds())
    assert "<script>" not in md and "&lt;script&gt;" in md and "\\|x" in md
    assert md.startswith("### ❌ bench compare: 1 regressions")


def test_cli_exit_codes(tmp_path, capsys):
    base = fake_run(tmp_path / "base", seeds([0.9, 0.91, 0.9]))
    worse = fake_run(tmp_path / "worse", seeds([0.5, 0.51, 0.5]))
    assert main(["compare", str(base), str(base)]) == 0
    md = tmp_path / "summary.md"
    assert main(["compare", str(base), str(worse), "--markdown", str(md)]) == 1
    assert "1 regressions" in md.read_text()
    assert main(["compare", str(base), str(tmp_path / "absent")]) == 2
    assert "no such results folder" in capsys.readouterr().err
    assert main(["compare", str(base), str(worse), "--time-ratio", "0.5"]) == 2


def test_a_suite_folder_means_its_newest_run(tmp_path):
    fake_run(tmp_path / "vision" / "2026-01-01_00-00-00", seeds([0.5]))
    newest = fake_run(tmp_path / "vision" / "2026-02-01_00-00-00", seeds([0.9]))
    _, folders = load_side(tmp_path / "vision")
    assert folders == [newest]


def test_real_regression_is_caught_end_to_end(run_bench, tmp_results, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)  # rich would cut lines and tables at 80 columns
    args = ["profile=smoke", "dataset=digits", "hardware.threads=1", "suite.models=[gaussian_nb,mlp]",
            "profile.max_epochs=5"]
    code, base = run_bench(*args)
    assert code == 0
    # the same config again (forced, so the cells really run): nothing changed
    code, same = run_bench(*args, "--force")
    assert code == 0 and main(["compare", str(base), str(same)]) == 0
    # a learning rate 1,000 times too small: the MLP stays near chance
    code, worse = run_bench(*args, "++suite.overrides.mlp.estimator.lr=1e-6")
    assert code == 0
    capsys.readouterr()
    assert main(["compare", str(base), str(worse)]) == 1
    out = capsys.readouterr().err
    assert "1 regressions" in out and "accuracy" in out
    assert json.loads((worse / "run.json").read_text())["calibration"]["seconds"] > 0
