"""Fuzz: a results folder that cannot take files, read-only or on a full disk.

A full disk or a read-only file system is simulated in this process (the write that bench's atomic
writer starts fails with that errno after the first N writes), since mounting a tiny file system needs
root. Each case must end with exit code 2, one `error:` line naming the file, no traceback, and every
cell written before the fault still readable. Ids start with the kind (`path:`).
"""
from __future__ import annotations

import errno
import tempfile

import pytest

from harness import app
from harness.cli import main
from harness.core.display import console
from harness.results import store
from harness.results.store import read_cells

RUN = ["profile=smoke", "dataset=digits", "~model", "suite.models=[gaussian_nb,knn,decision_tree]", "seed=0",
       "hardware.threads=1", "resume=false"]
ERRNOS = {"full-disk": errno.ENOSPC, "quota": errno.EDQUOT, "read-only": errno.EROFS, "no-permission": errno.EACCES}
# the write that fails: 0 is run.json, 1..3 the cells' rows in order
CASES = [(name, n) for name in ERRNOS for n in (0, 2)] + [("full-disk", 1), ("full-disk", 3), ("read-only", 3)]


def failing_after(n: int, code: int):
    real, calls = tempfile.mkstemp, []

    def mkstemp(*args, dir=None, **kwargs):
        calls.append(dir)
        if len(calls) > n:
            raise OSError(code, f"{errno.errorcode[code]} (simulated)", str(dir))
        return real(*args, dir=dir, **kwargs)
    return mkstemp


@pytest.mark.parametrize("fault,writes", CASES, ids=[f"path:{f}-after-{n}-writes" for f, n in CASES])
def test_a_results_folder_that_stops_taking_files_is_one_error_line_and_keeps_the_cells(
        tmp_path, capsys, monkeypatch, fault, writes):
    monkeypatch.setattr(console, "width", 1000)
    monkeypatch.setattr(store.tempfile, "mkstemp", failing_after(writes, ERRNOS[fault]))
    code = main(["run", *RUN, f"paths.results={tmp_path}"])
    out = capsys.readouterr()
    errors = [line for line in (out.err + out.out).splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "cannot write results" in errors[0], (code, out.err)
    assert "Traceback" not in out.err + out.out
    [run] = list(tmp_path.glob("vision/*"))
    kept = read_cells(run / "cells")
    assert len(kept) == max(writes - 1, 0)  # every row written before the fault, readable
    assert (kept["status"] == "ok").all() if len(kept) else True


@pytest.mark.parametrize("fault", sorted(ERRNOS), ids=lambda f: f"path:{f}-when-making-the-run-folder")
def test_a_results_folder_where_no_run_folder_can_be_made_is_one_error_line(tmp_path, capsys, monkeypatch, fault):
    monkeypatch.setattr(console, "width", 1000)

    def refuse(results, suites):
        raise OSError(ERRNOS[fault], "simulated", str(results / suites[0]))
    monkeypatch.setattr(app, "new_run_stamp", refuse)
    assert main(["run", *RUN, f"paths.results={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write results to") and err.count("\n") == 1 and "Traceback" not in err
