"""Agents in environments (task kind control): per environment the return of the evaluation episodes
and the steps and seconds to the reward threshold, then the learning curves of all of them."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from harness.core.display import fmt_count, fmt_seconds
from harness.evaluation.stats import mean_ci
from harness.report.blocks import Cell, Heading, Para, Table, note
from harness.report.plots import guarded_plot, line_colours, line_legend, panels
from harness.report.rows import fmt_ci
from harness.report.sections.failed import failed_table
from harness.results.store import safe_name


def suite_blocks(d: pd.DataFrame, suite: str) -> list:
    """One section per environment (return of the evaluation episodes, steps and seconds to the reward
    threshold, per agent), then the learning curves of all of them."""
    blocks = []
    for dataset, g in d.groupby("dataset", sort=False):
        blocks.append(Heading(3, dataset, f"{safe_name(suite)}-{safe_name(dataset)}"))
        ok = g[g["status"] == "ok"]
        blocks += control_table_blocks(ok) if len(ok) else [note("No cell of this environment finished.")]
        failed = g[g["status"] != "ok"]
        if len(failed):
            blocks += [Para(f"{len(failed)} failed cell(s):"), failed_table(failed)]
    if len(d):
        blocks.append(guarded_plot(plot_control_curves, d, f"{safe_name(suite)}-learning-curves",
                                   "Learning curves: mean return of the greedy evaluation episodes during training "
                                   "against environment steps, mean over seeds (band: lowest to highest seed; dotted: "
                                   "the reward threshold); classical solid, deep dashed"))
    return blocks


def control_table_blocks(ok: pd.DataFrame) -> list:
    """Per agent: mean return over seeds with its interval and spread, seeds that reached the threshold,
    median steps and training seconds to reach it among those, training time, parameters."""
    num = lambda g, col: pd.to_numeric(g[col], errors="coerce") if col in g else pd.Series(dtype=float)  # noqa: E731
    rows = []
    for (label, family), g in ok.groupby(["label", "family"], sort=False):
        ret, steps, secs = num(g, "mean_return"), num(g, "steps_to_threshold"), num(g, "seconds_to_threshold")
        reached = np.isfinite(steps)
        rows.append({"label": label, "family": family, "ret": mean_ci(ret), "sd": ret.std(ddof=1) if len(ret) > 1 else np.nan,
                     "solved": f"{int(reached.sum())}/{len(g)}",
                     "steps": fmt_count(steps[reached].median()) if reached.any() else "never",
                     "seconds": fmt_seconds(secs[reached].median()) if reached.any() else "–",
                     "train": mean_ci(num(g, "train_seconds")), "params": num(g, "n_parameters").mean()})
    rows.sort(key=lambda r: -r["ret"][0] if np.isfinite(r["ret"][0]) else np.inf)
    best = {}
    for i, r in enumerate(rows):
        best.setdefault(r["family"], i)
    table = [[("★ " if best[r["family"]] == i else "") + r["label"], Cell(r["family"], cls=f"fam fam-{r['family']}"),
              fmt_ci(r["ret"], lambda x: f"{x:.2f}"), "–" if np.isnan(r["sd"]) else f"{r['sd']:.2f}", r["solved"],
              r["steps"], r["seconds"], fmt_ci(r["train"], fmt_seconds), fmt_count(r["params"]), str(r["ret"][3])]
             for i, r in enumerate(rows)]
    classes = [f"{r['family']}{' best' if best[r['family']] == i else ''}" for i, r in enumerate(rows)]
    threshold = num(ok, "reward_threshold").max()
    source = ok["threshold_source"].dropna().iloc[0] if "threshold_source" in ok and ok["threshold_source"].notna().any() \
        else "not recorded"
    text = (f"Every agent trained for {int(ok['n_train'].max())} environment steps, then played "
            f"{int(ok['n_test'].max())} greedy evaluation episodes: return is their mean (mean over seeds ± half of "
            f"its 95% interval; sd: over seeds). Solved: seeds whose greedy evaluation during training reached the "
            f"reward threshold {threshold:g} ({source}); steps and time to solve: the median over those seeds of the "
            "environment steps and training seconds until the first such evaluation. ★ the highest return of its "
            "family.")
    return [Para(text), Table(["agent", "family", "return", "sd", "solved", "steps to solve", "time to solve",
                               "train time", "parameters", "seeds"], table, right=set(range(2, 10)), row_cls=classes)]


def curve_frame(d: pd.DataFrame) -> pd.DataFrame:
    """The rows' learning curves (JSON in `learning_curve`) as long rows: dataset, label, family, seed, steps, return."""
    parts = []
    for r in d[d["status"] == "ok"].itertuples():
        curve = json.loads(r.learning_curve) if isinstance(getattr(r, "learning_curve", None), str) else None
        if curve:
            parts.append(pd.DataFrame({"dataset": r.dataset, "label": r.label, "family": r.family, "seed": r.seed,
                                       "steps": curve["steps"], "return": curve["returns"]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def plot_control_curves(d: pd.DataFrame) -> MplFigure | None:
    curves = curve_frame(d)
    if curves.empty:
        return None
    colours = line_colours(curves)
    datasets = list(dict.fromkeys(curves["dataset"]))
    fig, axes = panels(len(datasets))
    for ax, name in zip(axes, datasets):
        g = curves[curves["dataset"] == name]
        for label, line in g.groupby("label", sort=False):
            stats = line.groupby("steps")["return"].agg(["mean", "min", "max"])
            style = "-" if line["family"].iloc[0] == "classical" else "--"
            ax.plot(stats.index, stats["mean"], style, color=colours[label], label=label)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colours[label], alpha=0.12, lw=0)
        threshold = pd.to_numeric(d.loc[d["dataset"] == name, "reward_threshold"], errors="coerce").max()
        if np.isfinite(threshold):
            ax.axhline(threshold, ls=":", color="#555", lw=1)
        ax.set(title=name, xlabel="environment steps", ylabel="evaluation return")
        ax.grid(alpha=0.3)
    line_legend(fig, colours, curves)
    return fig
