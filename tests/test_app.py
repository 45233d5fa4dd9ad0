"""harness/app.py: bench's operations work without the command line, and nothing in harness/ imports
the command line (harness/cli.py parses arguments and calls app; references call app.run)."""
from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from harness import app

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["profile=smoke", "dataset=digits", "hardware.threads=1"]


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at the top or inside a function (`from a import b`: a and a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


SOURCES = {module_name(p): imported_modules(p) for p in sorted((ROOT / "harness").rglob("*.py"))}


def test_no_module_of_harness_imports_the_command_line():
    importers = sorted(m for m, imports in SOURCES.items() if "harness.cli" in imports and m != "harness.cli")
    assert not importers, f"import harness.app instead of harness.cli in: {', '.join(importers)}"


def test_app_imports_neither_the_command_line_nor_what_calls_it():
    # harness.results.reference runs suites through app.run: app importing it would be a cycle again.
    assert not SOURCES["harness.app"] & {"harness.cli", "harness.results.reference"}
    assert "harness.app" in SOURCES["harness.results.reference"]
    assert "harness.cli" not in SOURCES["harness.results.reference"]


@pytest.mark.slow  # ~20 s: a forkserver with torch, three cells, two reports (the CLI tests run app.run too)
def test_run_without_the_command_line(tmp_path):
    results = tmp_path / "results"
    assert app.run([*SMALL, "suite.models=[gaussian_nb,knn]", f"paths.results={results}"]) == app.EXIT_OK
    (folder,) = (results / "vision").iterdir()
    df = pd.read_parquet(folder / "results.parquet")
    assert sorted(df["model"]) == ["gaussian_nb", "knn"] and (df["status"] == "ok").all()
    assert (folder / "report.md").is_file()
    # force: every cell again, in a new folder, none reused from the first run
    assert app.run([*SMALL, "suite.models=[gaussian_nb]", f"paths.results={results}"], force=True) == app.EXIT_OK
    newest = max((results / "vision").iterdir())
    assert newest != folder and pd.read_parquet(newest / "results.parquet")["reused_from"].isna().all()


def test_run_refuses_bad_input_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")
    assert app.run([*SMALL, "model=nope", f"paths.results={tmp_path}"]) == app.EXIT_BAD_INPUT
    assert app.run([*SMALL, f"paths.results={tmp_path}"], split="seed") == app.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "got '--split=seed'" in err
    assert not any(tmp_path.iterdir())


def test_list_report_claims_compare_without_the_command_line(tmp_path, capsys):
    assert app.list_items() == app.EXIT_OK
    assert "vision" in capsys.readouterr().err
    assert app.report([str(tmp_path / "nothing")]) == app.EXIT_BAD_INPUT
    assert app.claims([str(tmp_path / "nothing")]) in (app.EXIT_OK, app.EXIT_BAD_INPUT)
    from harness.results.compare import Thresholds

    assert app.compare(str(tmp_path / "a"), str(tmp_path / "b"), Thresholds()) == app.EXIT_BAD_INPUT


@pytest.mark.parametrize("argv,expected", [
    (["suite=vision", "-m", "seed=0,1"], (["suite=vision", "-m", "seed=0,1"], False, None, False)),
    (["--force", "suite=vision"], (["suite=vision"], True, None, False)),
    (["--split=model", "x=1", "--split=model,dataset"], (["x=1"], False, "model,dataset", False)),
    (["--split"], ([], False, "", False)),
    (["seed=0,1", "--dry-run", "-m"], (["seed=0,1", "-m"], False, None, True)),
])
def test_the_command_line_only_parses_bench_runs_own_flags(argv, expected, monkeypatch):
    from harness import cli

    calls = []
    monkeypatch.setattr(app, "run", lambda overrides, force, split, dry_run:
                        calls.append((overrides, force, split, dry_run)) or 0)
    assert cli.main(["run", *argv]) == 0
    assert calls == [expected]
