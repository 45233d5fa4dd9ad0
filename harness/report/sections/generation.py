"""A generation dataset: sample quality per model against real images, and each model's sample grid."""
from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from harness.core.display import fmt_count, fmt_seconds
from harness.evaluation.stats import mean_ci
from harness.report.blocks import Cell, Para, Plot, Table, note
from harness.report.rows import fmt_ci, largest_size
from harness.results.store import safe_name


def dataset_blocks(d: pd.DataFrame, suite: str, dataset: str) -> list:
    """The section of a generation dataset, read at its largest training size."""
    return generation_blocks(largest_size(d), suite, dataset)


def conditional_text(g: pd.DataFrame) -> str:
    if "conditional" not in g or g["conditional"].isna().all():
        return "–"
    return "yes" if g["conditional"].fillna(False).astype(bool).all() else "no"


def generation_blocks(ok: pd.DataFrame, suite: str, dataset: str) -> list:
    """A generation dataset's finished cells: sample quality per model (harness/evaluation/generative_metrics.py),
    mean over seeds with its interval and standard deviation, then each model's sample grid (its
    first seed's)."""
    num = lambda g, col: pd.to_numeric(g[col], errors="coerce") if col in g else pd.Series(dtype=float)  # noqa: E731
    rows = []
    for (label, family), g in ok.groupby(["label", "family"], sort=False):
        fd = num(g, "frechet_distance")
        rows.append({"label": label, "family": family, "fd": mean_ci(fd), "sd": fd.std(ddof=1) if len(fd) > 1 else np.nan,
                     **{k: mean_ci(num(g, col)) for k, col in (("p", "precision"), ("r", "recall"), ("cas", "cas_accuracy"),
                                                                ("nn", "nn_distance_ratio"), ("train", "train_seconds"),
                                                                ("sample", "predict_seconds_per_1k"))},
                     "conditional": conditional_text(g),
                     "params": num(g, "n_parameters").mean(), "first": g.sort_values("seed").iloc[0]})
    rows.sort(key=lambda r: r["fd"][0] if np.isfinite(r["fd"][0]) else np.inf)
    best = {}
    for i, r in enumerate(rows):
        best.setdefault(r["family"], i)  # sorted by distance: the first of a family is its best
    three = lambda x: f"{x:.3f}"  # noqa: E731
    table = [[("★ " if best[r["family"]] == i else "") + r["label"], Cell(r["family"], cls=f"fam fam-{r['family']}"),
              r["conditional"], fmt_ci(r["fd"], lambda x: f"{x:.2f}"), "–" if np.isnan(r["sd"]) else f"{r['sd']:.2f}",
              fmt_ci(r["p"], three), fmt_ci(r["r"], three), fmt_ci(r["cas"], three), fmt_ci(r["nn"], lambda x: f"{x:.2f}"),
              fmt_ci(r["train"], fmt_seconds), fmt_ci(r["sample"], fmt_seconds), fmt_count(r["params"]), str(r["fd"][3])]
             for i, r in enumerate(rows)]
    classes = [f"{r['family']}{' best' if best[r['family']] == i else ''}" for i, r in enumerate(rows)]
    real = {k: num(ok, col).mean() for k, col in (("fd", "frechet_distance_real"), ("p", "precision_real"),
                                                  ("r", "recall_real"), ("clf", "feature_classifier_accuracy"))}
    blocks = [Para(f"Training size {int(ok['n_train'].max())}, test size {int(ok['n_test'].max())}: each model drew as "
                   "many images as the test split holds (a conditional model with the test labels). Fréchet distance "
                   "(FD, lower is better) and k-NN precision and recall (k = 3) against the real test images, in the "
                   "84-d penultimate features of one LeNet-5 trained on the real training split (its test accuracy: "
                   f"{real['clf']:.3f}); as many real training images score FD {real['fd']:.2f}, precision "
                   f"{real['p']:.3f}, recall {real['r']:.3f}: the best a generator can show at this sample size. CAS: "
                   "accuracy on the real test images of the same LeNet-5 trained on the samples instead. NN ratio: "
                   "median distance of a sample to its nearest training image over that of a real test image (well "
                   "below 1: copies). Mean over seeds ± half of its 95% interval; FD sd: its standard deviation over "
                   "seeds; sample /1k: seconds to draw 1,000 images; ★ the lowest FD of its family."),
              Table(["model", "family", "conditional", "FD", "FD sd", "precision", "recall", "CAS", "NN ratio",
                     "train time", "sample /1k", "parameters", "seeds"], table, right=set(range(3, 13)), row_cls=classes)]
    grids = [r for r in rows if isinstance(r["first"].get("sample_grid"), str)]
    if grids:
        blocks.append(Para("Samples (each model's first seed), one row per class."))
    for r in grids:
        caption = f"{dataset}: {r['label']} samples (seed {int(r['first']['seed'])})"
        try:
            png = base64.b64decode(r["first"]["sample_grid"], validate=True)
            if not png.startswith(b"\x89PNG"):
                raise ValueError("not a PNG image")
        except ValueError as e:
            blocks.append(note(f"The sample grid of {r['label']} could not be read: {e}"))
            continue
        blocks.append(Plot(f"{safe_name(suite)}-{safe_name(dataset)}-{safe_name(r['label'])}-samples", caption, png))
    return blocks
