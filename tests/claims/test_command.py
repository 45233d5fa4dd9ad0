"""`bench claims`: the scorecard of a results folder, and what it says when there is nothing to read."""
from pathlib import Path

import pandas as pd

from harness.claims import cmd_claims
from tests.claims.cells import duel


def write_run(folder: Path, df: pd.DataFrame) -> None:
    (folder / "cells").mkdir(parents=True)
    df.to_parquet(folder / "cells" / "all.parquet", index=False)


def test_cmd_claims_prints_scorecard(tmp_path, capsys):
    write_run(tmp_path / "vision" / "r1", duel(0.95, 0.9))
    assert cmd_claims([str(tmp_path)]) == 0
    out = capsys.readouterr().err
    assert "D1-accuracy" in out and "supported" in out


def test_cmd_claims_missing_results(tmp_path, capsys, monkeypatch):
    assert cmd_claims([str(tmp_path / "nowhere")]) == 2
    assert "error" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    assert cmd_claims(["results"]) == 2
    assert "bench run suite=vision" in capsys.readouterr().err
