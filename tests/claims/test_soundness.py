"""Verdicts that cannot overreach: equal models rarely get a decisive verdict, each verdict has a case
that produces it, budgets and regimes hold a verdict back, and missing suites say how to run them."""
import json

import numpy as np
import pandas as pd
import pytest

from harness.claims import RULES, evaluate_claims
from harness.claims.rows import ok, paired, seed_scores
from harness.claims.verdict import DECISIVE, comparison, overall, verdict
from tests.claims.cells import REGISTRY, cell

ENTRY = {"id": "X1-test", "claim": "model a beats model b", "rule": "a_beats_b", "produce": "bench run suite=vision",
         "evidence": {"suites": ["vision"], "metrics": ["accuracy"]}}


def a_beats_b(rows, entry):
    """Per dataset: a against b on accuracy, paired over seeds; one verdict from the tally."""
    outcomes = [comparison(paired(seed_scores(d, "a", "accuracy"), seed_scores(d, "b", "accuracy")), 0.01)
                for _, d in ok(rows).groupby("dataset")]
    return verdict(entry, overall(outcomes), f"{len(outcomes)} datasets")


@pytest.fixture
def rule_a_beats_b(monkeypatch):
    monkeypatch.setitem(RULES, "a_beats_b", a_beats_b)


def rows_of(acc_a, acc_b, seeds, datasets=("d0",), **extra_a):
    """Cells of models a and b; accuracies are arrays over (dataset, seed)."""
    rows = []
    for i, ds in enumerate(datasets):
        for j, s in enumerate(seeds):
            rows += [cell(ds, "a", "deep", s, accuracy=float(acc_a[i][j]), **extra_a),
                     cell(ds, "b", "classical", s, accuracy=float(acc_b[i][j]))]
    return pd.DataFrame(rows)


def judge_one(df, **entry):
    (v,) = evaluate_claims(df, registry=[dict(ENTRY, **entry)])
    return v


@pytest.mark.slow  # 360 claims judged end to end, about a minute; the decision rule alone is tested fast in tests/evaluation
@pytest.mark.parametrize("n_seeds", [3, 5, 10])
def test_equal_models_rarely_get_a_decisive_verdict(rule_a_beats_b, n_seeds):
    """Two models whose scores come from the same distribution, on 3 datasets: a decisive verdict (either
    direction) must come out at most 5% of the time; Holm across the datasets keeps it there."""
    rng = np.random.default_rng(n_seeds)
    trials, decisive = 120, 0
    for _ in range(trials):
        a = 0.85 + rng.normal(0, 0.02, (3, n_seeds))
        b = 0.85 + rng.normal(0, 0.02, (3, n_seeds))
        decisive += judge_one(rows_of(a, b, range(n_seeds), ("d0", "d1", "d2"))).verdict in DECISIVE
    # 5% of 120 is 6; allow the binomial spread of a true 5% rate (P(X > 11) < 1%)
    assert decisive <= 11, f"{decisive}/{trials} decisive verdicts for equal models with {n_seeds} seeds"


def test_a_real_difference_is_found(rule_a_beats_b):
    rng = np.random.default_rng(0)
    a, b = 0.90 + rng.normal(0, 0.005, (2, 5)), 0.85 + rng.normal(0, 0.005, (2, 5))
    v = judge_one(rows_of(a, b, range(5), ("d0", "d1")))
    assert v.verdict == "supported" and v.counts["support"] == 2
    assert judge_one(rows_of(b, a, range(5), ("d0", "d1"))).verdict == "contradicted"


KNOWN = {  # verdict -> (a's accuracies, b's accuracies) per dataset over seeds 0..4
    "supported": ([[0.90, 0.91, 0.90, 0.92, 0.91]], [[0.80, 0.81, 0.80, 0.80, 0.82]]),
    "contradicted": ([[0.80, 0.81, 0.80, 0.80, 0.82]], [[0.90, 0.91, 0.90, 0.92, 0.91]]),
    "no-difference": ([[0.900, 0.901, 0.899, 0.900, 0.902]], [[0.899, 0.900, 0.900, 0.901, 0.900]]),
    "inconclusive": ([[0.90, 0.70, 0.95, 0.75, 0.85]], [[0.80, 0.85, 0.78, 0.90, 0.86]]),
    "mixed": ([[0.90, 0.91, 0.90, 0.92, 0.91], [0.80, 0.81, 0.80, 0.80, 0.82]],
              [[0.80, 0.81, 0.80, 0.80, 0.82], [0.90, 0.91, 0.90, 0.92, 0.91]]),
}


@pytest.mark.parametrize("expected", sorted(KNOWN))
def test_known_answers(rule_a_beats_b, expected):
    a, b = KNOWN[expected]
    v = judge_one(rows_of(a, b, range(5), [f"d{i}" for i in range(len(a))]))
    assert v.verdict == expected
    assert v.conditions is not None and v.conditions.paired == [5] * len(a)


def test_two_seeds_are_indicative_never_decisive(rule_a_beats_b):
    v = judge_one(rows_of([[0.95, 0.96]], [[0.80, 0.81]], [0, 1]))
    assert v.verdict == "indicative" and v.counts["indicative"] == 1


def test_a_budget_bound_loser_makes_the_verdict_budget_limited(rule_a_beats_b):
    a, b = KNOWN["contradicted"]
    bound = {"params": json.dumps({"max_epochs": 2}), "epochs": 2}
    v = judge_one(rows_of(a, b, range(5), **bound))
    assert v.verdict == "budget-limited" and v.rule_verdict == "contradicted"
    assert "a on d0" in v.evidence and v.conditions.bound == ["a"]
    early_stopped = {"params": json.dumps({"max_epochs": 30}), "epochs": 12}
    assert judge_one(rows_of(a, b, range(5), **early_stopped)).verdict == "contradicted"
    # a bound winner does not hold the verdict back: more training could only widen its lead
    a, b = KNOWN["supported"]
    assert judge_one(rows_of(a, b, range(5), **bound)).verdict == "supported"


def a_beats_b_at_the_top_size(rows, entry):
    """a_beats_b on each dataset's largest training size only (as the data-hunger rules compare)."""
    done = ok(rows)
    return a_beats_b(done[done["n_train"] == done["n_train"].max()], entry)


def test_a_budget_that_bound_only_at_another_size_does_not_hold_the_verdict_back(monkeypatch):
    """Boosting without early stopping on 50 images uses its whole iteration cap; at 60,000 it stops on its
    own. A comparison at 60,000 that it loses is decided, not budget-limited."""
    monkeypatch.setitem(RULES, "a_beats_b", a_beats_b_at_the_top_size)
    a, b = KNOWN["supported"]
    big = rows_of(a, b, range(5), stop_reason="converged")
    small = rows_of(a, b, range(5), stop_reason="iterations").assign(n_train=50)
    small["stop_reason"] = "iterations"  # both sides bound at 50 images
    v = judge_one(pd.concat([big, small]))
    assert v.verdict == "supported", v.evidence
    assert v.conditions.bound == ["a", "b"]  # still listed among the conditions: it bound somewhere
    big.loc[big["model"] == "b", "stop_reason"] = "iterations"  # the loser bound at the compared size
    assert judge_one(pd.concat([big, small])).verdict == "budget-limited"


def test_below_the_regime_is_out_of_regime_with_what_was_reached(rule_a_beats_b):
    a, b = KNOWN["contradicted"]
    v = judge_one(rows_of(a, b, range(5)), regime={"text": "at least 10^5 examples", "min_train": 100_000})
    assert v.verdict == "out-of-regime" and v.rule_verdict == "contradicted"
    assert "largest training set 1,000 < 100,000" in v.evidence
    assert any("at least 10^5" in line for line in v.conditions.lines())


def test_failed_cells_are_listed_among_the_conditions(rule_a_beats_b):
    a, b = KNOWN["supported"]
    df = pd.concat([rows_of(a, b, range(5)), pd.DataFrame([cell("d0", "c", "deep", 0, status="timeout")])])
    v = judge_one(df)
    assert v.conditions.excluded == ["c on d0: timeout (1)"]


def test_partial_results_give_not_run_with_the_command():
    """Only vision rows: every claim that needs another suite, and none of vision, says how to run it."""
    df = pd.DataFrame([cell("digits", "cnn", "deep", s) for s in range(3)]
                      + [cell("digits", "rbf_svm", "classical", s) for s in range(3)])
    for v in evaluate_claims(df):
        entry = REGISTRY[v.id]
        if entry["rule"] != "definitional" and "vision" not in entry["evidence"]["suites"]:
            assert v.verdict == "not-run" and f"`{entry['produce']}`" in v.evidence, v.id


def test_no_decisive_verdict_on_fewer_than_three_seeds():
    """Every claim on one- and two-seed rows of every suite's shape: nothing supported or contradicted."""
    rows = []
    for s in (0, 1):
        for ds, suite in (("digits", "vision"), ("fortunes", "text"), ("diabetes", "tabular")):
            rows += [cell(ds, "cnn", "deep", s, suite=suite, accuracy=0.95 + 0.01 * s, r2=0.9),
                     cell(ds, "rbf_svm", "classical", s, suite=suite, accuracy=0.70, r2=0.5),
                     cell(ds, "mlp", "deep", s, suite=suite, accuracy=0.60, n_train=300, r2=0.4),
                     cell(ds, "logistic_regression", "classical", s, suite=suite, accuracy=0.80, n_train=300, r2=0.3)]
    for v in evaluate_claims(pd.DataFrame(rows)):
        assert v.verdict not in DECISIVE, (v.id, v.verdict, v.evidence)


def test_a_one_cycle_recipe_that_ran_its_planned_epochs_finished_rather_than_hit_a_budget():
    """A one-cycle schedule is planned for its epochs: running all of them is the recipe finishing
    (stop_reason "schedule"), not a cap that cut learning short; cut by the cell's clock it is bound."""
    from harness.claims.conditions import budget_of

    row = pd.Series({"params": '{"max_epochs": 12, "schedule": "onecycle"}', "epochs": 12, "stop_reason": "schedule"})
    assert budget_of(row) == ("12/12 epochs, stopped by schedule", False)
    assert budget_of(row.copy().replace({"schedule": "time_limit"}))[1]


def test_a_model_that_stopped_because_it_solved_the_task_was_not_cut_short_by_its_budget():
    """The memory suite's networks stop once they solve the task (stop_reason "solved"), often while
    their loss still falls: that is the model finishing, not a budget binding. Stopped by its step cap
    with a falling loss, it was still learning."""
    from harness.claims.conditions import budget_of

    row = pd.Series({"params": '{"max_steps": 3000}', "train_steps": 800, "stop_reason": "solved",
                     "loss_still_falling": True})
    assert budget_of(row)[1] is False
    assert budget_of(row.copy().replace({"solved": "steps"}))[1] is True
