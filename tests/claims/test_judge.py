"""What `judge` says before any rule decides: not-run, planned, unknown rule, no finished cells, a rule
that fails; and that every verdict it returns is one of VERDICTS."""
import numpy as np
import pandas as pd
import pytest

from harness.claims import RULES, VERDICTS, evaluate_claims
from harness.claims.registry import rule
from tests.claims.cells import REGISTRY, cell, duel, verdict_of


def test_no_rows_means_not_run_with_the_command():
    empty = pd.DataFrame([cell(suite="elsewhere")])
    for v in evaluate_claims(empty):
        assert v.verdict in ("not-run", "definitional"), v.id
        if v.verdict == "not-run":
            assert "`bench run " in v.evidence
    assert verdict_of("T5-end-to-end", empty).verdict == "definitional"


def test_a_rule_nobody_wrote_is_not_implemented_and_named():
    (v,) = evaluate_claims(duel(0.95, 0.9), registry=[dict(REGISTRY["D1-accuracy"], rule="not_written_yet")])
    assert v.verdict == "not-implemented"
    assert v.evidence == "rows exist for vision but rule `not_written_yet` is not written yet; no verdict is guessed"


def test_only_failed_cells_are_inconclusive():
    df = duel(0.95, 0.9).assign(status="error", accuracy=np.nan)
    v = verdict_of("D1-accuracy", df)
    assert v.verdict == "inconclusive" and v.evidence.startswith("no finished cells")


def test_a_failing_rule_is_an_error_and_says_why(monkeypatch):
    def broken(rows, entry):
        raise ValueError("boom")

    monkeypatch.setitem(RULES, "best_deep_vs_best_classical", broken)
    v = verdict_of("D1-accuracy", duel(0.95, 0.9))
    assert v.verdict == "error" and v.evidence == "rule `best_deep_vs_best_classical` failed: ValueError: boom"


def test_two_rules_of_one_name_are_refused():
    def training_time(rows, entry):
        """Another module's rule under a name that is taken."""

    with pytest.raises(ValueError, match="two rules named 'training_time'"):
        rule(training_time)
    assert RULES["training_time"].__module__ == "harness.claims.rules.cost"


def test_all_verdicts_are_valid_on_a_full_vision_frame():
    df = duel(0.95, 0.90)
    for v in evaluate_claims(df):
        assert v.verdict in VERDICTS and v.evidence and v.scope, v.id
