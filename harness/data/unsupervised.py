"""The unsupervised suite's image tasks, built on the vision suite's loaders (same images, same seeded
stratified train/test split); the anomaly tasks live in harness/data/anomaly.py.

- `load_reconstruction` (kind `reconstruction`): reduce each image to a code and rebuild it. X as
  the vision task's; y keeps the class labels, which no reducer learns from: they serve the k-NN
  probe of the codes (harness/deep/autoencoder.py).
- `load_few_labels` (kind `semi_supervised`): every training image, of which only `n_labelled`
  keep their label (a seeded stratified draw, the same number per class up to rounding); the others
  have y = -1. The test split is the vision task's, fully labelled.
"""
from __future__ import annotations

import numpy as np

from harness.data.task import DatasetError, Task, stratified_subset
from harness.data.vision import load_digits, load_mnist5k

SOURCES = {"digits": load_digits, "mnist5k": load_mnist5k}


def _source(source: str, seed: int) -> Task:
    if source not in SOURCES:
        raise DatasetError(f"unknown image source {source!r}; choose {', '.join(SOURCES)}")
    return SOURCES[source](seed=seed)


def load_reconstruction(source: str = "digits", seed: int = 0, name: str | None = None) -> Task:
    base = _source(source, seed)
    return Task(name or f"{source}_reconstruction", "reconstruction", base.X_train, base.y_train, base.X_test,
                base.y_test, "image", base.class_names, base.source)


def load_few_labels(source: str = "digits", n_labelled: int = 100, seed: int = 0, name: str | None = None) -> Task:
    base = _source(source, seed)
    n = int(n_labelled)
    if not len(base.class_names) <= n <= base.n_train:
        raise DatasetError(f"n_labelled must be between {len(base.class_names)} (one per class) and "
                           f"{base.n_train}, got {n}")
    keep = stratified_subset(base.y_train, n, seed)
    y = np.full_like(base.y_train, -1)
    y[keep] = base.y_train[keep]
    return Task(name or f"{source}_few_labels", "semi_supervised", base.X_train, y, base.X_test, base.y_test,
                "image", base.class_names, f"{base.source}: {n} of {base.n_train} training labels kept")
