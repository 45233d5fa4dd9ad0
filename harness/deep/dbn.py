"""DBN pretraining of a classifier (Hinton, Osindero & Teh, 2006; Hinton & Salakhutdinov, 2006): the
hidden layers of an MLP with logistic units start from a stack of RBMs trained greedily, layer by
layer, with contrastive divergence on images, then the whole network is fine-tuned with labels by
backpropagation. `pretrain="none"` is the same network, trained the same way, from torch's random
initialisation: the control (claim A10).

Which images the RBMs learn from (`pretrain`):
- "all": every training image, labels unused. The task is semi-supervised (harness/data/task.py:
  y_train is -1 where an image has no label), so this is the setting pretraining was proposed for
  and where it is expected to help: few labels, many images.
- "labelled": only the images that have labels, the same ones the classifier is fine-tuned on. It
  separates what the initialisation itself does from what the extra unlabelled images bring.
- "none": no pretraining.
The classifier itself always sees only the labelled images. Everything else is shared by the three:
the network (harness/models/mlp.py with `activation: sigmoid`, no dropout), the output layer's random
initialisation (the same seed builds it), the optimiser, the batch order and the stopping rule.

The RBMs (harness/models/rbm.py, trained by harness/deep/contrastive_divergence.py) train on the CPU
with their own seeded generator (so that the fine-tuning batches are the same with and without
pretraining) for `rbm_steps` CD updates per layer: a fixed number of updates rather than of epochs,
so that 50 images get as many as 4,000 (10 epochs of 4,000 in batches of 64 are ~630 updates).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from harness.deep.classifier import TorchClassifier
from harness.deep.contrastive_divergence import CDConfig, pretrain_dbn
from harness.deep.estimator import keep_arguments
from harness.models.rbm import DBN

PRETRAIN = ("none", "labelled", "all")


class DBNClassifier(TorchClassifier):
    """TorchClassifier whose MLP's hidden layers are initialised from a DBN (module docstring). Takes
    semi-supervised labels: y = -1 marks an unlabelled training image."""

    def __init__(self, module: str = "harness.models.mlp.MLP", module_params: dict | None = None,
                 pretrain: str = "all", rbm_steps: int = 600, rbm_lr: float = 0.05, rbm_batch_size: int = 64,
                 cd_k: int = 1, optimizer: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0,
                 momentum: float = 0.9, batch_size: int = 32, max_epochs: int = 30, patience: int = 5,
                 val_fraction: float = 0.0, lr_plateau_factor: float | None = None, augment_shift: float = 0.0,
                 min_steps_per_epoch: int = 10, precision: str = "32", device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None):
        keep_arguments(self, locals())

    def fit(self, X, y, on_epoch: Callable[[int, int, float], None] | None = None):
        if self.pretrain not in PRETRAIN:
            raise ValueError(f"pretrain must be one of {', '.join(PRETRAIN)}, got {self.pretrain!r}")
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
        labelled = y >= 0
        if labelled.sum() < 2:
            raise ValueError(f"{int(labelled.sum())} labelled training images: nothing to fine-tune on")
        self.n_labelled_ = int(labelled.sum())
        self._rbm_images = None if self.pretrain == "none" else X if self.pretrain == "all" else X[labelled]
        try:
            return super().fit(X[labelled], y[labelled], on_epoch)
        finally:
            self._rbm_images = None  # not kept: the fitted model holds weights, not data

    def initialise(self, X: np.ndarray, on_epoch=None) -> None:
        """Pretrain the DBN on the images `fit` chose and copy its layers into the MLP's hidden layers."""
        images = self._rbm_images
        self.n_pretrain_images_, self.rbm_epochs_, self.rbm_errors_ = 0, 0, []
        if images is None:
            return
        params = self.module_params or {}
        if params.get("activation") != "sigmoid" or params.get("dropout", 0.2):
            raise ValueError("DBN pretraining fills logistic hidden units: module_params needs activation: sigmoid "
                             "and dropout: 0")
        linears = [m for m in self.module_.modules() if isinstance(m, nn.Linear)][:-1]  # the hidden layers
        data = torch.as_tensor(images.reshape(len(images), -1))
        if data.min() < 0 or data.max() > 1:
            raise ValueError("RBM visible units read inputs in [0, 1] as probabilities; these are not")
        updates_per_epoch = math.ceil(len(data) / self.rbm_batch_size)
        self.rbm_epochs_ = max(1, math.ceil(self.rbm_steps / updates_per_epoch))
        config = CDConfig(epochs=self.rbm_epochs_, batch_size=self.rbm_batch_size, k=self.cd_k, lr=self.rbm_lr)
        generator = torch.Generator().manual_seed(self.random_state + 7919)  # apart from the fine-tuning's
        with torch.random.fork_rng(devices=[]):  # the RBMs' init draws must not shift anything after them
            torch.manual_seed(self.random_state + 7919)
            dbn = DBN(data.shape[1], [m.out_features for m in linears])
            self.rbm_errors_ = [e[-1] for e in pretrain_dbn(dbn, data, None, config, generator)]
        with torch.no_grad():
            for target, source in zip(linears, (m for m in dbn.encoder() if isinstance(m, nn.Linear))):
                target.weight.copy_(source.weight)
                target.bias.copy_(source.bias)
        self.n_pretrain_images_ = len(data)

    def diagnostics(self, X_test, y_test) -> dict[str, float]:
        return {"n_labelled": float(self.n_labelled_), "n_pretrain_images": float(self.n_pretrain_images_),
                "rbm_epochs": float(self.rbm_epochs_),
                "rbm_error": float(self.rbm_errors_[0]) if self.rbm_errors_ else float("nan")}
