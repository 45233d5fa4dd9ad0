"""The one training loop of every torch model in bench: a `step` called on batches until a `Budget` is
spent or a callback ends the run.

A step is one optimiser update; it returns the loss it took (a detached tensor, or a float). Two
shapes of run:
- with `batches` (a callable that gives one epoch's batches, e.g. `training.permutation_batches`):
  `step(batch)` over each epoch in turn. An epoch's loss is the mean of its batch losses weighted by
  batch size, summed on the device (one sync an epoch, not a batch).
- without: `step()` draws its own data (a generator's minibatch, a language model's windows), a run
  of steps with no epochs.

After each step: the step budget, then each callback's `on_step_end`, then the clock (`Budget.seconds`,
on `Budget.clock`: wall-clock seconds, or the process's CPU seconds). After each epoch: each callback's
`on_epoch_end`, then the epoch budget. Any of them may end the run: `state.stop(reason)`, the first
reason given is kept. A run ended inside an epoch (by the step budget, the wall clock or a step
callback) keeps the weights of its last step, and its cut-short epoch's loss is the plain mean of the
batch losses it had. Exceptions raised by a callback (`Diverged` in harness/deep/callbacks.py) end the
run as failures.

Data stays where the caller put it (on the device): no DataLoader, batches are index tensors.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
from torch import nn

BUDGET_REASONS = ("epochs", "steps", "seconds")  # why a run ends when no callback ended it
CLOCKS = ("wall", "cpu")  # what a Budget's seconds count: wall-clock time, the process's CPU time
TIME_LIMIT = "time_limit"  # the cell's time limit ended it (harness/deep/callbacks.py TimeLimit): a budget too


@dataclass
class Budget:
    """How long a run may train: `epochs`, optimiser `steps`, `seconds`; whichever ends first (None: no
    such limit; at least one must be set). `clock` says what the seconds count: "wall" (wall-clock) or
    "cpu" (the process's CPU time, every thread's): a CPU budget buys the same compute whatever else
    runs on the machine, so cells with equal budgets may run side by side."""
    epochs: int | None = None
    steps: int | None = None
    seconds: float | None = None
    clock: str = "wall"

    def __post_init__(self):
        if self.clock not in CLOCKS:
            raise ValueError(f"unknown budget clock {self.clock!r}; choose {' or '.join(CLOCKS)}")


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = 0


@dataclass
class TrainState:
    """What a run has done so far; callbacks read it and may `stop` it."""
    budget: Budget
    has_epochs: bool
    step: int = 0                 # optimiser steps taken
    epoch: int = 0                # epochs completed
    loss: object = math.nan       # the last step's loss; after an epoch, the epoch's
    monitored: float = math.nan   # what early stopping and schedules read: the epoch's loss unless validation says
    losses: list = field(default_factory=list)  # every step's loss, as the step returned it
    history: History = field(default_factory=History)
    stop_reason: str | None = None
    cut_short: bool = False       # ended inside an epoch
    start: float = field(default_factory=time.perf_counter)
    start_cpu: float = field(default_factory=time.process_time)

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    @property
    def elapsed(self) -> float:
        """Wall-clock seconds since the start."""
        return time.perf_counter() - self.start

    @property
    def spent(self) -> float:
        """Seconds of the budget's clock since the start."""
        return time.process_time() - self.start_cpu if self.budget.clock == "cpu" else self.elapsed

    def fraction_done(self) -> float:
        """How much of the budget is spent, 0 to 1: the most spent of its limits."""
        b, done = self.budget, 0.0
        for used, limit in ((self.epoch, b.epochs), (self.step, b.steps), (self.spent, b.seconds)):
            if limit is not None:
                done = max(done, used / limit if limit > 0 else 1.0)
        return min(done, 1.0)


class Callback:
    """A piece of training policy. Each hook gets the run's `TrainState`; the default does nothing."""

    def on_train_begin(self, state: TrainState) -> None: ...

    def on_step_end(self, state: TrainState) -> None: ...

    def on_epoch_end(self, state: TrainState) -> None: ...

    def on_train_end(self, state: TrainState) -> None: ...


def _hooks(callbacks: list[Callback], name: str) -> list[Callable[[TrainState], None]]:
    """The callbacks' bound `name` hooks, leaving out the ones that do nothing (no call per step)."""
    return [getattr(cb, name) for cb in callbacks if getattr(type(cb), name) is not getattr(Callback, name)]


def run_loop(step: Callable, budget: Budget, callbacks: Iterable[Callback] = (),
             batches: Callable[[], Iterable] | None = None, modules: Iterable[nn.Module] = ()) -> TrainState:
    """Train: `step(batch)` over `batches()` epoch after epoch, or `step()` without batches, until
    the budget is spent or a callback stops the run (module docstring). `modules` are put in
    training mode at the start of each epoch (a validation pass leaves them in eval mode)."""
    if budget.epochs is None and budget.steps is None and budget.seconds is None:
        raise ValueError("set a budget of epochs, steps or seconds: training would never end")
    callbacks, modules = list(callbacks), list(modules)
    state = TrainState(budget, has_epochs=batches is not None)
    at_step, at_epoch = _hooks(callbacks, "on_step_end"), _hooks(callbacks, "on_epoch_end")
    for cb in callbacks:
        cb.on_train_begin(state)
    if state.fraction_done() >= 1.0:  # a budget of nothing: no step at all
        state.stop("budget spent before the first step")
    while state.stop_reason is None:
        for module in modules:
            module.train()
        first, loss_sum, seen = len(state.losses), 0.0, 0
        for batch in (batches() if batches is not None else itertools.repeat(None)):
            loss = step() if batch is None else step(batch)
            state.step += 1
            state.loss = loss
            state.losses.append(loss)
            if batch is not None:
                loss_sum += loss * len(batch)
                seen += len(batch)
            if budget.steps is not None and state.step >= budget.steps:
                state.stop("steps")
            for hook in at_step:
                hook(state)
            if budget.seconds is not None and state.spent >= budget.seconds:
                state.stop("seconds")
            if state.stop_reason is not None:
                break
        else:  # the epoch ran to its end
            _end_epoch(state, float(loss_sum) / max(seen, 1), at_epoch)
            continue
        if state.has_epochs:  # stopped inside an epoch: its loss so far, and these weights are the model
            state.cut_short = True
            state.history.train_loss.append(float(np.mean([float(x) for x in state.losses[first:]])))
            state.history.best_epoch = len(state.history.train_loss) - 1
    for cb in callbacks:
        cb.on_train_end(state)
    return state


def _end_epoch(state: TrainState, loss: float, hooks: list[Callable[[TrainState], None]]) -> None:
    state.epoch += 1
    state.loss = state.monitored = loss
    state.history.train_loss.append(loss)
    for hook in hooks:
        hook(state)
    if state.budget.epochs is not None and state.epoch >= state.budget.epochs:
        state.stop("epochs")
