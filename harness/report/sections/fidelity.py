"""Published-figure fidelity: bench's baselines beside the figures published for the same data and
split (harness/evaluation/fidelity.py), written only where the rows reach at least one of them."""
from __future__ import annotations

import math

import pandas as pd

from harness.evaluation.fidelity import (
    FLAG_POINTS,
    fidelity_table,
    not_run_text,
    second_implementation_text,
)
from harness.report.blocks import Cell, Heading, Para, Table


def fidelity_blocks(df: pd.DataFrame, suite: str = "") -> list:
    """The fidelity table of one suite's figures, or ("") of every suite the rows ran: a vision report
    does not list the RL figures as not run."""
    table = fidelity_table(df)
    table = table[table["suite"] == suite] if suite else table[table["suite"].isin(set(df.get("suite", [])))]
    if not (table["status"] != "not run").any():
        return []
    flagged = table[table["flag"]]
    verdict = (f"{len(flagged)} baseline(s) fall more than {FLAG_POINTS} points below their published figure. "
               + " ".join(second_implementation_text(r) for r in flagged.itertuples())
               if len(flagged) else f"No baseline that ran falls more than {FLAG_POINTS} points below its published figure.")
    rows = [[r.dataset, r.model, f"{r.n_train:,}", r.metric.replace("_", " "), figure(r.published, r.metric),
             bench_figure(r), points(r.difference_points),
             Cell(r.status, cls="pill status-failed" if r.flag else ""), r.setting, r.bench_setting, r.source]
            for r in table.itertuples()]
    cited = table.drop_duplicates("source")
    return [Heading(2, "Published-figure fidelity", "fidelity"),
            Para("Each baseline beside the figure published for the same data, split and training size "
                 "(baselines/published_figures.yaml), at bench's default setting of that model: bench's mean over "
                 "seeds (± their standard deviation). The difference is in points, positive where bench does "
                 "better: percentage points of accuracy or error, or 1% of the environment's return range. "
                 + verdict),
            Table(["dataset", "model", "n_train", "metric", "published", "bench", "difference (points)", "status",
                   "published setting", "bench setting", "source"], rows, right={2, 4, 5, 6},
                  row_cls=["flagged" if f else "" for f in table["flag"]]),
            Para("Sources: " + " ".join(f"[{r.source}] {r.table} in {r.citation} (read in {r.read_in})."
                                        for r in cited.itertuples()))]


def points(difference: float) -> str:
    return "–" if math.isnan(difference) else f"{round(difference, 2) + 0.0:+.2f}"  # + 0.0: no "-0.00"


def figure(value: float, metric: str) -> str:
    return f"{value:.2f}" if metric == "mean_return" else f"{value:.4f}"


def bench_figure(r) -> str:
    if r.n_seeds == 0:
        return not_run_text(r.largest_run) if pd.notna(r.largest_run) else "–"
    spread = "" if math.isnan(r.bench_std) else f" ± {figure(r.bench_std, r.metric)}"
    return f"{figure(r.bench_mean, r.metric)}{spread} ({r.n_seeds} seed{'s' if r.n_seeds > 1 else ''})"
