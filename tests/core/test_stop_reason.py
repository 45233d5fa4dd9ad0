"""Rows say what ended training, so a verdict can tell a finished model from one its budget cut short."""
from types import SimpleNamespace

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from harness.core.cell import loss_still_falling, stop_reason


def test_an_iteration_cap_reached_is_a_budget_and_convergence_is_not():
    X, y = load_digits(return_X_y=True)
    capped = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3)).fit(X, y)
    assert stop_reason(capped) == "iterations"
    assert stop_reason(LogisticRegression(max_iter=5000).fit(X[:300], y[:300])) == "converged"
    assert stop_reason(SimpleNamespace(stop_reason_="early_stopping")) == "early_stopping"
    assert stop_reason(SimpleNamespace()) is None
    # SVC's max_iter=-1 is "no cap": every fit used to read as budget-bound (n_iter_ >= -1)
    assert stop_reason(SVC().fit(X[:300], y[:300])) == "converged"


def test_a_loss_still_falling_at_the_end_is_flagged():
    falling = SimpleNamespace(val_loss=[], train_loss=[1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    flat = SimpleNamespace(val_loss=[1.0, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], train_loss=[1.0] * 8)
    assert loss_still_falling(falling) and not loss_still_falling(flat)
