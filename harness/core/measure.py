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
    """Samples the process's resident memory every few milliseconds; keeps the peak. The fallback
    where the kernel's own peak cannot be reset (`_KernelPeak`)."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.proc, self.interval = psutil.Process(), interval
        self.peak = self.base = self.proc.memory_info().rss
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return max(self.peak, self.proc.memory_info().rss)


class _KernelPeak:
    """The peak resident memory as Linux keeps it (VmHWM in /proc/self/status), reset at the start
    by writing 5 to /proc/self/clear_refs: exact, and free, where a sampling thread wakes 200 times a
    second and takes the interpreter's lock from the training loop each time. Nested measurements
    share the one counter: a reset first hands the peak so far to the measurements still open."""

    open_: list["_KernelPeak"] = []

    def __init__(self):
        self.base = psutil.Process().memory_info().rss
        self.peak = 0
        high = _high_water_mark()
        for outer in _KernelPeak.open_:
            outer.peak = max(outer.peak, high)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _KernelPeak.open_.append(self)

    def stop(self) -> int:
        _KernelPeak.open_.remove(self)
        return max(self.peak, _high_water_mark())


def _high_water_mark() -> int:
    """The process's peak resident memory in bytes since the last reset (VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def _peak_tracker():
    """The kernel's reset peak where it can be had (Linux), else a sampling thread, started."""
    try:
        return _KernelPeak()
    except OSError:
        sampler = _PeakRSS()
        sampler.start()
        return sampler


@contextmanager
def measure(device: str = "cpu"):
    """Wall time, process CPU time and peak memory above the starting point of the enclosed work.
    On CUDA the peak is the GPU allocator's, since that is where the model's memory lives."""
    import torch

    m = Measurement()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    tracker = _peak_tracker()
    base = tracker.base
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield m
    finally:
        if device == "cuda":
            torch.cuda.synchronize()
        m.wall_seconds = time.perf_counter() - w0
        m.cpu_seconds = time.process_time() - c0
        peak = tracker.stop()
        m.peak_memory_mb = (peak - base) / 2**20
        if device == "cuda":
            m.peak_memory_mb = torch.cuda.max_memory_allocated() / 2**20
