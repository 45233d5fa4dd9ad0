"""What a fitted model is measured by: scores from real predictions, sizes from fitted state,
and the time and memory of the work itself."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psutil
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_macro": float(f1_score(y_true, y_pred, average="macro"))}


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Mean squared and absolute error, R^2, and the MSE of always predicting the mean of y_true
    (the trivial baseline a regression must beat; R^2 = 1 - mse / baseline_mse)."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    mse = float(np.mean((y_true - y_pred) ** 2))
    baseline = float(np.mean((y_true - y_true.mean(axis=0)) ** 2))
    return {"mse": mse, "mae": float(np.mean(np.abs(y_true - y_pred))), "baseline_mse": baseline,
            "r2": 1 - mse / baseline if baseline > 0 else float("nan")}


def language_model_scores(y_true, y_pred: np.ndarray) -> dict[str, float]:
    """Bits per character: the model's total -log2 p of the held-out texts (y_pred: one total per
    text, in bits) over their number of characters (y_true: the texts, which are their own targets)."""
    chars = sum(len(t) for t in y_true)
    bits = np.asarray(y_pred, dtype=float)
    if bits.shape != (len(y_true),):
        raise ValueError(f"a language model predicts one total per text: {len(y_true)} texts, predictions {bits.shape}")
    return {"bpc": float(bits.sum() / chars) if chars else float("nan"), "n_test_chars": chars}


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


def scores(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The scores of a task kind, from real predictions (for a reconstruction, y_true is the inputs:
    `Task.test_targets`)."""
    if kind in ("classification", "semi_supervised"):  # semi-supervised: fewer labels in train, scored alike
        return classification_scores(y_true, y_pred)
    if kind == "regression":
        return regression_scores(y_true, y_pred)
    if kind == "language_model":
        return language_model_scores(y_true, y_pred)
    if kind == "anomaly":
        return anomaly_scores(y_true, y_pred)
    if kind == "reconstruction":
        return reconstruction_scores(y_true, y_pred)
    raise ValueError(f"no scores for task kind {kind!r}; known: classification, semi_supervised, regression, "
                     "language_model, anomaly, reconstruction")


def final_estimator(est):
    """The model inside a search wrapper or pipeline (the part that holds fitted numbers)."""
    est = getattr(est, "best_estimator_", est)
    while hasattr(est, "steps"):
        est = est.steps[-1][1]
    return est


def count_parameters(est) -> int | None:
    """Numbers the fitted model stores. Deep: trainable parameters. Classical: coefficients and
    intercepts; support vectors x features plus dual coefficients; stored training points for
    k-NN; per-class means and variances for naive Bayes; tree nodes for trees and ensembles."""
    m = final_estimator(est)
    if hasattr(m, "n_parameters_"):
        return int(m.n_parameters_)
    if hasattr(m, "support_vectors_"):
        return int(m.support_vectors_.size + m.dual_coef_.size + m.intercept_.size)
    if hasattr(m, "coef_"):
        return int(np.size(m.coef_) + np.size(getattr(m, "intercept_", 0)))
    if hasattr(m, "theta_"):
        return int(m.theta_.size + m.var_.size + m.class_prior_.size)
    if hasattr(m, "n_samples_fit_"):
        return int(m.n_samples_fit_ * m.n_features_in_)
    if hasattr(m, "tree_"):
        return int(m.tree_.node_count)
    if hasattr(m, "estimators_") and hasattr(m.estimators_[0], "tree_"):
        return int(sum(t.tree_.node_count for t in m.estimators_))
    if hasattr(m, "_predictors"):  # histogram gradient boosting: one tree per class per iteration
        return int(sum(len(p.nodes) for it in m._predictors for p in it))
    return None


@dataclass
class Measurement:
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0


class _PeakRSS(threading.Thread):
    """Samples the process's resident memory every few milliseconds; keeps the peak."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.proc, self.interval = psutil.Process(), interval
        self.peak = self.proc.memory_info().rss
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return max(self.peak, self.proc.memory_info().rss)


@contextmanager
def measure(device: str = "cpu"):
    """Wall time, process CPU time and peak memory above the starting point of the enclosed work.
    On CUDA the peak is the GPU allocator's, since that is where the model's memory lives."""
    import torch

    m = Measurement()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    sampler = _PeakRSS()
    base = sampler.peak
    sampler.start()
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield m
    finally:
        if device == "cuda":
            torch.cuda.synchronize()
        m.wall_seconds = time.perf_counter() - w0
        m.cpu_seconds = time.process_time() - c0
        peak = sampler.stop()
        m.peak_memory_mb = (peak - base) / 2**20
        if device == "cuda":
            m.peak_memory_mb = torch.cuda.max_memory_allocated() / 2**20
