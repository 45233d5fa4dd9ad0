"""XOR, synthetic by nature: the four points of the truth table, and a noisy cloud around them.

XOR (Minsky & Papert, 1969): label 1 when exactly one of two binary inputs is 1. No line separates
the two classes, so a single-layer perceptron gets at most three of the four points right (75%),
while one hidden layer suffices to represent it (claim A1).

- `load_xor`: the truth table itself, (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0, as both train and
  test split: the question is whether a model can represent the function, not whether it
  generalises. The seed changes nothing here (it seeds the model).
- `load_xor_cloud`: Gaussian blobs of standard deviation `noise` around the corners (+-1, +-1),
  exactly a quarter of each split per corner, labelled by the quadrant a point falls in:
  y = (x1 > 0) xor (x2 > 0). The label is a function of the input (no label noise), so 100% is
  reachable and the best straight line is near 75% (it can cut off one corner, balanced splits
  leave it no more); train and test are drawn independently from the seed. It gives a test set and a
  plane whose decision regions the report draws.

Shapes: X (N, 2) float32, y (N,) int64.
"""
from __future__ import annotations

import numpy as np

from harness.data.task import DatasetError, Task

TRUTH_TABLE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
CORNERS = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)


def xor_labels(X: np.ndarray, threshold: float) -> np.ndarray:
    """1 where exactly one coordinate lies above the threshold."""
    return ((X[:, 0] > threshold) ^ (X[:, 1] > threshold)).astype(np.int64)


def load_xor(seed: int = 0, name: str = "xor") -> Task:
    """The four points of the XOR truth table, train = test."""
    y = xor_labels(TRUTH_TABLE, 0.5)
    return Task(name, "classification", TRUTH_TABLE.copy(), y, TRUTH_TABLE.copy(), y.copy(), input_kind="tabular",
                class_names=["0", "1"], source="XOR truth table: four points, train = test")


def xor_cloud(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points (n/4 per corner, shuffled) around the four corners, labelled by quadrant."""
    corner = np.repeat(np.arange(4), n // 4)
    X = CORNERS[corner] + rng.normal(0.0, noise, size=(len(corner), 2))
    order = rng.permutation(len(corner))
    X = X[order].astype(np.float32)
    return X, xor_labels(X, 0.0)


def load_xor_cloud(n_train: int = 200, n_test: int = 200, noise: float = 0.3, seed: int = 0,
                   name: str = "xor_cloud") -> Task:
    """Noisy XOR: points around the corners (+-1, +-1), labelled by quadrant; train and test drawn
    independently from the seed."""
    n_train, n_test, noise = int(n_train), int(n_test), float(noise)
    if n_train < 4 or n_test < 4 or n_train % 4 or n_test % 4:
        raise DatasetError(f"n_train and n_test must be positive multiples of 4 (a quarter per corner), "
                           f"got {n_train} and {n_test}")
    if not noise > 0:
        raise DatasetError(f"noise must be a positive standard deviation, got {noise}")
    rng = np.random.default_rng([int(seed), 8])
    X_train, y_train = xor_cloud(n_train, noise, rng)
    X_test, y_test = xor_cloud(n_test, noise, rng)
    return Task(name, "classification", X_train, y_train, X_test, y_test, input_kind="tabular",
                class_names=["0", "1"],
                source=f"synthetic XOR cloud: Gaussian blobs (sd {noise:g}) at the corners (+-1, +-1), "
                       f"labelled by quadrant, seed {seed}")
