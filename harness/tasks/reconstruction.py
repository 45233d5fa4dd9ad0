"""Task kind `reconstruction`: y holds class labels (for probes of a model's codes); a model's
prediction is a reconstruction of each test input, scored against the inputs themselves. And the
reducer contract, which `anomaly` detectors built on reconstruction share.

Reducers encode each input into a code of `code_size` numbers and decode the code back into an
input. PCA and kernel PCA (baselines/decomposition.py) and the autoencoder
(harness/deep/autoencoder.py) share this face, so that the unsupervised suite compares them at
equal code sizes on the same terms:

- `transform(X)`: the codes (N, d); `reconstruct(X)`: decoded codes, in X's shape;
- `anomaly_score(X)`: each input's mean squared reconstruction error (higher = more anomalous: an
  input unlike the training data is rebuilt worse);
- `predict(X)`: what the task kind scores, chosen by `output`: "reconstruction" for a
  reconstruction task (scored by MSE per input value against X itself), "anomaly_score" for an
  anomaly task (scored by ROC-AUC and PR-AUC);
- `diagnostics(X_test, y_test)`: extra columns of the row. With labels (a reconstruction task):
  `knn_accuracy`, the accuracy of a k-nearest-neighbour classifier fitted on the training codes and
  their labels and scored on the test codes (k = KNN_K for every model, plain Euclidean distance on
  the codes as the model gives them, majority vote), and `knn_input_accuracy`, the same classifier
  on the raw inputs, the reference a code must keep up with. The labels reach `fit` only to be
  stored for this probe: no reducer looks at them while it learns.
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pandas as pd
from rich.markup import escape
from rich.table import Table
from sklearn.neighbors import KNeighborsClassifier

from harness.core.display import FAMILY_COLOURS, failed_rows, fmt_count, fmt_seconds
from harness.tasks.base import TaskKind, has_scores


KNN_K = 5



OUTPUTS = ("reconstruction", "anomaly_score")



def flat(X) -> np.ndarray:
    """(N, ...) -> (N, D) float32."""
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1)



def knn_accuracy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> float:
    knn = KNeighborsClassifier(n_neighbors=min(KNN_K, len(train)), n_jobs=1).fit(train, y_train)
    return float(np.mean(knn.predict(test) == np.asarray(y_test)))



class Reducer:
    """The shared face (module docstring). A subclass sets `code_size` and `output` in __init__ and
    defines `fit_reducer(X (N, D) float32, on_epoch)` (which may return the training codes, when it has
    them anyway), `encode(X (N, D)) -> (N, d)` and `decode(Z (N, d)) -> (N, D)`."""

    def fit(self, X, y=None, on_epoch: Callable[[int, int, float], None] | None = None):
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {self.output!r}")
        if int(self.code_size) < 1:
            raise ValueError(f"code_size must be at least 1, got {self.code_size}")
        X = np.asarray(X, dtype=np.float32)
        self.input_shape_ = tuple(X.shape[1:])
        codes = self.fit_reducer(flat(X), on_epoch)
        self.train_codes_ = self.transform(X) if codes is None else np.asarray(codes, dtype=np.float32)
        labels = None if y is None else np.asarray(y)
        probe = self.output == "reconstruction" and labels is not None and len(np.unique(labels)) > 1
        self.train_labels_ = labels if probe else None  # kept for the k-NN probe of diagnostics only
        self.train_inputs_ = flat(X) if probe else None
        return self

    def transform(self, X) -> np.ndarray:
        return np.asarray(self.encode(flat(X)), dtype=np.float32)

    def reconstruct(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return np.asarray(self.decode(self.encode(flat(X))), dtype=np.float32).reshape(X.shape)

    def anomaly_score(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return ((flat(self.reconstruct(X)) - flat(X)) ** 2).mean(axis=1)

    def predict(self, X) -> np.ndarray:
        return self.reconstruct(X) if self.output == "reconstruction" else self.anomaly_score(X)

    def diagnostics(self, X_test, y_test) -> dict[str, float]:
        out = {"code_size": float(self.code_size)}
        if self.output == "reconstruction" and self.train_labels_ is not None:
            out["knn_accuracy"] = knn_accuracy(self.train_codes_, self.train_labels_, self.transform(X_test), y_test)
            out["knn_input_accuracy"] = knn_accuracy(self.train_inputs_, self.train_labels_, flat(X_test), y_test)
        return out


def reconstruction_scores(X_true: np.ndarray, X_pred: np.ndarray) -> dict[str, float]:
    """Mean squared error per input value (pixel) of reconstructions of the test inputs, against the
    MSE of reconstructing every input as the mean test input (`mean_input_mse`, what a code of size 0
    gives), and the share of that variance the reconstructions explain."""
    X_true = np.asarray(X_true, dtype=float).reshape(len(X_true), -1)
    X_pred = np.asarray(X_pred, dtype=float).reshape(len(X_pred), -1)
    if X_pred.shape != X_true.shape:
        raise ValueError(f"a reconstruction has the input's shape: inputs {X_true.shape}, reconstructions {X_pred.shape}")
    mse = float(np.mean((X_true - X_pred) ** 2))
    baseline = float(np.mean((X_true - X_true.mean(axis=0)) ** 2))
    return {"reconstruction_mse": mse, "mean_input_mse": baseline,
            "explained_variance": 1 - mse / baseline if baseline > 0 else float("nan")}


def reconstruction_table(dataset: str, d: pd.DataFrame) -> Table:
    """A reducer per row (model[code_size=d]), by code size: test MSE per pixel, the share of the
    variance it explains, and the k-NN accuracy of its codes (that of the raw inputs in the title)."""
    ok = d[d["status"] == "ok"]
    ok = ok.assign(**{c: np.nan for c in ("code_size", "explained_variance", "knn_accuracy", "knn_input_accuracy")
                      if c not in ok})
    agg = ok.groupby(["family", "label"], sort=False).agg(
        code=("code_size", "mean"), mse=("reconstruction_mse", "mean"), ev=("explained_variance", "mean"),
        knn=("knn_accuracy", "mean"), train=("train_seconds", "mean"), params=("n_parameters", "mean"),
        seeds=("seed", "nunique")).reset_index()
    agg = agg.sort_values(["code", "mse"])
    best = {c: g["mse"].idxmin() for c, g in agg.groupby("code")}
    raw = pd.to_numeric(ok["knn_input_accuracy"], errors="coerce").mean()
    t = Table(title=f"{escape(dataset)}  (reconstruction: n_train={int(d['n_train'].max())}, test="
                    f"{int(d['n_test'].max())}, {d['seed'].nunique()} seed(s); MSE per pixel, lower is better; "
                    f"5-NN on the raw inputs {'–' if pd.isna(raw) else f'{raw:.4f}'})", title_justify="left")
    columns = ("model", "MSE", "expl. var", "5-NN codes", "train", "params")
    for col in columns:
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    number = lambda v, spec: "–" if pd.isna(v) else format(v, spec)  # noqa: E731
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["code"]) == i else "  "
        name = re.sub(r"\[code_size=(\d+)\]", r" d=\1", r["label"])  # pca[code_size=8] -> pca d=8
        t.add_row(f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(mark + name)}[/]", f"{r['mse']:.5f}",
                  number(r["ev"], ".3f"), number(r["knn"], ".4f"), fmt_seconds(r["train"]), fmt_count(r["params"]),
                  style="bold" if mark.strip() else None)
    failed_rows(t, d, len(columns))
    return t


class Reconstruction(TaskKind):
    name = "reconstruction"
    score, higher_is_better, compare_floor = "reconstruction_mse", False, "mse_rise"
    grouped_by_base = True
    report_section = "unsupervised"

    def test_targets(self, task):
        return task.X_test

    def scores(self, y_true, y_pred) -> dict[str, float]:
        return reconstruction_scores(y_true, y_pred)

    def owns(self, rows: pd.DataFrame) -> bool:
        return has_scores(rows, "reconstruction_mse")

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        return [reconstruction_table(name, g) for name, g in rows.groupby("dataset", sort=False)]


KIND = Reconstruction()
