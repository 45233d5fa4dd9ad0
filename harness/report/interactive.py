"""The interactive parts of report.html, which work from a file with no network: plotly figures
(hover names a point's model, family, seed and parameters; clicking a family in the legend hides or
shows it in every panel) whose library is embedded once per page, and a small script that sorts a
table by a click on its header and filters its rows by a text box.

report.md keeps the static PNGs (harness/report/plots.py); an interactive figure only replaces its
PNG in the page. Every string from config or data is HTML-escaped before plotly sees it: plotly
reads names and hover text as a small subset of HTML, and an escaped string shows as the text it is.
"""
from __future__ import annotations

import html
import json
import textwrap

import pandas as pd

from harness.report.blocks import Plot
from harness.report.plots import PLOT_COLOURS
from harness.report.rows import FAMILIES, aggregate, largest_size

# Deep models dashed, as in the static plots.
DASH = {"classical": "solid", "deep": "dash"}


def interactive_figures() -> dict:
    """Plot name (harness/report/sections/accuracy_plots.py) -> function(rows) -> plotly figure or None."""
    return {"accuracy-vs-train-time": lambda d: cell_scatter(d, "train_seconds", "training time (s, log)"),
            "accuracy-vs-parameters": lambda d: cell_scatter(d, "n_parameters", "parameters (log)"),
            "learning-curves": learning_curves}


def plotly_div(fig, name: str) -> str:
    """A figure's <div> and the script that draws it into it; plotly's library is not included."""
    import plotly.io as pio

    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=f"plot-{name}",
                       config={"displaylogo": False, "responsive": True})


def plotly_library() -> str:
    """plotly.js itself, once per page (a few MB, inline: the page needs no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def esc(value) -> str:
    """Escaped for plotly, which decodes &amp; &lt; &gt; (and not &quot;: quotes stay as they are)."""
    return html.escape(str(value), quote=False)


def flat(params: dict, prefix: str = "") -> list[str]:
    """`key=value` of every parameter, nested ones as `outer.inner=value`."""
    return [item for k, v in params.items()
            for item in (flat(v, f"{prefix}{k}.") if isinstance(v, dict) and v else
                         [f"{prefix}{k}={json.dumps(v) if isinstance(v, list) else v}"])]


def params_text(params) -> str:
    """A cell's parameters for a hover box: `key=value` lines of at most 60 characters, escaped."""
    try:
        parsed = json.loads(params)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict):
        text = ", ".join(flat(parsed))
    else:
        text = str(params)
    return "<br>".join(esc(line) for line in textwrap.wrap(text, 60)[:8]) or "–"


def dataset_panels(n: int, titles: list[str], legend: str = "family (click to hide or show)"):
    from plotly.subplots import make_subplots

    cols = min(n, 2)
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[esc(t) for t in titles],
                        horizontal_spacing=0.1, vertical_spacing=0.18 / max(rows - 1, 1))
    fig.update_layout(height=380 * rows, template="plotly_white", hovermode="closest",
                      legend=dict(title=legend), margin=dict(t=60, l=60, r=20, b=50))
    return fig, [(1 + i // cols, 1 + i % cols) for i in range(n)]


def cell_scatter(d: pd.DataFrame, x: str, xlabel: str):
    """Per dataset at its largest training size: accuracy against x (log), as the static plot: each
    configuration's mean over seeds with its 95% interval, and beside it each seed's own point; one
    legend entry per family. None when no dataset has such a point."""
    import plotly.graph_objects as go

    per_dataset = []
    for name, g in d.groupby("dataset", sort=False):
        ok = largest_size(g)
        ok = ok.assign(_x=pd.to_numeric(ok[x], errors="coerce"), _y=pd.to_numeric(ok["accuracy"], errors="coerce"))
        ok = ok[(ok["_x"] > 0) & ok["_y"].notna()]
        if len(ok):
            per_dataset.append((name, ok))
    if not per_dataset:
        return None
    fig, places = dataset_panels(len(per_dataset), [name for name, _ in per_dataset],
                                 "family (click to hide or show)<br>filled: mean, open: one seed")
    shown = set()
    for (name, ok), (row, col) in zip(per_dataset, places):
        agg = aggregate(ok)
        for family in [f for f in FAMILIES if f in set(ok["family"])] + sorted(set(ok["family"]) - set(FAMILIES)):
            colour, group = PLOT_COLOURS.get(family, "grey"), esc(family)
            cells = ok[ok["family"] == family]
            fig.add_trace(go.Scatter(
                x=cells["_x"], y=cells["_y"], mode="markers", name=group, legendgroup=group, showlegend=False,
                marker=dict(size=6, color=colour, opacity=0.45, symbol="circle-open"),
                customdata=[[esc(r["label"]), group, int(r["seed"]), int(r["n_train"]), params_text(r["params"])]
                            for _, r in cells.iterrows()],
                hovertemplate=("<b>%{customdata[0]}</b> (%{customdata[1]})<br>seed %{customdata[2]}, "
                               f"n_train %{{customdata[3]}}<br>accuracy %{{y:.4f}}<br>{esc(xlabel)} %{{x:.3g}}"
                               "<br>%{customdata[4]}<extra></extra>")), row=row, col=col)
            means = agg[agg["family"] == family]
            params = cells.drop_duplicates("label").set_index("label")["params"]
            seeds = cells.groupby("label")["seed"].agg(lambda s: ", ".join(map(str, sorted(set(s)))))
            fig.add_trace(go.Scatter(
                x=[m[x][0] for _, m in means.iterrows()], y=[m["accuracy"][0] for _, m in means.iterrows()],
                error_y=dict(type="data", symmetric=False, color=colour, thickness=1.2, width=3,
                             array=[m["accuracy"][2] - m["accuracy"][0] for _, m in means.iterrows()],
                             arrayminus=[m["accuracy"][0] - m["accuracy"][1] for _, m in means.iterrows()]),
                mode="markers", name=group, legendgroup=group, showlegend=family not in shown,
                marker=dict(size=10, color=colour),
                customdata=[[esc(m["label"]), group, seeds[m["label"]], params_text(params[m["label"]])]
                            for _, m in means.iterrows()],
                hovertemplate=("<b>%{customdata[0]}</b> (%{customdata[1]})<br>mean accuracy %{y:.4f} over seeds "
                               f"%{{customdata[2]}}<br>{esc(xlabel)} %{{x:.3g}} (mean)<br>%{{customdata[3]}}"
                               "<extra></extra>")), row=row, col=col)
            shown.add(family)
        fig.update_xaxes(type="log", title_text=esc(xlabel), row=row, col=col)
        fig.update_yaxes(title_text="test accuracy", row=row, col=col)
    return fig


def learning_curves(d: pd.DataFrame):
    """Per dataset with more than one training size: mean accuracy over seeds against training size,
    one line per configuration (named at its end), grouped by family in the legend."""
    import plotly.graph_objects as go

    ok = d[d["status"] == "ok"].assign(_y=lambda f: pd.to_numeric(f["accuracy"], errors="coerce"))
    datasets = [(n, g) for n, g in ok.groupby("dataset", sort=False) if g["n_train"].nunique() > 1]
    if not datasets:
        return None
    fig, places = dataset_panels(len(datasets), [name for name, _ in datasets])
    shown = set()
    for (name, g), (row, col) in zip(datasets, places):
        for (label, family), line in g.groupby(["label", "family"], sort=False):
            points = line.groupby("n_train").agg(mean=("_y", "mean"),
                                                 seeds=("seed", lambda s: ", ".join(map(str, sorted(set(s))))))
            points = points[points["mean"].notna()]
            if not len(points):
                continue
            params = params_text(line["params"].iloc[0])
            fig.add_trace(go.Scatter(
                x=points.index, y=points["mean"], mode="lines+markers+text", name=esc(family),
                legendgroup=esc(family), showlegend=family not in shown,
                text=[""] * (len(points) - 1) + [esc(label)], textposition="middle right", textfont=dict(size=10),
                line=dict(color=PLOT_COLOURS.get(family, "grey"), dash=DASH.get(family, "dot"), width=1.5),
                customdata=[[esc(label), esc(family), s, params] for s in points["seeds"]],
                hovertemplate=("<b>%{customdata[0]}</b> (%{customdata[1]})<br>n_train %{x}<br>mean accuracy "
                               "%{y:.4f} over seeds %{customdata[2]}<br>%{customdata[3]}<extra></extra>")),
                row=row, col=col)
            shown.add(family)
        fig.update_xaxes(type="log", title_text="training size (log)", row=row, col=col)
        fig.update_yaxes(title_text="test accuracy", row=row, col=col)
    return fig


def with_interactive(plot, rows: pd.DataFrame, name: str):
    """The Plot with its interactive twin, where one exists for `name`; a twin that fails leaves the
    PNG and says why in the caption."""
    make = interactive_figures().get(name)
    if make is None or not isinstance(plot, Plot):
        return plot
    try:
        fig = make(rows)
        if fig is not None:
            plot.interactive = plotly_div(fig, plot.name)
    except Exception as e:  # noqa: BLE001 - the static figure stands on its own
        plot.caption += f" (the interactive version could not be drawn: {type(e).__name__}: {e})"
    return plot


# Sorting and filtering of every table with a header row; no library, no network.
TABLE_SCRIPT = r"""
(function () {
  var UNITS = {ms: 1e-3, s: 1, min: 60, h: 3600, k: 1e3, M: 1e6, G: 1e9, MB: 1, GB: 1024};
  var NUMBER = /^[<>≈~]?\s*([-+]?\d*\.?\d+(?:e[-+]?\d+)?)\s*(ms|s|min|h|k|M|G|MB|GB)?(?![\w])/;
  function numberOf(text) {  // "0.9575 ± 0.0100", "174 ms", "19.2k", "12.5 MB", "★ 3" -> a number, else null
    var m = NUMBER.exec(text.replace(/^[★\s]+/, "").replace(/\u2212/g, "-").trim());
    return m ? parseFloat(m[1]) * (UNITS[m[2]] || 1) : null;
  }
  function missing(text) { return /^[\s–-]*$/.test(text); }
  function sortBy(table, th, index) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var texts = rows.map(function (r) { return r.cells[index] ? r.cells[index].textContent.trim() : ""; });
    var numeric = texts.every(function (t) { return missing(t) || numberOf(t) !== null; });
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var order = rows.map(function (r, i) { return i; });
    order.sort(function (a, b) {
      var ta = texts[a], tb = texts[b];
      if (missing(ta) || missing(tb)) { return missing(ta) - missing(tb) || a - b; }  // blanks last
      var c = numeric ? numberOf(ta) - numberOf(tb) : ta.localeCompare(tb, undefined, {numeric: true});
      return (ascending ? c : -c) || a - b;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    order.forEach(function (i) { body.appendChild(rows[i]); });
  }
  function filterable(table) {
    var box = document.createElement("input");
    box.type = "search"; box.className = "filter"; box.placeholder = "filter rows";
    box.setAttribute("aria-label", "filter the rows of the table below");
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var text = r.textContent.toLowerCase();
        r.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
    });
    var holder = table.parentNode.classList.contains("scroll") ? table.parentNode : table;
    holder.parentNode.insertBefore(box, holder);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length < 2) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.classList.add("sortable"); th.tabIndex = 0; th.title = "sort by this column";
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(table, th, index); } });
    });
    if (table.tBodies[0].rows.length >= 4) { filterable(table); }
  });
})();
"""

TABLE_CSS = """
th.sortable { cursor: pointer; user-select: none; }
th.sortable:hover { background: #eaeef2; }
th[aria-sort="ascending"]::after { content: " ▲"; font-size: .7em; }
th[aria-sort="descending"]::after { content: " ▼"; font-size: .7em; }
input.filter { font: inherit; font-size: .85rem; padding: .2rem .5rem; margin-top: .4rem; width: 16rem;
               border: 1px solid var(--line); border-radius: 6px; }
.interactive { border: 1px solid var(--line); border-radius: 6px; }
"""
