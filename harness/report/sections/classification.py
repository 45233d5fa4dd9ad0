"""A classification dataset: accuracy, macro-F1, cost and size per configuration at the largest
training size, then how interpretable each model was and the decision regions it drew."""
from __future__ import annotations

import pandas as pd

from harness.core.display import fmt_count, fmt_seconds
from harness.report.blocks import Cell, Para, Table
from harness.report.rows import aggregate, fmt_ci, fmt_mb, largest_size
from harness.report.sections.decision_maps import decision_map_blocks
from harness.report.sections.interpretability import interpretability_blocks


def dataset_blocks(d: pd.DataFrame, suite: str, dataset: str) -> list:
    """The section of a classification dataset (any with accuracy that no other kind claims)."""
    ok = largest_size(d)
    sizes = sorted(d.loc[d["status"] == "ok", "n_train"].unique())
    size = f"Largest training size {sizes[-1]} (sizes run: {', '.join(map(str, sizes))})" if len(sizes) > 1 \
        else f"Training size {sizes[-1]}"
    blocks = [Para(f"{size}, test size {int(ok['n_test'].max())}. Mean over seeds ± half of its 95% "
                   f"interval; ★ the most accurate of its family."),
              results_table(aggregate(ok))]
    blocks += interpretability_blocks(ok)
    blocks += decision_map_blocks(ok, suite, dataset)
    return blocks


def results_table(agg: pd.DataFrame) -> Table:
    best = {fam: g["_acc"].idxmax() for fam, g in agg.groupby("family")}
    rows, classes = [], []
    for i, r in agg.iterrows():
        is_best = best.get(r["family"]) == i
        rows.append([("★ " if is_best else "") + r["label"], Cell(r["family"], cls=f"fam fam-{r['family']}"),
                     fmt_ci(r["accuracy"]), str(r["accuracy"][3]), fmt_ci(r["f1_macro"]),
                     fmt_ci(r["train_seconds"], fmt_seconds), fmt_ci(r["predict_seconds_per_1k"], fmt_seconds),
                     fmt_count(r["n_parameters"][0]), fmt_mb(r["peak_memory_mb"][0])])
        classes.append(f"{r['family']}{' best' if is_best else ''}")
    header = ["model", "family", "accuracy", "seeds", "macro-F1", "train time", "predict /1k", "parameters", "peak memory"]
    return Table(header, rows, right=set(range(2, 9)), row_cls=classes)
