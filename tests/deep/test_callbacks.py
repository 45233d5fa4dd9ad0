"""Each callback of harness/deep/callbacks.py acts, and stops, when it should."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

from harness.deep.callbacks import (
    EMA,
    BestByScore,
    Diverged,
    Divergence,
    EarlyStopping,
    OneCycle,
    PlateauSchedule,
    Progress,
    StopWhenSolved,
    TimeLimit,
    Validation,
    require_finite,
)
from harness.deep.estimator import shuffled_holdout, stratified_holdout
from harness.deep.loop import Budget, Callback, run_loop
from harness.deep.training import train_module


def batches(n_batches: int = 2):
    return lambda: (torch.tensor([i]) for i in range(n_batches))


def from_list(values):
    """A step returning these losses in turn."""
    it = iter(values)
    return lambda *batch: torch.tensor(float(next(it)))


def floats(values):
    """A step without batches returning these losses in turn, as floats."""
    it = iter(values)
    return lambda: float(next(it))


class Monitor(Callback):
    """Sets the monitored loss of each epoch from a list (what Validation would)."""

    def __init__(self, values):
        self.values = iter(values)

    def on_epoch_end(self, state):
        state.monitored = next(self.values)


def test_divergence_raises_on_a_non_finite_epoch_loss_and_names_the_epoch():
    with pytest.raises(Diverged, match="training loss became nan in epoch 2"):
        run_loop(from_list([1, 1, float("nan"), 1]), Budget(epochs=5), [Divergence()], batches=batches())


def test_divergence_checks_every_step_of_a_run_without_epochs():
    with pytest.raises(Diverged, match="language model loss became inf at step 3"):
        run_loop(floats([1.0, 2.0, float("inf"), 1.0]), Budget(steps=10), [Divergence("language model loss")])
    with pytest.raises(Diverged, match="DQN"):
        require_finite(float("nan"), "DQN loss became nan after 3 updates")
    require_finite(1.0, "never raised")


class Sleep(Callback):
    def on_epoch_end(self, state):
        time.sleep(0.03)


def test_time_limit_ends_the_run_after_the_epoch_that_passes_it_and_keeps_what_was_learned():
    state = run_loop(from_list([1.0] * 100), Budget(epochs=50), [Sleep(), TimeLimit(0.05)], batches=batches(1))
    assert state.stop_reason == "time_limit" and 2 <= state.epoch < 50  # stopped, not raised: the model stands


def test_time_limit_leaves_a_budget_or_an_early_stop_that_ended_the_run_its_own_reason():
    state = run_loop(from_list([1.0] * 3), Budget(epochs=2), [Sleep(), TimeLimit(0.04)], batches=batches(1))
    assert state.stop_reason == "epochs"  # the budget ended it, past the limit or not: the run is whole
    state = run_loop(from_list([1.0] * 5), Budget(epochs=5), [Sleep(), EarlyStopping(nn.Linear(1, 1), 1),
                                                              TimeLimit(0.045)], batches=batches(1))
    assert state.epoch == 2 and state.stop_reason == "early_stopping"


def test_time_limit_spans_every_run_it_watches_and_checks_steps_without_epochs():
    limit = TimeLimit(0.05)
    assert run_loop(lambda: time.sleep(0.03) or 0.0, Budget(steps=1), [limit]).stop_reason == "steps"
    state = run_loop(lambda: time.sleep(0.03) or 0.0, Budget(steps=5), [limit])
    assert state.stop_reason == "time_limit" and state.step == 1  # the limit began with the first run
    assert run_loop(lambda: 0.0, Budget(steps=2), [TimeLimit(None)]).stop_reason == "steps"  # no limit


def test_early_stopping_stops_after_patience_stale_epochs_and_restores_the_best_weights():
    module = nn.Linear(1, 1, bias=False)

    def step(batch):
        with torch.no_grad():
            module.weight += 1  # each epoch's weights: 1, 2, 3, ...
        return torch.tensor(0.0)

    nn.init.zeros_(module.weight)
    state = run_loop(step, Budget(epochs=20), [Monitor([5, 3, 4, 4, 4, 1]), EarlyStopping(module, patience=3)],
                     batches=batches(1))
    assert state.epoch == 5 and state.stop_reason == "early_stopping"
    assert module.weight.item() == 2.0 and state.history.best_epoch == 1


def test_early_stopping_without_patience_runs_the_budget_and_still_restores_the_best():
    module = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(module.weight)

    def step(batch):
        with torch.no_grad():
            module.weight += 1
        return torch.tensor(0.0)

    state = run_loop(step, Budget(epochs=4), [Monitor([3, 1, 2, 2]), EarlyStopping(module, patience=0)],
                     batches=batches(1))
    assert state.epoch == 4 and module.weight.item() == 2.0


def test_a_run_cut_short_inside_an_epoch_keeps_its_last_weights():
    module = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(module.weight)

    def step(batch):
        with torch.no_grad():
            module.weight += 1
        return torch.tensor(0.0)

    state = run_loop(step, Budget(steps=3), [Monitor([1, 9]), EarlyStopping(module, patience=0)],
                     batches=batches(2))
    assert state.cut_short and module.weight.item() == 3.0 and state.history.best_epoch == 1


def test_validation_sets_the_monitored_loss_and_the_accuracy_of_class_targets_only():
    outputs = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    classes = Validation(lambda: outputs, torch.tensor([0, 1, 1]), nn.functional.cross_entropy)
    state = run_loop(from_list([9.0]), Budget(epochs=1), [classes], batches=batches(1))
    assert state.monitored == pytest.approx(float(nn.functional.cross_entropy(outputs, torch.tensor([0, 1, 1]))))
    assert state.history.val_accuracy == [pytest.approx(2 / 3)] and state.history.val_loss == [state.monitored]
    floats = Validation(lambda: torch.zeros(3), torch.ones(3), nn.functional.mse_loss)
    state = run_loop(from_list([9.0]), Budget(epochs=1), [floats], batches=batches(1))
    assert state.monitored == 1.0 and state.history.val_accuracy == []


def test_without_validation_early_stopping_reads_the_training_loss():
    state = run_loop(from_list([1, 1, 2, 2, 2, 2, 2, 2]), Budget(epochs=4), [EarlyStopping(nn.Linear(1, 1), 2)],
                     batches=batches(2))
    assert state.epoch == 3 and state.monitored == 2.0


def test_plateau_schedule_scales_the_learning_rate_when_the_loss_stalls():
    optimizer = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=1.0)
    run_loop(from_list([1.0] * 5), Budget(epochs=5), [PlateauSchedule(optimizer, 0.5, patience=2)], batches=batches(1))
    assert optimizer.param_groups[0]["lr"] == 0.5  # stalled for epochs 2-4: scaled once


def test_one_cycle_warms_up_to_its_peak_anneals_to_near_zero_and_ends_with_its_plan():
    optimizer = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=1.0)
    rates = []

    class Rate(Callback):
        def on_step_end(self, state):
            rates.append(optimizer.param_groups[0]["lr"])

    state = run_loop(lambda b: torch.tensor(1.0), Budget(epochs=10), [OneCycle(optimizer, 0.4, 4, 5), Rate()],
                     batches=batches(4))
    assert state.stop_reason == "schedule" and state.epoch == 5 and state.step == 20  # its plan, not the budget
    peak = int(np.argmax(rates))
    assert max(rates) == pytest.approx(0.4, rel=0.05) and 3 <= peak <= 6  # warm-up: the first quarter
    assert rates[0] < 0.1 and rates[-1] < 1e-4  # from max/25 up (one step taken), then down to ~0
    assert all(a <= b for a, b in zip(rates[:peak], rates[1:peak + 1]))
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1:]))


def test_train_module_runs_a_one_cycle_recipe_to_its_end_whatever_the_patience():
    module = nn.Linear(4, 2)
    X, y = torch.randn(40, 4), torch.randint(0, 2, (40,))
    state = train_module(module, nn.functional.cross_entropy, X, y, X[:8], y[:8],
                         optimizer=torch.optim.SGD(module.parameters(), lr=0.1), batch_size=8, max_epochs=6,
                         patience=1, generator=torch.Generator().manual_seed(0), schedule="onecycle")
    assert state.stop_reason == "schedule" and state.epoch == 6  # patience 1 would have stopped a flat run
    with pytest.raises(ValueError, match="unknown schedule 'cosine'; choose plateau or onecycle"):
        train_module(module, nn.functional.cross_entropy, X, y, None, None,
                     optimizer=torch.optim.SGD(module.parameters(), lr=0.1), batch_size=8, max_epochs=1,
                     patience=0, generator=torch.Generator().manual_seed(0), schedule="cosine")


def test_stop_when_solved_asks_every_k_steps_and_stops_once_solved():
    asked = []

    def solved():
        asked.append(len(asked))
        return len(asked) == 2

    state = run_loop(lambda b: torch.tensor(0.0), Budget(steps=100), [StopWhenSolved(solved, 5)], batches=batches(3))
    assert state.step == 10 and state.stop_reason == "solved" and len(asked) == 2 and state.cut_short
    state = run_loop(lambda b: torch.tensor(0.0), Budget(steps=10), [StopWhenSolved(lambda: True, 5)],
                     batches=batches(3))
    assert state.step == 5
    state = run_loop(lambda b: torch.tensor(0.0), Budget(steps=5), [StopWhenSolved(lambda: True, 5)],
                     batches=batches(3))
    assert state.stop_reason == "steps"  # the step budget is read first


def test_ema_moves_the_average_towards_the_weights_with_a_warm_up():
    module, average = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    nn.init.ones_(module.weight)
    nn.init.zeros_(average.weight)
    run_loop(lambda: 0.0, Budget(steps=2), [EMA(module, average, decay=0.99)])
    d1, d2 = 2 / 11, 3 / 12  # min(0.99, (1 + step) / (10 + step)) at steps 1 and 2
    assert average.weight.item() == pytest.approx(1 - d1 * d2)


def test_progress_reports_each_epoch_or_each_percent_of_a_step_budget():
    seen = []
    run_loop(from_list([1.0, 3.0, 5.0, 7.0]), Budget(epochs=2), [Progress(lambda *a: seen.append(a))], batches=batches(2))
    assert seen == [(1, 2, 2.0), (2, 2, 6.0)]
    seen.clear()
    run_loop(floats(range(1, 1000)), Budget(steps=200), [Progress(lambda *a: seen.append(a))])
    assert len(seen) == 101 and seen[:2] == [(0, 100, 1.0, "step 1"), (1, 100, 2.0, "step 2")]
    assert seen[-1] == (100, 100, 199.5, "step 200")  # the mean loss of the steps since the last report
    run_loop(lambda: 0.0, Budget(steps=3), [Progress(None)])  # nobody to tell: nothing happens


def test_train_module_honours_max_steps_and_clips_gradients():
    module = nn.Linear(4, 2)
    X, y = torch.randn(20, 4), torch.randint(0, 2, (20,))
    norms = []

    class Spy(torch.optim.SGD):
        def step(self, closure=None):
            norms.append(float(torch.cat([p.grad.ravel() for p in module.parameters()]).norm()))
            return super().step(closure)

    state = train_module(module, lambda out, t: 1e3 * nn.functional.cross_entropy(out, t), X, y, None, None,
                         optimizer=Spy(module.parameters(), lr=1e-3), batch_size=4, max_epochs=10, patience=0,
                         generator=torch.Generator().manual_seed(0), max_steps=7, grad_clip=0.5)
    assert state.step == 7 and len(norms) == 7 and max(norms) <= 0.5 + 1e-5
    assert len(state.history.train_loss) == 2 and state.cut_short


def test_holdouts_split_as_the_estimators_always_have():
    labels = np.repeat([0, 1, 2], 10)
    train, val = stratified_holdout(30, 0.2, 0, labels)
    assert len(val) == 6 and sorted(np.bincount(labels[val])) == [2, 2, 2] and len(set(train) | set(val)) == 30
    assert stratified_holdout(30, 0.05, 0, labels)[1] is None  # 2 held out for 3 classes: no validation
    assert stratified_holdout(30, 0.0, 0)[1] is None and len(stratified_holdout(30, 0.1, 0)[1]) == 3
    train, val = shuffled_holdout(10, 0.3, 0)
    order = np.random.default_rng(0).permutation(10)
    assert list(val) == list(order[:3]) and list(train) == list(order[3:])
    assert len(shuffled_holdout(10, 0.0, 0)[1]) == 0


def numbered_run(scores):
    """(step, module, score): a run without epochs whose one weight is set to the number of the step
    that was just taken, and a score that reads `scores` in turn, one per check."""
    module = nn.Linear(1, 1, bias=False)
    taken, values = iter(range(1, 10_000)), iter(scores)

    def step():
        with torch.no_grad():
            module.weight.fill_(float(next(taken)))
        return 0.0

    return step, module, lambda: next(values)


def test_best_by_score_stops_on_a_plateau_and_restores_the_weights_of_the_lowest_score():
    # 5.97 is the lowest but beats 6.0 by under 1%: with 6.3 and 6.1, three checks without an improvement
    step, module, score = numbered_run([10.0, 8.0, 6.0, 5.97, 6.3, 6.1, 1.0])
    tracker = BestByScore(score, module, every=5, patience=3, margin=0.01)
    state = run_loop(step, Budget(steps=100), [tracker])
    assert state.stop_reason == tracker.stop_reason == "plateau" and state.step == 30
    assert tracker.steps == [5, 10, 15, 20, 25, 30] and tracker.scores == [10.0, 8.0, 6.0, 5.97, 6.3, 6.1]
    assert tracker.best_step == 20 and tracker.best == 5.97
    assert module.weight.item() == 20  # the weights of step 20, not the last step's
    assert tracker.seconds >= 0


def test_best_by_score_still_improving_at_the_cap_ends_by_the_budget_and_checks_the_last_step():
    step, module, score = numbered_run([10.0 * 0.9 ** i for i in range(10)])
    tracker = BestByScore(score, module, every=5, patience=3, margin=0.01)
    state = run_loop(step, Budget(steps=23), [tracker])
    assert state.stop_reason == tracker.stop_reason == "steps"
    assert tracker.steps == [5, 10, 15, 20, 23]  # the cap's weights are scored too, though 23 is no multiple of 5
    assert tracker.best_step == 23 and module.weight.item() == 23


def test_best_by_score_without_patience_never_stops_but_keeps_the_best():
    step, module, score = numbered_run([3.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    state = run_loop(step, Budget(steps=12), [BestByScore(score, module, every=2)])
    assert state.stop_reason == "steps" and module.weight.item() == 4


@pytest.mark.parametrize("every, margin", [(0, 0.01), (5, 1.0), (5, -0.1)])
def test_best_by_score_refuses_a_check_interval_or_margin_it_cannot_use(every, margin):
    with pytest.raises(ValueError):
        BestByScore(lambda: 0.0, nn.Linear(1, 1), every=every, margin=margin)


def test_best_by_score_calls_a_plateau_found_at_the_cap_a_plateau_not_the_budget():
    step, module, score = numbered_run([5.0, 4.0, 4.1, 4.0, 3.99])
    state = run_loop(step, Budget(steps=25), [BestByScore(score, module, every=5, patience=3, margin=0.01)])
    assert state.stop_reason == "plateau" and state.step == 25  # 4.1, 4.0, 3.99: none beats 4.0 by 1%
    step, module, score = numbered_run([5.0, 4.0, 4.1, 4.0, 3.9])
    state = run_loop(step, Budget(steps=25), [BestByScore(score, module, every=5, patience=3, margin=0.01)])
    assert state.stop_reason == "steps" and module.weight.item() == 25  # 3.9 at the cap's own check: improving
