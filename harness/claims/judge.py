"""From result rows to one verdict per registry claim: each claim's rule sees only the rows of its
claim's suites, and the verdict it gives is then held to the claim's conditions.

Nothing is guessed: a claim whose suites have no rows is not-run and names the command that produces
them; one whose rule is not written yet is not-implemented; a rule that raises is an error with its
message. A rule's decisive verdict (supported, contradicted) stands only if
  - its comparisons survive Holm's correction across every comparison of the claim (the rule runs
    twice: once to collect p-values, once with the correction applied),
  - no decided comparison's losing side was still learning at its budget (else budget-limited),
  - the rows reach the claim's `regime` (else out-of-regime, saying what was reached).
A verdict about a difference (supported, contradicted, mixed, no-difference) that rests on a model
whose two implementations disagree on a dataset it used (suites/guards.yaml, harness/evaluation/
guards.py) becomes implementations-disagree: a fault in the evidence, not a finding. A second
implementation's own rows are never evidence: the rules see the guarded model only.
Every verdict carries its Conditions and its tally of tasks.
"""
from __future__ import annotations

import pandas as pd

from harness.claims.conditions import bound_keys, conditions_of
from harness.claims.registry import RULES, load_registry
from harness.claims.rows import main_rig, ok, other_rigs, prepare, scope_of
from harness.claims.verdict import (
    DECISIVE,
    RECORDER,
    Recorder,
    Verdict,
    not_run,
    verdict,
)
from harness.evaluation.aggregate import holm
from harness.evaluation.comparisons import MIN_PAIRS
from harness.evaluation.guards import (
    DISAGREE,
    PairResult,
    compare_pairs,
    second_implementations,
)

# Which verdicts a condition may override: a verdict about a difference, whatever its direction.
JUDGED = ("supported", "contradicted", "mixed", "no-difference")


def run_rule(decide, rows: pd.DataFrame, entry: dict) -> tuple[Verdict, Recorder]:
    """The rule's verdict with Holm applied across its comparisons, and the record of them."""
    first = Recorder()
    token = RECORDER.set(first)
    try:
        decide(rows, entry)
    finally:
        RECORDER.reset(token)
    # every comparison counts among Holm's m, decided or not: else one lucky task out of ten survives alone
    second = Recorder(survives=holm([r["p"] for r in first.records]))
    token = RECORDER.set(second)
    try:
        return decide(rows, entry), second
    finally:
        RECORDER.reset(token)


def regime_reached(rows: pd.DataFrame, regime: dict | None) -> str | None:
    """None when the rows reach the claim's regime, else what they reached, in words."""
    if not regime:
        return None
    done = ok(rows)
    short = []
    if regime.get("min_train"):
        top = int(pd.to_numeric(done["n_train"], errors="coerce").max()) if len(done) else 0
        if top < regime["min_train"]:
            short.append(f"largest training set {top:,} < {regime['min_train']:,}")
    if regime.get("min_features"):
        if "n_features" in done and done["n_features"].notna().any():
            top = int(done["n_features"].max())
            if top < regime["min_features"]:
                short.append(f"largest input {top:,} features < {regime['min_features']:,}")
        else:
            sizes = regime.get("dataset_features", {})
            known = [sizes[d] for d in set(done["dataset"]) if d in sizes]
            if known and max(known) < regime["min_features"]:
                short.append(f"largest input {max(known):,} features < {regime['min_features']:,}")
    if regime.get("needs_gpu") and not (done["device"].astype(str) != "cpu").any():
        short.append("no GPU rows: only the CPU side was measured")
    if regime.get("min_suites"):
        have = sorted(set(done["suite"]))
        if len(have) < regime["min_suites"]:
            short.append(f"{len(have)} of the {regime['min_suites']} suites it needs ({', '.join(have)})")
    return "; ".join(short) or None


def seeds_per_configuration(rows: pd.DataFrame) -> int:
    """The most seeds any finished configuration has on one dataset (for rules that pair nothing)."""
    done = ok(rows)
    return int(done.groupby(["dataset", "key"])["seed"].nunique().max()) if len(done) else 0


def rests_on(rows: pd.DataFrame, recorder: Recorder) -> set[tuple[str, str]]:
    """(dataset, model) cells the verdict rests on: those of the rule's recorded comparisons, or, for a rule
    that records none (A12 reads each seed's threshold, not a paired difference), every finished cell."""
    arch_of = dict(zip(rows["key"], rows["arch"])) if "key" in rows else {}
    cells = {(d, arch_of.get(k, k)) for r in recorder.records for d, k, *_ in (*r["a"], *r["b"])}
    done = ok(rows)
    return cells or set(zip(done["dataset"], done["arch"]))


def implementation_faults(rows: pd.DataFrame, recorder: Recorder, pairs: list[PairResult]) -> list[PairResult]:
    """The disagreeing pairs whose guarded model, on that dataset, is part of what the verdict rests on."""
    cells = rests_on(rows, recorder)
    return [p for p in pairs if p.decision == DISAGREE and (p.dataset, p.guard.model) in cells]


def held_to_conditions(v: Verdict, rows: pd.DataFrame, entry: dict, recorder: Recorder,
                       pairs: list[PairResult] = (), left_out: list[str] = ()) -> Verdict:
    """A rule's verdict after the checks every claim shares: seeds, implementations, budget, regime."""
    regime = entry.get("regime") or {}
    regime_text = f"regime: {regime['text']}" if regime.get("text") else ""
    bound = bound_keys(rows) & recorder.losers()
    short = regime_reached(rows, regime)
    paired = [r["n"] for r in recorder.records]
    if v.verdict in DECISIVE and max(paired or [seeds_per_configuration(rows)]) < MIN_PAIRS:
        v.rule_verdict, v.verdict = v.verdict, "indicative"
        v.evidence = f"leans {v.rule_verdict} on fewer than {MIN_PAIRS} paired seeds; {v.evidence}"
    faults = implementation_faults(rows, recorder, list(pairs))
    if v.verdict in JUDGED and faults:
        names = ", ".join(sorted({f"{p.guard.model} and {p.guard.second}" for p in faults}))
        v.rule_verdict, v.verdict = v.rule_verdict or v.verdict, "implementations-disagree"
        v.evidence = (f"would read {v.rule_verdict}, but the two implementations of the same model disagree ({names}: "
                      f"{'; '.join(p.text() for p in faults)}), so the evidence rests on one hand-written model that "
                      f"its second implementation does not reproduce; {v.evidence}")
    still_learning = ", ".join(sorted({f"{k} on {d}" for d, k, _ in bound}))
    if v.verdict in DECISIVE and bound:
        v.rule_verdict, v.verdict = v.verdict, "budget-limited"
        v.evidence = f"would read {v.rule_verdict}, but the losing side was still learning at its budget ({still_learning}); {v.evidence}"
    elif v.verdict == "mixed" and bound:  # the verdict stands, but a part of it may move with more budget
        v.evidence = f"in part on a losing side still learning at its budget ({still_learning}); {v.evidence}"
    if v.verdict in JUDGED and short:
        v.rule_verdict, v.verdict = v.rule_verdict or v.verdict, "out-of-regime"
        v.evidence = f"would read {v.rule_verdict} inside the data run, but below the claim's scale: {short}; {v.evidence}"
    if short:
        regime_text += f" (reached: {short})"
    v.conditions = conditions_of(rows, rows.attrs.get("run_infos"), paired=paired,
                                 regime=regime_text)
    v.conditions.guards = [p.text() for p in pairs]
    v.conditions.other_rigs = list(left_out)
    if v.counts is None and recorder.counts is not None:
        v.counts = dict(recorder.counts)
    v.scope = v.scope or v.conditions.text()
    return v


def judge(rows: pd.DataFrame, entry: dict) -> Verdict:
    """One claim: definitional, not-run, not-implemented, error, or its rule's verdict held to its conditions."""
    if entry["rule"] == "definitional":
        return verdict(entry, "definitional", entry["why"].strip(), scope="no experiment")
    suites = entry["evidence"]["suites"]
    mine = rows[rows["suite"].isin(suites)]
    pairs = compare_pairs(main_rig(mine))
    mine = mine[~mine["arch"].isin(second_implementations())]  # a guard checks a model; it is not another one
    if mine.empty:
        return not_run(entry, f"no results for suite{'s' if len(suites) > 1 else ''} {', '.join(suites)}")
    decide = RULES.get(entry["rule"])
    every_rig = mine
    if not getattr(decide, "compares_machines", False):
        mine = main_rig(mine)  # one machine's cells: never a seed from each, nor one cell averaged over two
    mine.attrs = rows.attrs
    if decide is None:
        return verdict(entry, "not-implemented", f"rows exist for {', '.join(sorted(mine['suite'].unique()))} but "
                       f"rule `{entry['rule']}` is not written yet; no verdict is guessed", scope=scope_of(mine),
                       conditions=conditions_of(mine, rows.attrs.get("run_infos")))
    if ok(mine).empty and not getattr(decide, "reads_failed_cells", False):
        counts = ", ".join(f"{n} {s}" for s, n in mine["status"].value_counts().items())
        return verdict(entry, "inconclusive", f"no finished cells ({counts})", scope=scope_of(mine),
                       conditions=conditions_of(mine, rows.attrs.get("run_infos")))
    try:
        v, recorder = run_rule(decide, mine, entry)
    except Exception as e:  # noqa: BLE001 - one broken rule must not hide the other verdicts
        return verdict(entry, "error", f"rule `{entry['rule']}` failed: {type(e).__name__}: {e}", scope=scope_of(mine),
                       conditions=conditions_of(mine, rows.attrs.get("run_infos")))
    return held_to_conditions(v, mine, entry, recorder, pairs, other_rigs(every_rig, mine))


class SharedRunInfos(dict):
    """The runs' provenance ({run folder: run.json}) carried on the rows (`DataFrame.attrs`) to the
    verdicts' conditions. pandas deep-copies `attrs` into every frame an operation makes, and a
    run.json (its config, every installed distribution) made that a third of a report's time; it is
    only read, so every copy shares this one."""

    def __deepcopy__(self, memo):
        return self


def evaluate_claims(df: pd.DataFrame, run_infos: dict | None = None, registry: list[dict] | None = None) -> list[Verdict]:
    """Verdicts for every registry claim, in registry order. `run_infos` ({run folder: run.json}) adds
    machine details, threads, tuning and load to the conditions."""
    rows = prepare(df, run_infos)
    rows.attrs["run_infos"] = SharedRunInfos(run_infos or {})
    return [judge(rows, entry) for entry in (registry if registry is not None else load_registry())]
