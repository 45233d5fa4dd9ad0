"""Reducers: models that encode each input into a code of `code_size` numbers and decode the code
back into an input. PCA and kernel PCA (baselines/decomposition.py) and the autoencoder (here,
trained by the shared loop of harness/training.py) share this face, so that the unsupervised suite
compares them at equal code sizes on the same terms:

- `transform(X)`: the codes (N, d); `reconstruct(X)`: decoded codes, in X's shape;
- `anomaly_score(X)`: each input's mean squared reconstruction error (higher = more anomalous: an
  input unlike the training data is rebuilt worse);
- `predict(X)`: what the task kind scores, chosen by `output`: "reconstruction" for a
  reconstruction task (scored by MSE per input value against X itself), "anomaly_score" for an
  anomaly task (scored by ROC-AUC and PR-AUC);
- `diagnostics(X_test, y_test)`: extra columns of the row. With labels (a reconstruction task):
  `knn_accuracy`, the accuracy of a k-nearest-neighbour classifier fitted on the training codes and
  their labels and scored on the test codes (k = KNN_K for every model, plain Euclidean distance on
  the codes as the model gives them, majority vote), and `knn_input_accuracy`, the same classifier
  on the raw inputs, the reference a code must keep up with. The labels reach `fit` only to be
  stored for this probe: no reducer looks at them while it learns.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.neighbors import KNeighborsClassifier
from torch import nn

from harness.training import import_object, make_optimizer, train_module

KNN_K = 5
OUTPUTS = ("reconstruction", "anomaly_score")


def flat(X) -> np.ndarray:
    """(N, ...) -> (N, D) float32."""
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1)


def knn_accuracy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> float:
    knn = KNeighborsClassifier(n_neighbors=min(KNN_K, len(train)), n_jobs=1).fit(train, y_train)
    return float(np.mean(knn.predict(test) == np.asarray(y_test)))


class Reducer:
    """The shared face (module docstring). A subclass sets `code_size` and `output` in __init__ and
    defines `fit_reducer(X (N, D) float32, on_epoch)` (which may return the training codes, when it has
    them anyway), `encode(X (N, D)) -> (N, d)` and `decode(Z (N, d)) -> (N, D)`."""

    def fit(self, X, y=None, on_epoch: Callable[[int, int, float], None] | None = None):
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {self.output!r}")
        if int(self.code_size) < 1:
            raise ValueError(f"code_size must be at least 1, got {self.code_size}")
        X = np.asarray(X, dtype=np.float32)
        self.input_shape_ = tuple(X.shape[1:])
        codes = self.fit_reducer(flat(X), on_epoch)
        self.train_codes_ = self.transform(X) if codes is None else np.asarray(codes, dtype=np.float32)
        labels = None if y is None else np.asarray(y)
        probe = self.output == "reconstruction" and labels is not None and len(np.unique(labels)) > 1
        self.train_labels_ = labels if probe else None  # kept for the k-NN probe of diagnostics only
        self.train_inputs_ = flat(X) if probe else None
        return self

    def transform(self, X) -> np.ndarray:
        return np.asarray(self.encode(flat(X)), dtype=np.float32)

    def reconstruct(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return np.asarray(self.decode(self.encode(flat(X))), dtype=np.float32).reshape(X.shape)

    def anomaly_score(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return ((flat(self.reconstruct(X)) - flat(X)) ** 2).mean(axis=1)

    def predict(self, X) -> np.ndarray:
        return self.reconstruct(X) if self.output == "reconstruction" else self.anomaly_score(X)

    def diagnostics(self, X_test, y_test) -> dict[str, float]:
        out = {"code_size": float(self.code_size)}
        if self.output == "reconstruction" and self.train_labels_ is not None:
            out["knn_accuracy"] = knn_accuracy(self.train_codes_, self.train_labels_, self.transform(X_test), y_test)
            out["knn_input_accuracy"] = knn_accuracy(self.train_inputs_, self.train_labels_, flat(X_test), y_test)
        return out


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
