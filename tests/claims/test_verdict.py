"""How outcomes of single comparisons become a verdict (the statistics every rule shares)."""
import numpy as np
import pytest

from harness.claims.verdict import (
    CONTRADICTS,
    LEANS_CONTRADICT,
    LEANS_SUPPORT,
    LEGEND,
    MIXED,
    SUPPORTS,
    TIE,
    UNKNOWN,
    VERDICTS,
    comparison,
    conjunction,
    counts_of,
    outcome,
    overall,
    verdict,
    wins_or_ties,
)
from harness.evaluation.stats import paired_difference


@pytest.mark.parametrize("outcomes, expected", [
    ([SUPPORTS, SUPPORTS], "supported"), ([SUPPORTS, TIE], "supported"), ([CONTRADICTS, TIE], "contradicted"),
    ([SUPPORTS, TIE, TIE], "mixed"), ([CONTRADICTS, TIE, TIE], "mixed"), ([SUPPORTS, CONTRADICTS], "mixed"),
    ([TIE, UNKNOWN], "no-difference"), ([UNKNOWN], "inconclusive"), ([], "inconclusive"), ([MIXED], "mixed"),
    ([LEANS_SUPPORT, UNKNOWN], "indicative"), ([LEANS_SUPPORT, SUPPORTS], "supported")])
def test_overall(outcomes, expected):
    assert overall(outcomes) == expected


def test_overall_is_symmetric():
    """One contradicting task and nine ties reads the same as one supporting task and nine ties, mirrored."""
    flip = {SUPPORTS: CONTRADICTS, CONTRADICTS: SUPPORTS}
    mirror = {"supported": "contradicted", "contradicted": "supported"}
    rng = np.random.default_rng(0)
    for _ in range(300):
        outcomes = list(rng.choice([SUPPORTS, CONTRADICTS, TIE, UNKNOWN, LEANS_SUPPORT], size=rng.integers(0, 8)))
        flipped = [flip.get(o, o) for o in outcomes]
        assert overall(flipped) == mirror.get(overall(outcomes), overall(outcomes))


def test_counts_tally_every_task():
    counts = counts_of([SUPPORTS, CONTRADICTS, TIE, UNKNOWN, LEANS_SUPPORT])
    assert counts == {"support": 1, "contradict": 1, "no-difference": 1, "undecided": 1, "indicative": 1}


@pytest.mark.parametrize("parts, expected", [
    ([SUPPORTS, SUPPORTS], SUPPORTS), ([SUPPORTS, TIE], MIXED), ([CONTRADICTS, UNKNOWN], CONTRADICTS),
    ([TIE, TIE], TIE), ([TIE, UNKNOWN], UNKNOWN), ([], UNKNOWN), ([SUPPORTS, LEANS_SUPPORT], LEANS_SUPPORT)])
def test_conjunction_needs_every_part(parts, expected):
    assert conjunction(parts) == expected


def test_wins_or_ties_needs_a_win_to_support():
    assert wins_or_ties([SUPPORTS, TIE]) == "supported"
    assert wins_or_ties([TIE]) == "no-difference"
    assert wins_or_ties([SUPPORTS, CONTRADICTS]) == "mixed"
    assert wins_or_ties([UNKNOWN]) == "inconclusive"


def test_fewer_than_three_seeds_only_lean():
    assert outcome(paired_difference([0.905], [0.90])) == UNKNOWN  # inside the 1-point margin
    assert outcome(paired_difference([0.95], [0.90])) == "leans-a"
    assert outcome(paired_difference([0.95, 0.96], [0.90, 0.90])) == "leans-a"
    lower_is_better = paired_difference([0.95], [0.90])
    assert comparison(lower_is_better, 0.02, higher_is_better=False) == LEANS_CONTRADICT
    assert outcome(paired_difference([0.95, 0.96, 0.97], [0.90, 0.90, 0.91])) == "a"


def test_a_gap_inside_the_margin_is_no_difference():
    a = [0.900, 0.901, 0.899, 0.900, 0.902]
    b = [0.899, 0.900, 0.900, 0.901, 0.900]
    assert outcome(paired_difference(a, b), 0.01) == TIE


def test_every_verdict_has_a_legend_line():
    assert set(LEGEND) == set(VERDICTS)


def test_a_verdict_outside_the_list_is_refused():
    with pytest.raises(AssertionError):
        verdict({"id": "X1", "claim": "x"}, "probably", "")
