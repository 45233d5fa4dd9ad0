"""harness/results/reference.py: `bench reference update|check` run suites through harness.app.run
(here a stand-in that writes a finished run folder, so no suite runs) and keep or compare the rows."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness import app
from harness.results import reference
from harness.results.compare import Thresholds


COMMITTED = Path(__file__).resolve().parents[2] / "results" / "reference" / "vision"


def fake_run(calls: list):
    """app.run's stand-in: a consolidated run folder of the suite under paths.results, holding the
    committed vision reference's rows."""
    def run(overrides, *, force=False, split=None):
        calls.append((list(overrides), force))
        values = dict(o.split("=", 1) for o in overrides)
        folder = Path(values["paths.results"]) / values["suite"] / f"2026-01-01_00-00-0{len(calls)}"
        folder.mkdir(parents=True)
        for name in ("results.parquet", "run.json"):
            shutil.copy2(COMMITTED / name, folder / name)
        return app.EXIT_OK
    return run


def test_update_then_check_run_the_reference_configuration_through_app(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(app, "run", fake_run(calls))
    root = tmp_path / "reference"
    assert reference.update(["vision"], root=root) == 0
    assert (root / "vision" / "results.parquet").is_file() and (root / "vision" / "run.json").is_file()
    assert reference.check(["vision"], tmp_path / "results", Thresholds(), None, root=root) == 0
    for overrides, force in calls:
        assert overrides[:1 + len(reference.REFERENCE_OVERRIDES)] == ["suite=vision", *reference.REFERENCE_OVERRIDES]
        assert force


def test_an_unknown_suite_is_exit_2_before_anything_runs(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(app, "run", fake_run(calls))
    assert reference.cmd_reference("check", ["vision", "nope"], tmp_path, Thresholds(), None) == 2
    assert not calls and "unknown suite 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["update", "check"])
def test_no_suite_named_means_every_suite(action, monkeypatch):
    seen = []
    monkeypatch.setattr(reference, action, lambda suites, *a, **k: seen.append(suites) or 0)
    assert reference.cmd_reference(action, [], Path("unused"), Thresholds(), None) == 0
    assert seen == [reference.reference_suites()]


def test_update_keeps_no_path_of_this_machine_in_the_committed_run_json(tmp_path, monkeypatch):
    def run(overrides, *, force=False, split=None):  # a run whose provenance names its results folder
        values = dict(o.split("=", 1) for o in overrides)
        folder = Path(values["paths.results"]) / values["suite"] / "2026-01-01_00-00-00"
        folder.mkdir(parents=True)
        shutil.copy2(COMMITTED / "results.parquet", folder / "results.parquet")
        (folder / "run.json").write_text(f'{{"overrides": ["paths.results={values["paths.results"]}"]}}')
        return app.EXIT_OK
    monkeypatch.setattr(app, "run", run)
    assert reference.update(["vision"], root=tmp_path) == 0
    stored = (tmp_path / "vision" / "run.json").read_text()
    assert "bench-reference-" not in stored and reference.TEMPORARY_FOLDER in stored


def test_no_committed_provenance_names_a_path_of_the_machine_that_made_it():
    """The project reads only its own files: the run.json files it publishes (references, evidence) name
    no absolute path (results folders are given relative to the checkout, temporary ones replaced)."""
    results = COMMITTED.parents[1]
    published = [*results.glob("reference/*/run.json"), *results.glob("evidence/*/*/run.json")]  # git-tracked
    assert len(published) >= 22
    offending = [str(f.relative_to(results)) for f in sorted(published)
                 if '"/' in f.read_text() or "=/" in f.read_text()]
    assert not offending
