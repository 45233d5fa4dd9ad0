"""report.html: the blocks' HTML inside one self-contained page, stamped with the time it was written.
Everything is inline (CSS, figures as data, plotly's library once where a figure is interactive, the
table script of harness/report/interactive.py): the page loads nothing, so it works from a file with
no network."""
from __future__ import annotations

import html
from datetime import datetime, timezone

from harness.report.interactive import TABLE_CSS, TABLE_SCRIPT, plotly_library

CSS = """
:root { --classical: #1197ab; --deep: #b8338f; --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; color: var(--ink);
       max-width: 1200px; margin: 2rem auto; padding: 0 1.5rem 4rem; background: #fff; }
h1 { font-size: 1.9rem; margin: 0 0 .2rem; }
h2 { font-size: 1.4rem; margin-top: 2.6rem; padding-bottom: .3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin-top: 1.8rem; }
a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
.stamp { color: var(--muted); font-size: .85rem; margin-bottom: 1.2rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .86rem; }
td a { white-space: nowrap; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--alt); font-weight: 600; white-space: nowrap; }
tbody tr:hover { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.classical td:first-child { border-left: 4px solid var(--classical); }
tr.deep td:first-child { border-left: 4px solid var(--deep); }
tr.best td { font-weight: 600; }
tr.classical.best { background: #eef8fa; } tr.deep.best { background: #faeff6; }
.fam { font-weight: 600; } .fam-classical { color: var(--classical); } .fam-deep { color: var(--deep); }
.pill { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .78rem; font-weight: 600;
        color: #fff; background: #6e7781; white-space: nowrap; }
/* one pill per verdict (harness.claims.verdict.VERDICTS), each its own colour */
.verdict-supported { background: #1a7f37; } .verdict-contradicted { background: #cf222e; }
.verdict-mixed { background: #bf8700; } .verdict-no-difference { background: #1b7c83; }
.verdict-inconclusive { background: #6e7781; } .verdict-indicative { background: #54aeff; color: #0a3069; }
.verdict-budget-limited { background: #bc4c00; } .verdict-implementations-disagree { background: #82071e; }
.verdict-out-of-regime { background: #0550ae; }
.verdict-definitional { background: #8250df; } .verdict-not-run { background: #d0d7de; color: #24292f; }
.verdict-not-implemented { background: #ffffff; color: #57606a; border: 1px dashed #8c959f; }
.verdict-error { background: #24292f; color: #ff8182; }
.status-failed { background: #cf222e; }
.error { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; color: #82071e; }
.key { color: var(--muted); white-space: nowrap; }
.note { color: var(--muted); font-style: italic; }
.detail { border-left: 3px solid var(--line); padding-left: 1rem; }
.detail th { white-space: normal; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; }
pre { background: var(--alt); padding: .6rem; overflow-x: auto; }
figure { margin: 1rem 0 1.8rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
"""


def html_page(title: str, blocks: list) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(b.html() for b in blocks)
    # plotly's library once, before the first figure that draws with it
    library = f"<script>{plotly_library()}</script>" if any(getattr(b, "interactive", "") for b in blocks) else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}{TABLE_CSS}</style>{library}</head>\n<body>\n"
            f'{body}\n<p class="stamp">written by bench {html.escape(stamp)}</p>\n'
            f"<script>{TABLE_SCRIPT}</script>\n</body></html>\n")
