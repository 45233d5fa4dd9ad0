"""How outcomes of single comparisons become a verdict (the statistics every rule shares)."""
import numpy as np
import pytest

from harness.claims.verdict import (CONTRADICTS, MIXED, SUPPORTS, TIE, UNKNOWN, comparison, conjunction, outcome,
                                    overall, verdict, wins_or_ties)
from harness.evaluation.stats import paired_difference


@pytest.mark.parametrize("outcomes, expected", [
    ([SUPPORTS, SUPPORTS], "supported"), ([SUPPORTS, TIE], "mixed"), ([CONTRADICTS, TIE], "contradicted"),
    ([TIE, UNKNOWN], "inconclusive"), ([], "inconclusive"), ([MIXED], "mixed")])
def test_overall(outcomes, expected):
    assert overall(outcomes) == expected


@pytest.mark.parametrize("parts, expected", [
    ([SUPPORTS, SUPPORTS], SUPPORTS), ([SUPPORTS, TIE], MIXED), ([CONTRADICTS, UNKNOWN], CONTRADICTS),
    ([TIE, TIE], TIE), ([TIE, UNKNOWN], UNKNOWN)])
def test_conjunction_needs_every_part(parts, expected):
    assert conjunction(parts) == expected


def test_wins_or_ties_counts_a_tie_as_holding():
    assert wins_or_ties([SUPPORTS, TIE]) == "supported"
    assert wins_or_ties([TIE]) == "supported"
    assert wins_or_ties([SUPPORTS, CONTRADICTS]) == "mixed"
    assert wins_or_ties([UNKNOWN]) == "inconclusive"


def test_one_seed_counts_only_beyond_the_large_gap():
    assert outcome(paired_difference(np.array([0.91]), np.array([0.90]))) == UNKNOWN
    assert outcome(paired_difference(np.array([0.95]), np.array([0.90]))) == "a"
    lower_is_better = paired_difference(np.array([0.95]), np.array([0.90]))
    assert comparison(lower_is_better, 0.02, higher_is_better=False) == CONTRADICTS


def test_a_verdict_outside_the_list_is_refused():
    with pytest.raises(AssertionError):
        verdict({"id": "X1", "claim": "x"}, "probably", "")
