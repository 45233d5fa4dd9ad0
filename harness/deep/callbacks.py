"""The callbacks of the training loop (harness/deep/loop.py): each one piece of training policy.

Checked "after each epoch" means after each step in a run without epochs (a generator's, a language
model's). In the order a run lists them, as bench's models do:

- `Divergence`: a non-finite loss raises `Diverged` (the cell's status: diverged).
- `Validation`: the loss (and accuracy, for class targets) on a held-out split, which early
  stopping and the schedule then read instead of the training loss.
- `PlateauSchedule`: scales the learning rate down when that loss stalls.
- `OneCycle`: the one-cycle schedule (warm-up, then cosine annealing) over a planned number of
  steps; the run ends when the plan does (`stop_reason` "schedule": finished, not cut by a budget).
- `EarlyStopping`: keeps the best weights by that loss, stops after `patience` epochs without
  improvement, and restores the best at the end (not after a run cut short inside an epoch: then
  the last step's weights are the model).
- `StopWhenSolved`: every k steps asks whether the task is solved, and stops if it is.
- `BestByScore`: every k steps scores the model (lower is better: a generator's Fréchet distance),
  keeps the best weights, stops on a plateau ("plateau") and restores the best at the end.
- `EMA`: an exponential moving average of the weights, after every step.
- `Progress`: tells the runner how far training is.
- `TimeLimit`: past its limit ends the run (`stop_reason` "time_limit"): the model is scored like any
  other, what it learned kept; only a cell that cannot finish within the limit plus a grace period
  is killed and becomes a timeout (harness/core/isolation.py).

Budgets (epochs, steps, wall-clock seconds) are the loop's own: `Budget`.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from harness.core.outcomes import Diverged, TimeBudgetExceeded  # noqa: F401 - re-exported for the models
from harness.deep.loop import BUDGET_REASONS, TIME_LIMIT, Callback, TrainState


def when(state: TrainState) -> str:
    """Where in the run a check fired, for its message: "in epoch 3" or "at step 120"."""
    return f"in epoch {state.epoch}" if state.has_epochs else f"at step {state.step}"


class EveryEpoch(Callback):
    """A check made after each epoch, or after each step of a run without epochs."""

    def check(self, state: TrainState) -> None:
        raise NotImplementedError

    def on_step_end(self, state: TrainState) -> None:
        if not state.has_epochs:
            self.check(state)

    def on_epoch_end(self, state: TrainState) -> None:
        self.check(state)


def require_finite(loss: float, message: str) -> None:
    """Raise Diverged(message) unless loss is finite: for a gradient step outside the loop (DQN)."""
    if not math.isfinite(loss):
        raise Diverged(message)


class Divergence(EveryEpoch):
    """Raise Diverged when the loss (`what`, for the message) is NaN or infinite."""

    def __init__(self, what: str = "training loss"):
        self.what = what

    def check(self, state: TrainState) -> None:
        loss = float(state.loss)
        if not math.isfinite(loss):
            raise Diverged(f"{self.what} became {loss} {when(state)}")


class TimeLimit(EveryEpoch):
    """End the run once `seconds` have passed since the first run it watches began (one limit may span
    several runs: a DBN's layers; each later one then stops after its first epoch or step). A run
    that its budget or another callback has just ended keeps that reason."""

    def __init__(self, seconds: float | None):
        self.seconds, self.start = seconds, None

    def on_train_begin(self, state: TrainState) -> None:
        if self.start is None:
            self.start = time.perf_counter()

    def check(self, state: TrainState) -> None:
        if not self.seconds or state.stop_reason is not None or state.fraction_done() >= 1.0:
            return  # no limit, or the run has ended anyway (its budget is spent: it is whole)
        if time.perf_counter() - self.start > self.seconds:
            state.stop(TIME_LIMIT)


class Progress(EveryEpoch):
    """report(epoch, epochs, loss) after each epoch; in a run without epochs, report(percent of the
    budget, 100, mean loss since the last report, "step N") each time the percent moves."""

    def __init__(self, report: Callable[..., None] | None):
        self.report, self.shown, self.since = report, -1, 0

    def check(self, state: TrainState) -> None:
        if self.report is None:
            return
        if state.has_epochs:
            self.report(state.epoch, state.budget.epochs, state.loss)
            return
        percent = int(100 * state.fraction_done())
        if percent > self.shown or state.stop_reason is not None:
            self.shown = percent
            recent = [float(x) for x in state.losses[self.since:]]
            self.since = len(state.losses)
            self.report(percent, 100, float(np.mean(recent)), f"step {state.step}")


class Validation(Callback):
    """After each epoch: `criterion(outputs(), targets)` on the held-out split becomes the monitored
    loss; with class targets (integers) the accuracy is recorded too."""

    def __init__(self, outputs: Callable[[], torch.Tensor], targets: torch.Tensor, criterion: Callable):
        self.outputs, self.targets, self.criterion = outputs, targets, criterion

    def on_epoch_end(self, state: TrainState) -> None:
        out = self.outputs()
        state.monitored = float(self.criterion(out, self.targets))
        state.history.val_loss.append(state.monitored)
        if not self.targets.is_floating_point():  # a regression's or reconstruction's targets have no accuracy
            state.history.val_accuracy.append(float((out.argmax(1) == self.targets).float().mean()))


class PlateauSchedule(Callback):
    """Scale the learning rate by `factor` when the monitored loss has stalled for `patience` epochs."""

    def __init__(self, optimizer: torch.optim.Optimizer, factor: float, patience: int = 2):
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=factor, patience=patience)

    def on_epoch_end(self, state: TrainState) -> None:
        self.scheduler.step(state.monitored)


class OneCycle(Callback):
    """Smith & Topin's one-cycle schedule (torch's OneCycleLR): the learning rate rises from max_lr/25
    to `max_lr` over the first `warmup` of `total_steps`, then anneals by a cosine to ~0, stepping
    after every optimiser step. At the end of epoch `epochs` the plan is done: the run stops with
    reason "schedule" (a completed recipe, not a budget that cut learning short)."""

    def __init__(self, optimizer: torch.optim.Optimizer, max_lr: float | list[float], steps_per_epoch: int, epochs: int,
                 warmup: float = 0.25):
        self.total, self.epochs = steps_per_epoch * epochs, epochs
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=self.total,
                                                             pct_start=warmup)

    def on_step_end(self, state: TrainState) -> None:
        if state.step < self.total:  # OneCycleLR raises past its last step
            self.scheduler.step()

    def on_epoch_end(self, state: TrainState) -> None:
        if state.epoch >= self.epochs:
            state.stop("schedule")


class EarlyStopping(Callback):
    """Keep the weights of the epoch with the lowest monitored loss; stop after `patience` epochs
    without an improvement (0: never stop, but still restore the best at the end)."""

    def __init__(self, module: nn.Module, patience: int, min_delta: float = 1e-6):
        self.module, self.patience, self.min_delta = module, patience, min_delta
        self.best, self.best_state, self.stale = math.inf, None, 0

    def on_epoch_end(self, state: TrainState) -> None:
        if state.monitored < self.best - self.min_delta:
            self.best, self.stale, state.history.best_epoch = state.monitored, 0, state.epoch - 1
            self.best_state = copy.deepcopy(self.module.state_dict())
        else:
            self.stale += 1
        if self.patience and self.stale >= self.patience:
            state.stop("early_stopping")

    def on_train_end(self, state: TrainState) -> None:
        if self.best_state is not None and not state.cut_short:
            self.module.load_state_dict(self.best_state)


class StopWhenSolved(Callback):
    """Every `every` steps, stop if `solved()` says the task is solved (`solved_early`)."""

    def __init__(self, solved: Callable[[], bool], every: int):
        self.solved, self.every = solved, every

    def on_step_end(self, state: TrainState) -> None:
        if state.stop_reason is None and state.step % self.every == 0 and self.solved():
            state.stop("solved")


class BestByScore(Callback):
    """Every `every` steps, and at the run's last step, `score()` (lower is better). Keeps a copy of
    `module`'s weights at the lowest score and loads it back at the end (also after a run cut short:
    a score, unlike a training loss, says which weights are better). Stops the run ("plateau") after
    `patience` checks in a row that do not beat the score of the last improvement by the relative
    `margin` (0: never stop), also when the budget ran out at that very check. Records the `steps` and `scores` of its checks, the `best_step`, the
    `seconds` spent scoring, and what ended the run it watched (`stop_reason`)."""

    def __init__(self, score: Callable[[], float], module: nn.Module, every: int, patience: int = 0,
                 margin: float = 0.0):
        if every < 1 or not 0 <= margin < 1:
            raise ValueError(f"check every one step or more (not {every}), by a margin in [0, 1) (not {margin})")
        self.score, self.module, self.every, self.patience, self.margin = score, module, every, patience, margin
        self.steps: list[int] = []
        self.scores: list[float] = []
        self.best, self.best_step, self.best_state = math.inf, None, None
        self.anchor, self.stale, self.seconds, self.stop_reason = math.inf, 0, 0.0, None

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every == 0:
            self.check(state)

    def on_train_end(self, state: TrainState) -> None:
        if state.step and (not self.steps or self.steps[-1] != state.step):
            self.check(state)  # the last weights are a candidate too
        self.stop_reason = state.stop_reason
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)

    def check(self, state: TrainState) -> None:
        start = time.perf_counter()
        value = float(self.score())
        self.steps.append(state.step)
        self.scores.append(value)
        if value < self.best:  # non-finite scores never win
            self.best, self.best_step = value, state.step
            self.best_state = copy.deepcopy(self.module.state_dict())
        if value < self.anchor * (1 - self.margin):
            self.anchor, self.stale = value, 0
        else:
            self.stale += 1
        if self.patience and self.stale >= self.patience:
            if state.stop_reason in BUDGET_REASONS:  # the cap came at the check that found the plateau:
                state.stop_reason = None             # it had stopped improving, so the plateau is what ended it
            state.stop("plateau")
        self.seconds += time.perf_counter() - start


class EMA(Callback):
    """After each step, move `average`'s weights towards `module`'s by 1 - decay, the decay warming
    up as (1 + step) / (10 + step) so that the early weights fade fast (Ho et al., 2020)."""

    def __init__(self, module: nn.Module, average: nn.Module, decay: float):
        self.module, self.average, self.decay = module, average, decay

    def on_step_end(self, state: TrainState) -> None:
        decay = min(self.decay, (1 + state.step) / (10 + state.step))
        with torch.no_grad():
            for e, p in zip(self.average.parameters(), self.module.parameters()):
                e.lerp_(p, 1 - decay)
