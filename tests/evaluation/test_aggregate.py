"""Many tasks of one claim: Holm's step-down, the tally in the claim's terms, one symmetric verdict."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.evaluation.aggregate import (CONTRADICT, NO_DIFFERENCE, SUPPORT, UNDECIDED, aggregate_verdict, holm,
                                          holm_decisions, tally)
from harness.evaluation.comparisons import compare_paired


def test_holm_textbook_example():
    # Sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop; 0.04 is not reached.
    assert holm([0.01, 0.04, 0.03, 0.005], 0.05) == [True, False, False, True]
    # Bonferroni (0.05/4 = 0.0125) would keep only 0.005 and 0.01 too, but here Holm goes further:
    assert holm([0.01, 0.02, 0.03, 0.04], 0.05) == [True, False, False, False]
    assert holm([0.011, 0.012, 0.02, 0.04], 0.05) == [True, True, True, True]


def test_holm_missing_p_values_count_but_never_reject():
    assert holm([0.001, np.nan, None], 0.05) == [True, False, False]
    assert holm([0.03, np.nan], 0.05) == [False, False]  # 0.03 > 0.05 / 2: the missing one still counts
    assert holm([], 0.05) == []


@settings(deadline=None)
@given(st.lists(st.floats(0, 1), max_size=20), st.sampled_from([0.01, 0.05, 0.1]))
def test_holm_lies_between_bonferroni_and_no_correction(p, alpha):
    kept = holm(p, alpha)
    m = len(p)
    for pi, k in zip(p, kept):
        assert (pi <= alpha / m) <= k <= (pi <= alpha)
    for pi, ki in zip(p, kept):  # a smaller p-value is rejected whenever a larger one is
        assert all(ki or not kj for pj, kj in zip(p, kept) if pj >= pi)


def test_holm_decisions_demote_the_winners_that_do_not_survive():
    clear = compare_paired([0.95, 0.96, 0.97, 0.95, 0.96], [0.80, 0.81, 0.80, 0.82, 0.81], rope=0.01)
    marginal = compare_paired([0.90, 0.93, 0.91, 0.94, 0.92], [0.895, 0.905, 0.90, 0.915, 0.91], rope=0.001)
    same = compare_paired([0.9, 0.91, 0.92], [0.9, 0.91, 0.92], rope=0.01)
    assert clear.decision == marginal.decision == "better" and 0.0125 < marginal.p_value < 0.05
    assert holm_decisions([clear, marginal, same, same]) == ["better", "undecided", "equivalent", "equivalent"]


def test_tally_in_the_claims_terms():
    decisions = ["better", "better", "worse", "equivalent", "undecided", "indicative-better"]
    assert tally(decisions) == {SUPPORT: 2, CONTRADICT: 1, NO_DIFFERENCE: 1, UNDECIDED: 2}
    assert tally(decisions, claimed="worse") == {SUPPORT: 1, CONTRADICT: 2, NO_DIFFERENCE: 1, UNDECIDED: 2}
    assert tally(decisions, claimed="equivalent") == {SUPPORT: 1, CONTRADICT: 3, NO_DIFFERENCE: 0, UNDECIDED: 2}
    c = compare_paired([0.9, 0.91, 0.92], [0.8, 0.81, 0.82], rope=0.01)
    assert tally([c]) == {SUPPORT: 1, CONTRADICT: 0, NO_DIFFERENCE: 0, UNDECIDED: 0}
    with pytest.raises(ValueError):
        tally([], claimed="similar")


@pytest.mark.parametrize("counts, verdict", [
    ({}, "inconclusive"),
    ({UNDECIDED: 5}, "inconclusive"),
    ({SUPPORT: 3, UNDECIDED: 4}, "supported"),
    ({SUPPORT: 2, NO_DIFFERENCE: 2}, "supported"),      # at least half the decided tasks
    ({SUPPORT: 1, NO_DIFFERENCE: 2}, "mixed"),          # a difference on a minority, none on the rest
    ({SUPPORT: 5, CONTRADICT: 1}, "mixed"),             # both directions
    ({CONTRADICT: 2, NO_DIFFERENCE: 1}, "contradicted"),
    ({NO_DIFFERENCE: 3, UNDECIDED: 1}, "no-difference"),
])
def test_aggregate_verdict_known_counts(counts, verdict):
    assert aggregate_verdict(counts) == verdict


SWAP = {"supported": "contradicted", "contradicted": "supported"}
counts = st.fixed_dictionaries({k: st.integers(0, 6) for k in (SUPPORT, CONTRADICT, NO_DIFFERENCE, UNDECIDED)})


@settings(deadline=None)
@given(counts)
def test_aggregate_verdict_is_symmetric(c):
    swapped = {**c, SUPPORT: c[CONTRADICT], CONTRADICT: c[SUPPORT]}
    assert aggregate_verdict(swapped) == SWAP.get(aggregate_verdict(c), aggregate_verdict(c))


@settings(deadline=None)
@given(st.lists(st.sampled_from(["better", "worse", "equivalent", "undecided", "indicative-worse"]), max_size=12))
def test_claiming_the_other_direction_swaps_the_verdict(decisions):
    assert aggregate_verdict(tally(decisions, claimed="worse")) == SWAP.get(
        aggregate_verdict(tally(decisions)), aggregate_verdict(tally(decisions)))


def test_aggregate_verdict_refuses_unknown_outcomes():
    with pytest.raises(ValueError, match="unknown"):
        aggregate_verdict({"supports": 2})
