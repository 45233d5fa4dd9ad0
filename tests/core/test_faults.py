"""Faults: hard time limits, crashing models, SIGKILL of the whole run, resume afterwards, and
sweeps run by Hydra's launchers landing in one results set."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from harness.core.cell import CellSpec
from harness.data.vision import load_digits
from harness.core.isolation import run_isolated
from harness.results.store import load_results, read_cells

SMALL = ["profile=smoke", "dataset=digits", "hardware.threads=1"]


def rows(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "results.parquet")


def test_a_fit_that_overruns_is_killed_and_recorded_as_timeout(run_bench):
    # 3,000 trees on 4,000 MNIST images take minutes; scikit-learn cannot be stopped from inside
    t0 = time.perf_counter()
    code, folder = run_bench("dataset=mnist5k", "model=random_forest", "model.estimator.n_estimators=3000",
                             "time_limit=1", "hardware.threads=1", "seed=0")
    assert code == 1 and time.perf_counter() - t0 < 60
    row = rows(folder).iloc[0]
    assert row["status"] == "timeout" and "killed after 3.0 s of training" in row["error"]
    assert row["cell_seconds"] < 10


def test_a_model_that_crashes_its_process_is_an_error_row():
    # os.abort as the "estimator" kills the cell's process with SIGABRT (allowed only by opting out)
    spec = CellSpec(model={"name": "abort", "estimator": {"_target_": "os.abort"}}, seed=0, device="cpu",
                    family="classical", threads=1, allow_any_target=True, label="abort")
    result = run_isolated(spec, load_digits(0))
    assert result["status"] == "error" and "died during training with signal SIGABRT" in result["error"]


def test_without_the_opt_out_the_same_config_is_refused():
    spec = CellSpec(model={"name": "abort", "estimator": {"_target_": "os.abort"}}, seed=0, device="cpu",
                    family="classical", threads=1, label="abort")
    result = run_isolated(spec, load_digits(0))
    assert result["status"] == "error" and "allow-list" in result["error"]


def bench_process(results: Path, *overrides: str) -> subprocess.Popen:
    """`bench run` in a child process, with Ctrl-C's default disposition as a terminal gives it: a
    process started in the background by a shell without job control (CI scripts' `cmd &`) inherits
    SIGINT ignored, and so would every bench run these tests interrupt (seen: both Ctrl-C tests timed
    out in a CI run started that way)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", *overrides, f"paths.results={results}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            cwd=Path(__file__).resolve().parents[2],
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def cells_folder_once_two_finish(results: Path, timeout: float = 120.0) -> Path:
    """The running run's cells/ folder, as soon as two of its cells have been written whole."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [f for f in results.glob("vision/*/cells/*.parquet") if not f.name.startswith(".")]
        if len(found) >= 2:
            return found[0].parent
        time.sleep(0.05)
    raise AssertionError("the run never finished two cells")


def test_ctrl_c_after_the_last_cell_started_stops_the_running_ones(tmp_results):
    # Two cells for two workers: both start at once and the run only waits for them. Ctrl-C then used to
    # leave the long cell running (the cancel was set only while cells were still being handed out), and
    # the run waited for its 5,000 epochs: CI once saw the test above time out this way.
    args = [*SMALL, "suite.models=[gaussian_nb,cnn]", "seed=0", "profile.max_epochs=5000",
            "profile.patience=5000", "hardware.workers=2", "++suite.profiles.smoke.overrides.cnn.estimator.max_epochs=5000"]
    proc = bench_process(tmp_results, *args)
    deadline = time.monotonic() + 120
    while not list(tmp_results.glob("vision/*/cells/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_results.glob("vision/*/cells/*.parquet")), "gaussian_nb never finished"
    time.sleep(1.0)  # the CNN is training; the run sits in its final wait
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
    assert list(rows(next(tmp_results.glob("vision/*/"))).model) == ["gaussian_nb"]


def test_sigkill_mid_run_leaves_every_finished_cell_readable_and_resume_completes_it(tmp_results):
    args = [*SMALL, "suite.models=[gaussian_nb,knn,mlp,cnn,logistic_regression,decision_tree]", "seed=0"]
    proc = bench_process(tmp_results, *args)
    cells = cells_folder_once_two_finish(tmp_results)
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    folder = cells.parent
    finished = read_cells(cells)  # every file there is whole: each was renamed into place complete
    assert 2 <= len(finished) < 6 and set(finished["status"]) == {"ok"}
    assert not (folder / "results.parquet").exists()  # killed before consolidating: cells are the truth
    # the cell processes notice that their runner is gone and exit
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not [p for p in alive if "bench-cell" in " ".join(p.cmdline() if p.is_running() else [])]
    # the same command again: the finished cells are copied, the rest run
    again = bench_process(tmp_results, *args)
    assert again.wait(timeout=300) == 0
    second = max(p for p in (tmp_results / "vision").iterdir() if p.is_dir() and p != folder)
    df = rows(second)
    assert len(df) == 6 and (df["status"] == "ok").all()
    assert (df["reused_from"] == str(folder)).sum() == len(finished)
    assert load_results([folder]).shape[0] == len(finished)  # the killed run is still readable alone


def test_joblib_sweep_with_two_workers_lands_in_one_results_set(run_bench, tmp_results):
    code, folder = run_bench(*SMALL, "suite.models=[gaussian_nb,knn,mlp]", "--split=model",
                             "hydra/launcher=local", "hydra.launcher.n_jobs=2")
    assert code == 0
    df = rows(folder)
    assert sorted(df["model"]) == ["gaussian_nb", "knn", "mlp"] and (df["status"] == "ok").all()
    assert sorted(p.name for p in (folder / "jobs").iterdir()) == ["0", "1", "2"]
    assert len({r for r in df["job"]}) == 3
    assert (folder / "report.html").is_file() and "gaussian_nb" in (folder / "report.md").read_text()
    assert (folder / "run.json").is_file() and all((folder / "jobs" / j / "run.json").is_file() for j in ("1", "2"))


def test_split_refuses_what_it_cannot_do(run_bench, capsys):
    assert run_bench(*SMALL, "--split=seed")[0] == 2
    assert "--split takes one or both of model, dataset" in capsys.readouterr().err
    assert run_bench(*SMALL, "--split=model", "model=mlp")[0] == 2
    assert run_bench(*SMALL, "--split=model", "hydra/launcher=nonexistent")[0] == 2


@pytest.mark.slow
def test_submitit_local_sweep_lands_in_one_results_set(run_bench):
    # submitit's local executor runs the same code path as its SLURM executor, without a cluster;
    # the launcher is the optional `slurm` extra (pip install -e '.[slurm]')
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the slurm extra")
    code, folder = run_bench(*SMALL, "suite.models=[gaussian_nb,knn]", "--split=model",
                             "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5")
    assert code == 0
    assert sorted(rows(folder)["model"]) == ["gaussian_nb", "knn"]


def test_ctrl_c_with_cells_side_by_side_stops_them_and_keeps_every_finished_cell(tmp_results):
    # the CNN (5,000 epochs: it must outlast two classical cells even on a loaded machine, where 500
    # once finished first) runs first, longest first; the classical cells finish beside it
    args = [*SMALL, "suite.models=[gaussian_nb,knn,cnn,logistic_regression,decision_tree]", "seed=0",
            "profile.max_epochs=5000", "profile.patience=5000", "hardware.workers=2",
            "++suite.profiles.smoke.overrides.cnn.estimator.max_epochs=5000"]  # vision's smoke recipe says 2
    proc = bench_process(tmp_results, *args)
    cells = cells_folder_once_two_finish(tmp_results)
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130  # interrupted: running cells were stopped, not waited for
    df = read_cells(cells)
    assert 2 <= len(df) < 5 and "cnn" not in set(df["model"]) and set(df["status"]) == {"ok"}  # no row when interrupted
    assert len(rows(cells.parent)) == len(df)  # consolidated before exiting
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not [p for p in alive if "bench-cell" in " ".join(p.cmdline() if p.is_running() else [])]
