"""Interpretability metrics (harness/evaluation/interpret.py) on tasks where the right answer is known, the batched
occlusion pinned to a one-input-at-a-time loop, `interpret=on` end to end, and claim T7's rule."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from baselines.linear import logistic_regression
from harness.data.task import Task
from harness.evaluation.interpret import (COLUMNS, between_seed_stability, curve_steps, deletion_masks, feature_groups,
                               interpret, masked_scores, occlusion_from_scores, occlusion_masks, patch_side)

CFG = {"sample": 200, "surrogate_points": 1000, "curve_steps": 10, "noise_sigma": 0.02}


def two_feature_task(seed: int = 0, random_labels: bool = False) -> Task:
    """10 standard-normal features; the label is whether x0 + x1 > 0, so only features 0 and 1 matter
    (with random_labels the same labels, shuffled: no feature matters)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(1200, 10)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    if random_labels:
        y = rng.permutation(y)
    return Task("two_features", "classification", X[:800], y[:800], X[800:], y[800:], input_kind="tabular")


@pytest.fixture(scope="module")
def explained():
    """interpret() of the same logistic regression fitted on the true and on shuffled labels."""
    out = {}
    for random_labels in (False, True):
        task = two_feature_task(random_labels=random_labels)
        model = logistic_regression(C=1.0).fit(task.X_train, task.y_train)
        out[random_labels] = interpret(model, task, CFG, seed=0)
    return out


def test_logistic_regression_puts_the_label_features_first_and_is_imitated(explained):
    row = explained[False]
    importance = np.array(json.loads(row["interp_importance"]))
    assert len(importance) == row["interp_groups"] == 10 and math.isclose(importance.sum(), 1, abs_tol=1e-4)
    assert set(np.argsort(importance)[::-1][:2]) == {0, 1}
    assert importance[:2].sum() > 0.9 and row["interp_mass90_features"] == 2
    assert row["interp_fidelity_linear"] > 0.9 and row["interp_fidelity_tree5"] > 0.9
    assert row["interp_fidelity_tree3"] > 0.8  # a diagonal boundary costs a depth-3 staircase a few points
    # Faithful: removing the two features it ranks first takes the prediction away far sooner than chance.
    assert row["interp_deletion_auc"] < row["interp_deletion_auc_random"] - 0.2
    assert row["interp_insertion_auc"] > row["interp_deletion_auc"] + 0.3
    assert row["interp_stability_noise"] > 0.9
    assert row["interp_glassbox_size"] == "10 non-zero coefficients of 10"
    assert math.isnan(row["interp_ig_deletion_auc"]) and math.isnan(row["interp_saliency_deletion_auc"])
    assert row["interp_score"] == "predict_proba" and row["interp_points"] == 200


def test_a_model_of_random_labels_scores_low_faithfulness(explained):
    """The same model class on shuffled labels learns nothing: its predicted-class probability hardly
    depends on any feature, so the deletion curve stays high whatever order removes them. (Occlusion is
    faithful to whatever a model does: a tree or 1-NN that memorises random labels still gets a low
    deletion AUC, since its decisions do hinge on the features occlusion finds.)"""
    real, noise = explained[False], explained[True]
    assert noise["interp_deletion_auc"] >= noise["interp_deletion_auc_random"] - 0.1
    assert noise["interp_deletion_auc"] > real["interp_deletion_auc"] + 0.3
    lead = lambda r: r["interp_deletion_auc_random"] - r["interp_deletion_auc"]  # noqa: E731
    assert lead(real) > 3 * lead(noise)
    importance = np.array(json.loads(noise["interp_importance"]))
    assert importance[:2].sum() < 0.4 and noise["interp_mass90_features"] >= 5  # no longer features 0 and 1


def naive_occlusion(predict_proba, X: np.ndarray, target: np.ndarray, groups: np.ndarray, baseline: float):
    """One masked input per model call: the reference the batched version must match."""
    out = np.empty((len(X), groups.max() + 1))
    for i, x in enumerate(X):
        full = predict_proba(x[None])[0, target[i]]
        for g in range(groups.max() + 1):
            occluded = x.reshape(-1).copy()
            occluded[groups == g] = baseline
            out[i, g] = full - predict_proba(occluded.reshape(1, *x.shape))[0, target[i]]
    return out


def naive_deletion_curve(predict_proba, x: np.ndarray, target: int, order: np.ndarray, groups: np.ndarray,
                         ks: np.ndarray) -> np.ndarray:
    flat, out = x.reshape(-1).copy(), []
    for k in ks:
        removed = flat.copy()
        removed[np.isin(groups, order[:k])] = 0.0
        out.append(predict_proba(removed.reshape(1, *x.shape))[0, target])
    return np.array(out)


def test_batched_occlusion_and_curves_match_a_naive_loop():
    rng = np.random.default_rng(1)
    X_train = rng.random((60, 1, 4, 4)).astype(np.float32)
    y_train = (X_train[:, 0, :2].mean(axis=(1, 2)) > X_train[:, 0, 2:].mean(axis=(1, 2))).astype(int) \
        + 2 * (X_train[:, 0, :, :2].mean(axis=(1, 2)) > 0.5)
    model = logistic_regression(C=10.0).fit(X_train, y_train)
    X = rng.random((5, 1, 4, 4)).astype(np.float32)
    target = model.predict_proba(X).argmax(axis=1)
    groups = feature_groups((1, 4, 4), "image", patch=2)
    assert list(groups) == [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]
    # chunk_rows=3 splits the 5 points x 5 masks into many model calls, points cut mid-chunk
    s = masked_scores(model.predict_proba, X, target, occlusion_masks(4), groups, 0.0, chunk_rows=3)
    batched = occlusion_from_scores(s)
    assert np.allclose(batched, naive_occlusion(model.predict_proba, X, target, groups, 0.0), atol=1e-12)

    ks = curve_steps(4, 16)
    order = np.argsort(-batched, axis=1, kind="stable")
    ranks = np.argsort(order, axis=1)
    curves = masked_scores(model.predict_proba, X, target, deletion_masks(ranks, ks), groups, 0.0, chunk_rows=7)
    for i in range(len(X)):
        assert np.allclose(curves[i], naive_deletion_curve(model.predict_proba, X[i], target[i], order[i], groups, ks))


def test_patches_and_between_seed_stability():
    assert (patch_side(8, "auto"), patch_side(28, "auto"), patch_side(28, 7)) == (2, 4, 7)
    assert feature_groups((1, 28, 28), "image").max() + 1 == 49
    assert feature_groups((1, 8, 8), "image").max() + 1 == 16
    a = [0.4, 0.3, 0.2, 0.1]
    assert math.isclose(between_seed_stability([json.dumps(a), list(a), None]), 1.0)
    assert math.isclose(between_seed_stability([a, a[::-1]]), -1.0)
    assert math.isnan(between_seed_stability([a]))


# ---------------------------------------------------------------- end to end

def test_interpret_on_writes_the_interp_columns(run_bench):
    code, folder = run_bench("profile=smoke", "dataset=digits", "hardware.threads=1", "interpret=on",
                             "interpret.sample=60", "suite.models=[logistic_regression,mlp]")
    assert code == 0
    df = pd.read_parquet(folder / "results.parquet").set_index("model")
    assert (df["status"] == "ok").all() and df["interp_error"].isna().all()
    assert set(COLUMNS) | {"interpretable_by_construction", "interpret_seconds"} <= set(df.columns)
    assert df.loc["logistic_regression", "interpretable_by_construction"]
    assert not df.loc["mlp", "interpretable_by_construction"]
    for col in ("interp_fidelity_tree3", "interp_fidelity_tree5", "interp_fidelity_linear", "interp_deletion_auc",
                "interp_insertion_auc", "interp_stability_noise"):
        assert df[col].between(0, 1.5).all(), col
    assert (df["interp_points"] == 60).all() and (df["interp_groups"] == 16).all()  # 2x2 patches of 8x8
    assert (df["interpret_seconds"] > 0).all()
    assert math.isfinite(df.loc["mlp", "interp_ig_deletion_auc"]) and math.isfinite(df.loc["mlp", "interp_saliency_deletion_auc"])
    assert math.isnan(df.loc["logistic_regression", "interp_ig_deletion_auc"])
    assert len(json.loads(df.loc["mlp", "interp_importance"])) == 16


def test_a_failing_interpretation_leaves_the_cell_ok(run_bench):
    code, folder = run_bench("profile=smoke", "dataset=digits", "hardware.threads=1", "interpret=on",
                             "model=gaussian_nb", "interpret.baseline=dark")
    assert code == 0
    row = pd.read_parquet(folder / "results.parquet").iloc[0]
    assert row["status"] == "ok" and row["accuracy"] > 0.5
    assert "ValueError" in row["interp_error"] and math.isnan(row["interp_deletion_auc"])


# ---------------------------------------------------------------- claim T7

def interp_rows(classical: dict, deep: dict, seeds=(0, 1, 2), spread: float = 0.01) -> pd.DataFrame:
    """Result rows of two models per family on one dataset, whose interp_ figures are the family's
    values plus a small seed-dependent wobble (opposite for the two families). A family whose noise
    stability is high keeps one importance map over seeds; otherwise each seed shuffles it."""
    rows, base = [], np.linspace(1, 2, 16) / np.linspace(1, 2, 16).sum()
    for family, models, values, sign in (("classical", ("logistic_regression", "decision_tree"), classical, 1),
                                         ("deep", ("mlp", "cnn"), deep, -1)):
        for model in models:
            for s in seeds:
                wobble = sign * spread * (1, -1, 0.5)[s % 3]
                rows.append(dict(
                    suite="vision", dataset="digits", model=model, family=family, variant="", params="{}",
                    params_id="p", seed=s, n_train=1000, tuned=False, device="cpu", cpu_model="Test CPU",
                    gpu_name=None, status="ok", accuracy=0.9, run="results/vision/r1",
                    **{f"interp_{k}": v + wobble for k, v in values.items()}, interp_points=200, interp_groups=16,
                    interp_error=None, interp_importance=json.dumps(list(
                        base if values["stability_noise"] > 0.9 else np.random.default_rng(s).permutation(base))),
                    interpretable_by_construction=family == "classical"))
    return pd.DataFrame(rows)


READABLE = dict(fidelity_tree3=0.9, fidelity_tree5=0.95, fidelity_linear=0.9, deletion_auc=0.2,
                insertion_auc=0.9, stability_noise=0.95, mass90_features=4)
OPAQUE = dict(fidelity_tree3=0.5, fidelity_tree5=0.6, fidelity_linear=0.6, deletion_auc=0.6,
              insertion_auc=0.6, stability_noise=0.7, mass90_features=10)


def t7(df: pd.DataFrame):
    from harness.claims import evaluate_claims, load_registry

    (v,) = evaluate_claims(df, registry=[e for e in load_registry() if e["id"] == "T7-interpretability"])
    return v


def test_t7_supported_contradicted_inconclusive_not_run():
    supported = t7(interp_rows(READABLE, OPAQUE))
    assert supported.verdict == "supported", supported.evidence
    assert "property of the model class, not a measurement" in supported.detail
    assert "decision_tree" in supported.detail.split("Readable by construction")[1]
    assert t7(interp_rows(OPAQUE, READABLE)).verdict == "contradicted"
    level = {k: v + 0.01 for k, v in READABLE.items()}  # the same within the noise: deep as readable
    assert t7(interp_rows(level, READABLE, spread=0.03)).verdict == "contradicted"
    small = {k: v + 0.02 for k, v in READABLE.items()}  # one seed, gaps under 0.05: no call
    assert t7(interp_rows(small, READABLE, seeds=(0,))).verdict == "inconclusive"
    without = interp_rows(READABLE, OPAQUE).drop(columns=[c for c in COLUMNS if c.startswith("interp_")], errors="ignore")
    v = t7(without)
    assert v.verdict == "not-run" and "interpret=on" in v.evidence


def test_t7_mixed_when_the_families_lead_on_different_aspects():
    mixed = dict(OPAQUE, deletion_auc=0.1, insertion_auc=0.95)  # deep: more faithful, worse surrogates
    assert t7(interp_rows(READABLE, mixed)).verdict == "mixed"
