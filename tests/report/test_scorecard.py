"""`bench scorecard`: SCORECARD.md from committed evidence, reproducible byte for byte, checked by CI."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from harness.claims import load_registry
from harness.claims.verdict import Curve
from harness.cli import main
from harness.report.scorecard import curve_table, render

ROOT = Path(__file__).resolve().parents[2]


def test_without_evidence_every_measured_claim_is_not_run_and_says_how_to_produce_it(tmp_path):
    text = render(tmp_path / "none", ROOT)
    for entry in load_registry():
        assert f"### {entry['id']}: " in text
    assert "No evidence rows are committed yet." in text
    assert "bench run suite=all profile=evidence" in text


@pytest.fixture(scope="module")
def evidence(tmp_path_factory, bench):
    """A real (tiny) evidence folder: two seeds of three vision models on digits."""
    root = tmp_path_factory.mktemp("evidence")
    code, folder = bench(root, "suite=vision", "profile=smoke", "dataset=digits", "seed=0",
                         "suite.models=[knn,logistic_regression,mlp]")
    assert code == 0
    code, _ = bench(root, "suite=vision", "profile=smoke", "dataset=digits", "seed=1",
                    "suite.models=[knn,logistic_regression,mlp]")
    assert code == 0
    return root


def test_the_scorecard_is_a_function_of_the_rows_alone(evidence):
    first, second = render(evidence, evidence.parent), render(evidence, evidence.parent)
    assert first == second
    assert "| vision |" in first                       # the evidence run table names the suite
    assert str(evidence.parent) not in first            # no machine path in the file
    assert "### T6-model-complexity: " in first


def test_check_fails_on_a_stale_file_and_passes_on_a_fresh_one(evidence, tmp_path, capsys):
    out = tmp_path / "SCORECARD.md"
    assert main(["scorecard", "--evidence", str(evidence), "--out", str(out), "--check"]) == 1  # missing
    assert main(["scorecard", "--evidence", str(evidence), "--out", str(out)]) == 0
    assert main(["scorecard", "--evidence", str(evidence), "--out", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("supported", "contradicted").replace("not-run", "supported"))
    assert main(["scorecard", "--evidence", str(evidence), "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert "run `bench scorecard`" in captured.out + captured.err


def test_a_curve_becomes_a_small_table_with_its_ends_kept():
    curve = Curve(x="n_train", y="accuracy", series={"deep": [(n, n / 1000) for n in range(50, 1050, 50)],
                                                      "classical": [(50, 0.5), (1000, 0.9)]})
    md = curve_table(curve).md().splitlines()
    assert md[0] == "| n_train | deep | classical |"
    assert md[2].startswith("| 50 | 0.05 | 0.5 |") and md[-1].startswith("| 1,000 | 1 | 0.9 |")
    assert len(md) == 2 + 8


def test_the_committed_scorecard_matches_the_committed_evidence(tmp_path):
    # What .ci/run checks too (`bench scorecard --check`): SCORECARD.md is regenerated whenever the
    # committed evidence changes. Read from the committed files only: an evidence run going on in a
    # developer's checkout adds cells that are not evidence yet.
    listed = subprocess.run(["git", "ls-files", "SCORECARD.md", "results/evidence"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: nothing tells committed evidence from a run in progress")
    for name in listed.stdout.split():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    assert (tmp_path / "SCORECARD.md").read_text() == render(tmp_path / "results" / "evidence", tmp_path)


def test_a_resumed_runs_time_starts_at_the_first_cell_it_copied_from_an_earlier_sitting():
    from harness.report.scorecard import suite_runs

    def rows(reused: bool) -> pd.DataFrame:
        return pd.DataFrame([{"run": "r", "suite": "vision", "seed": 0, "status": "ok",
                              "reused_from": "results/vision/earlier" if reused else None,
                              "cell_started": "20261204T120000000000"},
                             {"run": "r", "suite": "vision", "seed": 0, "status": "ok", "reused_from": None,
                              "cell_started": "20261204T130100000000"}])

    infos = {"r": {"started": "2026-12-04T13:00:00+00:00", "ended": "2026-12-04T13:10:00+00:00"}}
    (fresh,) = suite_runs(rows(False), infos, Path("."))
    assert fresh.seconds == 600 and not fresh.resumed
    (resumed,) = suite_runs(rows(True), infos, Path("."))
    assert resumed.seconds == 70 * 60 and resumed.resumed
