"""The plots of a suite's accuracy datasets: accuracy against cost, size, depth and surrogate
fidelity, and training time against size."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from harness.report.plots import PLOT_COLOURS, curve_panels, draw_curves, labelled_panels, line_colours, line_legend
from harness.report.rows import aggregate, largest_size
from harness.report.sections.interpretability import interpreted, readable_by_construction


def suite_plots():
    """(file name, caption, draw function) of each plot of a suite; draw returns None when it does not apply."""
    return [("accuracy-vs-train-time", "Accuracy against training time at the largest training size "
             "(mean over seeds, bars: 95% interval)", plot_accuracy_vs_time),
            ("accuracy-vs-parameters", "Accuracy against parameter count at the largest training size "
             "(mean over seeds, bars: 95% interval)", plot_accuracy_vs_parameters),
            ("learning-curves", "Learning curves: accuracy against training size (band: 95% interval over seeds; "
             "classical solid, deep dashed)", plot_learning_curves),
            ("train-time-vs-size", "Training time against training size (classical solid, deep dashed)",
             plot_time_curves),
            ("depth", "Accuracy and final training loss against depth (depth=N variants)", plot_depth),
            ("accuracy-vs-fidelity", "Accuracy against surrogate fidelity (depth-5 tree imitating the model) at the "
             "largest training size; hollow markers: readable by construction", plot_accuracy_vs_fidelity)]


def scatter_panels(d: pd.DataFrame, x: str, xlabel: str) -> MplFigure | None:
    """Per dataset at its largest training size: mean accuracy (bars: 95% interval) against x, log x."""
    def draw(ax, agg: pd.DataFrame) -> list[tuple[float, float, str]]:
        points = []
        for _, r in agg.iterrows():
            xm, (ym, lo, hi, _) = r[x][0], r["accuracy"]
            if np.isfinite(xm) and xm > 0:
                ax.errorbar(xm, ym, yerr=[[ym - lo], [hi - ym]], fmt="o", ms=6, capsize=2,
                            color=PLOT_COLOURS.get(r["family"], "grey"))
                points.append((xm, ym, r["label"]))
        ax.set_xscale("log")
        return points

    per_dataset = [(name, aggregate(largest_size(g))) for name, g in d.groupby("dataset", sort=False)]
    return labelled_panels(per_dataset, draw, xlabel)


def plot_accuracy_vs_time(d: pd.DataFrame) -> MplFigure | None:
    return scatter_panels(d, "train_seconds", "training time (s, log)")


def plot_accuracy_vs_parameters(d: pd.DataFrame) -> MplFigure | None:
    return scatter_panels(d, "n_parameters", "parameters (log)")


def plot_learning_curves(d: pd.DataFrame) -> MplFigure | None:
    return curve_panels(d, "n_train", "accuracy", "test accuracy", logy=False)


def plot_time_curves(d: pd.DataFrame) -> MplFigure | None:
    return curve_panels(d, "n_train", "train_seconds", "training time (s)", logy=True)


def plot_depth(d: pd.DataFrame) -> MplFigure | None:
    """Per dataset: accuracy and final training loss against N of the `depth=N` variants, per model."""
    depth = pd.to_numeric(d["variant"].str.extract(r"^depth=(\d+)$")[0], errors="coerce")
    ok = d.assign(depth=depth)[depth.notna() & (d["status"] == "ok")]
    if ok.empty:
        return None
    ok = ok[ok["n_train"] == ok.groupby("dataset")["n_train"].transform("max")]
    datasets = list(ok.groupby("dataset", sort=False))
    colours = line_colours(ok, "model")
    fig = MplFigure(figsize=(10, 4 * len(datasets)), dpi=100, layout="constrained")
    for row, (name, g) in enumerate(datasets):
        for col, (y, ylabel) in enumerate((("accuracy", "test accuracy"), ("final_train_loss", "final training loss"))):
            ax = fig.add_subplot(len(datasets), 2, 2 * row + col + 1)
            draw_curves(ax, g, "depth", y, "model", colours)
            ax.set(title=f"{name}: {ylabel}", xlabel="depth", ylabel=ylabel)
            if y == "final_train_loss" and ax.lines:
                ax.set_yscale("log")  # losses of trained and stuck networks differ by orders of magnitude
            if not ax.lines:
                ax.text(0.5, 0.5, f"no {y} recorded", ha="center", va="center", transform=ax.transAxes)
    line_legend(fig, colours, ok, "model")
    return fig


def plot_accuracy_vs_fidelity(d: pd.DataFrame) -> MplFigure | None:
    """Per dataset: mean test accuracy against mean depth-5 surrogate fidelity, one point per configuration."""
    def draw(ax, g: pd.DataFrame) -> list[tuple[float, float, str]]:
        points = []
        for label, m in g.groupby("label", sort=False):
            x = pd.to_numeric(m["interp_fidelity_tree5"], errors="coerce").mean()
            y = pd.to_numeric(m["accuracy"], errors="coerce").mean()
            colour = PLOT_COLOURS.get(m["family"].iloc[0], "grey")
            ax.plot(x, y, "o", ms=7, color=colour, mfc="white" if readable_by_construction(m) else colour)
            points.append((x, y, label))
        return points

    per_dataset = [(name, interpreted(largest_size(g))) for name, g in d.groupby("dataset", sort=False)]
    return labelled_panels(per_dataset, draw, "surrogate fidelity (depth-5 tree)")
