"""The unsupervised task kinds: anomaly detection (ROC-AUC), reconstruction (error against code size)
and semi-supervised learning (accuracy from a few labels). A dataset's variants (held-out classes,
label counts) share one section."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure as MplFigure

from harness.core.display import base_dataset, fmt_count, fmt_seconds
from harness.tasks.base import has_scores
from harness.evaluation.stats import mean_ci
from harness.report.blocks import Cell, Heading, Para, Table, note
from harness.report.plots import draw_curves, guarded_plot, line_colours, line_legend
from harness.report.rows import fmt_ci
from harness.report.sections.failed import failed_table
from harness.results.store import safe_name


def variant_of(name: str) -> str:
    """A dataset variant's settings: digits_anomaly[anomaly_class=3] -> anomaly_class=3 ('' for none)."""
    return str(name).split("[", 1)[1].rstrip("]") if "[" in str(name) else ""


def suite_blocks(d: pd.DataFrame, suite: str) -> list:
    """One section per dataset before its variants (all held-out classes, all label counts together);
    one per reconstruction dataset, then the code-size plot."""
    blocks = []
    for base, g in d.groupby(d["dataset"].map(base_dataset), sort=False):
        blocks.append(Heading(3, base, f"{safe_name(suite)}-{safe_name(base)}"))
        ok = g[g["status"] == "ok"]
        if not len(ok):
            blocks.append(note("No cell of this dataset finished."))
        elif has_scores(ok, "roc_auc"):
            blocks += anomaly_table_blocks(ok)
        elif has_scores(ok, "reconstruction_mse"):
            blocks += reconstruction_table_blocks(ok)
        else:
            blocks += few_label_table_blocks(ok)
        failed = g[g["status"] != "ok"]
        if len(failed):
            blocks += [Para(f"{len(failed)} failed cell(s):"), failed_table(failed)]
    if has_scores(d, "reconstruction_mse"):
        blocks.append(guarded_plot(plot_code_size, d, f"{safe_name(suite)}-code-size",
                                  "Against code size d: test reconstruction error per pixel (log) and the accuracy "
                                  "of a 5-NN classifier on the codes (mean over seeds; dotted: 5-NN on the raw "
                                  "inputs); classical solid, deep dashed"))
    return blocks


def anomaly_table_blocks(ok: pd.DataFrame) -> list:
    """ROC-AUC per detector and task (a held-out class), its mean over tasks, and PR-AUC against its
    chance level (the anomaly rate)."""
    num = lambda g, col: pd.to_numeric(g[col], errors="coerce")  # noqa: E731
    tasks = list(dict.fromkeys(ok["dataset"]))
    per_task = ok.groupby(["label", "dataset"])["roc_auc"].mean().unstack()
    rows, classes = [], []
    means = per_task.mean(axis=1).sort_values(ascending=False)
    for i, label in enumerate(means.index):
        g = ok[ok["label"] == label]
        family = g["family"].iloc[0]
        per = [f"{per_task.loc[label, t]:.3f}" if pd.notna(per_task.loc[label].get(t)) else "–" for t in tasks]
        rows.append([("★ " if i == 0 else "") + label, Cell(family, cls=f"fam fam-{family}"),
                     *(per if len(tasks) > 1 else []), fmt_ci(mean_ci(num(g, "roc_auc")), lambda x: f"{x:.3f}"),
                     fmt_ci(mean_ci(num(g, "pr_auc")), lambda x: f"{x:.3f}"), f"{num(g, 'anomaly_rate').mean():.3f}",
                     fmt_ci(mean_ci(num(g, "train_seconds")), fmt_seconds), fmt_count(num(g, "n_parameters").mean())])
        classes.append(f"{family}{' best' if i == 0 else ''}")
    heads = [(variant_of(t) or t).replace("anomaly_class=", "class ") for t in tasks] if len(tasks) > 1 else []
    header = ["model", "family", *heads, "ROC-AUC", "PR-AUC", "anomaly rate", "train time", "parameters"]
    what = (f"{len(tasks)} tasks (one column each: ROC-AUC, mean over seeds), " if len(tasks) > 1 else "")
    return [Para(f"Training size {int(ok['n_train'].max())} normal samples, test size {int(ok['n_test'].max())}. "
                 f"{what}ROC-AUC and PR-AUC (average precision) over every task and seed: mean ± half of its 95% "
                 "interval. ROC-AUC 0.5 is chance; PR-AUC's chance level is the anomaly rate. Higher scores rank "
                 "anomalies first; ★ the highest mean ROC-AUC."),
            Table(header, rows, right=set(range(2, len(header))), row_cls=classes)]


def reconstruction_table_blocks(ok: pd.DataFrame) -> list:
    """Per reducer and code size: reconstruction MSE per pixel, explained variance, k-NN accuracy on
    the codes (and on the raw inputs, the same for every row), time and size."""
    num = lambda g, col: pd.to_numeric(g[col], errors="coerce") if col in g else pd.Series(np.nan, index=g.index)  # noqa: E731
    rows, classes = [], []
    order = ok.assign(_code=num(ok, "code_size")).groupby("label")["_code"].mean().sort_values(kind="stable")
    best = ok.assign(_mse=num(ok, "reconstruction_mse"), _code=num(ok, "code_size")).groupby(
        ["_code", "label"])["_mse"].mean().groupby(level=0).idxmin().map(lambda k: k[1])
    for label, code in order.items():
        g = ok[ok["label"] == label]
        family, is_best = g["family"].iloc[0], best.get(code) == label
        rows.append([("★ " if is_best else "") + label, Cell(family, cls=f"fam fam-{family}"), f"{code:.0f}",
                     fmt_ci(mean_ci(num(g, "reconstruction_mse")), lambda x: f"{x:.5f}"),
                     f"{num(g, 'explained_variance').mean():.3f}",
                     fmt_ci(mean_ci(num(g, "knn_accuracy")), lambda x: f"{x:.4f}"),
                     f"{num(g, 'knn_input_accuracy').mean():.4f}", str(g["seed"].nunique()),
                     fmt_ci(mean_ci(num(g, "train_seconds")), fmt_seconds), fmt_count(num(g, "n_parameters").mean())])
        classes.append(f"{family}{' best' if is_best else ''}")
    return [Para(f"Training size {int(ok['n_train'].max())}, test size {int(ok['n_test'].max())}. Test reconstruction "
                 "error (mean squared error per pixel) and the share of the test images' variance the reconstructions "
                 "explain; k-NN on codes: accuracy of a 5-nearest-neighbour classifier fitted on the training codes "
                 "and labels, scored on the test codes (the labels are used by this probe only). Mean over seeds ± "
                 "half of its 95% interval; ★ the lowest error at its code size."),
            Table(["model", "family", "code size", "MSE per pixel", "explained variance", "k-NN on codes",
                   "k-NN on inputs", "seeds", "train time", "parameters"], rows, right=set(range(2, 10)),
                  row_cls=classes)]


def few_label_table_blocks(ok: pd.DataFrame) -> list:
    """Accuracy per classifier at each number of labelled training images (mean ± half its 95% interval
    over seeds)."""
    sizes = sorted(ok["n_train"].unique())
    rows, classes = [], []
    for label, g in ok.groupby("label", sort=False):
        cells = [fmt_ci(mean_ci(pd.to_numeric(g.loc[g["n_train"] == n, "accuracy"], errors="coerce")))
                 for n in sizes]
        family = g["family"].iloc[0]
        rows.append([label, Cell(family, cls=f"fam fam-{family}"), *cells, str(g["seed"].nunique()),
                     fmt_ci(mean_ci(pd.to_numeric(g["train_seconds"], errors="coerce")), fmt_seconds)])
        classes.append(family)
    unlabelled = int(pd.to_numeric(ok.get("n_pretrain_images"), errors="coerce").max()) \
        if has_scores(ok, "n_pretrain_images") else None
    return [Para("Test accuracy with n labelled training images (columns), mean over seeds ± half of its 95% interval"
                 + (f"; the unlabelled pool holds up to {unlabelled} training images." if unlabelled else ".")),
            Table(["model", "family", *(f"n={n}" for n in sizes), "seeds", "train time"], rows,
                  right=set(range(2, len(sizes) + 4)), row_cls=classes)]


def plot_code_size(d: pd.DataFrame) -> MplFigure | None:
    """Per reconstruction dataset: reconstruction MSE (log) and k-NN accuracy on the codes against code size."""
    ok = d[(d["status"] == "ok")].copy()
    ok = ok[pd.to_numeric(ok.get("reconstruction_mse"), errors="coerce").notna()]
    if ok.empty or "code_size" not in ok:
        return None
    ok["code_size"] = pd.to_numeric(ok["code_size"], errors="coerce")
    datasets = [(n, g) for n, g in ok.groupby("dataset", sort=False) if g["code_size"].nunique() > 1]
    if not datasets:
        return None
    colours = line_colours(ok, "model")
    fig = MplFigure(figsize=(10, 3.8 * len(datasets)), dpi=100, layout="constrained")
    for row, (name, g) in enumerate(datasets):
        for col, (y, ylabel) in enumerate((("reconstruction_mse", "MSE per pixel"), ("knn_accuracy", "5-NN accuracy"))):
            ax = fig.add_subplot(len(datasets), 2, 2 * row + col + 1)
            if y in g and pd.to_numeric(g[y], errors="coerce").notna().any():
                draw_curves(ax, g, "code_size", y, "model", colours, band=col == 1)
            if y == "reconstruction_mse":
                ax.set_yscale("log")
            elif has_scores(g, "knn_input_accuracy"):
                ax.axhline(pd.to_numeric(g["knn_input_accuracy"], errors="coerce").mean(), ls=":", color="#555",
                           lw=1, label="inputs")
            ax.set(title=f"{name}: {ylabel}", xlabel="code size d", ylabel=ylabel)
    line_legend(fig, colours, ok, "model")
    return fig
