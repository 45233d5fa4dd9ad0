"""Task kind `anomaly`: the training split holds normal samples only (y = 0); a model's prediction
is an anomaly score per test sample (higher = more anomalous), scored by how well it ranks the
anomalies (y = 1) above the normal samples. A dataset's variants (which class is held out as the
anomaly) share one terminal table."""
from __future__ import annotations

import numpy as np
import pandas as pd
from rich.markup import escape
from rich.table import Table
from sklearn.metrics import average_precision_score, roc_auc_score

from harness.core.display import FAMILY_COLOURS, failed_rows, fmt_seconds
from harness.tasks.base import TaskKind, has_scores


def anomaly_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """How well anomaly scores (y_pred: one per test sample, higher = more anomalous) rank the
    anomalies (y_true = 1) above the normal samples (0): ROC-AUC (0.5 = chance) and PR-AUC as
    average precision, whose chance level is the share of anomalies, `anomaly_rate`."""
    y_true = np.asarray(y_true).astype(int)
    s = np.asarray(y_pred, dtype=float)
    if s.shape != y_true.shape:
        raise ValueError(f"an anomaly detector gives one score per sample: {len(y_true)} samples, scores {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("anomaly scores must be finite")
    rate = float(y_true.mean())
    if rate in (0.0, 1.0):  # ROC-AUC needs both kinds of sample
        return {"roc_auc": float("nan"), "pr_auc": float("nan"), "anomaly_rate": rate}
    return {"roc_auc": float(roc_auc_score(y_true, s)), "pr_auc": float(average_precision_score(y_true, s)),
            "anomaly_rate": rate}


def anomaly_table(dataset: str, d: pd.DataFrame) -> Table:
    """A detector per row, its ROC-AUC and PR-AUC averaged over the dataset's variants (held-out
    classes) and seeds, with the worst variant's ROC-AUC; PR-AUC's chance level, the anomaly rate, is
    in the title."""
    ok = d[d["status"] == "ok"]
    per_task = ok.groupby(["family", "label", "dataset"], sort=False)["roc_auc"].mean()
    agg = ok.groupby(["family", "label"], sort=False).agg(
        roc=("roc_auc", "mean"), pr=("pr_auc", "mean"), train=("train_seconds", "mean"),
        seeds=("seed", "nunique")).reset_index().sort_values("roc", ascending=False)
    worst = per_task.groupby(level=["family", "label"]).min()
    rate = pd.to_numeric(ok["anomaly_rate"], errors="coerce").mean() if "anomaly_rate" in ok else np.nan
    t = Table(title=f"{escape(dataset)}  (anomaly detection: {d['dataset'].nunique()} task(s), test="
                    f"{int(d['n_test'].max())}, anomaly rate {rate:.3f} = PR-AUC by chance; ROC-AUC 0.5 = chance)",
              title_justify="left")
    columns = ("model", "ROC-AUC", "worst task", "PR-AUC", "train", "seeds")
    for col in columns:
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    for i, (_, r) in enumerate(agg.iterrows()):
        t.add_row(f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(('★ ' if i == 0 else '  ') + r['label'])}[/]",
                  f"{r['roc']:.3f}", f"{worst[(r['family'], r['label'])]:.3f}", f"{r['pr']:.3f}",
                  fmt_seconds(r["train"]), str(r["seeds"]), style="bold" if i == 0 else None)
    failed_rows(t, d, len(columns))
    return t


class Anomaly(TaskKind):
    name = "anomaly"
    score = "roc_auc"  # bench compare: on accuracy's 0-1 scale, with its floor
    grouped_by_base = True
    report_section = "unsupervised"

    def check(self, task) -> None:
        from harness.data.task import DatasetError

        super().check(task)
        if np.any(task.y_train != 0):
            raise DatasetError(f"{task.name}: an anomaly task trains on normal samples only (y_train = 0), "
                               f"found {int(np.sum(task.y_train != 0))} others")
        if not set(np.unique(task.y_test)) <= {0, 1}:
            raise DatasetError(f"{task.name}: anomaly labels are 0 (normal) and 1 (anomaly)")

    def scores(self, y_true, y_pred) -> dict[str, float]:
        return anomaly_scores(y_true, y_pred)

    def owns(self, rows: pd.DataFrame) -> bool:
        return has_scores(rows, "roc_auc")

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        return [anomaly_table(dataset, rows)]


KIND = Anomaly()
