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

import dataclasses
from typing import Callable

import numpy as np
import pandas as pd
from rich.markup import escape
from rich.table import Table
from sklearn.base import BaseEstimator

from harness.core.display import FAMILY_COLOURS, fmt_count, fmt_seconds
from harness.tasks.base import TaskKind, scores_instead_of_accuracy


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
        return self.as_images(self.draw(int(n), self.class_indices(n, labels, seed), int(seed)), n)

    def class_indices(self, n: int, labels, seed: int) -> np.ndarray | None:
        """What `draw` takes for n samples of these labels: class indices, or None when unconditional."""
        if not self.conditional_:
            return None
        if labels is None:
            return np.random.default_rng(seed).choice(len(self.classes_), size=n, p=self.class_prior_)
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"{n} samples need {n} labels, got an array of shape {labels.shape}")
        idx = np.searchsorted(self.classes_, labels).clip(0, len(self.classes_) - 1)
        unknown = set(labels[self.classes_[idx] != labels].tolist())
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} were not among the training classes")
        return idx

    def as_images(self, drawn, n: int) -> np.ndarray:
        """What `draw` returned as n float32 images in [0, 1]."""
        return np.clip(np.asarray(drawn, dtype=np.float32).reshape(n, *self.input_shape_), 0.0, 1.0)

    def diagnostics(self, X, y) -> dict:
        return {}


def generation_table(dataset: str, d: pd.DataFrame) -> list:
    """Fréchet distance (lower is better), precision, recall and CAS per model, means over seeds; the
    distance of real training images to the test images is the floor in the title."""
    ok = d[d["status"] == "ok"]
    num = lambda col: pd.to_numeric(ok[col], errors="coerce") if col in ok else pd.Series(float("nan"), index=ok.index)  # noqa: E731
    agg = ok.assign(fd=num("frechet_distance"), p=num("precision"), r=num("recall"), cas=num("cas_accuracy"),
                    floor=num("frechet_distance_real"), clf=num("feature_classifier_accuracy")).groupby(
        ["family", "label"], sort=False).agg(fd=("fd", "mean"), p=("p", "mean"), r=("r", "mean"), cas=("cas", "mean"),
                                             train=("train_seconds", "mean"), sample=("predict_seconds_per_1k", "mean"),
                                             params=("n_parameters", "mean"), seeds=("seed", "nunique")).reset_index()
    agg = agg.sort_values("fd").reset_index(drop=True)
    best = {fam: g["fd"].idxmin() for fam, g in agg.groupby("family") if g["fd"].notna().any()}
    floor, clf = num("frechet_distance_real").mean(), num("feature_classifier_accuracy").mean()
    t = Table(title=f"{escape(dataset)}  (n_train={int(d['n_train'].max())}, test={int(d['n_test'].max())}; Fréchet "
                    f"distance, lower is better; real images score {floor:.2f}; feature classifier accuracy {clf:.3f})",
              title_justify="left")
    for col in ("model", "family", "FD", "precision", "recall", "CAS", "train", "sample /1k", "params", "seeds"):
        t.add_column(col, justify="left" if col in ("model", "family") else "right", no_wrap=True)
    f = lambda x, spec=".3f": "–" if pd.isna(x) else format(x, spec)  # noqa: E731
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["family"]) == i else "  "
        t.add_row(escape(mark + r["label"]), f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(r['family'])}[/]",
                  f(r["fd"], ".2f"), f(r["p"]), f(r["r"]), f(r["cas"]), fmt_seconds(r["train"]),
                  fmt_seconds(r["sample"]), fmt_count(r["params"]), str(r["seeds"]), style="bold" if mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), "", f"[red]{r['status']}[/]", "", "", "", "", "", "", "")
    return [t]


class Generation(TaskKind):
    name = "generation"
    score, higher_is_better, compare_floor = "frechet_distance", False, "fd_rise"
    # A Fréchet distance's scale is its feature space's and its dataset's: its floor is a fraction of the base value.
    relative_floor = True
    report_section = "generation"

    def view(self, task):
        """Labelled images as a generation task: generators learn the training images (conditioned on
        their labels) and their samples are measured against the test images."""
        from harness.data.task import DatasetError

        if task.kind != "classification" or task.input_kind != "image" or np.asarray(task.X_train).ndim != 4:
            raise DatasetError(f"{task.name}: a generation task needs labelled images (N, C, H, W); this dataset is "
                               f"a {task.kind} task of {task.input_kind} inputs")
        return dataclasses.replace(task, kind="generation")

    def evaluate(self, est, task, device: str, cache_dir: str | None = None):
        from harness.evaluation.generative_metrics import evaluate_generation

        return evaluate_generation(est, task, device, cache_dir)

    def owns(self, rows: pd.DataFrame) -> bool:
        return scores_instead_of_accuracy(rows, "frechet_distance")

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        return generation_table(dataset, rows)


KIND = Generation()
