"""Networks on tables: `TabularNet` puts the preprocessing of harness/tasks/tables.py in front of a
`harness.models` network and trains it by the shared loop (harness/deep/estimator.py), as a
classifier on class targets or a regressor on float ones.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.utils.metaestimators import available_if
from torch import nn

from harness.deep.estimator import DeepEstimator, keep_arguments, stratified_holdout
from harness.deep.training import seeded
from harness.tasks.tables import TableEncoder, target_kind


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # (B, 1), (B,) -> ()
    return nn.functional.mse_loss(out.squeeze(-1), y)


class TabularNet(DeepEstimator):
    """A `harness.models` network on a table, trained by the shared loop: a classifier on class
    targets (cross-entropy), a regressor on float ones (one output, MSE on targets standardised
    with the training mean and deviation; predictions are mapped back).

    The network is `module(input_shape, n_outputs, **module_params)`. A module class with
    `categorical_embeddings = True` (FT-Transformer) gets categorical columns as codes after the
    numeric ones and `cardinalities=[...]`; any other gets them one-hot. Numeric columns are
    quantile-normalised (`numeric`). Early stopping and the learning-rate plateau read a validation
    split of the training data (`val_fraction`, stratified for classes), as TorchClassifier does;
    the parameters are TorchClassifier's, so a model config written for it runs here too
    (`augment_shift` shifts images and does nothing to a table).
    """

    def __init__(self, module: str = "harness.models.mlp.MLP", module_params: dict | None = None,
                 optimizer: str = "adamw", lr: float = 1e-3, weight_decay: float = 1e-5, momentum: float = 0.9,
                 batch_size: int = 256, max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, augment_shift: float = 0.0, min_steps_per_epoch: int = 10,
                 numeric: str = "quantile", precision: str = "32", device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None):
        keep_arguments(self, locals())

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        y = np.asarray(y)
        self.kind_ = target_kind(y)
        embed = bool(getattr(self.module_class(), "categorical_embeddings", False))
        self.encoder_ = TableEncoder("codes" if embed else "onehot", self.numeric, self.random_state).fit(X)
        Z = self.encoder_.transform(X).astype(np.float32)
        if self.kind_ == "regression":
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
            targets, n_outputs, criterion = ((y - self.y_mean_) / self.y_std_).astype(np.float32), 1, _mse
            as_targets, classes = self.tensor, None
        else:
            self.classes_, targets = np.unique(y, return_inverse=True)
            n_outputs, criterion = len(self.classes_), nn.functional.cross_entropy
            as_targets, classes = self.labels, targets
        generator = seeded(self.random_state)
        extra = {"cardinalities": self.encoder_.cardinalities_} if embed else {}
        self.module_ = self.build((Z.shape[1],), n_outputs, **extra)
        tr, va = stratified_holdout(len(Z), self.val_fraction, self.random_state, classes)
        self.fit_module(criterion, self.tensor(Z[tr]), as_targets(targets[tr]),
                        None if va is None else self.tensor(Z[va]), None if va is None else as_targets(targets[va]),
                        generator, on_epoch)
        return self

    def _outputs(self, X) -> np.ndarray:
        return self.logits(self.tensor(self.encoder_.transform(X)), 1024).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X)
        if self.kind_ == "regression":
            return out[:, 0].astype(np.float64) * self.y_std_ + self.y_mean_
        return self.classes_[out.argmax(1)]

    @available_if(lambda self: getattr(self, "kind_", None) == "classification")
    def predict_proba(self, X) -> np.ndarray:
        return torch.softmax(torch.from_numpy(self._outputs(X)), dim=1).numpy()
