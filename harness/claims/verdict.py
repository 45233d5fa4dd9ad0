"""What a rule returns, and how it gets there from the outcomes of single comparisons.

A rule judges each task (a dataset, or a dataset on one device) on its own: the task supports the
claim, contradicts it, shows no difference inside the noise (`tie`), or cannot tell (`unknown`: one
seed and a small gap). The helpers here turn paired differences into those outcomes and outcomes
into one of `VERDICTS`, so every rule reads the noise the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.evaluation.stats import PairedDifference

VERDICTS = ("supported", "contradicted", "mixed", "inconclusive", "not-run", "definitional")
SUPPORTS, CONTRADICTS, TIE, UNKNOWN, MIXED = "supports", "contradicts", "tie", "unknown", "mixed"
# The outcomes of an interpretability aspect: which family is the more interpretable.
CLASSICAL_BETTER, DEEP_BETTER = "classical", "deep"

# With one seed there is no noise estimate: only gaps beyond these count (the registry states them).
LARGE_GAP = 0.02            # accuracy, as a fraction: 2 points
LARGE_LOG_RATIO = np.log(2)  # times and sizes: 2x


@dataclass
class Verdict:
    id: str
    claim: str
    verdict: str      # one of VERDICTS
    evidence: str     # one line with the key numbers
    detail: str = ""  # markdown: the numbers behind the evidence
    scope: str = ""   # datasets, sizes, seeds, hardware the verdict rests on


def verdict(entry: dict, value: str, evidence: str, detail: str = "", scope: str = "") -> Verdict:
    assert value in VERDICTS, value
    return Verdict(entry["id"], entry["claim"], value, evidence, detail, scope)


def not_run(entry: dict, why: str) -> Verdict:
    """No rows to judge: say why and name the command that produces them."""
    return verdict(entry, "not-run", f"{why}; run `{entry['produce']}`", scope="no rows")


# ---------------------------------------------------------------- one comparison

def outcome(diff: PairedDifference, large_gap: float = LARGE_GAP) -> str:
    """'a' or 'b' (who is ahead), 'tie' inside the noise, 'unknown': one seed and a gap under `large_gap`."""
    if diff.n == 0:
        return UNKNOWN
    if diff.single_seed:
        return diff.winner if abs(diff.mean) > large_gap else UNKNOWN
    return diff.winner


def comparison(diff: PairedDifference, large_gap: float, higher_is_better: bool = True) -> str:
    """SUPPORTS when the first side (the autoencoder, the pretrained network) is ahead beyond the noise,
    CONTRADICTS when behind, TIE inside the noise, UNKNOWN with one seed and a gap under `large_gap`."""
    o = outcome(diff, large_gap)
    if o in ("a", "b"):
        ahead = (o == "a") == higher_is_better
        return SUPPORTS if ahead else CONTRADICTS
    return o


def as_outcome(side: str, better: str) -> str:
    """'a'/'b'/'tie'/'unknown' of a paired difference as SUPPORTS when `better` is ahead, else CONTRADICTS."""
    return {better: SUPPORTS, "tie": TIE, UNKNOWN: UNKNOWN}.get(side, CONTRADICTS)


# ---------------------------------------------------------------- outcomes into one

def overall(outcomes: list[str]) -> str:
    """Supported when every task supports; contradicted when none does and some contradict; mixed
    when some support and the others do not; inconclusive when no task shows a difference."""
    if not outcomes:
        return "inconclusive"
    supports, contradicts = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
    if MIXED in outcomes or (supports and supports < len(outcomes)):
        return "mixed"
    if supports:
        return "supported"
    return "contradicted" if contradicts else "inconclusive"


def combined(outcomes: list[str]) -> str:
    """overall() as a task outcome."""
    return {"supported": SUPPORTS, "contradicted": CONTRADICTS, "mixed": MIXED}.get(overall(outcomes), TIE
                                                                                 if TIE in outcomes else UNKNOWN)


def conjunction(parts: list[str]) -> str:
    """Every part must hold: supports when all do; mixed when one holds and another fails or only ties
    (or a part is mixed itself); contradicts when one fails and none holds; a tie when all tie; else
    unknown (a part could not be told)."""
    if all(p == SUPPORTS for p in parts):
        return SUPPORTS
    if MIXED in parts or (SUPPORTS in parts and (CONTRADICTS in parts or TIE in parts)):
        return MIXED
    if CONTRADICTS in parts:
        return CONTRADICTS
    return TIE if all(p == TIE for p in parts) else UNKNOWN


def wins_or_ties(outcomes: list[str]) -> str:
    """A4's reading: supported when the autoencoder is never behind (it wins or ties every comparison,
    at least one of them decided), contradicted when it is behind and never ahead, mixed when both."""
    wins, losses = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
    if losses:
        return "mixed" if wins else "contradicted"
    return "supported" if wins or TIE in outcomes else "inconclusive"


def aspect_outcome(results: list[str]) -> str:
    """One aspect from its metrics' outcomes: one family better on some metric and worse on none."""
    better = set(results) & {CLASSICAL_BETTER, DEEP_BETTER}
    if len(better) == 2:
        return MIXED
    if better:
        return better.pop()
    return TIE if TIE in results else UNKNOWN
