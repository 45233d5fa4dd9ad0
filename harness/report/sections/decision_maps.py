"""Decision regions of the classifiers of a dataset of two input features, drawn from the maps the
runner recorded (harness/evaluation/boundary.py)."""
from __future__ import annotations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from harness.evaluation.boundary import read_decision_map
from harness.report.plots import guarded_plot
from harness.results.store import safe_name


REGION_COLOURS = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9"]  # light, one per class
POINT_COLOURS = ["#2171b5", "#d94801", "#238b45", "#6a51a3", "#cb181d", "#525252"]


def decision_map_blocks(ok: pd.DataFrame, suite: str, dataset: str) -> list:
    """The decision regions each configuration drew over the input plane (harness/evaluation/boundary.py), with
    the test points: its first seed, and its worst seed where that one scored lower."""
    if "decision_map" not in ok or not ok["decision_map"].map(lambda v: isinstance(v, str)).any():
        return []
    caption = (f"{dataset}: decision regions over the input plane (shaded: predicted class; points: test points "
               "coloured by their true class), per model its first seed and, where a seed scored lower, its worst")
    return [guarded_plot(plot_decision_maps, ok, f"{safe_name(suite)}-{safe_name(dataset)}-decision-regions", caption)]


def decision_map_panels(ok: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """(title, row) per panel: each configuration's first seed, then its worst one if that scored lower."""
    found = []
    for label, g in ok[ok["decision_map"].map(lambda v: isinstance(v, str))].groupby("label", sort=False):
        g = g.sort_values("seed")
        first, worst = g.iloc[0], g.loc[pd.to_numeric(g["accuracy"], errors="coerce").idxmin()]
        found.append((label, first))
        if worst["accuracy"] < first["accuracy"]:
            found.append((f"{label} (worst seed)", worst))
    return found


def plot_decision_maps(ok: pd.DataFrame) -> MplFigure | None:
    from matplotlib.colors import ListedColormap

    chosen = decision_map_panels(ok)
    if not chosen:
        return None
    cols = min(len(chosen), 4)
    rows = -(-len(chosen) // cols)
    fig = MplFigure(figsize=(3.2 * cols, 3.3 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    for i, (title, row) in enumerate(chosen):
        ax = fig.add_subplot(rows, cols, i + 1)
        found = read_decision_map(row["decision_map"])
        n = len(found["classes"])
        ax.imshow(found["regions"], origin="lower", extent=(*found["x"], *found["y"]), aspect="auto",
                  cmap=ListedColormap((REGION_COLOURS * n)[:n]), vmin=-0.5, vmax=n - 0.5, interpolation="nearest")
        points = found["points"]
        for c in range(n):
            at = points[points[:, 2] == c]
            ax.scatter(at[:, 0], at[:, 1], s=36 if len(points) <= 8 else 10, color=POINT_COLOURS[c % len(POINT_COLOURS)],
                       edgecolors="black", linewidths=0.4, label=f"class {found['classes'][c]}")
        ax.set_title(f"{title}\nseed {int(row['seed'])}: accuracy {100 * float(row['accuracy']):.1f}%", fontsize=8)
        ax.set_xlim(*found["x"])
        ax.set_ylim(*found["y"])
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7, loc="upper right", framealpha=0.8)
    return fig
