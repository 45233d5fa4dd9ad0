"""`bench scorecard`: SCORECARD.md, bench's answer to the article, generated from the committed
evidence (results/evidence/, the rows and provenance of `bench run suite=all profile=evidence`).

The file says, per claim: the claim, the verdict (and what the rule alone said where a condition
held it back), the key figures, the conditions it was tested on and the curve behind it as a small
table; then how far bench's baselines are from their published figures, and which machine ran what
for how long. It is a function of the committed rows alone (no clock, no machine path), so
`bench scorecard --check` can hold the committed file to what the command produces.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report.blocks import Bullets, Cell, Heading, Para, Table, note
from harness.results.schema import CELL_STARTED_FORMAT

EVIDENCE = Path("results") / "evidence"   # relative to the project root
SCORECARD = Path("SCORECARD.md")
PRODUCE = "bench run suite=all profile=evidence paths.results=results/evidence"
CURVE_POINTS = 8   # the most x values a curve table shows (evenly picked, the ends kept)


@dataclass
class SuiteRun:
    """One suite's evidence run, as its run.json and rows tell it."""
    suite: str
    folder: str
    cells: int
    failed: int
    seeds: int
    started: str
    ended: str
    seconds: float | None
    resumed: bool
    commit: str
    machine: str
    load: str


def suite_runs(df: pd.DataFrame, run_infos: dict[str, dict], root: Path) -> list[SuiteRun]:
    out = []
    for folder, rows in df.groupby("run", sort=True):
        info = run_infos.get(folder, {})
        started, ended = str(info.get("started") or ""), str(info.get("ended") or "")
        seconds, resumed = None, False
        if started and ended:
            first = datetime.fromisoformat(started)
            # A resumed run copied finished cells from earlier sittings: its time starts at the first of them.
            reused = rows[rows["reused_from"].fillna("").astype(str) != ""] if "reused_from" in rows else rows.iloc[:0]
            if len(reused):
                earliest = pd.to_datetime(reused["cell_started"], format=CELL_STARTED_FORMAT, errors="coerce", utc=True).min()
                if pd.notna(earliest) and earliest < first:
                    first, resumed = earliest.to_pydatetime(), True
            seconds = (datetime.fromisoformat(ended) - first).total_seconds()
        machine = info.get("machine") or {}
        cpu = str(machine.get("cpu_model") or "unknown CPU")
        cores = machine.get("cpu_cores")
        gpu = machine.get("gpu_name")
        load = machine.get("load_average")
        out.append(SuiteRun(
            suite=str(rows["suite"].iloc[0]), folder=relative(folder, root), cells=len(rows),
            failed=int((rows["status"] != "ok").sum()), seeds=int(rows["seed"].nunique()),
            started=started, ended=ended, seconds=seconds, resumed=resumed, commit=str(info.get("git_commit") or "")[:10],
            machine=cpu + (f", {cores} cores" if cores else "") + (f", {gpu}" if gpu else ", no GPU"),
            load="" if load is None else f"{float(load):.1f}"))
    return sorted(out, key=lambda r: r.suite)


def relative(folder: str, root: Path) -> str:
    """A run folder as a path inside the project (the file must name no machine path)."""
    path = Path(folder)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix() if not path.is_absolute() else path.name


def duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "–"
    minutes = seconds / 60
    return f"{minutes:,.0f} min" if minutes >= 10 else f"{minutes:.1f} min"


def curve_table(curve) -> Table | None:
    """A claim's curve as a small table: x down the side, one column per series (at most 6)."""
    series = dict(list((curve.series or {}).items())[:6])
    xs = sorted({x for points in series.values() for x, _ in points})
    if not xs:
        return None
    if len(xs) > CURVE_POINTS:
        xs = [xs[int(round(i))] for i in np.linspace(0, len(xs) - 1, CURVE_POINTS)]
    lookup = {name: dict(points) for name, points in series.items()}

    def fmt(v) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "–"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"

    rows = [[fmt(x), *(fmt(lookup[name].get(x)) for name in series)] for x in xs]
    return Table([str(curve.x), *(str(name) for name in series)], rows, right=set(range(len(series) + 1)))


def claim_blocks(v) -> list:
    cid, verdict = str(v.id), str(v.verdict)
    blocks = [Heading(3, f"{cid}: {verdict}", "claim-" + cid.lower()), Para(f"The article: {v.claim}")]
    facts = [["verdict", verdict + (f" (the rule alone: {v.rule_verdict})" if v.rule_verdict else "")],
             ["evidence", str(v.evidence)]]
    if v.counts_text:
        facts.append(["tally", v.counts_text])
    if v.reproduction:
        facts.append(["reproduction", str(v.reproduction)])
    if v.linked:
        facts.append(["linked", f"same comparison as {v.linked}; counted once" if len(v.linked.split()) == 1
                      else str(v.linked)])
    blocks.append(Table(["", ""], [[Cell(k), Cell(text)] for k, text in facts]))
    lines = v.conditions.lines() if v.conditions is not None else []
    if lines:
        blocks += [Para("Tested on:"), Bullets(lines)]
    for curve in (v.curves or [])[:1]:   # the one curve behind the verdict
        table = curve_table(curve)
        if table is not None:
            title = curve.title or f"{curve.y} against {curve.x}"
            blocks += [Para(f"The curve behind it: {title}" + (" (log x)" if curve.log_x else "")), table]
    return blocks


def fidelity_blocks(df: pd.DataFrame) -> list:
    """Bench's baselines beside their published figures on the same data and split
    (baselines/published_figures.yaml, harness/evaluation/fidelity.py)."""
    from harness.evaluation.fidelity import (
        fidelity_table,
        not_run_text,
        second_implementation_text,
    )

    blocks = [Heading(2, "Baselines against their published figures", "fidelity"),
              Para("Every baseline with a published figure on the same data and split, beside bench's mean over "
                   "seeds at the same training size; the difference is in points (accuracy or error rate in "
                   "percentage points, returns in percent of the return range), positive where bench does better. "
                   "A baseline more than 1.5 points below its figure is flagged: a weak baseline would answer the "
                   "claims wrongly.")]
    table = fidelity_table(df)

    def number(x) -> str:
        return "–" if pd.isna(x) else f"{x:.4g}"

    rows = []
    for r in table.itertuples(index=False):
        measured = r.status != "not run"
        bench = (f"{number(r.bench_mean)} ± {number(r.bench_std)} ({r.n_seeds} seed{'s' * (r.n_seeds != 1)})"
                 if measured else not_run_text(r.largest_run))
        rows.append([r.dataset, r.model, r.metric, str(r.setting), number(r.published), bench,
                     f"{r.difference_points:+.2f}" if measured and pd.notna(r.difference_points) else "–",
                     "below by more than 1.5" if r.flag else ("" if measured else "–"), f"{r.source}: {r.table}"])
    notes = [second_implementation_text(r) for r in table.itertuples(index=False) if r.flag]
    return blocks + [Table(["dataset", "model", "metric", "published setting", "published", "bench", "difference",
                            "flag", "source"], rows, right={4, 6})] + [Para("Flagged: " + n) for n in notes]


def scorecard_blocks(df: pd.DataFrame, run_infos: dict[str, dict], root: Path) -> list:
    from harness.claims import evaluate_claims, legend_lines

    verdicts = list(evaluate_claims(df, run_infos))
    runs = suite_runs(df, run_infos, root) if len(df) else []
    counts = pd.Series([str(v.verdict) for v in verdicts]).value_counts()
    blocks = [
        Heading(1, "bench scorecard: when does deep learning beat classical machine learning?"),
        Para("Generated by `bench scorecard` from the rows committed under results/evidence/ (made by "
             f"`{PRODUCE}`); do not edit by hand. Each verdict names the data sizes, seeds, budgets and "
             "hardware it rests on, and says no more than they support. `bench claims --explain ID "
             "results/evidence` shows how one came about."),
        Para("Verdicts: " + ", ".join(f"{n} {name}" for name, n in counts.items()) + f" (of {len(verdicts)} claims)."),
        Heading(2, "Claims", "claims"),
        Table(["id", "the article says", "verdict", "evidence"],
              [[Cell(str(v.id), href="claim-" + str(v.id).lower()), str(v.claim), str(v.verdict),
                str(v.evidence)] for v in verdicts]),
        Heading(3, "What the verdicts mean", "legend"),
        Table(["verdict", "meaning"], [[value, meaning] for value, meaning in legend_lines(verdicts)]),
        Heading(2, "The evidence run", "evidence"),
    ]
    if runs:
        total = sum(r.seconds or 0 for r in runs)
        blocks.append(Table(
            ["suite", "cells", "failed", "seeds", "wall time", "load at start", "machine", "commit", "rows"],
            [[r.suite, str(r.cells), str(r.failed), str(r.seeds), duration(r.seconds) + " (resumed)" * r.resumed,
              r.load or "–", r.machine,
              r.commit or "–", r.folder] for r in runs], right={1, 2, 3, 4, 5}))
        blocks.append(Para(f"In all {len(runs)} suite runs, {sum(r.cells for r in runs):,} cells, "
                           f"{duration(total)} of wall time (suite by suite, one after another). A resumed run's time "
                           "runs from the first cell of its earliest sitting (cells it copied keep their start) to "
                           "its end, pauses between sittings included."))
    else:
        blocks.append(note("No evidence rows are committed yet."))
    from harness.all_suites import load_members

    missing = [m.suite for m in load_members() if m.suite not in {r.suite for r in runs}]
    if missing:
        blocks.append(note(f"Suites without evidence rows yet: {', '.join(missing)}; their claims read not-run "
                           f"until `{PRODUCE}` has run them."))
    blocks += fidelity_blocks(df)
    blocks.append(Heading(2, "Each claim", "each-claim"))
    for v in verdicts:
        blocks += claim_blocks(v)
    return blocks


def render(evidence: Path, root: Path) -> str:
    """SCORECARD.md's text from the evidence under `evidence` (an empty folder gives every claim not-run)."""
    from harness.claims import read_results

    # The committed evidence is consolidated runs (results.parquet and run.json, no cells/), one folder
    # per suite run: each is given by name, as a results root is searched for cells/ only.
    folders = sorted({p.parent for p in evidence.glob("*/*/results.parquet")} |
                     {p.parent for p in evidence.glob("*/*/cells")}) if evidence.is_dir() else []
    df, run_infos, _ = read_results([str(f) for f in folders]) if folders else (pd.DataFrame(), {}, "")
    if not len(df):
        df = pd.DataFrame(columns=["suite", "dataset", "model", "family", "seed", "status", "run"])
    text = "\n\n".join(b.md() for b in scorecard_blocks(df, run_infos, root))
    return text.rstrip() + "\n"


__all__ = ["EVIDENCE", "SCORECARD", "render"]
