"""What a rule returns, and how it gets there from the outcomes of single comparisons.

A rule judges each task (a dataset, or a dataset on one device) on its own: the task supports the
claim, contradicts it, shows no difference inside the noise (`tie`), or cannot tell (`unknown`: one
seed and a small gap). The helpers here turn paired differences into those outcomes and outcomes
into one of `VERDICTS`, so every rule reads the noise the same way.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

import numpy as np

from harness.evaluation.aggregate import (
    CONTRADICT,
    NO_DIFFERENCE,
    SUPPORT,
    aggregate_verdict,
)
from harness.evaluation.aggregate import UNDECIDED as UNDECIDED_TASK
from harness.evaluation.comparisons import (
    BETTER,
    EQUIVALENT,
    INDICATIVE_BETTER,
    INDICATIVE_WORSE,
    UNDECIDED,
    WORSE,
    decide,
)
from harness.evaluation.stats import PairedDifference

VERDICTS = ("supported", "contradicted", "mixed", "no-difference", "inconclusive", "indicative", "budget-limited",
            "implementations-disagree", "out-of-regime", "definitional", "not-run", "not-implemented", "error")
DECISIVE = ("supported", "contradicted")
# One line per verdict: the report's legend and `bench claims --explain`.
LEGEND = {
    "supported": "the comparisons that decided agree with the claim, on at least 3 paired seeds each, "
                 "and no losing side was still learning at its budget",
    "contradicted": "the mirror image: the decided comparisons go against the claim, same conditions",
    "mixed": "the claim holds on some tasks and fails (or shows no difference) on others",
    "no-difference": "the decided comparisons are inside the practical-equivalence margin: no difference that matters",
    "inconclusive": "tested, but no comparison could be decided inside the noise",
    "indicative": "fewer than 3 paired seeds: the direction is shown, never a decisive verdict",
    "budget-limited": "the side that lost was still improving when its budget ran out (epochs, steps or "
                      "time cap hit, or its loss still falling): the result measures the budget",
    "implementations-disagree": "the verdict rests on a model whose second implementation (suites/guards.yaml) "
                                "scores differently beyond the seeds' noise and the pair's margin: a fault in the "
                                "evidence, not a finding",
    "out-of-regime": "tested, but below the scale the claim speaks of; what was reached is stated",
    "definitional": "the sentence defines or describes rather than predicts; nothing to measure",
    "not-run": "no results for the claim's suites; the command that produces them is named",
    "not-implemented": "the claim's decision rule is not written yet; no verdict is guessed",
    "error": "the claim's rule raised on these rows; its message is shown",
}
SUPPORTS, CONTRADICTS, TIE, UNKNOWN, MIXED = "supports", "contradicts", "tie", "unknown", "mixed"
# Fewer than 3 paired seeds: the direction a task leans, which never decides a verdict.
LEANS_SUPPORT, LEANS_CONTRADICT = "leans-supports", "leans-contradicts"
# The outcomes of an interpretability aspect: which family is the more interpretable.
CLASSICAL_BETTER, DEEP_BETTER = "classical", "deep"

# Practical-equivalence margins (ROPE): differences smaller than these do not matter.
LARGE_GAP = 0.01            # accuracy, as a fraction: 1 point
LARGE_LOG_RATIO = np.log(1.25)  # times and sizes: 1.25x


@dataclass
class Curve:
    """The evidence behind a verdict where an axis exists: y against x, one line per series
    (series name -> [(x, y), ...]); `log_x` for sizes and seconds."""
    x: str
    y: str
    series: dict = field(default_factory=dict)
    log_x: bool = False
    title: str = ""


@dataclass
class Conditions:
    """What a verdict was tested on, stored with it: every field is shown next to the verdict."""
    suites: list = field(default_factory=list)
    datasets: list = field(default_factory=list)
    n_train: list = field(default_factory=list)      # training sizes
    n_test: list = field(default_factory=list)       # test sizes
    seeds: list = field(default_factory=list)        # every seed in the rows
    paired: list = field(default_factory=list)       # seeds actually paired, per comparison
    budgets: dict = field(default_factory=dict)      # model -> its budget, and whether it bound
    bound: list = field(default_factory=list)        # models whose budget bound (still learning)
    tuning: str = ""
    hardware: list = field(default_factory=list)
    threads: list = field(default_factory=list)
    workers: list = field(default_factory=list)      # cells at once (hardware.workers) in the runs
    load: str = ""
    excluded: list = field(default_factory=list)     # "model on dataset: status (n cells)"
    regime: str = ""                                 # the claim's regime and what was reached
    guards: list = field(default_factory=list)       # each model beside its second implementation, and whether they agree
    other_rigs: list = field(default_factory=list)   # "<rig>: <n> cells" of other machines, not read (rows.main_rig)

    def lines(self) -> list[str]:
        from harness.claims.conditions import condition_lines

        return condition_lines(self)

    def text(self) -> str:
        return "; ".join(self.lines())

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Verdict:
    id: str
    claim: str
    verdict: str      # one of VERDICTS
    evidence: str     # one line with the key numbers
    detail: str = ""  # markdown: the numbers behind the evidence
    scope: str = ""   # datasets, sizes, seeds, hardware the verdict rests on (Conditions.text())
    conditions: Conditions | None = None
    counts: dict | None = None   # {support, contradict, no-difference, undecided, indicative}: tasks of each
    reproduction: str = ""       # descriptive claims: what bench could measure of it, and how that came out
    linked: str = ""             # another claim resting on the same comparison (not counted twice)
    curves: list = field(default_factory=list)  # Curve: the evidence over an axis
    rule_verdict: str = ""       # what the rule alone said, when a condition (regime, budget, seeds) overrides it

    @property
    def counts_text(self) -> str:
        """"k support / m contradict / t no difference / u not decided, of N tasks"."""
        if not self.counts:
            return ""
        c = self.counts
        n = sum(c.values())
        undecided = c.get("undecided", 0) + c.get("indicative", 0)
        return (f"{c.get('support', 0)} support / {c.get('contradict', 0)} contradict / "
                f"{c.get('no-difference', 0)} no difference / {undecided} not decided, of {n} task{'s' * (n != 1)}")


def verdict(entry: dict, value: str, evidence: str, detail: str = "", scope: str = "", **fields) -> Verdict:
    assert value in VERDICTS, value
    linked = fields.pop("linked", entry.get("linked", ""))
    return Verdict(entry["id"], entry["claim"], value, evidence, detail, scope, linked=linked or "", **fields)


def not_run(entry: dict, why: str) -> Verdict:
    """No rows to judge: say why and name the command that produces them."""
    return verdict(entry, "not-run", f"{why}; run `{entry['produce']}`", scope="no rows")


# ---------------------------------------------------------------- one comparison

class Recorder:
    """Every comparison a rule decides while judging one claim, in call order.

    `judge` runs a rule twice: the first pass records each comparison's p-value; the second applies
    Holm's correction across all of them (`survives`), so a claim tested on many tasks names a false
    winner no more often than one tested on a single task. The records also give the seeds paired per
    comparison and who lost each decided one, for the conditions and the budget check."""

    def __init__(self, survives: list[bool] | None = None):
        self.records: list[dict] = []
        self.survives = survives
        self.counts: dict | None = None

    def decide(self, diff: PairedDifference, decision: str) -> str:
        i = len(self.records)
        if decision in (BETTER, WORSE) and self.survives is not None and i < len(self.survives) and not self.survives[i]:
            decision = UNDECIDED
        self.records.append({"n": diff.n, "p": diff.p_value, "decision": decision,
                             "a": tuple(diff.a_cells), "b": tuple(diff.b_cells), "higher_is_better": diff.higher_is_better})
        return decision

    def losers(self) -> set:
        """(dataset, key) cells on the losing side of a decided comparison."""
        out = set()
        for r in self.records:
            if r["decision"] in (BETTER, WORSE):  # BETTER: a's value is the higher one
                a_higher = r["decision"] == BETTER
                out |= set(r["b"] if a_higher == r.get("higher_is_better", True) else r["a"])
        return out


RECORDER: ContextVar[Recorder | None] = ContextVar("claims_recorder", default=None)
DECISION_SIDE = {BETTER: "a", WORSE: "b", EQUIVALENT: TIE, UNDECIDED: UNKNOWN,
                 INDICATIVE_BETTER: "leans-a", INDICATIVE_WORSE: "leans-b"}


def outcome(diff: PairedDifference, large_gap: float = LARGE_GAP) -> str:
    """Who is ahead in a - b: 'a' or 'b' when the t-interval over at least 3 paired seeds excludes 0,
    'tie' when it lies inside the equivalence margin `large_gap` (the ROPE), 'unknown' when neither;
    with fewer than 3 seeds never decided: 'leans-a' / 'leans-b' when the mean gap is beyond the
    margin, else 'unknown' (harness.evaluation.comparisons.decide)."""
    if diff.n == 0:
        return UNKNOWN
    decision = str(decide(diff.mean, diff.lo if diff.n > 1 else np.nan, diff.hi if diff.n > 1 else np.nan,
                          diff.n, large_gap))
    recorder = RECORDER.get()
    if recorder is not None:
        decision = recorder.decide(diff, decision)
    return DECISION_SIDE[decision]


def comparison(diff: PairedDifference, large_gap: float, higher_is_better: bool = True) -> str:
    """SUPPORTS when the first side (the autoencoder, the pretrained network) is ahead beyond the noise,
    CONTRADICTS when behind, TIE inside the margin, a lean with fewer than 3 seeds, else UNKNOWN."""
    return as_outcome(outcome(diff, large_gap), "a" if higher_is_better else "b")


def as_outcome(side: str, better: str) -> str:
    """'a'/'b'/'tie'/'unknown'/'leans-*' of a paired difference in the claim's terms, `better` the side it predicts ahead."""
    if side.startswith("leans-"):
        return LEANS_SUPPORT if side[6:] == better else LEANS_CONTRADICT
    if side in (TIE, UNKNOWN):
        return side
    return SUPPORTS if side == better else CONTRADICTS


# ---------------------------------------------------------------- outcomes into one

TALLY_OF = {SUPPORTS: SUPPORT, CONTRADICTS: CONTRADICT, TIE: NO_DIFFERENCE, UNKNOWN: UNDECIDED_TASK,
            LEANS_SUPPORT: "indicative", LEANS_CONTRADICT: "indicative"}


def counts_of(outcomes: list[str]) -> dict[str, int]:
    """Tasks of each kind: support, contradict, no-difference, undecided, indicative (a mixed task
    counts once as support and once as contradict: it holds there in one part and fails in another)."""
    counts = dict.fromkeys((SUPPORT, CONTRADICT, NO_DIFFERENCE, UNDECIDED_TASK, "indicative"), 0)
    for o in outcomes:
        if o == MIXED:
            counts[SUPPORT] += 1
            counts[CONTRADICT] += 1
        else:
            counts[TALLY_OF.get(o, UNDECIDED_TASK)] += 1
    return counts


def overall(outcomes: list[str]) -> str:
    """One verdict from the tasks' outcomes by one rule, the same in both directions
    (harness.evaluation.aggregate.aggregate_verdict): only decided tasks vote; with none decided,
    tasks that lean (fewer than 3 seeds) give "indicative", else "inconclusive"."""
    counts = counts_of(outcomes)
    recorder = RECORDER.get()
    if recorder is not None:  # the last tally of a rule is the claim's: judge stores it with the verdict
        recorder.counts = counts
    decided = {k: counts[k] for k in (SUPPORT, CONTRADICT, NO_DIFFERENCE)}
    if not any(decided.values()):
        return "indicative" if counts["indicative"] else "inconclusive"
    return aggregate_verdict(decided)


def combined(outcomes: list[str]) -> str:
    """overall() as a task outcome."""
    return {"supported": SUPPORTS, "contradicted": CONTRADICTS, "mixed": MIXED, "no-difference": TIE,
            "indicative": leaning(outcomes)}.get(overall(outcomes), UNKNOWN)


def leaning(outcomes: list[str]) -> str:
    s, c = outcomes.count(LEANS_SUPPORT), outcomes.count(LEANS_CONTRADICT)
    return LEANS_SUPPORT if s > c else LEANS_CONTRADICT if c > s else UNKNOWN


def conjunction(parts: list[str]) -> str:
    """Every part must hold: supports when all do; mixed when one holds and another fails or only ties
    (or a part is mixed itself); contradicts when one fails and none holds; a tie when all tie; a lean
    when no part is decided against and some lean; else unknown (a part could not be told)."""
    if parts and all(p == SUPPORTS for p in parts):
        return SUPPORTS
    if MIXED in parts or (SUPPORTS in parts and (CONTRADICTS in parts or TIE in parts)):
        return MIXED
    if CONTRADICTS in parts:
        return CONTRADICTS
    if parts and all(p == TIE for p in parts):
        return TIE
    return leaning(parts) if set(parts) <= {SUPPORTS, TIE, LEANS_SUPPORT, LEANS_CONTRADICT, UNKNOWN} and UNKNOWN not in parts else UNKNOWN


def wins_or_ties(outcomes: list[str]) -> str:
    """A4's reading: supported when the autoencoder is never behind (it wins or ties every comparison,
    at least one of them decided), contradicted when it is behind and never ahead, mixed when both."""
    counts_of_tasks = counts_of(outcomes)
    recorder = RECORDER.get()
    if recorder is not None:
        recorder.counts = counts_of_tasks
    wins, losses = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
    if losses:
        return "mixed" if wins else "contradicted"
    if wins:
        return "supported"
    if TIE in outcomes:  # never behind, but never ahead either: no difference, not support
        return "no-difference"
    return "indicative" if LEANS_SUPPORT in outcomes or LEANS_CONTRADICT in outcomes else "inconclusive"


def aspect_outcome(results: list[str]) -> str:
    """One aspect from its metrics' outcomes: one family better on some metric and worse on none."""
    better = set(results) & {CLASSICAL_BETTER, DEEP_BETTER}
    if len(better) == 2:
        return MIXED
    if better:
        return better.pop()
    return TIE if TIE in results else UNKNOWN
