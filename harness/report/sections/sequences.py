"""Datasets run over growing sequence length (`name[length=T]`, the memory suite): which lengths each
model solved, and score, cost and gradient ratio against T."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from harness.evaluation.readings import solved_share, with_lengths
from harness.report.blocks import Heading, Para, Table
from harness.report.plots import draw_curves, guarded_plot, line_colours, line_legend
from harness.results.store import safe_name


def sequence_length_blocks(d: pd.DataFrame, suite: str) -> list:
    """Datasets run over growing sequence length (`name[length=T]`, the memory suite): per task, which
    lengths each model solved, and the curves of score, cost and initial gradient ratio against T."""
    d = with_lengths(d)
    if d.empty or "solved" not in d:
        return []
    blocks = [Heading(3, f"{suite}: against sequence length")]
    for task, g in d.groupby("task", sort=False):
        lengths = sorted(g["length"].unique())
        rows = []
        for model, m in g.groupby("model", sort=False):
            solved = solved_share(g, model, by="model")
            steps = m.groupby("length")["train_steps"].mean() if "train_steps" in m else pd.Series(dtype=float)
            rows.append([model, *(("✓" if solved.get(T, 0) >= 0.5 else "✗") + (f" {steps[T]:.0f}" if T in steps and
                                  np.isfinite(steps[T]) else "") for T in lengths)])
        blocks += [Para(f"{task}: solved (✓, on at least half the seeds) or not (✗) at each length T, with the "
                        "optimizer steps taken (a solved cell stops early; an unsolved one spends its budget)."),
                   Table(["model", *(f"T={T}" for T in lengths)], rows)]
    blocks.append(guarded_plot(plot_sequence_length, d, f"{safe_name(suite)}-sequence-length",
                               "Against sequence length T (log axes): test score (R² for regression, accuracy for "
                               "classification), seconds per training step, peak memory, and the initial gradient "
                               "ratio (first 10% of the steps over the last 10%)"))
    return blocks


def plot_sequence_length(d: pd.DataFrame) -> MplFigure | None:
    ok = d[d["status"] == "ok"].copy()
    if ok.empty:
        return None
    ok["score"] = ok["r2"].where(ok["r2"].notna(), ok["accuracy"]) if "r2" in ok else ok["accuracy"]
    ok["step_seconds"] = ok["train_seconds"] / ok["train_steps"].where(ok["train_steps"] > 0)
    panels_of = [("score", "test R² / accuracy", False), ("step_seconds", "seconds per training step", True),
                 ("peak_memory_mb", "peak memory (MB)", True), ("grad_ratio_init", "initial gradient ratio", True)]
    tasks = list(ok.groupby("task", sort=False))
    colours = line_colours(ok, "model")
    fig = MplFigure(figsize=(16, 3.6 * len(tasks)), dpi=100, layout="constrained")
    for row, (task, g) in enumerate(tasks):
        for col, (y, ylabel, logy) in enumerate(panels_of):
            ax = fig.add_subplot(len(tasks), len(panels_of), row * len(panels_of) + col + 1)
            if y in g and g[y].notna().any():
                draw_curves(ax, g, "length", y, "model", colours, band=not logy)
                if logy:
                    ax.set_yscale("log")
            ax.set(title=f"{task}: {ylabel}", xlabel="sequence length T", ylabel=ylabel)
    line_legend(fig, colours, ok, "model")
    return fig
