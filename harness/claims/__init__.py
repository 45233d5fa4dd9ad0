"""`bench claims`: verdicts on the seed document's claims from the results on disk.

A claim is an entry of `registry.yaml` plus the rule it names, a function decorated with `@rule` in a
topic module of `rules/` (harness.claims.registry). `judge` runs each claim's rule on its suites' rows;
`verdict` and `rows` hold what every rule shares: how outcomes become verdicts, how rows are read.
"""
from __future__ import annotations

from pathlib import Path

from harness.claims.judge import evaluate_claims
from harness.claims.registry import RULES, discover_rules, load_registry
from harness.claims.verdict import VERDICTS, Verdict

__all__ = ["RULES", "VERDICTS", "Verdict", "cmd_claims", "evaluate_claims", "load_registry", "scorecard"]

discover_rules()

VERDICT_STYLES = {"supported": "bold green", "contradicted": "bold red", "mixed": "yellow",
                  "inconclusive": "dim", "not-run": "dim italic", "definitional": "magenta"}


def scorecard(verdicts: list[Verdict]):
    from rich.table import Table

    table = Table(title="Claims of deep-learning-theory-explained", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("evidence")
    for v in verdicts:
        style = VERDICT_STYLES.get(v.verdict, "")
        table.add_row(v.id, f"[{style}]{v.verdict}[/]", v.evidence)
    return table


def cmd_claims(paths: list[str]) -> int:
    """Print the scorecard of the results under `paths`; 0 when printed, 2 when nothing can be read."""
    from rich.markup import escape

    from harness.core.display import console
    from harness.results.store import ResultsError, load_results, load_run_info, run_folders

    try:
        df = load_results(paths)
        run_infos = {str(f): load_run_info(f) for p in paths for f in run_folders(Path(p))}
    except ResultsError as e:
        console.print(f"[red]error:[/] {escape(str(e))}")
        if list(paths) == ["results"]:
            console.print("No runs under results/ yet: run [bold]bench run suite=vision[/] first.")
        return 2
    console.print(scorecard(evaluate_claims(df, run_infos)))
    console.print(f"[dim]{len(df)} cells from {df['run'].nunique()} run(s); details per claim in `bench report`.[/]")
    return 0
