"""Was a result limited by its budget? A model whose curve was still improving when training stopped
would have done better with more steps: its score is a lower bound, and a verdict should say so."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats


def still_improving(curve, *, higher_is_better: bool, tolerance: float, tail: float = 0.25, steps=None) -> bool:
    """Whether a training curve was still improving over its last `tail` fraction by more than `tolerance`.

    `curve` is a metric over training (loss, FD, return, accuracy) at `steps` (default 0, 1, 2, ...;
    pass the real steps or epochs when they are uneven). Missing values are dropped. The tail is the
    last ceil(tail * n) points, at least 2. Its slope is the Theil-Sen estimate (the median of the
    slopes between every two points of the tail), and the improvement across the tail is slope * (last
    step - first step in the tail), sign-flipped when lower is better. Still improving means that
    improvement exceeds `tolerance`, in the metric's units. A median of slopes, unlike last-minus-best
    or a least-squares line, is not moved by one noisy evaluation at the end (RL returns, small
    validation sets). Fewer than 2 points: False, since there is no evidence of improvement.
    """
    if not 0 < tail <= 1:
        raise ValueError(f"tail must be in (0, 1], not {tail}")
    y = np.asarray(curve, dtype=float)
    x = np.arange(len(y), dtype=float) if steps is None else np.asarray(steps, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"steps and curve must align ({x.shape} and {y.shape})")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if len(y) < 2:
        return False
    size = max(2, math.ceil(tail * len(y)))
    x, y = x[-size:], y[-size:]
    span = x[-1] - x[0]
    if span <= 0:
        return False
    slope = stats.theilslopes(y, x)[0]
    gain = slope * span * (1 if higher_is_better else -1)
    return bool(gain > tolerance)
