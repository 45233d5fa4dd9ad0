"""Supervised training of a torch module on tensors (`train_module`, the loop of harness/deep/loop.py
with the usual callbacks), and the small torch pieces every deep model shares: optimisers, one
gradient step, batches, batched inference.

Why not skorch: skorch feeds batches through a torch DataLoader, which indexes a Dataset one sample
at a time in Python and collates the results. For in-memory benchmarks that per-sample overhead is
what we measure against, so the loop keeps the whole split as tensors on the device and slices
batches with a permutation: one indexing op per batch. The estimator face (harness/deep/estimator.py)
is the same as skorch's otherwise.

`TorchClassifier` (harness/deep/classifier.py) is importable from here too: the model configs name
it `harness.deep.training.TorchClassifier`.
"""
from __future__ import annotations

import importlib
import itertools
import math
from typing import Callable, Iterable, Iterator

import torch
from torch import nn

from harness.deep.callbacks import Callback, Divergence, EarlyStopping, OneCycle, PlateauSchedule, Progress, TimeLimit, Validation
from harness.deep.callbacks import Diverged, TimeBudgetExceeded  # noqa: F401  (the runner reads them from here)
from harness.deep.loop import Budget, TrainState, run_loop
from harness.deep.loop import History  # noqa: F401  (re-exported)
from harness.deep.precision import autocast, grad_scaler


def __getattr__(name: str):
    if name == "TorchClassifier":  # imported late: classifier.py imports this module
        from harness.deep.classifier import TorchClassifier

        return TorchClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SCHEDULES = ("plateau", "onecycle")  # train_module's learning-rate policies


def import_object(path: str | type):
    """`"harness.models.cnn.LeNet5"` -> the class (a class passes through)."""
    if not isinstance(path, str):
        return path
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0, momentum: float = 0.9,
                   fused: bool | None = None) -> torch.optim.Optimizer:
    """adam, adamw or sgd (with `momentum`); `fused` (Adam, AdamW): one kernel for all parameters."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    raise ValueError(f"unknown optimizer {name!r}; choose adam, adamw or sgd")


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, clip: Iterable[torch.Tensor] | None = None,
                  max_norm: float | None = None, scaler: torch.amp.GradScaler | None = None) -> None:
    """One optimiser step on `loss`, gradients of `clip` clipped to norm `max_norm` first (if given);
    with a `scaler` (float16 training) the loss is scaled and the gradients unscaled before clipping."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        if max_norm is not None:
            nn.utils.clip_grad_norm_(clip, max_norm)
        optimizer.step()
        return
    scaler.scale(loss).backward()
    if max_norm is not None:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(clip, max_norm)
    scaler.step(optimizer)  # skipped where the scaled gradients overflowed; the scale then shrinks
    scaler.update()


def seeded(random_state: int) -> torch.Generator:
    """Seed torch's global generator (a module's initialisation, dropout) and return a generator of
    the same seed for the batches (and augmentation, sampling noise) to draw from."""
    torch.manual_seed(random_state)
    return torch.Generator().manual_seed(random_state)


def count_parameters(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def batched_logits(module: nn.Module, X: torch.Tensor, batch_size: int, precision: str = "32") -> torch.Tensor:
    """The module's outputs on X in batches, without gradients, under the precision's autocast."""
    module.eval()
    with torch.inference_mode(), autocast(X.device.type, precision):
        return torch.cat([module(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


def permutation_batches(n: int, batch_size: int, generator: torch.Generator, device, passes: int = 1,
                        drop_last: bool = False) -> Callable[[], Iterator[torch.Tensor]]:
    """One epoch's index batches: `passes` random permutations of n, back to back, cut in batches of
    batch_size (with `drop_last`, of min(batch_size, n) and no short last one: batch norm never sees
    a batch of one). Each epoch draws new permutations from `generator`."""
    size = min(batch_size, n) if drop_last else batch_size
    end = n * passes - size + 1 if drop_last else n * passes

    def epoch() -> Iterator[torch.Tensor]:
        perm = torch.cat([torch.randperm(n, generator=generator) for _ in range(passes)]).to(device)
        for i in range(0, end, size):
            yield perm[i:i + size]

    return epoch


def endless(epoch: Callable[[], Iterator[torch.Tensor]]) -> Iterator[torch.Tensor]:
    """The batches of epoch after epoch, for a step that draws its own."""
    return itertools.chain.from_iterable(epoch() for _ in itertools.count())


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
                 lr_plateau_factor: float | None = None, augment_shift: float = 0.0, min_steps_per_epoch: int = 0,
                 max_steps: int | None = None, seconds: float | None = None, clock: str = "wall",
                 grad_clip: float | None = None, schedule: str = "plateau",
                 callbacks: Iterable[Callback] = (), precision: str = "32") -> TrainState:
    """Minibatch training with early stopping on validation loss; the best weights are restored.

    An "epoch" is one pass over the data, or as many passes as give `min_steps_per_epoch` optimizer
    steps: on a learning curve's smallest sizes one pass is a step or two, and early stopping with
    its patience counted in such epochs would stop a network (and its batch-norm statistics) before
    it has trained at all. `max_steps` and `seconds` end training after the step that reaches them
    (its weights kept), the seconds counted on `clock` (harness/deep/loop.py Budget: "wall" or "cpu");
    `callbacks` join the usual ones.

    `schedule` "plateau" keeps the optimiser's learning rate, scaled by `lr_plateau_factor` (if set)
    when the validation loss stalls, and stops early after `patience` stale epochs. "onecycle" plans
    the run instead: `max_epochs` epochs of one-cycle learning rate peaking at the optimiser's rate,
    the fast-training recipe (Smith & Topin, 2019); early stopping then only keeps the best epoch's
    weights (a schedule stopped halfway would end at its peak rate).

    `precision` "bf16" or "16" runs the forward passes and the loss under autocast (harness/deep/precision.py).

    X, y (and the validation split) are already on the module's device. Raises Diverged on a
    non-finite loss; stops after the epoch in which `time_limit` seconds pass (stop_reason "time_limit").
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose {' or '.join(SCHEDULES)}")
    passes = max(1, math.ceil(min_steps_per_epoch * batch_size / len(X)))  # batches run on across passes
    shift = augment_shift if X.dim() == 4 else 0.0  # images only
    params = list(module.parameters())
    scaler = grad_scaler(X.device.type, precision)

    def step(idx: torch.Tensor) -> torch.Tensor:
        xb = random_shift(X[idx], shift, generator) if shift else X[idx]
        with autocast(X.device.type, precision):
            loss = criterion(module(xb), y[idx])
        gradient_step(optimizer, loss, params, grad_clip, scaler)
        return loss.detach().float()

    policy: list[Callback] = [Divergence()]
    if X_val is not None and len(X_val):
        policy.append(Validation(lambda: batched_logits(module, X_val, 4 * batch_size, precision).float(), y_val,
                                 criterion))
    if schedule == "onecycle":
        steps_per_epoch = math.ceil(len(X) * passes / batch_size)
        policy.append(OneCycle(optimizer, [g["lr"] for g in optimizer.param_groups], steps_per_epoch, max_epochs))
        patience = 0
    elif lr_plateau_factor:
        policy.append(PlateauSchedule(optimizer, lr_plateau_factor))
    policy += [EarlyStopping(module, patience), *callbacks, Progress(on_epoch), TimeLimit(time_limit)]
    return run_loop(step, Budget(epochs=max_epochs, steps=max_steps, seconds=seconds, clock=clock), policy,
                    batches=permutation_batches(len(X), batch_size, generator, X.device, passes), modules=[module])
