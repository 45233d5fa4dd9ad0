"""The decision regions of a classifier of two input features, recorded as data for the report.

A classification task whose inputs are two numbers (suite=foundations' XOR sets, or any 2-column
table) is a plane the fitted model can be asked about everywhere: the cell predicts a grid over
the data's bounding box and stores the predicted class per grid point, with the test points, in
the row's `decision_map` column (JSON). The runner keeps no fitted models, so this is what the
report draws the regions from (harness/report/sections/decision_maps.py).

Why data and not a picture (suite=generative stores its sample grids as PNG): a boundary is a
function of the plane, not an image a model produced, so the report can lay several models out on
one scale with the same points, and the map stays readable by analysis code (where the boundary
lies, how much of the plane each class holds). It is small: 64 x 64 class indices are 4 KiB, 5.5
KiB as base64, plus at most 400 points.

Format: {"x": [lo, hi], "y": [lo, hi], "size": G, "classes": [label, ...], "regions": base64 of
G*G uint8 class indices, row-major with row 0 at y = lo and column 0 at x = lo (grid point
centres), "points": [[x1, x2, class index], ...] (test points)}.
"""
from __future__ import annotations

import base64
import json

import numpy as np

from harness.data import Task

GRID = 64          # grid points per side
MAX_POINTS = 400   # test points kept with the map
PAD = 0.25         # margin around the data, as a fraction of its range


def has_plane(task: Task) -> bool:
    """A classification task of two numeric input features."""
    X = np.asarray(task.X_train)
    return task.kind == "classification" and X.ndim == 2 and X.shape[1] == 2 and np.issubdtype(X.dtype, np.number)


def grid_axes(X: np.ndarray, size: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = PAD * np.maximum(hi - lo, 1e-6)
    return np.linspace(lo[0] - pad[0], hi[0] + pad[0], size), np.linspace(lo[1] - pad[1], hi[1] + pad[1], size)


def decision_map(est, task: Task, size: int = GRID) -> dict:
    """{"decision_map": JSON} for a task with a plane (see the module docstring), else {}."""
    if not has_plane(task):
        return {}
    X_all = np.concatenate([np.asarray(task.X_train, dtype=np.float64), np.asarray(task.X_test, dtype=np.float64)])
    xs, ys = grid_axes(X_all, size)
    gx, gy = np.meshgrid(xs, ys)  # (G, G): row i is ys[i]
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.asarray(task.X_train).dtype)
    classes = np.unique(np.concatenate([np.asarray(task.y_train), np.asarray(task.y_test)]))
    if len(classes) > 255:
        return {}
    regions = np.searchsorted(classes, np.asarray(est.predict(grid))).clip(0, len(classes) - 1).astype(np.uint8)
    keep = np.random.default_rng(0).permutation(len(task.y_test))[:MAX_POINTS]
    points = [[round(float(a), 4), round(float(b), 4), int(c)] for (a, b), c in
              zip(np.asarray(task.X_test)[keep], np.searchsorted(classes, np.asarray(task.y_test)[keep]))]
    found = {"x": [float(xs[0]), float(xs[-1])], "y": [float(ys[0]), float(ys[-1])], "size": size,
             "classes": [c.item() if hasattr(c, "item") else c for c in classes],
             "regions": base64.b64encode(regions.tobytes()).decode(), "points": points}
    return {"decision_map": json.dumps(found)}


def read_decision_map(text: str) -> dict:
    """The map as arrays: regions (G, G) uint8, points (n, 3) float; raises ValueError when malformed."""
    found = json.loads(text)
    size = int(found["size"])
    regions = np.frombuffer(base64.b64decode(found["regions"], validate=True), dtype=np.uint8)
    if regions.size != size * size:
        raise ValueError(f"decision map holds {regions.size} grid points, expected {size}x{size}")
    points = np.asarray(found["points"], dtype=float).reshape(-1, 3)
    return found | {"regions": regions.reshape(size, size), "points": points}
