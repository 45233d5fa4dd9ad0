"""The one training loop every deep model shares, behind a scikit-learn estimator.

Why not skorch: skorch feeds batches through a torch DataLoader, which indexes a Dataset one sample
at a time in Python and collates the results. For in-memory benchmarks that per-sample overhead is
what we measure against, so this loop keeps the whole split as tensors on the device and slices
batches with a permutation: one indexing op per batch. The estimator face (fit / predict /
predict_proba / get_params, fitted state ending in `_`) is the same as skorch's otherwise.
"""
from __future__ import annotations

import copy
import importlib
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from torch import nn

from harness.core.outcomes import Diverged, TimeBudgetExceeded  # noqa: F401 - what the estimators raise


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = 0


def import_object(path: str | type):
    """`"harness.models.cnn.LeNet5"` -> the class (a class passes through)."""
    if not isinstance(path, str):
        return path
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def make_optimizer(name: str, params, lr: float, weight_decay: float, momentum: float):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    raise ValueError(f"unknown optimizer {name!r}; choose adam, adamw or sgd")


def batched_logits(module: nn.Module, X: torch.Tensor, batch_size: int) -> torch.Tensor:
    module.eval()
    with torch.inference_mode():
        return torch.cat([module(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


def random_shift(x: torch.Tensor, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Translate each image of the batch by up to `fraction` of its side, rounded to whole pixels,
    zero fill: (B, C, H, W) -> (B, C, H, W). The usual augmentation for small digit datasets."""
    b, _, h, w = x.shape
    max_shift = round(fraction * h)
    if max_shift == 0:
        return x
    shifts = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=generator).to(x.device, x.dtype)
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = 2 * shifts[:, 0] / w
    theta[:, 1, 2] = 2 * shifts[:, 1] / h
    grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return nn.functional.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def train_module(module: nn.Module, criterion: Callable, X: torch.Tensor, y: torch.Tensor,
                 X_val: torch.Tensor | None, y_val: torch.Tensor | None, *, optimizer: torch.optim.Optimizer,
                 batch_size: int, max_epochs: int, patience: int, generator: torch.Generator,
                 time_limit: float | None = None, on_epoch: Callable[[int, int, float], None] | None = None,
                 scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None,
                 augment_shift: float = 0.0, min_steps_per_epoch: int = 0) -> History:
    """Minibatch training with early stopping on validation loss; the best weights are restored.

    An "epoch" is one pass over the data, or as many passes as give `min_steps_per_epoch` optimizer
    steps: on a learning curve's smallest sizes one pass is a step or two, and early stopping with
    its patience counted in such epochs would stop a network (and its batch-norm statistics) before
    it has trained at all.

    X, y (and the validation split) are already on the module's device. Raises Diverged on a
    non-finite loss and TimeBudgetExceeded when `time_limit` seconds pass.
    """
    history, n = History(), len(X)
    passes = max(1, math.ceil(min_steps_per_epoch * batch_size / n))  # batches run on across passes
    best_loss, best_state, stale = math.inf, None, 0
    start = time.perf_counter()
    for epoch in range(max_epochs):
        module.train()
        perm = torch.cat([torch.randperm(n, generator=generator) for _ in range(passes)]).to(X.device)
        loss_sum = torch.zeros((), device=X.device)
        for i in range(0, n * passes, batch_size):
            idx = perm[i:i + batch_size]
            xb = random_shift(X[idx], augment_shift, generator) if augment_shift and X.dim() == 4 else X[idx]
            loss = criterion(module(xb), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(idx)
        train_loss = loss_sum.item() / (n * passes)  # one device sync per epoch, not per batch
        if not math.isfinite(train_loss):
            raise Diverged(f"training loss became {train_loss} in epoch {epoch + 1}")
        history.train_loss.append(train_loss)

        monitored = train_loss
        if X_val is not None and len(X_val):
            logits = batched_logits(module, X_val, 4 * batch_size)
            monitored = float(criterion(logits, y_val))
            history.val_loss.append(monitored)
            if not y_val.is_floating_point():  # class targets; a regression's or reconstruction's have no accuracy
                history.val_accuracy.append(float((logits.argmax(1) == y_val).float().mean()))
        if scheduler is not None:
            scheduler.step(monitored)
        if monitored < best_loss - 1e-6:
            best_loss, stale, history.best_epoch = monitored, 0, epoch
            best_state = copy.deepcopy(module.state_dict())
        else:
            stale += 1
        if on_epoch:
            on_epoch(epoch + 1, max_epochs, train_loss)
        if patience and stale >= patience:
            break
        if time_limit and time.perf_counter() - start > time_limit:
            raise TimeBudgetExceeded(f"training passed its {time_limit:g} s limit after {epoch + 1} epochs")
    if best_state is not None:
        module.load_state_dict(best_state)
    return history


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """Any classification module in `harness.models`, trained by `train_module`.

    `module` is the dotted path of the module class; `module_params` go to its constructor after
    `(input_shape, n_classes)`. A module may declare its own `criterion` (the perceptron does);
    otherwise cross-entropy is used. `augment_shift` (a fraction of the image side, 0 = off) shifts
    training images at random each batch; `lr_plateau_factor` scales the learning rate down when
    the monitored loss stalls. The validation split for early stopping is carved out of the
    training data (stratified) and never touches the test split.
    """

    def __init__(self, module: str = "harness.models.mlp.MLP", module_params: dict | None = None,
                 optimizer: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.9,
                 batch_size: int = 128, max_epochs: int = 30, patience: int = 5, val_fraction: float = 0.1,
                 lr_plateau_factor: float | None = None, augment_shift: float = 0.0, min_steps_per_epoch: int = 10,
                 device: str = "cpu", random_state: int = 0,
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
        self.device = device
        self.random_state = random_state
        self.time_limit = time_limit

    def _tensor(self, X) -> torch.Tensor:
        return torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        X = np.asarray(X, dtype=np.float32)
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        torch.manual_seed(self.random_state)
        generator = torch.Generator().manual_seed(self.random_state)
        module_cls = import_object(self.module)
        self.module_ = module_cls(tuple(X.shape[1:]), len(self.classes_), **(self.module_params or {}))
        self.module_.to(self.device)
        self.initialise(X, on_epoch)
        self.criterion_ = getattr(module_cls, "criterion", None) or nn.functional.cross_entropy

        X_val = y_val = None
        n_val = int(round(self.val_fraction * len(X)))
        if n_val >= len(self.classes_) and len(X) - n_val >= len(self.classes_):
            counts = np.bincount(y_idx)
            stratify = y_idx if counts.min() >= 2 else None
            tr, va = train_test_split(np.arange(len(X)), test_size=n_val, stratify=stratify,
                                      random_state=self.random_state)
            X, X_val, y_val, y_idx = X[tr], X[va], y_idx[va], y_idx[tr]
        to_labels = lambda a: torch.as_tensor(a, dtype=torch.long, device=self.device)
        opt = make_optimizer(self.optimizer, self.module_.parameters(), self.lr, self.weight_decay,
                             self.momentum)
        # Halve (or scale by the factor) the learning rate when the monitored loss stalls for 2 epochs.
        scheduler = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=self.lr_plateau_factor, patience=2)
                     if self.lr_plateau_factor else None)
        self.history_ = train_module(
            self.module_, self.criterion_, self._tensor(X), to_labels(y_idx),
            None if X_val is None else self._tensor(X_val), None if y_val is None else to_labels(y_val),
            optimizer=opt, batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
            generator=generator, time_limit=self.time_limit, on_epoch=on_epoch, scheduler=scheduler,
            augment_shift=self.augment_shift, min_steps_per_epoch=self.min_steps_per_epoch)
        self.n_epochs_ = len(self.history_.train_loss)
        return self

    def initialise(self, X: np.ndarray, on_epoch: Callable[[int, int, float], None] | None = None) -> None:
        """Set the weights of the freshly built `module_` before training, from the training inputs X
        (all of them, before the validation split). Here: nothing, torch's own random initialisation;
        a subclass may pretrain (harness/deep/dbn.py)."""

    def decision_function(self, X) -> np.ndarray:
        return batched_logits(self.module_, self._tensor(X), 1024).float().cpu().numpy()

    def predict_proba(self, X) -> np.ndarray:
        return torch.softmax(torch.from_numpy(self.decision_function(X)), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(1)]

    @property
    def n_parameters_(self) -> int:
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)
