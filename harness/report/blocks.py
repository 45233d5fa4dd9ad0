"""The content of the report as blocks (headings, paragraphs, tables, preformatted text, Markdown,
figures); each renders itself twice, as Markdown (`md`) and as HTML (`html`), so report.md and
report.html say the same. Text from configs, data and models is escaped in both: a viewer that
renders raw HTML gets no tags from it.
"""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

from harness.core.display import visible


@dataclass
class Cell:
    text: str
    href: str = ""  # an in-page anchor
    cls: str = ""   # CSS classes of a span around the text: family and verdict colours


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell | str]]
    right: set[int] = field(default_factory=set)          # numeric columns
    row_cls: list[str] = field(default_factory=list)      # per row: family, 'best'

    def md(self) -> str:
        def cell(c: Cell | str, bold: bool) -> str:
            c = c if isinstance(c, Cell) else Cell(c)
            text = md_text(" ".join(c.text.split())).replace("|", "\\|")
            text = f"[{text}](#{c.href})" if c.href else text
            return f"**{text}**" if bold and text else text

        lines = ["| " + " | ".join(self.header) + " |",
                 "|" + "|".join("---:" if i in self.right else "---" for i in range(len(self.header))) + "|"]
        for i, row in enumerate(self.rows):
            bold = "best" in (self.row_cls[i] if i < len(self.row_cls) else "")
            lines.append("| " + " | ".join(cell(c, bold and j == 0) for j, c in enumerate(row)) + " |")
        return "\n".join(lines)

    def html(self) -> str:
        def cell(c: Cell | str, tag: str, j: int) -> str:
            c = c if isinstance(c, Cell) else Cell(c)
            text = inline_html(c.text)
            if c.href:
                text = f'<a href="#{html.escape(c.href)}">{text}</a>'
            if c.cls:
                text = f'<span class="{html.escape(c.cls)}">{text}</span>'
            align = ' class="num"' if j in self.right else ""
            return f"<{tag}{align}>{text}</{tag}>"

        head = "".join(cell(h, "th", j) for j, h in enumerate(self.header))
        head = f"<thead><tr>{head}</tr></thead>" if any(self.header) else ""  # a key/value table needs none
        body = "".join(f'<tr class="{html.escape(self.row_cls[i] if i < len(self.row_cls) else "")}">'
                       + "".join(cell(c, "td", j) for j, c in enumerate(row)) + "</tr>"
                       for i, row in enumerate(self.rows))
        return f'<div class="scroll"><table>{head}<tbody>{body}</tbody></table></div>'


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""

    def md(self) -> str:
        anchor = f'<a id="{html.escape(self.anchor)}"></a>\n' if self.anchor else ""
        return f"{anchor}{'#' * self.level} {md_text(self.text)}"

    def html(self) -> str:
        anchor = f' id="{html.escape(self.anchor)}"' if self.anchor else ""
        return f"<h{self.level}{anchor}>{html.escape(self.text)}</h{self.level}>"


@dataclass
class Para:
    text: str
    cls: str = ""  # 'note' for what is missing or failed

    def md(self) -> str:
        return f"*{md_text(self.text)}*" if self.cls == "note" else md_text(self.text)

    def html(self) -> str:
        return f'<p class="{self.cls}">{html.escape(self.text)}</p>'


@dataclass
class Pre:
    """Text shown exactly as it is (a model's generated sample), in a monospaced block."""
    text: str

    def md(self) -> str:
        # A fence longer than any run of backticks in the text: nothing in it can close the block.
        longest = max((len(run) for run in re.findall(r"`+", self.text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}text\n{visible(self.text)}\n{fence}"

    def html(self) -> str:
        return f"<pre>{html.escape(visible(self.text))}</pre>"


@dataclass
class Bullets:
    """A plain list of short lines (a verdict's conditions); each escaped, none read as Markdown."""
    items: list[str]

    def md(self) -> str:
        return "\n".join(f"- {md_text(' '.join(str(item).split()))}" for item in self.items)

    def html(self) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(str(item))}</li>" for item in self.items) + "</ul>"


def md_text(text: str) -> str:
    """Text from config or data, safe in Markdown: a viewer that renders raw HTML gets no tags."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def note(text: str) -> Para:
    return Para(text, "note")


@dataclass
class Markdown:
    """Markdown written by someone else (a claim's detail): kept as is in .md, a small subset in HTML."""
    text: str

    def md(self) -> str:
        return md_text(self.text)  # its figures and names come from results

    def html(self) -> str:
        parts = []
        for chunk in re.split(r"\n\s*\n", self.text.strip()):
            lines = chunk.splitlines()
            if all(line.lstrip().startswith(("- ", "* ")) for line in lines):
                parts.append("<ul>" + "".join(f"<li>{inline_html(line.lstrip()[2:])}</li>" for line in lines) + "</ul>")
            elif all(line.lstrip().startswith("|") for line in lines) and len(lines) >= 2:
                parts.append(pipe_table(lines).html())
            else:
                parts.append(f"<p>{inline_html(' '.join(lines))}</p>")
        return f'<div class="detail">{"".join(parts)}</div>'


def pipe_table(lines: list[str]) -> Table:
    """A Markdown pipe table (header, rule, rows) as a Table; `\\|` stays a literal bar."""
    def cells(line: str) -> list[str]:
        return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]

    rule = cells(lines[1])
    right = {j for j, c in enumerate(rule) if c.endswith(":")}
    return Table(cells(lines[0]), [cells(line) for line in lines[2:]], right=right)


def inline_html(text: str) -> str:
    text = html.escape(text)  # escaped first, so the only tags are the ones added below
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


@dataclass
class Plot:
    name: str      # file name stem under plots/
    caption: str
    png: bytes
    # The same figure as vector files, where matplotlib drew it: written beside the PNG for a paper.
    vectors: dict[str, bytes] = field(default_factory=dict)  # suffix ('svg', 'pdf') -> bytes
    # An interactive twin (harness/report/interactive.py): the HTML page shows it instead of the PNG.
    interactive: str = ""  # its <div> and script, its strings escaped where they were drawn

    def md(self) -> str:
        caption = md_text(self.caption)  # captions carry dataset and model names
        return f"![{caption}](plots/{self.name}.png)\n\n*{caption}*"

    def html(self) -> str:
        caption = html.escape(self.caption)
        if self.interactive:
            figure = f'<div class="interactive">{self.interactive}</div>'
            caption += (". Hover a point for its model, family, seeds and parameters; click a family in the legend "
                        "to hide or show it.")
        else:
            data = base64.b64encode(self.png).decode()
            figure = f'<img alt="{caption}" src="data:image/png;base64,{data}">'
        return f"<figure>{figure}<figcaption>{caption}</figcaption></figure>"
