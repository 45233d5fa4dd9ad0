"""What every cell measures whatever its kind: sizes from fitted state, and the time and memory of
the work itself. Scores are the task kind's (harness/tasks/)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psutil


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
