"""The report of finished runs: `report.md` and a self-contained `report.html` with the same content.

The page is built once as a list of blocks (harness/report/blocks.py); each renders itself as Markdown
and as HTML. Order: summary, claims scorecard, one section per suite (harness/report/sections/suite.py:
a section per dataset by its task kind, then comparisons and plots), claim details, run metadata. Every
figure with a spread over seeds is a mean with its 95% Student-t interval
(`harness.evaluation.stats.mean_ci`). Plots are drawn inside a guard (harness/report/plots.py): a
failing plot becomes a one-line note.
"""
from __future__ import annotations

from pathlib import Path

from harness.report.blocks import Heading, Para, Plot
from harness.report.html_page import html_page
from harness.report.rows import with_labels
from harness.report.sections.claims import claims_blocks
from harness.report.sections.fidelity import fidelity_blocks
from harness.report.sections.metadata import metadata_blocks
from harness.report.sections.suite import guarded_blocks, suite_blocks
from harness.report.sections.summary import summary_text
from harness.results.store import atomic_write_bytes, load_results, load_run_info, run_folders


def write_report(inputs: list[Path], out: Path) -> list[Path]:
    """Write `out/report.md` (plots in `out/plots/`, PNG with SVG and PDF beside) and `out/report.html`;
    return both paths."""
    out = Path(out)
    df = with_labels(load_results(inputs))
    folders = sorted({f for p in inputs for f in run_folders(Path(p))})
    run_infos = {str(f): load_run_info(f) for f in folders}
    suites = list(dict.fromkeys(df["suite"]))
    title = f"bench report: {', '.join(suites)}"

    scorecard, details = claims_blocks(df, run_infos)
    blocks = [Heading(1, title), Para(summary_text(df)), Heading(2, "Claims scorecard", "claims"), *scorecard]
    for suite in suites:
        blocks += suite_blocks(df[df["suite"] == suite], suite)
    blocks += guarded_blocks(fidelity_blocks, df, "")  # every suite of the report
    if details:
        blocks += [Heading(2, "Claim details", "claim-details"), *details]
    blocks += metadata_blocks(df, run_infos)

    for b in blocks:
        if isinstance(b, Plot):
            for suffix, data in {"png": b.png, **b.vectors}.items():
                atomic_write_bytes(out / "plots" / f"{b.name}.{suffix}", data)
    md_path, html_path = out / "report.md", out / "report.html"
    atomic_write_bytes(md_path, ("\n\n".join(b.md() for b in blocks) + "\n").encode())
    atomic_write_bytes(html_path, html_page(title, blocks).encode())
    return [md_path, html_path]
