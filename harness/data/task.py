"""The Task: what every dataset loader returns and every model and evaluator consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DatasetError(Exception):
    """A dataset that cannot be loaded: missing, corrupt, or unusable. The message says why and where."""


@dataclass
class Task:
    """One prepared problem: fixed splits plus the facts a model needs.

    Shapes: images are (N, C, H, W) float32 in [0, 1]; labels are int64 class indices 0..K-1. Tabular
    inputs are a pandas DataFrame (numeric columns float, categorical ones of dtype `category`); a
    regression's targets are float64.
    The test split is only ever used for the final evaluation; validation comes out of train.

    Kinds beyond classification and regression (each is a file of harness/tasks/, which says how it is
    checked, sampled and scored):
    - anomaly: y is 1 for an anomaly, 0 for a normal sample; the training split holds normal samples
      only, and a model's prediction is an anomaly score per test sample (higher = more anomalous).
    - reconstruction: y holds class labels (for probes of a model's codes); a model's prediction is
      a reconstruction of each test input, scored against the inputs themselves (`test_targets`).
    - semi_supervised: a classification whose training labels are -1 where an image is unlabelled
      (scikit-learn's convention); `n_train` counts the labelled ones.
    - generation: labelled images; a model learns the training images and draws new ones, measured
      against the test images (harness/evaluation/generative_metrics.py). `as_kind` reads an image
      classification dataset so when a suite asks for it (suite=generative: `task: generation`).
    - control, tabular_control: no arrays; `environment` (harness/data/rl.py) is a gymnasium
      environment an agent trains in for `n_train` environment steps and is evaluated in for `n_test`
      episodes (harness/deep/rl.py). tabular_control: its states are a finite set (a grid game); control:
      they are real vectors (cart-pole, acrobot).
    """

    name: str
    kind: str  # classification, regression, language_model, anomaly, reconstruction, semi_supervised, generation
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    input_kind: str = "image"  # "image" | "tabular" | "sequence" | "text"
    class_names: list[str] = field(default_factory=list)  # a language model's: its alphabet
    source: str = ""  # where the data came from, for the run's provenance
    environment: object | None = None  # a control task's harness.data.rl.Environment

    def __post_init__(self):
        self.kind_.check(self)

    @property
    def kind_(self):
        """The task kind (harness/tasks/<kind>.py), which knows how a task of its kind is read."""
        from harness.tasks import kind

        try:
            return kind(self.kind)
        except ValueError as e:
            raise DatasetError(f"{self.name}: {e}") from None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return self.kind_.n_classes(self)

    @property
    def n_train(self) -> int:
        """Training examples; for a semi-supervised task, the labelled ones; for a control task, the
        environment steps each agent may train for."""
        return self.kind_.n_train(self)

    @property
    def n_test(self) -> int:
        """Test examples; for a control task, the evaluation episodes."""
        return self.kind_.n_test(self)

    def training_data(self) -> tuple:
        """What a model's fit takes: (X, y), or a control task's environment."""
        return self.kind_.training_data(self)

    @property
    def test_targets(self) -> np.ndarray:
        """What predictions on X_test are scored against: the inputs themselves for a reconstruction."""
        return self.kind_.test_targets(self)

    def subsample_train(self, n: int, seed: int) -> "Task":
        """The same task with a stratified random n-sample of the training split (test untouched).
        Semi-supervised: n of the labelled examples keep their labels, the others join the unlabelled."""
        if n >= self.n_train:
            return self
        return self.kind_.subsample_train(self, n, seed)


def take(X, idx: np.ndarray):
    """Rows idx of X: an array, or a table (pandas DataFrame, the tabular loaders' inputs) by position."""
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def as_kind(task: Task, kind: str | None) -> Task:
    """The task as a `kind` task where that kind can read it so (a suite's `task:`: labelled images read
    as a generation task), else as it is. `mixed` (or none): each dataset is the kind its loader says."""
    if kind in (None, "mixed") or task.kind == kind:
        return task
    from harness.tasks import kind as task_kind

    return task_kind(kind).view(task)


def check_stratified_split(name: str, labels, test_fraction: float, source: str, unit: str = "rows") -> None:
    """Raise DatasetError, naming the source, where a seeded stratified split of these labels cannot be
    made (scikit-learn would raise a ValueError that names neither the dataset nor the file)."""
    import math

    if not 0 < test_fraction < 1:
        raise DatasetError(f"{name}: test_fraction must be between 0 and 1, got {test_fraction}")
    classes, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
    if len(classes) < 2:
        found = f" ({classes[0]!r})" if len(classes) else ""
        raise DatasetError(f"{name}: {source} holds a single class{found}; nothing to classify")
    rare = [str(c) for c, n in zip(classes, counts) if n < 2]
    if rare:
        raise DatasetError(f"{name}: classes {rare[:5]} have only one example each in {source}; a stratified "
                           "split needs two per class")
    n_test = math.ceil(test_fraction * len(labels))
    if min(n_test, len(labels) - n_test) < len(classes):
        raise DatasetError(f"{name}: {source} holds {len(labels)} {unit} in {len(classes)} classes: too few for a "
                           f"stratified split with test_fraction={test_fraction} (each split needs every class)")


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
