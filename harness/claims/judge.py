"""From result rows to one verdict per registry claim: each claim's rule sees only the rows of its
claim's suites. Nothing is guessed: a claim whose suites have no rows is not-run and names the command
that produces them; one whose rule is planned but not written yet is inconclusive."""
from __future__ import annotations

import pandas as pd

from harness.claims.registry import RULES, load_registry
from harness.claims.rows import ok, prepare, scope_of
from harness.claims.verdict import Verdict, not_run, verdict


def pending(rows: pd.DataFrame, entry: dict) -> Verdict:
    """The verdict of a claim whose suite exists before its decision rule does (`planned: true`)."""
    return verdict(entry, "inconclusive", f"rows exist for {', '.join(sorted(rows['suite'].unique()))} but rule "
                   f"`{entry['rule']}` is not implemented yet; no verdict is guessed", scope=scope_of(rows))


def judge(rows: pd.DataFrame, entry: dict) -> Verdict:
    """One claim: definitional, not-run, not implemented, or its rule's verdict on its suites' rows."""
    if entry["rule"] == "definitional":
        return verdict(entry, "definitional", entry["why"].strip(), scope="no experiment")
    suites = entry["evidence"]["suites"]
    mine = rows[rows["suite"].isin(suites)]
    if mine.empty:
        return not_run(entry, f"no results for suite{'s' if len(suites) > 1 else ''} {', '.join(suites)}")
    decide = RULES.get(entry["rule"]) or (pending if entry.get("planned") else None)
    if decide is None:
        return verdict(entry, "inconclusive", f"no rule named `{entry['rule']}`", scope=scope_of(mine))
    if ok(mine).empty and not getattr(decide, "reads_failed_cells", False):
        counts = ", ".join(f"{n} {s}" for s, n in mine["status"].value_counts().items())
        return verdict(entry, "inconclusive", f"no finished cells ({counts})", scope=scope_of(mine))
    try:
        return decide(mine, entry)
    except Exception as e:  # noqa: BLE001 - one broken rule must not hide the other verdicts
        return verdict(entry, "inconclusive", f"rule `{entry['rule']}` failed: {type(e).__name__}: {e}",
                       scope=scope_of(mine))


def evaluate_claims(df: pd.DataFrame, run_infos: dict | None = None, registry: list[dict] | None = None) -> list[Verdict]:
    """Verdicts for every registry claim, in registry order. `run_infos` ({run folder: run.json}) adds
    machine details to the scope."""
    rows = prepare(df, run_infos)
    return [judge(rows, entry) for entry in (registry if registry is not None else load_registry())]
