"""Networks on tables: `TabularNet` puts the preprocessing of harness/tasks/tables.py in front of a
`harness.models` network and trains it by the shared loop of harness/deep/training.py, as a
classifier on class targets or a regressor on float ones.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils.metaestimators import available_if
from torch import nn

from harness.deep.training import batched_logits, import_object, make_optimizer, train_module
from harness.tasks.tables import TableEncoder, target_kind



















def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # (B, 1), (B,) -> ()
    return nn.functional.mse_loss(out.squeeze(-1), y)


class TabularNet(BaseEstimator):
    """A `harness.models` network on a table, trained by `train_module`: a classifier on class
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
                 numeric: str = "quantile", device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None):
        self.module = module
        self.module_params = module_params
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.lr_plateau_factor = lr_plateau_factor
        self.augment_shift = augment_shift
        self.min_steps_per_epoch = min_steps_per_epoch
        self.numeric = numeric
        self.device = device
        self.random_state = random_state
        self.time_limit = time_limit

    def _tensor(self, Z: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(Z, dtype=np.float32), device=self.device)

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        y = np.asarray(y)
        self.kind_ = target_kind(y)
        module_cls = import_object(self.module)
        embed = bool(getattr(module_cls, "categorical_embeddings", False))
        self.encoder_ = TableEncoder("codes" if embed else "onehot", self.numeric, self.random_state).fit(X)
        Z = self.encoder_.transform(X).astype(np.float32)
        if self.kind_ == "regression":
            self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
            targets, n_outputs, criterion = ((y - self.y_mean_) / self.y_std_).astype(np.float32), 1, _mse
        else:
            self.classes_, targets = np.unique(y, return_inverse=True)
            n_outputs, criterion = len(self.classes_), nn.functional.cross_entropy
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)
        extra = {"cardinalities": self.encoder_.cardinalities_} if embed else {}
        self.module_ = module_cls((Z.shape[1],), n_outputs, **(self.module_params or {}), **extra).to(self.device)

        val = None
        n_val = int(round(self.val_fraction * len(Z)))
        if self.kind_ == "classification":
            enough = n_val >= n_outputs and len(Z) - n_val >= n_outputs
            stratify = targets if enough and np.bincount(targets).min() >= 2 else None
        else:
            enough, stratify = n_val >= 2 and len(Z) - n_val >= 2, None
        if enough:
            tr, va = train_test_split(np.arange(len(Z)), test_size=n_val, stratify=stratify,
                                      random_state=self.random_state)
            val, Z, targets = (Z[va], targets[va]), Z[tr], targets[tr]
        as_targets = (lambda a: torch.as_tensor(a, dtype=torch.float32, device=self.device)) \
            if self.kind_ == "regression" else (lambda a: torch.as_tensor(a, dtype=torch.long, device=self.device))
        opt = make_optimizer(self.optimizer, self.module_.parameters(), self.lr, self.weight_decay, self.momentum)
        scheduler = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=self.lr_plateau_factor, patience=2)
                     if self.lr_plateau_factor else None)
        self.history_ = train_module(
            self.module_, criterion, self._tensor(Z), as_targets(targets),
            None if val is None else self._tensor(val[0]), None if val is None else as_targets(val[1]),
            optimizer=opt, batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
            generator=generator, time_limit=self.time_limit, on_epoch=on_epoch, scheduler=scheduler,
            min_steps_per_epoch=self.min_steps_per_epoch)
        self.n_epochs_ = len(self.history_.train_loss)
        return self

    def _outputs(self, X) -> np.ndarray:
        return batched_logits(self.module_, self._tensor(self.encoder_.transform(X)), 1024).float().cpu().numpy()

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X)
        if self.kind_ == "regression":
            return out[:, 0].astype(np.float64) * self.y_std_ + self.y_mean_
        return self.classes_[out.argmax(1)]

    @available_if(lambda self: getattr(self, "kind_", None) == "classification")
    def predict_proba(self, X) -> np.ndarray:
        return torch.softmax(torch.from_numpy(self._outputs(X)), dim=1).numpy()

    @property
    def n_parameters_(self) -> int:
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)
