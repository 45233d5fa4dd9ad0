"""The Task: what every dataset loader returns and every model and evaluator consumes."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


# Task kinds whose "data" is an environment to act in (harness/data/rl.py).
CONTROL_KINDS = ("control", "tabular_control")


class DatasetError(Exception):
    """A dataset that cannot be loaded: missing, corrupt, or unusable. The message says why and where."""


@dataclass
class Task:
    """One prepared problem: fixed splits plus the facts a model needs.

    Shapes: images are (N, C, H, W) float32 in [0, 1]; labels are int64 class indices 0..K-1. Tabular
    inputs are a pandas DataFrame (numeric columns float, categorical ones of dtype `category`); a
    regression's targets are float64.
    The test split is only ever used for the final evaluation; validation comes out of train.

    Kinds beyond classification and regression (harness.core.measure.scores says how each is scored):
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
        if self.kind in CONTROL_KINDS:  # an environment, not a dataset: nothing to check in the arrays
            if self.environment is None:
                raise DatasetError(f"{self.name}: a {self.kind} task needs an environment")
            return
        for split, X, y in (("train", self.X_train, self.y_train), ("test", self.X_test, self.y_test)):
            if len(X) != len(y):
                raise DatasetError(f"{self.name}: {split} split has {len(X)} inputs but {len(y)} labels")
            if len(X) == 0:
                raise DatasetError(f"{self.name}: the {split} split is empty")
        if self.kind == "classification" and len(np.unique(self.y_train)) < 2:
            raise DatasetError(f"{self.name}: the training split has a single class; nothing to classify")
        if self.kind == "anomaly":
            if np.any(self.y_train != 0):
                raise DatasetError(f"{self.name}: an anomaly task trains on normal samples only (y_train = 0), "
                                   f"found {int(np.sum(self.y_train != 0))} others")
            if not set(np.unique(self.y_test)) <= {0, 1}:
                raise DatasetError(f"{self.name}: anomaly labels are 0 (normal) and 1 (anomaly)")

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
        """Training examples; for a semi-supervised task, the labelled ones; for a control task, the
        environment steps each agent may train for."""
        if self.kind in CONTROL_KINDS:
            return int(self.environment.train_steps)
        if self.kind == "semi_supervised":
            return int(np.sum(np.asarray(self.y_train) >= 0))
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        """Test examples; for a control task, the evaluation episodes."""
        if self.kind in CONTROL_KINDS:
            return int(self.environment.eval_episodes)
        return len(self.y_test)

    def training_data(self) -> tuple:
        """What a model's fit takes: (X, y), or a control task's environment."""
        return (self.environment,) if self.kind in CONTROL_KINDS else (self.X_train, self.y_train)

    @property
    def test_targets(self) -> np.ndarray:
        """What predictions on X_test are scored against: the inputs themselves for a reconstruction."""
        return self.X_test if self.kind == "reconstruction" else self.y_test

    def subsample_train(self, n: int, seed: int) -> "Task":
        """The same task with a stratified random n-sample of the training split (test untouched).
        Semi-supervised: n of the labelled examples keep their labels, the others join the unlabelled."""
        if n >= self.n_train or self.kind in CONTROL_KINDS:  # an environment has no samples to draw
            return self
        if self.kind == "semi_supervised":
            labelled = np.flatnonzero(self.y_train >= 0)
            keep = labelled[stratified_subset(self.y_train[labelled], n, seed)]
            y = np.full_like(self.y_train, -1)
            y[keep] = self.y_train[keep]
            return Task(self.name, self.kind, self.X_train, y, self.X_test, self.y_test, self.input_kind,
                        self.class_names, self.source)
        idx = stratified_subset(self.y_train, n, seed)
        return Task(self.name, self.kind, take(self.X_train, idx), self.y_train[idx], self.X_test, self.y_test,
                    self.input_kind, self.class_names, self.source)


def take(X, idx: np.ndarray):
    """Rows idx of X: an array, or a table (pandas DataFrame, the tabular loaders' inputs) by position."""
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def generation_view(task: Task) -> Task:
    """Labelled images as a generation task: generators learn the training images (conditioned on
    their labels) and their samples are measured against the test images."""
    if task.kind != "classification" or task.input_kind != "image" or np.asarray(task.X_train).ndim != 4:
        raise DatasetError(f"{task.name}: a generation task needs labelled images (N, C, H, W); this dataset is "
                           f"a {task.kind} task of {task.input_kind} inputs")
    return dataclasses.replace(task, kind="generation")


# Kinds a suite may ask its datasets to be read as (a suite's `task:`), with how: a dataset of another
# kind becomes one of this kind or says why it cannot. Other kinds leave the loader's task as it is.
KIND_VIEWS = {"generation": generation_view}


def as_kind(task: Task, kind: str | None) -> Task:
    """The task as a `kind` task where KIND_VIEWS knows how to read it so, else as it is."""
    if kind in KIND_VIEWS and task.kind != kind:
        return KIND_VIEWS[kind](task)
    return task


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
