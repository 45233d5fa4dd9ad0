"""The autoencoder: a reducer (the contract: harness/tasks/reconstruction.py) whose encoder and
decoder are a torch module trained by the shared loop of harness/deep/training.py.
"""
from __future__ import annotations


import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from harness.deep.training import import_object, make_optimizer, train_module
from harness.tasks.reconstruction import Reducer









def _mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(out, target)


class TorchAutoencoder(Reducer, BaseEstimator):
    """An autoencoder module of harness.models (built as `module(input_shape, code_size, **module_params)`,
    with `encode` and `decode`), trained on mean squared reconstruction error by `train_module`:
    Adam, early stopping on a validation split of the training inputs, best weights restored. The
    output layer is a sigmoid when the training inputs lie in [0, 1] (pixels), else linear."""

    def __init__(self, module: str = "harness.models.autoencoder.DenseAutoencoder", code_size: int = 8,
                 module_params: dict | None = None, output: str = "reconstruction", optimizer: str = "adam",
                 lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.9, batch_size: int = 64,
                 max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, min_steps_per_epoch: int = 10,
                 device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None):
        self.module = module
        self.code_size = code_size
        self.module_params = module_params
        self.output = output
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.lr_plateau_factor = lr_plateau_factor
        self.min_steps_per_epoch = min_steps_per_epoch
        self.device = device
        self.random_state = random_state
        self.time_limit = time_limit

    def _tensor(self, X) -> torch.Tensor:
        return torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)

    def fit_reducer(self, X: np.ndarray, on_epoch=None) -> None:
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)
        self.sigmoid_output_ = bool(X.min() >= 0 and X.max() <= 1)
        self.module_ = import_object(self.module)((X.shape[1],), int(self.code_size),
                                                  sigmoid_output=self.sigmoid_output_, **(self.module_params or {}))
        self.module_.to(self.device)
        order = np.random.default_rng(self.random_state).permutation(len(X))
        n_val = int(round(self.val_fraction * len(X)))
        X_val = self._tensor(X[order[:n_val]]) if n_val else None
        X_fit = self._tensor(X[order[n_val:]])
        opt = make_optimizer(self.optimizer, self.module_.parameters(), self.lr, self.weight_decay, self.momentum)
        scheduler = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=self.lr_plateau_factor, patience=2)
                     if self.lr_plateau_factor else None)
        self.history_ = train_module(
            self.module_, _mse, X_fit, X_fit, X_val, X_val, optimizer=opt, batch_size=self.batch_size,
            max_epochs=self.max_epochs, patience=self.patience, generator=generator, time_limit=self.time_limit,
            on_epoch=on_epoch, scheduler=scheduler, min_steps_per_epoch=self.min_steps_per_epoch)
        self.n_epochs_ = len(self.history_.train_loss)
        self.module_.eval()

    def encode(self, X: np.ndarray) -> np.ndarray:
        self.module_.eval()
        with torch.inference_mode():
            Z = torch.cat([self.module_.encode(b) for b in self._tensor(X).split(1024)])
        return Z.float().cpu().numpy()

    def decode(self, Z: np.ndarray) -> np.ndarray:
        self.module_.eval()
        with torch.inference_mode():
            out = torch.cat([self.module_.decode(b) for b in self._tensor(Z).split(1024)])
        return out.float().cpu().numpy().reshape(len(Z), -1)

    @property
    def n_parameters_(self) -> int:
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)
