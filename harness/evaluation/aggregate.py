"""One claim, many tasks: which decisions survive testing many tasks at once, and one verdict from them.

A claim ("deep beats classical on images") is judged on several tasks, each by `compare_paired`.
Testing k tasks at alpha names a winner somewhere far more often than alpha; `holm` keeps the chance
of any false winner among them at alpha. `tally` counts the tasks' outcomes in the claim's terms and
`aggregate_verdict` turns the counts into one verdict by a rule that treats both directions alike.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from harness.evaluation.comparisons import BETTER, EQUIVALENT, WORSE, Comparison

SUPPORT, CONTRADICT, NO_DIFFERENCE, UNDECIDED = "support", "contradict", "no-difference", "undecided"
OUTCOMES = (SUPPORT, CONTRADICT, NO_DIFFERENCE, UNDECIDED)
SUPPORTED, CONTRADICTED, MIXED, INCONCLUSIVE = "supported", "contradicted", "mixed", "inconclusive"
AGGREGATE_VERDICTS = (SUPPORTED, CONTRADICTED, MIXED, NO_DIFFERENCE, INCONCLUSIVE)


def holm(p_values, alpha: float = 0.05) -> list[bool]:
    """Holm-Bonferroni step-down (Holm 1979): which of m hypotheses are rejected, in the input's order,
    with the chance of rejecting any true one at most alpha.

    Sort the p-values; reject the i-th smallest (i = 1..m) while p_(i) <= alpha / (m - i + 1), and stop
    at the first that is not. A missing p-value (nan, None) counts among the m but is never rejected.
    """
    p = np.array([np.nan if x is None else x for x in p_values], dtype=float)
    p = np.where(np.isfinite(p), p, np.inf)
    m = len(p)
    rejected = np.zeros(m, dtype=bool)
    for i, index in enumerate(np.argsort(p, kind="stable")):
        if not p[index] <= alpha / (m - i):
            break
        rejected[index] = True
    return rejected.tolist()


def holm_decisions(comparisons: list[Comparison], alpha: float = 0.05) -> list[str]:
    """The comparisons' decisions with Holm applied across them: a decisive one (better or worse) whose
    p-value does not survive becomes "undecided". Equivalence and the indicative decisions are kept."""
    survives = holm([c.p_value for c in comparisons], alpha)
    return [c.decision if not c.decisive or kept else "undecided" for c, kept in zip(comparisons, survives)]


def tally(decisions: Iterable[str | Comparison], claimed: str = BETTER) -> dict[str, int]:
    """Count tasks' decisions in the claim's terms: {support, contradict, no-difference, undecided}.

    `decisions` are `compare_paired` decisions (or the Comparisons themselves), a against b, where the
    claim predicts `claimed`: "better" (a beats b), "worse" (b beats a) or "equivalent" (they do not
    differ). For a directional claim the predicted direction supports, the other contradicts and
    "equivalent" is no-difference; for an equivalence claim "equivalent" supports and either
    decisive direction contradicts. Undecided and indicative decisions (fewer than 3 seeds) count as
    undecided.
    """
    if claimed not in (BETTER, WORSE, EQUIVALENT):
        raise ValueError(f"claimed must be 'better', 'worse' or 'equivalent', not {claimed!r}")
    if claimed == EQUIVALENT:
        meaning = {EQUIVALENT: SUPPORT, BETTER: CONTRADICT, WORSE: CONTRADICT}
    else:
        other = WORSE if claimed == BETTER else BETTER
        meaning = {claimed: SUPPORT, other: CONTRADICT, EQUIVALENT: NO_DIFFERENCE}
    counts = dict.fromkeys(OUTCOMES, 0)
    for d in decisions:
        counts[meaning.get(d.decision if isinstance(d, Comparison) else d, UNDECIDED)] += 1
    return counts


def aggregate_verdict(counts: dict[str, int]) -> str:
    """One verdict from a claim's tally, by one rule that is the same in both directions.

    Only decided tasks vote (support, contradict, no-difference); undecided ones are reported beside the
    verdict but cannot tip it. With S supporting, C contradicting and E no-difference tasks:
        nothing decided (S = C = E = 0)          -> "inconclusive"
        S > 0 and C > 0                          -> "mixed": the claim holds somewhere and fails elsewhere
        S > 0, C = 0 and S >= E                  -> "supported": it holds on at least half the decided tasks
        C > 0, S = 0 and C >= E                  -> "contradicted": the mirror image
        S > 0 or C > 0, but outnumbered by E     -> "mixed": a difference on a minority, none on the rest
        only E                                   -> "no-difference"
    Swapping S and C swaps supported and contradicted and leaves every other verdict as it is.
    """
    unknown = set(counts) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcomes {sorted(unknown)}; expected some of {OUTCOMES}")
    s, c, e = (int(counts.get(k, 0)) for k in (SUPPORT, CONTRADICT, NO_DIFFERENCE))
    if s + c + e == 0:
        return INCONCLUSIVE
    if s and c:
        return MIXED
    if s:
        return SUPPORTED if s >= e else MIXED
    if c:
        return CONTRADICTED if c >= e else MIXED
    return NO_DIFFERENCE
