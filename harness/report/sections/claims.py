"""The claims scorecard (one row per claim of the source document, its verdict from these rows), a
legend of the verdicts, and each claim's detail further down the page: its verdict and what the rule
alone said, the tally of tasks, the conditions it was tested on, its comparisons and its curves.
Claims whose suites have no rows here are one line under the table, with the command that runs them."""
from __future__ import annotations

import pandas as pd

from harness.report.blocks import Bullets, Cell, Heading, Markdown, Para, Table, note
from harness.report.plots import curve_figure, guarded_plot
from harness.results.store import safe_name


def pill(verdict: str) -> Cell:
    return Cell(verdict, cls=f"pill verdict-{safe_name(verdict)}")


def legend_blocks() -> list:
    """Every verdict bench can give, with its one-line meaning."""
    from harness.claims.verdict import LEGEND, VERDICTS

    rows = [[pill(v), LEGEND.get(v, "")] for v in (*VERDICTS, *(v for v in LEGEND if v not in VERDICTS))]
    return [Heading(3, "What the verdicts mean", "claims-legend"), Table(["verdict", "meaning"], rows)]


def claims_blocks(df: pd.DataFrame, run_infos: dict[str, dict]) -> tuple[list, list]:
    """The scorecard table (ids link to details) and its legend, and the detail blocks further down."""
    try:
        from harness.claims import evaluate_claims

        verdicts = list(evaluate_claims(df, run_infos))
    except Exception as e:  # noqa: BLE001 - the claims engine is optional to the report
        return [note(f"The claims scorecard could not be computed: {type(e).__name__}: {e}")], []
    if not verdicts:
        return [note("The claims registry returned no claims.")], []
    unrun = suites_not_run(verdicts, df)
    rows, details = [], []
    for v in verdicts:
        if str(v.id) in unrun:
            continue
        cid = str(v.id)
        anchor = "claim-" + safe_name(cid)
        evidence = str(v.evidence)
        tally = getattr(v, "counts_text", "")
        rows.append([Cell(cid, href=anchor), str(v.claim), pill(str(v.verdict)),
                     f"{evidence} ({tally})" if tally else evidence])
        details += detail_blocks(v, anchor)
    try:
        legend = legend_blocks()
    except Exception as e:  # noqa: BLE001 - a legend is no reason to lose the scorecard
        legend = [note(f"The verdict legend could not be written: {type(e).__name__}: {e}")]
    table = [Table(["id", "claim", "verdict", "evidence"], rows)] if rows else []
    return [*table, *not_run_line(unrun), *legend], details


def suites_not_run(verdicts: list, df: pd.DataFrame | None) -> dict[str, list[str]]:
    """Claim id -> its suites, for each not-run claim none of whose suites has a row here (a claim
    not-run for another reason, `interpret=on` or one training size, keeps its row and its reason)."""
    try:
        from harness.claims.registry import load_registry

        suites = {str(e["id"]): list(e.get("evidence", {}).get("suites") or []) for e in load_registry()}
    except Exception:  # noqa: BLE001 - without the registry every claim keeps its row
        return {}
    ran = set(df["suite"]) if df is not None and "suite" in df else set()
    return {str(v.id): suites[str(v.id)] for v in verdicts
            if str(v.verdict) == "not-run" and suites.get(str(v.id)) and not set(suites[str(v.id)]) & ran}


def not_run_line(unrun: dict[str, list[str]]) -> list:
    """One line naming the claims whose suites did not run, and the command that runs those suites."""
    if not unrun:
        return []
    suites = list(dict.fromkeys(s for names in unrun.values() for s in names))
    command = f"bench run suite={','.join(suites)}" + (" -m" if len(suites) > 1 else "")
    return [Markdown(f"**Not run** ({len(unrun)} claim{'s' * (len(unrun) != 1)}, no rows of their suites here): "
                     f"{', '.join(unrun)}. Run `{command}` for their suites, or `bench run suite=all` for "
                     "every suite.")]


def detail_blocks(v, anchor: str) -> list:
    """One claim's detail. Fields a verdict lacks (an older claims engine) are left out."""
    try:
        from harness.claims.verdict import LEGEND
    except Exception:  # noqa: BLE001
        LEGEND = {}
    cid, verdict = str(v.id), str(v.verdict)
    facts = [[Cell("verdict", cls="key"), pill(verdict)]]
    if LEGEND.get(verdict):
        facts.append([Cell("meaning", cls="key"), LEGEND[verdict]])
    rule_alone = getattr(v, "rule_verdict", "")
    if rule_alone:
        facts.append([Cell("rule alone", cls="key"), pill(str(rule_alone))])
        facts.append([Cell("", cls="key"), f"the rule said {rule_alone}; a condition (budget, regime or seeds) "
                                           f"made it {verdict}"])
    facts.append([Cell("evidence", cls="key"), str(v.evidence)])
    tally = getattr(v, "counts_text", "")
    if tally:
        facts.append([Cell("tally", cls="key"), tally])
    linked = str(getattr(v, "linked", "") or "")
    if linked:
        text = f"same comparison as {linked}; counted once" if len(linked.split()) == 1 else linked
        facts.append([Cell("linked", cls="key"), Cell(text, href="claim-" + safe_name(linked))
                      if len(linked.split()) == 1 else text])
    reproduction = str(getattr(v, "reproduction", "") or "")
    if reproduction:
        facts.append([Cell("reproduction", cls="key"), reproduction])

    blocks = [Heading(3, f"{cid}: {verdict}", anchor), Para(str(v.claim)), Table(["", ""], facts)]
    conditions = getattr(v, "conditions", None)
    lines = conditions.lines() if conditions is not None else []
    if lines:
        blocks += [Para("Tested on:"), Bullets(lines)]
    elif getattr(v, "scope", ""):
        blocks.append(Para(f"Scope: {v.scope}"))
    if str(getattr(v, "detail", "") or "").strip():
        blocks.append(Markdown(str(v.detail)))
    for i, curve in enumerate(getattr(v, "curves", None) or []):
        title = curve.title or f"{curve.y} against {curve.x}"
        caption = f"{cid}: {title}" + (" (log x)" if curve.log_x else "")
        plot = guarded_plot(curve_figure, curve, f"claim-{safe_name(cid)}-curve-{i + 1}", caption)
        if plot is not None:
            blocks.append(plot)
    return blocks
