"""The memory suite (claim A3): the adding and recall generators, the sequence estimator that
regresses and classifies, its gradient diagnostics, and the suite end to end in profile=smoke."""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from harness.data.memory import adding_problem, load_adding, load_recall
from harness.data.task import DatasetError, stratified_subset
from harness.deep.sequence import TorchSequenceModel

RNN = "harness.models.recurrent.Recurrent"
DIAGNOSTICS = ("grad_norm_first", "grad_norm_last", "grad_ratio", "grad_norm_first_init",
               "grad_norm_last_init", "grad_ratio_init", "solved", "train_steps", "budget_hit")


def test_adding_shapes_markers_and_targets():
    task = load_adding(length=40, n_train=300, n_test=100, seed=3)
    assert task.kind == "regression" and task.input_kind == "sequence"
    assert task.X_train.shape == (300, 2, 40) and task.X_test.shape == (100, 2, 40)
    assert task.X_train.dtype == np.float32 and task.y_train.dtype == np.float32
    values, marker = task.X_train[:, 0], task.X_train[:, 1]
    assert values.min() >= 0 and values.max() <= 1
    assert set(np.unique(marker)) == {0.0, 1.0}
    assert (marker.sum(1) == 2).all()
    first = marker.argmax(1)
    second = 39 - marker[:, ::-1].argmax(1)
    assert (first < 4).all(), "the first marker lies in the first 10% of the steps"
    assert (second >= 20).all(), "the second marker lies in the second half"
    np.testing.assert_allclose(task.y_train, (values * marker).sum(1), rtol=1e-6)


def test_adding_trivial_baseline_is_one_sixth():
    X, y = adding_problem(20000, 50, np.random.default_rng(0))
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_recall_shapes_labels_and_chance():
    task = load_recall(length=30, n_train=400, n_test=100, seed=1, n_symbols=8)
    assert task.kind == "classification"
    assert task.X_train.shape == (400, 9, 30)
    assert (task.X_train[:, :8].sum(1) == 1).all(), "one symbol per step"
    assert (task.X_train[:, 8, 0] == 1).all() and task.X_train[:, 8, 1:].sum() == 0
    np.testing.assert_array_equal(task.X_train[:, :8, 0].argmax(1), task.y_train)
    assert task.y_train.dtype == np.int64 and set(np.unique(task.y_train)) == set(range(8))


def test_generators_are_seeded():
    a, b, c = (load_adding(20, 50, 20, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)
    r1, r2 = load_recall(20, 50, 20, seed=5), load_recall(20, 50, 20, seed=5)
    np.testing.assert_array_equal(r1.X_train, r2.X_train)
    with pytest.raises(DatasetError):
        load_adding(length=1)


def test_regression_targets_subsample_without_strata():
    y = np.random.default_rng(0).uniform(size=100).astype(np.float32)
    idx = stratified_subset(y, 30, seed=0)
    assert len(idx) == 30 and len(set(idx)) == 30 and (np.diff(idx) > 0).all()


def test_regressor_learns_short_adding_problem():
    task = load_adding(length=10, n_train=640, n_test=300, seed=0)
    est = TorchSequenceModel(RNN, {"cell": "gru", "hidden": 32, "pooling": "last"}, lr=0.01, batch_size=32,
                             max_steps=300, grad_clip=1.0, budget_seconds=15)
    t0 = time.perf_counter()
    est.fit(task.X_train, task.y_train)
    assert time.perf_counter() - t0 < 20
    pred = est.predict(task.X_test)
    assert pred.dtype == np.float32 and pred.shape == (300,)
    mse = float(np.mean((pred - task.y_test) ** 2))
    assert mse < 0.25 * float(np.var(task.y_test)), mse
    diag = est.diagnostics(task.X_test, task.y_test)
    assert set(DIAGNOSTICS) <= set(diag)
    assert all(math.isfinite(diag[k]) for k in DIAGNOSTICS)
    assert diag["grad_norm_first"] > 0 and diag["grad_norm_last"] > 0


def test_classifier_path_and_diagnostics():
    task = load_recall(length=12, n_train=200, n_test=100, seed=0, n_symbols=4)
    est = TorchSequenceModel(RNN, {"cell": "lstm", "hidden": 16, "pooling": "last"}, max_steps=20)
    est.fit(task.X_train, task.y_train)
    assert set(est.predict(task.X_test)) <= set(range(4))
    assert est.predict_proba(task.X_test).shape == (100, 4)
    diag = est.diagnostics(task.X_test, task.y_test)
    assert diag["solved"] in (0.0, 1.0)
    assert all(math.isfinite(diag[k]) for k in ("grad_norm_first", "grad_norm_last", "grad_norm_first_init"))


@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_budget_seconds_stops_training_without_failing(clock):
    task = load_adding(length=20, n_train=200, n_test=50, seed=0)
    est = TorchSequenceModel(RNN, {"cell": "rnn", "hidden": 16}, max_steps=100000, budget_seconds=0.2,
                             budget_clock=clock)
    est.fit(task.X_train, task.y_train)
    assert est.budget_hit_ and est.train_steps_ < 100000 and est.history_.train_loss
    assert est.diagnostics(task.X_test, task.y_test)["budget_hit"] == 1.0


def test_memory_suite_runs_end_to_end_in_smoke(tmp_path):
    from harness.cli import main

    code = main(["run", "suite=memory", "profile=smoke", "hardware.threads=1", "isolation=none",
                 f"paths.results={tmp_path}"])
    assert code == 0
    (results,) = tmp_path.glob("memory/*/results.parquet")
    df = pd.read_parquet(results)
    assert set(df["model"]) == {"rnn", "lstm", "gru", "transformer", "mamba"}
    assert set(df["dataset"]) == {"adding[length=10]", "adding[length=20]", "recall[length=10]", "recall[length=20]"}
    assert (df["status"] == "ok").all()
    for col in DIAGNOSTICS:
        assert col in df and df[col].notna().all(), col
    adding = df[df["dataset"].str.startswith("adding")]
    assert adding["mse"].notna().all() and adding["accuracy"].isna().all()
    assert df[df["dataset"].str.startswith("recall")]["accuracy"].notna().all()


def test_stop_when_solved_ends_training_on_the_validation_split():
    task = load_recall(length=5, n_train=640, n_test=200, seed=0, n_symbols=4)
    est = TorchSequenceModel(RNN, {"cell": "gru", "hidden": 32, "pooling": "last"}, lr=0.01, max_steps=3000,
                             val_fraction=0.1, stop_when_solved=25, grad_clip=1.0)
    est.fit(task.X_train, task.y_train)
    assert est.solved_early_ and est.train_steps_ < 3000 and est.train_steps_ % 25 == 0
    diag = est.diagnostics(task.X_test, task.y_test)
    assert diag["solved_early"] == 1.0 and diag["solved"] == 1.0  # held-out test data agrees
    never = TorchSequenceModel(RNN, {"cell": "gru", "hidden": 4, "pooling": "last"}, lr=1e-5, max_steps=50,
                               val_fraction=0.1, stop_when_solved=10)
    never.fit(task.X_train, task.y_train)
    assert not never.solved_early_ and never.train_steps_ == 50
