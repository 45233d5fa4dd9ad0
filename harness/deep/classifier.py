"""`TorchClassifier`: any classification module of harness/models behind the scikit-learn face
(model configs name it `harness.deep.training.TorchClassifier`)."""
from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from torch import nn

from harness.deep.estimator import DeepEstimator, keep_arguments, stratified_holdout
from harness.deep.training import seeded


class TorchClassifier(ClassifierMixin, DeepEstimator):
    """Any classification module in `harness.models`, trained by the shared loop (parameters:
    harness/deep/estimator.py).

    The module is built as `module(input_shape, n_classes, **module_params)`. A module may declare
    its own `criterion` (the perceptron does); otherwise cross-entropy is used, with
    `label_smoothing` (Szegedy et al., 2016) if set. The validation split
    for early stopping is carved out of the training data (stratified) and never touches the test
    split.
    """

    def __init__(self, module: str = "harness.models.mlp.MLP", module_params: dict | None = None,
                 optimizer: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.9,
                 batch_size: int = 128, max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, augment_shift: float = 0.0, min_steps_per_epoch: int = 10,
                 schedule: str = "plateau", label_smoothing: float = 0.0, channels_last: bool = False,
                 precision: str = "32", device: str = "cpu", random_state: int = 0, time_limit: float | None = None):
        keep_arguments(self, locals())

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        X = np.asarray(X, dtype=np.float32)
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        generator = seeded(self.random_state)
        self.module_ = self.build(tuple(X.shape[1:]), len(self.classes_))
        self.initialise(X, on_epoch)
        self.criterion_ = getattr(self.module_class(), "criterion", None) or (
            partial(nn.functional.cross_entropy, label_smoothing=self.label_smoothing)
            if getattr(self, "label_smoothing", 0.0) else nn.functional.cross_entropy)  # a subclass may not take it
        tr, va = stratified_holdout(len(X), self.val_fraction, self.random_state, y_idx)
        self.fit_module(self.criterion_, self.tensor(X[tr]), self.labels(y_idx[tr]),
                        None if va is None else self.tensor(X[va]), None if va is None else self.labels(y_idx[va]),
                        generator, on_epoch)
        return self

    def initialise(self, X: np.ndarray, on_epoch: Callable[[int, int, float], None] | None = None) -> None:
        """Set the weights of the freshly built `module_` before training, from the training inputs X
        (all of them, before the validation split). Here: nothing, torch's own random initialisation;
        a subclass may pretrain (harness/deep/dbn.py)."""

    def decision_function(self, X) -> np.ndarray:
        return self.logits(self.tensor(X), 1024).cpu().numpy()

    def predict_proba(self, X) -> np.ndarray:
        return torch.softmax(torch.from_numpy(self.decision_function(X)), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(1)]
