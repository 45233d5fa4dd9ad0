"""Task kind `semi_supervised`: a classification whose training labels are -1 where an image is
unlabelled (scikit-learn's convention); `n_train` counts the labelled ones, and a learning curve
over it labels more of the same images. Scored as a classification. A dataset's variants share one
terminal table, by number of labelled images."""
from __future__ import annotations

import numpy as np
import pandas as pd
from rich.markup import escape
from rich.table import Table

from harness.core.display import failed_rows
from harness.tasks.base import TaskKind, has_scores
from harness.tasks.classification import classification_scores


def few_labels_table(dataset: str, d: pd.DataFrame) -> Table:
    """A classifier per row, its test accuracy (mean over seeds) at each number of labelled images."""
    ok = d[d["status"] == "ok"]
    sizes = sorted(ok["n_train"].unique())
    means = ok.groupby(["label", "n_train"])["accuracy"].mean().unstack()
    seeds = ok.groupby("label")["seed"].nunique()
    t = Table(title=f"{escape(dataset)}  (few labels: test accuracy by labelled training images, "
                    f"test={int(d['n_test'].max())})", title_justify="left")
    for col in ("model", *(f"n={n}" for n in sizes), "seeds"):
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for label in means.index:
        t.add_row(escape(label), *("–" if pd.isna(means.loc[label].get(n)) else f"{means.loc[label, n]:.4f}"
                                   for n in sizes), str(seeds[label]))
    failed_rows(t, d, len(sizes) + 2)
    return t


class SemiSupervised(TaskKind):
    name = "semi_supervised"
    grouped_by_base = True
    report_section = "unsupervised"

    def n_train(self, task) -> int:
        return int(np.sum(np.asarray(task.y_train) >= 0))

    def subsample_train(self, task, n: int, seed: int):
        """n of the labelled examples keep their labels, the others join the unlabelled."""
        from harness.data.task import Task, stratified_subset

        labelled = np.flatnonzero(task.y_train >= 0)
        keep = labelled[stratified_subset(task.y_train[labelled], n, seed)]
        y = np.full_like(task.y_train, -1)
        y[keep] = task.y_train[keep]
        return Task(task.name, task.kind, task.X_train, y, task.X_test, task.y_test, task.input_kind,
                    task.class_names, task.source)

    def scores(self, y_true, y_pred) -> dict[str, float]:
        return classification_scores(y_true, y_pred)

    def owns(self, rows: pd.DataFrame) -> bool:
        return has_scores(rows, "n_labelled") and has_scores(rows, "accuracy")

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        return [few_labels_table(dataset, rows)]


KIND = SemiSupervised()
