"""Task kind `generation`: labelled images a model learns and then draws new ones of, measured
against the test images (harness/evaluation/generative_metrics.py).

The contract every generator keeps, classical (baselines/generative.py) or deep
(harness/deep/generative.py):

- `fit(X, y)`: learn from training images X (N, C, H, W) in [0, 1] and their class labels y.
- `sample(n, labels=None, random_state=None)`: n new images (n, C, H, W), float32 in [0, 1]. A
  conditional model (`conditional_` after fit) draws image i from class labels[i] (labels None:
  classes in their training proportions); an unconditional one ignores labels. The same
  random_state gives the same images.
- `diagnostics(X, y)`: the model's own columns of its row (steps taken, sampler settings).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator


def images_of(X) -> np.ndarray:
    """X as float32 images (N, C, H, W), checked to lie in [0, 1]."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 4:
        raise ValueError(f"a generator learns images (N, C, H, W); got an array of shape {X.shape}")
    if len(X) and (X.min() < 0 or X.max() > 1):
        raise ValueError(f"images must lie in [0, 1]; got values from {X.min():.3g} to {X.max():.3g}")
    return X



class GenerativeModel(BaseEstimator):
    """What every generator shares: labels, class proportions, seeded conditional sampling. A subclass
    stores its arguments in __init__ (conditional and random_state among them) and defines
    `fit_images(X, y, on_epoch)` (y: class indices 0..K-1, or None when unconditional) and
    `draw(n, y, seed)` (y: n class indices or None) returning n images or flat vectors, any range."""

    def fit(self, X, y=None, on_epoch: Callable[..., None] | None = None):
        X, y_idx = self.learn_labels(X, y)
        self.fit_images(X, y_idx, on_epoch)
        return self

    def learn_labels(self, X, y=None) -> tuple[np.ndarray, np.ndarray | None]:
        """Set classes_, class_prior_, input_shape_, conditional_; return the images and, for a
        conditional model, the labels as class indices 0..K-1 (else None)."""
        X = images_of(X)
        if y is None:
            self.classes_, y_idx = np.array([0]), np.zeros(len(X), dtype=np.int64)
        else:
            self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        self.class_prior_ = np.bincount(y_idx, minlength=len(self.classes_)) / len(y_idx)
        self.input_shape_ = tuple(X.shape[1:])
        self.conditional_ = bool(self.conditional) and y is not None
        return X, (y_idx if self.conditional_ else None)

    def sample(self, n: int, labels=None, random_state: int | None = None) -> np.ndarray:
        """(n, C, H, W) float32 images in [0, 1] (module docstring)."""
        seed = self.random_state if random_state is None else random_state
        idx = None
        if self.conditional_:
            if labels is None:
                idx = np.random.default_rng(seed).choice(len(self.classes_), size=n, p=self.class_prior_)
            else:
                labels = np.asarray(labels)
                if labels.shape != (n,):
                    raise ValueError(f"{n} samples need {n} labels, got an array of shape {labels.shape}")
                idx = np.searchsorted(self.classes_, labels).clip(0, len(self.classes_) - 1)
                unknown = set(labels[self.classes_[idx] != labels].tolist())
                if unknown:
                    raise ValueError(f"labels {sorted(unknown)} were not among the training classes")
        X = np.asarray(self.draw(int(n), idx, int(seed)), dtype=np.float32)
        return np.clip(X.reshape(n, *self.input_shape_), 0.0, 1.0)

    def diagnostics(self, X, y) -> dict:
        return {}
