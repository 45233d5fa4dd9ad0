"""Nothing lost, nothing conflated: one folder per run, rows that say whose run they are, a cell read
once, and files others may read."""
from __future__ import annotations

import multiprocessing as mp
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from harness import app
from harness.results import store
from harness.results.store import atomic_write_bytes, load_results


class FixedClock:
    """datetime whose now() is one fixed second: every run "starts" at once."""

    @staticmethod
    def now():
        import datetime as dt

        return dt.datetime(2026, 1, 2, 3, 4, 5)


def _reserve(results: str, barrier, out) -> None:
    app.datetime = FixedClock  # this process's clock: the same second as the others'
    barrier.wait()
    out.put(app.new_run_stamp(Path(results), ["vision", "text"]))


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    """Four processes reserve a stamp at the same instant of the same second: four names, four folders."""
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_reserve, args=(str(tmp_path), barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    stamps = sorted(out.get(timeout=5) for _ in procs)
    assert stamps == ["2026-01-02_03-04-05", "2026-01-02_03-04-05-2", "2026-01-02_03-04-05-3", "2026-01-02_03-04-05-4"]
    for s in stamps:  # every suite of the run has its folder, made by the run that got the name
        assert (tmp_path / "vision" / s).is_dir() and (tmp_path / "text" / s).is_dir()


def test_a_name_taken_for_one_suite_is_released_for_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(app, "datetime", FixedClock)
    (tmp_path / "text" / "2026-01-02_03-04-05").mkdir(parents=True)  # another run's, of text only
    assert app.new_run_stamp(tmp_path, ["vision", "text"]) == "2026-01-02_03-04-05-2"
    assert not (tmp_path / "vision" / "2026-01-02_03-04-05").exists()  # released, not left behind


def test_two_real_runs_at_once_into_one_results_folder_keep_their_rows_apart(tmp_path):
    """Two `bench run` processes started together: two run folders, each with its own rows and run id."""
    import subprocess
    import sys

    results = tmp_path / "results"
    cmd = [sys.executable, "-c", "from harness.cli import entry; entry()", "run", "profile=smoke", "dataset=digits",
           "model=gaussian_nb", "seed=0", "hardware.threads=1", f"paths.results={results}", "resume=false"]
    env = os.environ | {"BENCH_WORKERS": "1"}
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    assert [p.wait(300) for p in procs] == [0, 0], [p.stderr.read()[-2000:] for p in procs]
    folders = sorted(p for p in (results / "vision").iterdir() if (p / "cells").is_dir())
    assert len(folders) == 2
    ids = [set(pd.read_parquet(f / "results.parquet")["run_id"]) for f in folders]
    assert ids == [{f"vision/{f.name}"} for f in folders]
    assert len(load_results([results])) == 2  # one row per run, never pooled twice


def test_a_run_folder_given_twice_is_read_once(tmp_path):
    run = tmp_path / "vision" / "r1"
    (run / "cells").mkdir(parents=True)
    pd.DataFrame([{"suite": "vision", "model": "knn", "status": "ok"}]).to_parquet(run / "cells" / "a.parquet")
    assert len(load_results([tmp_path, run, tmp_path / "vision"])) == 1


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_written_follow_the_users_umask(tmp_path, monkeypatch, umask):
    monkeypatch.setattr(store, "FILE_MODE", 0o666 & ~umask)  # as computed at import under that umask
    path = tmp_path / "report.html"
    atomic_write_bytes(path, b"<html></html>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert store.FILE_MODE == 0o666 & ~umask


def test_the_mode_is_read_from_the_umask_in_force_at_import():
    old = os.umask(0o027)
    try:
        assert store._umask() == 0o027
    finally:
        os.umask(old)


def test_a_reused_row_beside_the_run_that_measured_it_counts_once(tmp_path):
    row = {"suite": "vision", "dataset": "digits", "model": "knn", "variant": "", "params": "{}", "seed": 0,
           "n_train": 100, "status": "ok", "cell_started": "20260101T000000000001", "reused_from": None}
    for run, extra in (("r1", {}), ("r2", {"reused_from": "results/vision/r1"})):
        (tmp_path / "vision" / run / "cells").mkdir(parents=True)
        pd.DataFrame([row | extra]).to_parquet(tmp_path / "vision" / run / "cells" / "a.parquet")
    df = load_results([tmp_path])
    assert len(df) == 1 and df["run"].iloc[0].endswith("r1")  # under the run that measured it
    assert len(load_results([tmp_path / "vision" / "r2"])) == 1  # a run alone still shows all its rows


def test_a_folder_of_consolidated_runs_is_read_as_the_committed_evidence_is(tmp_path):
    """results/evidence/ holds each run's results.parquet and run.json only: `bench claims --explain ID
    results/evidence` (what SCORECARD.md points to) reads them; smoke references under a reference/
    folder never mix in, and a root that holds runs with cells/ reads those alone, as before."""
    def consolidated(folder: Path, model: str) -> Path:
        folder.mkdir(parents=True)
        pd.DataFrame([{"suite": "vision", "model": model, "status": "ok"}]).to_parquet(folder / "results.parquet")
        (folder / "run.json").write_text("{}")
        return folder

    evidence = tmp_path / "results" / "evidence"
    runs = [consolidated(evidence / "vision" / "2026-01-01_00-00-00", "knn"),
            consolidated(evidence / "text" / "2026-01-01_01-00-00", "fasttext")]
    consolidated(tmp_path / "results" / "reference" / "vision", "cnn")
    assert store.run_folders(evidence) == sorted(runs)
    assert set(load_results([evidence])["model"]) == {"knn", "fasttext"}
    assert set(load_results([tmp_path / "results"])["model"]) == {"knn", "fasttext"}  # not the reference's cnn
    own = tmp_path / "results" / "vision" / "r1"
    (own / "cells").mkdir(parents=True)
    pd.DataFrame([{"suite": "vision", "model": "mlp", "status": "ok"}]).to_parquet(own / "cells" / "a.parquet")
    assert store.run_folders(tmp_path / "results") == [own]
    (tmp_path / "only-references" / "reference").mkdir(parents=True)
    consolidated(tmp_path / "only-references" / "reference" / "text", "fasttext")
    with pytest.raises(store.ResultsError, match="holds no bench run"):
        store.run_folders(tmp_path / "only-references")
