"""Statistics every figure in bench carries: means with intervals over seeds, paired comparisons."""
from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval over seeds: (mean, low, high, n). One value: the interval is the point."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    m = float(v.mean())
    if n == 1:
        return (m, m, m, 1)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / np.sqrt(n)
    return (m, m - half, m + half, n)
