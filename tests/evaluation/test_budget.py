"""Was a curve still improving when training stopped?"""
import numpy as np
import pytest

from harness.evaluation.budget import still_improving

STEPS = np.arange(200)


def test_a_loss_that_has_flattened_is_not_still_improving():
    loss = 0.1 + np.exp(-STEPS / 15)  # down by step 100, flat over the last quarter
    assert not still_improving(loss, higher_is_better=False, tolerance=0.01)


def test_a_loss_still_going_down_is_still_improving():
    loss = 2.0 - STEPS / 200  # falls 0.25 over the last quarter
    assert still_improving(loss, higher_is_better=False, tolerance=0.01)
    assert not still_improving(loss, higher_is_better=False, tolerance=0.3)  # but not by more than 0.3
    assert not still_improving(loss, higher_is_better=True, tolerance=0.01)  # as a score, it is getting worse


def test_noise_at_the_end_does_not_fool_the_slope():
    rng = np.random.default_rng(0)
    flat = 0.9 + rng.normal(0, 0.01, 200)
    flat[-1] = 0.99  # one lucky last evaluation
    assert not still_improving(flat, higher_is_better=True, tolerance=0.01)
    rising = 0.5 + STEPS / 400 + rng.normal(0, 0.01, 200)
    assert still_improving(rising, higher_is_better=True, tolerance=0.05)


def test_uneven_steps_and_missing_values():
    steps = [0, 10, 20, 1000, 1010, 1020, 5000, 5010]
    returns = [0, 5, 9, 50, 51, np.nan, 70, 71]
    # Over the last quarter (steps 5000 and 5010) the return rises 1: improving by more than 0.5.
    assert still_improving(returns, steps=steps, higher_is_better=True, tolerance=0.5)
    assert still_improving(returns, steps=steps, higher_is_better=True, tail=0.5, tolerance=10)


def test_too_short_curves_and_bad_arguments():
    assert not still_improving([1.0], higher_is_better=False, tolerance=0.0)
    assert not still_improving([], higher_is_better=False, tolerance=0.0)
    assert still_improving([1.0, 0.5], higher_is_better=False, tolerance=0.0)
    with pytest.raises(ValueError):
        still_improving([1, 2, 3], higher_is_better=True, tolerance=0.0, tail=0)
    with pytest.raises(ValueError):
        still_improving([1, 2, 3], steps=[1, 2], higher_is_better=True, tolerance=0.0)
