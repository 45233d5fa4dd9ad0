"""The claims scorecard (one row per claim of the source document, its verdict from these rows) and
each claim's detail further down the page."""
from __future__ import annotations

import pandas as pd

from harness.report.blocks import Cell, Heading, Markdown, Para, Table, note
from harness.results.store import safe_name


def claims_blocks(df: pd.DataFrame, run_infos: dict[str, dict]) -> tuple[list, list]:
    """The scorecard table (ids link to details) and the detail blocks further down."""
    try:
        from harness.claims import evaluate_claims

        verdicts = list(evaluate_claims(df, run_infos))
    except Exception as e:  # noqa: BLE001 - the claims engine is optional to the report
        return [note(f"The claims scorecard could not be computed: {type(e).__name__}: {e}")], []
    if not verdicts:
        return [note("The claims registry returned no claims.")], []
    rows, details = [], []
    for v in verdicts:
        cid, verdict = str(v.id), str(v.verdict)
        anchor = "claim-" + safe_name(cid)
        rows.append([Cell(cid, href=anchor), str(v.claim), Cell(verdict, cls=f"pill verdict-{safe_name(verdict)}"),
                     str(v.evidence)])
        details += [Heading(3, f"{cid}: {verdict}", anchor), Para(str(v.claim)),
                    Para(f"Scope: {v.scope}"), Markdown(str(v.detail or ""))]
    return [Table(["id", "claim", "verdict", "evidence"], rows)], details
