"""The Task: what every dataset loader returns and every model and evaluator consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DatasetError(Exception):
    """A dataset that cannot be loaded: missing, corrupt, or unusable. The message says why and where."""


@dataclass
class Task:
    """One prepared problem: fixed splits plus the facts a model needs.

    Shapes: images are (N, C, H, W) float32 in [0, 1]; labels are int64 class indices 0..K-1.
    The test split is only ever used for the final evaluation; validation comes out of train.
    """

    name: str
    kind: str  # "classification", "regression" or "language_model" (harness.metrics.scores)
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    input_kind: str = "image"  # "image" | "tabular" | "sequence" | "text"
    class_names: list[str] = field(default_factory=list)  # a language model's: its alphabet
    source: str = ""  # where the data came from, for the run's provenance

    def __post_init__(self):
        for split, X, y in (("train", self.X_train, self.y_train), ("test", self.X_test, self.y_test)):
            if len(X) != len(y):
                raise DatasetError(f"{self.name}: {split} split has {len(X)} inputs but {len(y)} labels")
            if len(X) == 0:
                raise DatasetError(f"{self.name}: the {split} split is empty")
        if self.kind == "classification" and len(np.unique(self.y_train)) < 2:
            raise DatasetError(f"{self.name}: the training split has a single class; nothing to classify")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int:
        if self.kind == "language_model":  # y holds texts; what is predicted is one of the characters
            return len(self.class_names)
        return int(max(self.y_train.max(), self.y_test.max()) + 1)

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    def subsample_train(self, n: int, seed: int) -> "Task":
        """The same task with a stratified random n-sample of the training split (test untouched)."""
        if n >= self.n_train:
            return self
        idx = stratified_subset(self.y_train, n, seed)
        return Task(self.name, self.kind, self.X_train[idx], self.y_train[idx], self.X_test, self.y_test,
                    self.input_kind, self.class_names, self.source)


def stratified_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of n samples with class proportions kept (at least one per class), sorted. Targets
    that are not class indices (a regression's floats, a language model's texts) have no classes: a
    plain random n-sample, sorted."""
    from sklearn.model_selection import train_test_split

    if not np.issubdtype(np.asarray(y).dtype, np.integer):
        return np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
    classes = np.unique(y)
    n = max(n, len(classes))
    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(idx)
