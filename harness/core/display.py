"""What the user watches: a progress bar over cells, a transient epoch bar, and result tables."""
from __future__ import annotations

import io
import logging
import math
import os
import re
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from rich.cells import cell_len
from rich.console import Console
from rich.control import Control
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

# In a log, a pipe or CI (no terminal, no COLUMNS) rich would assume 80 columns; text wraps at this
# width there instead, and tables are printed whole (BenchConsole).
LOG_WIDTH = 200
FAMILY_COLOURS = {"classical": "cyan", "deep": "magenta"}


class BenchConsole(Console):
    """A rich Console whose tables stay readable at any width: where it writes to no terminal (a log, a
    pipe, CI) or a table is wider than the terminal, a table is printed as plain aligned text at its
    own width (plain_table), never squeezed into `accur…`. What it prints is also printed, as plain
    text, by the consoles in `copies` (a run's bench.log: run_log)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.copies: list[Console] = []

    def fits(self, table: Table) -> bool:
        unbounded = self.options.update(width=10_000)  # its natural width, not what the screen leaves it
        return self.is_terminal and Measurement.get(self, unbounded, table).maximum <= self.width

    def print(self, *objects, **kwargs) -> None:
        if not any(isinstance(o, Control) for o in objects):  # a live display's cursor moves are no output
            for copy in list(self.copies):
                copy.print(*objects, **kwargs)
        if not any(isinstance(o, Table) and not self.fits(o) for o in objects):
            super().print(*objects, **kwargs)
            return
        for o in objects:
            if isinstance(o, Table) and not self.fits(o):
                super().print(plain_table(o), soft_wrap=True, highlight=False)
            else:
                super().print(o, **kwargs)


console = BenchConsole(stderr=True, width=None if sys.stderr.isatty() or os.environ.get("COLUMNS") else LOG_WIDTH)


def plain_text(renderable) -> str:
    """A cell, header or title as plain text: markup applied and dropped, on one line."""
    if isinstance(renderable, str):
        text = Text.from_markup(renderable).plain
    elif isinstance(renderable, Text):
        text = renderable.plain
    else:
        out = io.StringIO()
        Console(file=out, width=10_000, color_system=None).print(renderable)
        text = out.getvalue()
    return " ".join(text.split("\n")).rstrip()


def plain_table(table: Table) -> Text:
    """A table as aligned plain text at its own width: title, header, a rule of dashes, rows; numbers
    right-aligned as in the table. Nothing is cut, whatever the width of the screen or log."""
    columns = table.columns
    body = [[plain_text(c) for c in col.cells] for col in columns]
    grid = [[plain_text(c.header) for c in columns]] if table.show_header else []
    grid += [[body[j][i] if i < len(body[j]) else "" for j in range(len(columns))] for i in range(table.row_count)]
    widths = [max((cell_len(row[j]) for row in grid), default=0) for j in range(len(columns))]

    def line(row: list[str]) -> str:
        cells = [(" " * (w - cell_len(c)) + c) if col.justify == "right" else c + " " * (w - cell_len(c))
                 for c, w, col in zip(row, widths, columns)]
        return "  ".join(cells).rstrip()

    lines = [plain_text(table.title)] if table.title else []
    for i, row in enumerate(grid):
        lines.append(line(row))
        if i == 0 and table.show_header:
            lines.append("  ".join("-" * w for w in widths))
    if table.caption:
        lines.append(plain_text(table.caption))
    return Text("\n".join(lines) + "\n")  # a blank line apart from what follows, as a boxed table stands apart


class _WarningsToConsole(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"[yellow]warning[/]: {escape(record.getMessage().strip())}", soft_wrap=True)


@contextmanager
def run_log(path: Path):
    """While open, `path` (a run's bench.log) gets, as plain text, every line the console prints (the
    cells, tables, results, report) and every warning of this process, which the console shows too
    (a cell's own warnings come back with its result: harness/core/isolation.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        copy = BenchConsole(file=f, width=LOG_WIDTH, color_system=None, force_terminal=False, soft_wrap=True,
                            highlight=False, emoji=False)
        warnings_log, handler = logging.getLogger("py.warnings"), _WarningsToConsole()
        console.copies.append(copy)
        warnings_log.addHandler(handler)
        logging.captureWarnings(True)
        try:
            yield
        finally:
            logging.captureWarnings(False)
            warnings_log.removeHandler(handler)
            console.copies.remove(copy)


class RunDisplay:
    """Outer bar over (dataset x model x seed) cells; an inner, transient bar over epochs (one cell
    at a time only: with several at once their epochs would mix in one bar). Cells call it from the
    pool's threads, so each update holds a lock."""

    def __init__(self, total_cells: int, epochs: bool = True):
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=console, transient=False)
        self.total = total_cells
        self.cells = None
        self.epochs = None
        self.show_epochs = epochs
        self.lock = threading.RLock()

    def __enter__(self):
        self.progress.__enter__()
        self.cells = self.progress.add_task("cells", total=self.total)
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def start_cell(self, dataset: str, model: str, seed: int, n_train: int) -> None:
        with self.lock:
            self.progress.update(self.cells, description=f"[bold]{dataset}[/] · {escape(model)} · seed {seed} · n={n_train}")

    def on_epoch(self, epoch: int, max_epochs: int, loss: float, label: str | None = None) -> None:
        """`label` says what was done where epochs are not the unit (a language model's steps)."""
        if not self.show_epochs:
            return
        with self.lock:
            if self.epochs is None:
                self.epochs = self.progress.add_task("  epochs", total=max_epochs)
            self.progress.update(self.epochs, completed=epoch,
                                 description=f"  {escape(label or f'epoch {epoch}')} · loss {loss:.4f}")

    def end_cell(self, row: dict) -> None:
        with self.lock:
            if self.epochs is not None:
                self.progress.remove_task(self.epochs)
                self.epochs = None
            self.progress.advance(self.cells)
            self.progress.console.print(cell_line(row))

    def print(self, *args, **kwargs) -> None:
        with self.lock:
            self.progress.console.print(*args, **kwargs)


def cell_line(row: dict) -> str:
    label = row["model"] + (f"[{row['variant']}]" if row.get("variant") else "")
    where = escape(f"{row['dataset']:<14} {label:<24} seed {row['seed']} n={row['n_train']}")
    if row["status"] != "ok":
        return f"[red]✗[/] {where}  [red]{row['status']}[/]: {row['error']}"
    reused = "  [dim](reused)[/]" if row.get("reused_from") else ""
    acc = row.get("accuracy")
    score = f"acc {acc:.4f}"
    if acc is None or pd.isna(acc):  # a regression row has an MSE, a language model's bits per character
        score = next((f"{name} {row[col]:.4f}" for col, name in (("bpc", "bpc"), ("mse", "mse"), ("frechet_distance", "FD"),
                                                                 ("roc_auc", "ROC-AUC"), ("reconstruction_mse", "MSE"),
                                                                 ("mean_return", "return"))
                      if row.get(col) is not None and not pd.isna(row[col])), "–")
    return (f"[green]✓[/] {where}  {score}  train {fmt_seconds(row['train_seconds'])}"
            f"  predict {row['predict_seconds_per_1k'] * 1000:.1f} ms/1k{reused}")


def fmt_seconds(s: float) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "–"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def fmt_count(n) -> str:
    if n is None or pd.isna(n):
        return "–"
    n = float(n)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible(text: str) -> str:
    """Generated text made safe to show: control characters (a bell, an escape sequence) written as
    \\xNN; newlines and tabs kept."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def base_dataset(name: str) -> str:
    """A dataset variant's dataset: digits_anomaly[anomaly_class=3] -> digits_anomaly."""
    return str(name).split("[", 1)[0]


def with_label(d: pd.DataFrame) -> pd.DataFrame:
    return d.assign(label=d["model"] + d.get("variant", pd.Series("", index=d.index)).fillna("").map(
        lambda v: f"[{v}]" if v else ""))


def failed_rows(t: Table, d: pd.DataFrame, columns: int) -> None:
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), f"[red]{r['status']}[/]", *[""] * (columns - 2))


def summary_tables(df: pd.DataFrame) -> list:
    """The tables of a run, each drawn by its rows' task kind (harness/tasks/): first the kinds whose
    dataset variants share a table (one per base dataset: digits_anomaly[anomaly_class=3] and its
    siblings), then one per dataset, of its largest training size."""
    from harness.tasks import table_kind

    tables, covered = [], set()
    df = with_label(df)
    for base, d in df.groupby(df["dataset"].map(base_dataset), sort=False):
        kind = table_kind(d)
        if kind.grouped_by_base:
            tables += kind.tables(base, d)
            covered |= set(d["dataset"])
    for dataset, d in df[~df["dataset"].isin(covered)].groupby("dataset", sort=False):
        d = d[d["n_train"] == d["n_train"].max()]
        tables += table_kind(d).tables(dataset, d)
    return tables


def results_table(dataset: str, d: pd.DataFrame) -> list:
    """Mean over seeds per model, best of each family marked: accuracy and macro-F1, or for a
    regression (no accuracy) R² and MSE in their columns."""
    ok = d[d["status"] == "ok"]
    # A regression dataset (no accuracy) shows R^2 and MSE in the accuracy and F1 columns.
    regression = "r2" in ok and ok["accuracy"].isna().all() and ok["r2"].notna().any()
    score, second = ("r2", "mse") if regression else ("accuracy", "f1_macro")
    agg = ok.groupby(["family", "label"], sort=False).agg(
        accuracy=(score, "mean"), f1=(second, "mean"), train=("train_seconds", "mean"),
        predict=("predict_seconds_per_1k", "mean"), params=("n_parameters", "mean"),
        seeds=("seed", "nunique")).reset_index()
    best = {fam: g["accuracy"].idxmax() for fam, g in agg.groupby("family")
            if g["accuracy"].notna().any()} if len(agg) else {}
    t = Table(title=f"{escape(dataset)}  (n_train={int(d['n_train'].max())}, test={int(d['n_test'].max())})",
              title_justify="left")
    for col, justify in (("model", "left"), ("R²" if regression else "accuracy", "right"),
                         ("MSE" if regression else "macro-F1", "right"), ("train", "right"),
                         ("predict /1k", "right"), ("params", "right"), ("seeds", "right")):
        t.add_column(col, justify=justify, no_wrap=True)
    for fam in ("classical", "deep"):
        rows = agg[agg["family"] == fam].sort_values("accuracy", ascending=False)
        if not len(rows):
            continue
        t.add_row(f"[bold {FAMILY_COLOURS[fam]}]{fam}[/]")
        for i, r in rows.iterrows():
            best_mark = "★ " if best.get(fam) == i else "  "
            t.add_row(escape(best_mark + r["label"]), f"{r['accuracy']:.4f}", f"{r['f1']:.4f}", fmt_seconds(r["train"]),
                      fmt_seconds(r["predict"]), fmt_count(r["params"]), str(r["seeds"]),
                      style="bold" if best_mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), f"[red]{r['status']}[/]", "", "", "", "", "")
    return [t]
