"""The autoencoder: a reducer (the contract: harness/tasks/reconstruction.py) whose encoder and
decoder are a torch module trained by the shared loop (harness/deep/estimator.py).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from harness.deep.estimator import DeepEstimator, keep_arguments, shuffled_holdout
from harness.deep.precision import autocast
from harness.deep.training import seeded
from harness.tasks.reconstruction import Reducer


def _mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(out, target)


class TorchAutoencoder(Reducer, DeepEstimator):
    """An autoencoder module of harness.models (built as `module(input_shape, code_size, **module_params)`,
    with `encode` and `decode`), trained on mean squared reconstruction error by the shared loop:
    Adam, early stopping on a validation split of the training inputs, best weights restored. The
    output layer is a sigmoid when the training inputs lie in [0, 1] (pixels), else linear."""

    def __init__(self, module: str = "harness.models.autoencoder.DenseAutoencoder", code_size: int = 8,
                 module_params: dict | None = None, output: str = "reconstruction", optimizer: str = "adam",
                 lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.9, batch_size: int = 64,
                 max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, min_steps_per_epoch: int = 10,
                 precision: str = "32", device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None):
        keep_arguments(self, locals())

    def fit_reducer(self, X: np.ndarray, on_epoch=None) -> None:
        generator = seeded(self.random_state)
        self.sigmoid_output_ = bool(X.min() >= 0 and X.max() <= 1)
        self.module_ = self.build((X.shape[1],), int(self.code_size), sigmoid_output=self.sigmoid_output_)
        tr, va = shuffled_holdout(len(X), self.val_fraction, self.random_state)
        X_fit, X_val = self.tensor(X[tr]), (self.tensor(X[va]) if len(va) else None)
        self.fit_module(_mse, X_fit, X_fit, X_val, X_val, generator, on_epoch)
        self.module_.eval()

    def encode(self, X: np.ndarray) -> np.ndarray:
        self.module_.eval()
        with torch.inference_mode(), autocast(self.device, self.precision_):
            Z = torch.cat([self.module_.encode(b) for b in self.tensor(X).split(1024)])
        return Z.float().cpu().numpy()

    def decode(self, Z: np.ndarray) -> np.ndarray:
        self.module_.eval()
        with torch.inference_mode(), autocast(self.device, self.precision_):
            out = torch.cat([self.module_.decode(b) for b in self.tensor(Z).split(1024)])
        return out.float().cpu().numpy().reshape(len(Z), -1)
