"""The base of bench's supervised torch estimators (TorchClassifier, TextClassifier, DBNClassifier,
TabularNet, TorchSequenceModel, TorchAutoencoder): the parameters they share and the `fit` set-up.

A family's `fit` turns its inputs into tensors and its targets into a loss, then:
    generator = seeded(self.random_state)        # torch's global seed (initialisation), the batches' generator
    self.module_ = self.build(input_shape, n_outputs, **what the family adds)
    ... a validation split: `stratified_holdout` or `shuffled_holdout`
    self.fit_module(criterion, X, y, X_val, y_val, generator, on_epoch)  # optimiser, policy, the loop
which sets `history_`, `n_epochs_` and returns the loop's state. The parameters:

- `module`, `module_params`: the dotted path of a module class of harness/models and its keyword
  arguments (after the input shape and output size the family gives).
- `optimizer` (adam | adamw | sgd), `lr`, `weight_decay`, `momentum` (sgd); a module with
  `make_parameter_groups()` gives the optimiser its groups (weight decay off where a group says 0).
- `batch_size`; `max_epochs`; `patience` (early stopping on the validation loss, 0 = off; the best
  epoch's weights are restored either way); `val_fraction` of the training data held out for it.
- `lr_plateau_factor`: scale the learning rate by this when the monitored loss stalls for 2 epochs.
- `schedule`: "plateau" (the above, with early stopping) or "onecycle" (a planned run of `max_epochs`
  epochs, the rate peaking at `lr`: harness/deep/training.py `train_module`).
- `channels_last`: the module's weights in channels-last memory order (image convolutions run faster
  so on CPU; their outputs take that order, the inputs stay as they are).
- `augment_shift`: shift training images by up to this fraction of their side (images only).
- `min_steps_per_epoch`: an epoch is as many passes as give at least this many steps.
- `precision`: "32", "bf16", "16" or "auto": forward passes and loss under autocast (harness/deep/precision.py).
- `device`, `random_state`, `time_limit` (seconds; past it training stops after the epoch, and the
  model is scored with `stop_reason` "time_limit").
A family without one of the optional three (schedule, shift, minimum steps) does without it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from torch import nn

from harness.deep.loop import TrainState
from harness.deep.precision import ComputesInPrecision
from harness.deep.training import batched_logits, count_parameters, import_object, make_optimizer, train_module


def keep_arguments(estimator: BaseEstimator, arguments: dict) -> None:
    """The whole body of an estimator's `__init__` (scikit-learn's contract: store each argument
    under its own name, nothing else): `keep_arguments(self, locals())`."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def stratified_holdout(n: int, fraction: float, random_state: int,
                       labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(train, validation) indices: round(fraction * n) held out, stratified by class `labels` (0..K-1)
    where every class has two examples. No validation (None) where either side would have fewer than
    one example a class (labels) or two (no labels)."""
    n_val = int(round(fraction * n))
    minimum = int(labels.max()) + 1 if labels is not None else 2
    if n_val < minimum or n - n_val < minimum:
        return np.arange(n), None
    stratify = labels if labels is not None and np.bincount(labels).min() >= 2 else None
    train, val = train_test_split(np.arange(n), test_size=n_val, stratify=stratify, random_state=random_state)
    return train, val


def shuffled_holdout(n: int, fraction: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: a seeded permutation of n, its first round(fraction * n) held out
    (none for a fraction that rounds to 0)."""
    order = np.random.default_rng(random_state).permutation(n)
    n_val = int(round(fraction * n))
    return order[n_val:], order[:n_val]


class DeepEstimator(ComputesInPrecision, BaseEstimator):
    """Parameters and `fit` set-up of the supervised torch estimators (module docstring). A subclass
    stores its arguments with `keep_arguments` and writes `fit`."""

    def tensor(self, X) -> torch.Tensor:
        return torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)

    def labels(self, y) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.long, device=self.device)

    def module_class(self) -> type:
        return import_object(self.module)

    def build(self, *args, **kwargs) -> nn.Module:
        """`module(*args, **module_params, **kwargs)`, on the device (in channels-last order if asked)."""
        module = self.module_class()(*args, **(self.module_params or {}), **kwargs).to(self.device)
        return module.to(memory_format=torch.channels_last) if getattr(self, "channels_last", False) else module

    @property
    def recipe_(self) -> str:
        """The training recipe in words, for the rows: schedule, batch size, rate and what else it sets."""
        lr, factor = getattr(self, "lr", None), getattr(self, "lr_plateau_factor", None)
        lr = f"{lr:g}" if isinstance(lr, (int, float)) else lr
        if getattr(self, "schedule", "plateau") == "onecycle":
            parts = [f"one-cycle to lr {lr} over {self.max_epochs} epochs"]
        else:
            parts = [f"lr {lr}" + (f", x{factor:g} on plateau" if factor else "")
                     + (", early stopping" if getattr(self, "patience", 0) else "")]
        parts.append(f"batch {getattr(self, 'batch_size', '?')}")
        if getattr(self, "label_smoothing", 0.0):
            parts.append(f"label smoothing {self.label_smoothing:g}")
        if getattr(self, "channels_last", False):
            parts.append("channels_last")
        if self.precision_ != "32":
            parts.append(f"{'bfloat16' if self.precision_ == 'bf16' else 'float16'} autocast")
        if getattr(self, "augment_shift", 0.0):  # prior knowledge a classical model on pixels does not get
            parts.append(f"random shifts up to {self.augment_shift:.0%} of the side")
        return ", ".join(parts)

    def fit_module(self, criterion: Callable, X: torch.Tensor, y: torch.Tensor, X_val: torch.Tensor | None,
              y_val: torch.Tensor | None, generator: torch.Generator, on_epoch: Callable | None = None,
              **loop) -> TrainState:
        """Train `module_` on (X, y), validating on (X_val, y_val) if given, by `train_module` with the
        optimiser and policy the parameters say; `loop` adds or overrides its keyword arguments
        (max_steps, seconds, grad_clip, callbacks, max_epochs)."""
        # A module may say which of its parameters decay (`make_parameter_groups`, rtdl's FT-Transformer:
        # none of its embeddings, norms and biases); else every parameter does.
        groups = getattr(self.module_, "make_parameter_groups", None)
        optimizer = make_optimizer(self.optimizer, groups() if groups else self.module_.parameters(), self.lr,
                                   self.weight_decay, self.momentum)
        settings = dict(max_epochs=self.max_epochs, patience=self.patience, time_limit=self.time_limit,
                        lr_plateau_factor=getattr(self, "lr_plateau_factor", None),
                        augment_shift=getattr(self, "augment_shift", 0.0),
                        min_steps_per_epoch=getattr(self, "min_steps_per_epoch", 0),
                        schedule=getattr(self, "schedule", "plateau"), precision=self.precision_)
        state = train_module(self.module_, criterion, X, y, X_val, y_val, optimizer=optimizer,
                             batch_size=self.batch_size, generator=generator, on_epoch=on_epoch, **(settings | loop))
        self.history_ = state.history
        self.n_epochs_ = len(self.history_.train_loss)
        self.stop_reason_ = state.stop_reason  # "epochs", "steps", "seconds", "time_limit": a budget ended it
        return state

    def logits(self, X: torch.Tensor, batch_size: int) -> torch.Tensor:
        """`module_`'s outputs on X, in batches, at the estimator's precision, as float32."""
        return batched_logits(self.module_, X, batch_size, self.precision_).float()

    @property
    def n_parameters_(self) -> int:
        return count_parameters(self.module_)
