"""The training loop (harness/deep/loop.py): budgets of epochs, steps and seconds, epoch losses, runs
without epochs, and where callbacks are called."""
from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from harness.deep.loop import Budget, Callback, run_loop
from harness.deep.training import permutation_batches


def fixed_batches(*sizes: int):
    """An epoch of index batches of these sizes (no randomness)."""
    def epoch():
        start = 0
        for size in sizes:
            yield torch.arange(start, start + size)
            start += size
    return epoch


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, state):
        self.events.append("begin")

    def on_step_end(self, state):
        self.events.append(f"step {state.step} {state.stop_reason}")

    def on_epoch_end(self, state):
        self.events.append(f"epoch {state.epoch}")

    def on_train_end(self, state):
        self.events.append("end")


def test_an_epoch_budget_runs_whole_epochs_and_records_each_epochs_loss():
    calls = []
    state = run_loop(lambda b: calls.append(len(b)) or torch.tensor(1.0), Budget(epochs=3),
                     batches=fixed_batches(4, 4, 2))
    assert calls == [4, 4, 2] * 3 and state.step == 9 and state.epoch == 3
    assert state.stop_reason == "epochs" and not state.cut_short
    assert state.history.train_loss == [1.0, 1.0, 1.0]


def test_an_epochs_loss_is_the_batch_losses_weighted_by_batch_size():
    losses = iter([torch.tensor(1.0), torch.tensor(4.0)])
    state = run_loop(lambda b: next(losses), Budget(epochs=1), batches=fixed_batches(3, 1))
    assert state.history.train_loss == [pytest.approx((3 * 1.0 + 1 * 4.0) / 4)]


def test_a_step_budget_stops_inside_an_epoch_and_keeps_the_plain_mean_of_its_batches():
    losses = iter(torch.tensor(float(i)) for i in range(100))
    state = run_loop(lambda b: next(losses), Budget(steps=5), batches=fixed_batches(1, 1, 1))
    assert state.step == 5 and state.epoch == 1 and state.stop_reason == "steps" and state.cut_short
    assert state.history.train_loss == [1.0, 3.5]  # epoch 1: steps 0-2; cut short: steps 3 and 4
    assert state.history.best_epoch == 1


def test_the_first_budget_reached_ends_the_run():
    state = run_loop(lambda b: torch.tensor(0.0), Budget(epochs=2, steps=100), batches=fixed_batches(2, 2))
    assert (state.step, state.stop_reason) == (4, "epochs")
    state = run_loop(lambda b: torch.tensor(0.0), Budget(epochs=100, steps=3), batches=fixed_batches(2, 2))
    assert (state.step, state.stop_reason) == (3, "steps")


def test_a_budget_of_seconds_stops_after_the_step_that_passes_it():
    def slow():
        time.sleep(0.02)
        return 0.0

    state = run_loop(slow, Budget(seconds=0.1))
    assert state.stop_reason == "seconds" and 3 <= state.step <= 7 and state.elapsed >= 0.1


def test_a_cpu_budget_counts_the_process_cpu_time_not_time_spent_waiting():
    def waiting():  # as a step does while a neighbour has the core: wall time passes, no CPU time
        time.sleep(0.02)
        return 0.0

    state = run_loop(waiting, Budget(seconds=0.05, steps=15, clock="cpu"))
    assert state.stop_reason == "steps" and state.elapsed >= 0.3

    def working():
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass
        return 0.0

    state = run_loop(working, Budget(seconds=0.1, steps=1000, clock="cpu"))
    assert state.stop_reason == "seconds" and 3 <= state.step <= 7


def test_an_unknown_budget_clock_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="wall or cpu"):
        Budget(seconds=1, clock="gpu")


def test_a_run_without_batches_calls_the_step_with_no_arguments_and_has_no_epochs():
    rec = Recorder()
    state = run_loop(lambda: 2.5, Budget(steps=3), [rec])
    assert state.losses == [2.5, 2.5, 2.5] and state.epoch == 0 and not state.has_epochs
    assert state.history.train_loss == [] and not state.cut_short
    assert rec.events == ["begin", "step 1 None", "step 2 None", "step 3 steps", "end"]


def test_without_a_budget_training_would_never_end():
    with pytest.raises(ValueError, match="never end"):
        run_loop(lambda: 0.0, Budget())


@pytest.mark.parametrize("budget", [Budget(steps=0), Budget(epochs=0), Budget(seconds=0)])
def test_a_budget_of_nothing_takes_no_step(budget):
    state = run_loop(lambda *a: pytest.fail("stepped"), budget, batches=fixed_batches(1))
    assert state.step == 0 and state.history.train_loss == []


def test_callbacks_see_steps_then_the_epoch_and_the_step_budget_before_their_step_hook():
    rec = Recorder()
    run_loop(lambda b: torch.tensor(0.0), Budget(epochs=2, steps=3), [rec], batches=fixed_batches(1, 1))
    assert rec.events == ["begin", "step 1 None", "step 2 None", "epoch 1", "step 3 steps", "end"]


def test_a_callback_stops_the_run_cleanly():
    class StopAtTwo(Callback):
        def on_step_end(self, state):
            if state.step == 2:
                state.stop("enough")

    state = run_loop(lambda b: torch.tensor(0.0), Budget(epochs=10), [StopAtTwo()], batches=fixed_batches(1, 1, 1))
    assert state.step == 2 and state.stop_reason == "enough" and state.cut_short


def test_modules_are_put_in_training_mode_at_every_epoch():
    module, modes = nn.Dropout(), []

    def step(batch):
        modes.append(module.training)
        module.eval()  # as a validation pass would leave it
        return torch.tensor(0.0)

    run_loop(step, Budget(epochs=3), batches=fixed_batches(1), modules=[module])
    assert modes == [True, True, True]


def test_permutation_batches_draw_one_permutation_per_pass_and_can_drop_a_short_last_batch():
    epoch = permutation_batches(10, 4, torch.Generator().manual_seed(0), "cpu", passes=2)
    batches = list(epoch())
    assert [len(b) for b in batches] == [4, 4, 4, 4, 4]
    expected = torch.Generator().manual_seed(0)
    perm = torch.cat([torch.randperm(10, generator=expected), torch.randperm(10, generator=expected)])
    assert torch.equal(torch.cat(batches), perm)
    dropped = permutation_batches(10, 4, torch.Generator().manual_seed(0), "cpu", drop_last=True)
    assert [len(b) for b in dropped()] == [4, 4]
    assert [len(b) for b in permutation_batches(3, 8, torch.Generator(), "cpu", drop_last=True)()] == [3]
