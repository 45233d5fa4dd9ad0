"""`bench claims`: verdicts on the seed document's claims from the results on disk.

A claim is an entry of `registry.yaml` plus the rule it names, a function decorated with `@rule` in a
topic module of `rules/` (harness.claims.registry). `judge` runs each claim's rule on its suites' rows;
`verdict` and `rows` hold what every rule shares: how outcomes become verdicts, how rows are read.
`bench claims --explain ID` (harness.claims.explain) says how one verdict came about.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.claims.judge import evaluate_claims
from harness.claims.registry import RULES, discover_rules, load_registry
from harness.claims.verdict import LEGEND, VERDICTS, Verdict

__all__ = ["RULES", "VERDICTS", "Verdict", "cmd_claims", "evaluate_claims", "legend_lines", "load_registry",
           "read_results", "scorecard"]

discover_rules()

# One style per verdict (a test holds every verdict of VERDICTS to having one): green and red for the
# decisive ones, warm colours for a difference held back by a condition, grey for nothing measured.
VERDICT_STYLES = {"supported": "bold green", "contradicted": "bold red", "mixed": "yellow",
                  "no-difference": "cyan", "inconclusive": "dim", "indicative": "blue",
                  "budget-limited": "dark_orange", "implementations-disagree": "bold dark_orange", "out-of-regime": "bright_magenta", "definitional": "magenta",
                  "not-run": "dim italic", "not-implemented": "italic grey50", "error": "bold white on red"}
UNKNOWN_STYLE = "bold underline"  # a verdict added to VERDICTS before it got a style here


def verdict_style(value: str) -> str:
    return VERDICT_STYLES.get(value, UNKNOWN_STYLE)


def scorecard(verdicts: list[Verdict]):
    """The rich table: id, verdict (and what the rule alone said, when a condition overrode it),
    evidence (and the tally of tasks under it). Text is never read as rich markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Claims of deep-learning-theory-explained", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("evidence")
    for v in verdicts:
        value = str(v.verdict)
        cell = Text(value, style=verdict_style(value))
        rule_alone = getattr(v, "rule_verdict", "")
        if rule_alone:
            cell.append(f"\n(rule alone: {rule_alone})", style="dim")
        evidence = Text(str(v.evidence))
        tally = getattr(v, "counts_text", "")
        if tally:
            evidence.append(f"\n{tally}", style="dim")
        table.add_row(Text(str(v.id)), cell, evidence)
    return table


def legend_lines(verdicts: list[Verdict]) -> list[tuple[str, str]]:
    """(verdict, meaning) for each verdict that appears, in the order of VERDICTS."""
    present = {str(v.verdict) for v in verdicts}
    order = [*VERDICTS, *sorted(present - set(VERDICTS))]
    return [(value, LEGEND.get(value, "")) for value in order if value in present]


def legend(verdicts: list[Verdict]):
    """The meaning of each verdict shown, one line each (a grid: long meanings wrap under themselves)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for value, meaning in legend_lines(verdicts):
        grid.add_row(Text(value, style=verdict_style(value)), Text(meaning))
    return grid


def read_results(paths: list[str]) -> tuple[pd.DataFrame, dict, str]:
    """The rows and run.json files under `paths`, and "" (or the reason there are no rows, with an
    empty frame: every claim then reads not-run and names its command)."""
    from harness.results.store import ResultsError, load_results, load_run_info, run_folders

    try:
        df = load_results(paths)
        run_infos = {str(f): load_run_info(f) for p in paths for f in run_folders(Path(p))}
    except ResultsError as e:
        return pd.DataFrame(columns=["suite", "dataset", "model", "family", "seed", "status"]), {}, str(e)
    return df, run_infos, ""


def cmd_claims(paths: list[str]) -> int:
    """Print the scorecard of the results under `paths`; 0 when printed, 2 when nothing can be read
    (then the scorecard still names, per claim, the command that produces its rows)."""
    from rich.markup import escape

    from harness.core.display import console

    df, run_infos, problem = read_results(paths)
    verdicts = evaluate_claims(df, run_infos)
    if problem:
        console.print(f"[red]error:[/] {escape(problem)}", soft_wrap=True)
        if list(paths) == ["results"]:
            console.print("No runs under results/ yet: run [bold]bench run suite=vision[/] first.")
        console.print("[dim]Without rows every claim is not-run; each names the command that produces its rows:[/]")
        console.print(scorecard(verdicts))
        return 2
    console.print(scorecard(verdicts))
    console.print(legend(verdicts))
    console.print(f"[dim]{len(df)} cells from {df['run'].nunique()} run(s); details per claim in `bench report`, "
                  f"one claim in full with `bench claims --explain ID`.[/]")
    return 0
