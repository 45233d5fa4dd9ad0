"""The unsupervised suite (claims A4, A10): its scores, its tasks (held-out-class and UCR anomalies,
reconstruction, few labels), the reducers, DBN pretraining, which models run on which task kind, and
the suite end to end in profile=smoke."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from baselines.decomposition import PCAReducer
from harness.data.anomaly import UCR_TRAIN_END, load_held_out_class, load_ucr_anomaly
from harness.data.task import DatasetError, Task
from harness.data.unsupervised import load_few_labels, load_reconstruction
from harness.tasks import scores
from harness.tasks.anomaly import anomaly_scores
from harness.tasks.reconstruction import reconstruction_scores
from harness.deep.dbn import DBNClassifier
from harness.core.runner import serves
from harness.deep.training import TorchClassifier

UCR_ANOMALY = (4187, 4198)  # the labelled points of 135_UCR_Anomaly_InternalBleeding16


# ---------------------------------------------------------------- scores

def test_roc_auc_and_pr_auc_of_a_toy_ranking():
    y = np.array([0, 0, 1, 1])
    s = anomaly_scores(y, np.array([0.1, 0.4, 0.35, 0.8]))
    # pairs (anomaly above normal): 0.35 > 0.1, 0.8 > 0.1, 0.8 > 0.4; not 0.35 > 0.4: 3 of 4
    assert s["roc_auc"] == pytest.approx(0.75)
    # ranking 0.8 (hit), 0.4, 0.35 (hit), 0.1: precision 1 at the first hit, 2/3 at the second
    assert s["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert s["anomaly_rate"] == 0.5
    perfect, reversed_ = anomaly_scores(y, np.arange(4.0)), anomaly_scores(y, -np.arange(4.0))
    assert perfect["roc_auc"] == perfect["pr_auc"] == 1.0 and reversed_["roc_auc"] == 0.0
    with pytest.raises(ValueError, match="one score per sample"):
        anomaly_scores(y, np.zeros(3))


def test_reconstruction_scores_against_the_mean_input():
    X = np.random.default_rng(0).uniform(size=(50, 1, 4, 4)).astype(np.float32)
    exact = reconstruction_scores(X, X)
    assert exact["reconstruction_mse"] == 0 and exact["explained_variance"] == 1
    mean = reconstruction_scores(X, np.broadcast_to(X.mean(0), X.shape))
    assert mean["explained_variance"] == pytest.approx(0.0, abs=1e-9)
    assert mean["reconstruction_mse"] == pytest.approx(mean["mean_input_mse"])
    assert scores("reconstruction", X, X)["reconstruction_mse"] == 0
    assert scores("semi_supervised", np.array([0, 1, 1]), np.array([0, 1, 0]))["accuracy"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- tasks

@pytest.mark.parametrize("c", [0, 7])
def test_held_out_class_is_absent_from_train_and_the_only_anomaly_in_test(c):
    task = load_held_out_class("digits", anomaly_class=c, seed=1)
    assert task.kind == "anomaly" and (task.y_train == 0).all()
    full = load_reconstruction("digits", seed=1)  # the same split, with the class labels
    np.testing.assert_array_equal(task.X_test, full.X_test)
    np.testing.assert_array_equal(task.y_test, (full.y_test == c).astype(int))
    assert len(task.X_train) == int((full.y_train != c).sum())
    assert 0.05 < task.y_test.mean() < 0.15  # one class of ten
    with pytest.raises(DatasetError, match="normal samples only"):
        Task("bad", "anomaly", task.X_train, np.ones(len(task.X_train), np.int64), task.X_test, task.y_test)
    with pytest.raises(DatasetError, match="no class 12"):
        load_held_out_class("digits", anomaly_class=12)


def test_ucr_windows_are_labelled_by_the_anomaly_range():
    task = load_ucr_anomaly(window=64)
    assert task.kind == "anomaly" and task.input_kind == "sequence"
    assert task.X_train.shape == (UCR_TRAIN_END - 63, 1, 64) and (task.y_train == 0).all()
    assert task.X_test.shape == (7501 - UCR_TRAIN_END - 63, 1, 64)
    starts = UCR_TRAIN_END + np.arange(len(task.y_test))  # test window i covers points start .. start + 63
    overlaps = (starts <= UCR_ANOMALY[1]) & (starts + 63 >= UCR_ANOMALY[0])
    np.testing.assert_array_equal(task.y_test, overlaps.astype(int))
    assert task.y_test.sum() == 64 + 12 - 1
    np.testing.assert_allclose(task.X_test.mean(axis=2), 0, atol=1e-5)  # each window mean-free
    with pytest.raises(DatasetError, match="window"):
        load_ucr_anomaly(window=1000)


def test_few_labels_keep_n_stratified_labels_and_every_image():
    task = load_few_labels("digits", n_labelled=50, seed=2)
    base = load_reconstruction("digits", seed=2)
    assert task.kind == "semi_supervised" and task.n_train == 50
    assert len(task.X_train) == len(base.X_train)
    labelled = task.y_train >= 0
    np.testing.assert_array_equal(task.y_train[labelled], base.y_train[labelled])
    assert (task.y_train[~labelled] == -1).all()
    assert np.bincount(task.y_train[labelled]).min() >= 4  # 5 per class, up to rounding
    fewer = task.subsample_train(20, seed=0)  # a learning curve keeps the pool, labels fewer of it
    assert fewer.n_train == 20 and len(fewer.X_train) == len(task.X_train)
    assert set(np.flatnonzero(fewer.y_train >= 0)) <= set(np.flatnonzero(labelled))


# ---------------------------------------------------------------- reducers and pretraining

def test_pca_reconstruction_error_falls_with_code_size():
    task = load_reconstruction("digits", seed=0)
    errors = [scores("reconstruction", task.X_test, PCAReducer(code_size=d).fit(task.X_train).predict(task.X_test))
              ["reconstruction_mse"] for d in (1, 2, 8, 32, 64)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-10  # every component: exact
    train = PCAReducer(code_size=8).fit(task.X_train)
    X = task.X_train.reshape(len(task.X_train), -1)
    discarded = np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True)))[::-1][8:].sum()
    assert ((train.predict(task.X_train) - task.X_train) ** 2).sum(axis=(1, 2, 3)).mean() == pytest.approx(discarded,
                                                                                                         rel=1e-3)


def test_anomaly_output_scores_squared_reconstruction_error():
    task = load_held_out_class("digits", anomaly_class=0, seed=0)
    reducer = PCAReducer(code_size=4).fit(task.X_train)
    detector = PCAReducer(code_size=4, output="anomaly_score").fit(task.X_train)
    expected = ((reducer.predict(task.X_test) - task.X_test) ** 2).reshape(len(task.X_test), -1).mean(1)
    np.testing.assert_allclose(detector.predict(task.X_test), expected, rtol=1e-5)
    assert "knn_accuracy" not in detector.diagnostics(task.X_test, task.y_test)


def small_dbn(pretrain: str, **kw) -> DBNClassifier:
    params = dict(module_params={"hidden": [32], "dropout": 0.0, "activation": "sigmoid"}, pretrain=pretrain,
                  rbm_steps=30, max_epochs=3, patience=0, random_state=4)
    return DBNClassifier(**(params | kw))


def test_dbn_without_pretraining_is_the_plain_network_and_pretraining_changes_only_hidden_layers():
    task = load_few_labels("digits", n_labelled=100, seed=0)
    labelled = task.y_train >= 0
    scratch = small_dbn("none").fit(task.X_train, task.y_train)
    plain = TorchClassifier(module_params={"hidden": [32], "dropout": 0.0, "activation": "sigmoid"}, lr=1e-3,
                            batch_size=32, max_epochs=3, patience=0, val_fraction=0.0, random_state=4)
    plain.fit(task.X_train[labelled], task.y_train[labelled])
    np.testing.assert_array_equal(scratch.predict_proba(task.X_test), plain.predict_proba(task.X_test))
    assert scratch.diagnostics(task.X_test, task.y_test)["n_pretrain_images"] == 0

    untrained = dict(max_epochs=1, lr=0.0)  # weights as initialised: what pretraining set
    init_none, init_all = (small_dbn(p, **untrained).fit(task.X_train, task.y_train) for p in ("none", "all"))
    first = lambda est: est.module_.net[0].weight.detach()  # noqa: E731
    head = lambda est: est.module_.net[-1].weight.detach()  # noqa: E731
    assert not torch.equal(first(init_none), first(init_all))
    torch.testing.assert_close(head(init_none), head(init_all))  # the output layer starts the same
    diag = init_all.diagnostics(task.X_test, task.y_test)
    assert diag["n_pretrain_images"] == len(task.X_train) and diag["n_labelled"] == 100
    labelled_only = small_dbn("labelled", **untrained).fit(task.X_train, task.y_train)
    assert labelled_only.diagnostics(task.X_test, task.y_test)["n_pretrain_images"] == 100
    with pytest.raises(ValueError, match="pretrain"):
        small_dbn("sometimes").fit(task.X_train, task.y_train)


# ---------------------------------------------------------------- which model runs where

def test_a_model_runs_only_on_the_task_kinds_its_config_names():
    mlp = OmegaConf.create({"name": "mlp"})  # no task: a classifier or regressor
    assert serves(mlp, "classification") and serves(mlp, "regression") and not serves(mlp, "anomaly")
    assert not serves(mlp, "semi_supervised")  # it would read the unlabelled images' -1 as a class
    detector = OmegaConf.create({"name": "lof", "task": "anomaly"})
    assert serves(detector, "anomaly") and not serves(detector, "reconstruction")
    both = OmegaConf.create({"name": "x", "task": ["reconstruction", "anomaly"]})
    assert serves(both, "reconstruction") and serves(both, "anomaly") and not serves(both, "classification")
    assert serves(detector, None)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, bench):
    results = tmp_path_factory.mktemp("unsupervised")
    code, folder = bench(results, "suite=unsupervised", "profile=smoke", "hardware.threads=1")
    return code, folder, pd.read_parquet(folder / "results.parquet")


def test_suite_runs_end_to_end_in_smoke(smoke_run):
    code, folder, df = smoke_run
    assert code == 0, df.loc[df["status"] != "ok", ["dataset", "model", "error"]].to_string()
    by_kind = {
        "digits_reconstruction": {"pca", "kernel_pca", "autoencoder"},
        "digits_anomaly[anomaly_class=0]": {"isolation_forest", "one_class_svm", "lof", "pca_detector",
                                            "autoencoder_detector"},
        "ucr_internal_bleeding": {"isolation_forest", "one_class_svm", "lof", "pca_detector", "autoencoder_detector"},
        "digits_few_labels[n_labelled=50]": {"dbn_classifier"},
    }
    assert set(df["dataset"]) == set(by_kind)
    for dataset, models in by_kind.items():
        assert set(df.loc[df["dataset"] == dataset, "model"]) == models, dataset
    recon = df[df["dataset"] == "digits_reconstruction"]
    assert len(recon) == 3 * 2 and set(recon["variant"]) == {"code_size=2", "code_size=8"}
    assert recon["reconstruction_mse"].notna().all() and recon["knn_accuracy"].between(0, 1).all()
    anomaly = df[df["model"].isin(by_kind["ucr_internal_bleeding"])]
    assert anomaly["roc_auc"].between(0, 1).all() and anomaly["pr_auc"].notna().all()
    few = df[df["model"] == "dbn_classifier"]
    assert set(few["variant"]) == {"pretrain=none", "pretrain=labelled", "pretrain=all"}
    assert few["accuracy"].notna().all() and (few["n_train"] == 50).all()
    report = (folder / "report.md").read_text()
    assert "digits_anomaly" in report and "code size" in report and "A4-autoencoder" in report
