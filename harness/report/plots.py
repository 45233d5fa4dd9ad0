"""Plot helpers: matplotlib figures drawn on the Agg canvas (no display), PNG bytes embedded in the
HTML and written next to report.md with their SVG and PDF twins. Every plot is drawn inside
`guarded_plot`: a failing plot becomes a one-line note and never loses the rest of the report.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib import cm
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from harness.evaluation.stats import mean_ci
from harness.report.blocks import Plot, note
from harness.report.rows import FAMILIES

# FAMILY_COLOURS (rich's cyan/magenta) toned down for white paper; same families, same hues.
PLOT_COLOURS = {"classical": "#1197ab", "deep": "#b8338f"}


def guarded_plot(draw, d: pd.DataFrame, name: str, caption: str):
    try:
        fig = draw(d)
        if fig is None:
            return None
        png = png_bytes(fig)
        freeze_layout(fig)
        return Plot(name, caption, png, vector_bytes(fig))
    except Exception as e:  # noqa: BLE001 - a broken plot never loses the rest of the report
        return note(f"Plot '{name}' could not be drawn: {type(e).__name__}: {e}")


def png_bytes(fig: MplFigure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()


def freeze_layout(fig: MplFigure) -> None:
    """Keep the layout the first draw computed for the next ones (the SVG and PDF twins): the constrained
    layout and each `loc="best"` legend's search over positions were most of a report's time, and they
    would only find the same answer again."""
    fig.set_layout_engine("none")
    for legend in [ax.get_legend() for ax in fig.axes]:
        if legend is not None and legend._loc in (0, "best"):  # 0: matplotlib's code for "best"
            box = legend.get_window_extent().transformed(legend.axes.transAxes.inverted())
            legend.set_loc((box.x0, box.y0))


# No creation date inside: the same figure gives the same file.
VECTOR_FORMATS = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def vector_bytes(fig: MplFigure) -> dict[str, bytes]:
    """The figure as SVG and PDF, for a paper: suffix -> bytes."""
    files = {}
    for suffix, metadata in VECTOR_FORMATS.items():
        buf = io.BytesIO()
        fig.savefig(buf, format=suffix, metadata=metadata)
        files[suffix] = buf.getvalue()
    return files


def panels(n: int, width: float = 5.0, height: float = 4.0):
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = MplFigure(figsize=(width * cols, height * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # label placement draws the figure before it is saved
    return fig, [fig.add_subplot(rows, cols, i + 1) for i in range(n)]


def family_legend(ax) -> None:
    ax.legend(handles=[Line2D([], [], marker="o", ls="", color=c, label=f) for f, c in PLOT_COLOURS.items()],
              fontsize=8, loc="best")


def labelled_panels(per_dataset: list[tuple[str, pd.DataFrame]], draw, xlabel: str) -> MplFigure | None:
    """One panel per dataset with data; `draw(ax, data)` plots and returns (x, y, label) points, which
    are labelled once the layout is fixed. None when no dataset has data."""
    per_dataset = [(name, data) for name, data in per_dataset if len(data)]
    if not per_dataset:
        return None
    fig, axes = panels(len(per_dataset))
    labels = []
    for ax, (name, data) in zip(axes, per_dataset):
        points = draw(ax, data)
        ax.set(title=name, xlabel=xlabel, ylabel="test accuracy")
        ax.margins(x=0.2, y=0.08)  # room for the labels at the edges
        ax.grid(alpha=0.3)
        family_legend(ax)
        labels.append((ax, points))
    fig.canvas.draw()  # fixes limits and layout, so pixel positions below hold
    for ax, points in labels:
        label_points(ax, points)
    return fig


def label_points(ax, points: list[tuple[float, float, str]]) -> None:
    """Write each label beside its point, nudged up past the labels already placed (bottom to top)."""
    scale = ax.figure.dpi / 72
    height, right_edge, placed = 9 * scale, ax.bbox.x1, []
    for x, y, text in sorted(points, key=lambda p: p[1]):
        px, py = ax.transData.transform((x, y))
        width, ly = 4.2 * len(text) * scale, py + 3
        left = px + 4 + width > right_edge  # would run off the panel: write it on the left of the point
        x0 = px - 4 - width if left else px + 4
        while any(abs(ly - qy) < height and x0 < qx + qw and qx < x0 + width for qx, qy, qw in placed):
            ly += height
        placed.append((x0, ly, width))
        moved = ly - py > height
        ax.annotate(text, (x, y), xytext=(-4 if left else 4, ly - py), textcoords="offset pixels", fontsize=7,
                    color="#333", ha="right" if left else "left", va="bottom", annotation_clip=False,
                    in_layout=False, arrowprops=dict(arrowstyle="-", lw=0.4, color="#999") if moved else None)


def curve_panels(d: pd.DataFrame, x: str, y: str, ylabel: str, logy: bool) -> MplFigure | None:
    """One panel per dataset with more than one value of x (a training size); one line per configuration."""
    ok = d[d["status"] == "ok"]
    datasets = [(n, g) for n, g in ok.groupby("dataset", sort=False) if g[x].nunique() > 1]
    if not datasets:
        return None
    colours = line_colours(ok)
    fig, axes = panels(len(datasets))
    for ax, (name, g) in zip(axes, datasets):
        draw_curves(ax, g, x, y, "label", colours, band=not logy)  # a t-band on a log axis dips below zero
        ax.set(yscale="log" if logy else "linear", title=name, xlabel="training size (log)", ylabel=ylabel)
    line_legend(fig, colours, ok)
    return fig


def line_colours(d: pd.DataFrame, by: str = "label") -> dict[str, tuple]:
    """One colour per line, the same in every panel; classical lines first, as in the tables."""
    order = d.assign(_fam=d["family"].map({f: i for i, f in enumerate(FAMILIES)})).sort_values(["_fam", by])
    names = list(dict.fromkeys(order[by]))
    palette = [cm.tab20(i) for i in (*range(0, 20, 2), *range(1, 20, 2))]  # strong shades, then light ones
    return {k: palette[i % 20] for i, k in enumerate(names)}


def line_legend(fig: MplFigure, colours: dict, d: pd.DataFrame, by: str = "label") -> None:
    family = d.drop_duplicates(by).set_index(by)["family"]
    handles = [Line2D([], [], color=c, ls="-" if family.get(k) == "classical" else "--", label=k)
               for k, c in colours.items()]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)


def draw_curves(ax, g: pd.DataFrame, x: str, y: str, by: str, colours: dict, band: bool = True) -> None:
    """Mean of y over seeds against x, with its 95% band; classical solid, deep dashed."""
    for key, line in g.groupby(by, sort=False):
        points = [(xv, mean_ci(pd.to_numeric(p[y], errors="coerce"))) for xv, p in line.groupby(x)]
        points = [(xv, ci) for xv, ci in sorted(points) if ci[3]]
        if not points:
            continue
        xs = [xv for xv, _ in points]
        means, lows, highs = ([ci[i] for _, ci in points] for i in range(3))
        style = "-" if line["family"].iloc[0] == "classical" else "--"
        ax.plot(xs, means, style, marker="o", ms=3, color=colours[key], label=key)
        if band:
            if y in ("accuracy", "f1_macro"):  # a t-interval over 3 seeds can pass the possible range
                lows, highs = np.clip(lows, 0, 1), np.clip(highs, 0, 1)
            ax.fill_between(xs, lows, highs, color=colours[key], alpha=0.12, lw=0)
    ax.set_xscale("log")
    ticks = sorted(g[x].dropna().unique())  # the sizes or depths run, written plainly
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(alpha=0.3)


def curve_figure(curve) -> MplFigure | None:
    """A claim's Curve (harness.claims.verdict): one line per series, y against x, log x when the
    curve asks; its title and axes named. None when no series has a point."""
    series = [(name, sorted((float(x), float(y)) for x, y in points if x is not None and y is not None))
              for name, points in (curve.series or {}).items()]
    series = [(name, points) for name, points in series if points]
    if not series:
        return None
    fig, (ax,) = panels(1, width=6.0, height=4.0)
    palette = [cm.tab10(i) for i in range(10)]
    for i, (name, points) in enumerate(series):
        ax.plot([x for x, _ in points], [y for _, y in points], "-", marker="o", ms=3, color=palette[i % 10],
                label=str(name))
    if curve.log_x:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set(title=curve.title or f"{curve.y} against {curve.x}",
           xlabel=f"{curve.x} (log)" if curve.log_x else str(curve.x), ylabel=str(curve.y))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig
