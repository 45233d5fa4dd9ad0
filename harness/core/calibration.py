"""A short, fixed workload timed at the start of every run: the speed of this machine, today.

Comparing a CI run's training times with a reference made on another machine (or on the same one
under load) would flag every slower runner as a regression. `bench compare` divides each time by
the calibration of the run that measured it, so what it compares is "seconds per calibration
unit". The workload mixes what cells spend their time on: dense linear algebra (numpy/BLAS, as in
scikit-learn's solvers), a convolutional network's forward and backward pass (torch), and
interpreted Python (tree building, data handling). It runs on the run's own thread count.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

REPEATS = 7


def _blas(rng: np.random.Generator) -> None:
    a = rng.standard_normal((192, 192))
    for _ in range(8):
        a = np.tanh(a @ a.T / 192)


def _torch(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    for _ in range(3):
        net.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(x), y).backward()


def _python() -> None:
    total = 0
    for i in range(60_000):
        total += (i * 7) % 13
    sorted(range(20_000), key=lambda v: -v)


def calibrate() -> dict:
    """Fastest seconds of each part over REPEATS runs (after one warm-up), and their sum. The
    minimum, not the median: other work on the machine only ever adds time to a fixed workload."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * 14 * 14, 10))
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    parts = {"blas": lambda: _blas(rng), "torch": lambda: _torch(net, x, y), "python": _python}
    out = {}
    for name, work in parts.items():
        work()  # warm-up: first-call costs (kernel selection, allocation) are not the machine's speed
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            work()
            times.append(time.perf_counter() - t0)
        out[f"{name}_seconds"] = min(times)
    out["seconds"] = sum(out[f"{name}_seconds"] for name in parts)
    out["threads"] = torch.get_num_threads()
    return out
