"""Synthetic result rows for the claim tests, built to support, contradict or leave a claim open."""
import numpy as np
import pandas as pd

from harness.claims import evaluate_claims, load_registry

SEEDS = (0, 1, 2)
AT_SCALE = 20_000  # above the regimes of 10^4 training examples (D1, T8, D4)
REGISTRY = {e["id"]: e for e in load_registry()}


def cell(dataset="digits", model="cnn", family="deep", seed=0, n_train=1000, accuracy=0.9, suite="vision", **extra):
    """One result row as the runner writes it; `extra` overrides any column."""
    row = dict(suite=suite, dataset=dataset, model=model, family=family, params="{}", params_id="p", variant="",
               seed=seed, n_train=n_train, n_test=500, profile="default", tuned=False,
               device="cpu", cpu_model="Test CPU", gpu_name=None, torch_threads=4, git_commit="abc", job="0",
               status="ok", error=None, accuracy=accuracy, f1_macro=accuracy, train_seconds=1.0, train_cpu_seconds=1.0,
               predict_seconds_per_1k=0.01, peak_memory_mb=10.0, n_parameters=1000, epochs=None,
               final_train_loss=np.nan, best_params=None, cell_started="t", cell_seconds=1.0, run="results/vision/r1")
    row.update(extra)
    return row


def duel(deep_acc, classical_acc, seeds=SEEDS, datasets=("digits", "mnist5k"), suite="vision", **deep_extra):
    """Best deep (cnn) vs best classical (rbf_svm) plus a weak model of each family, per dataset and seed.
    Accuracies may be callables of the seed to add noise."""
    rows = []
    for ds in datasets:
        for s in seeds:
            at = lambda v: v(s) if callable(v) else v  # noqa: E731
            rows += [cell(ds, "cnn", "deep", s, accuracy=at(deep_acc), suite=suite, **deep_extra),
                     cell(ds, "perceptron", "deep", s, accuracy=0.5, suite=suite),
                     cell(ds, "rbf_svm", "classical", s, accuracy=at(classical_acc), suite=suite),
                     cell(ds, "gaussian_nb", "classical", s, accuracy=0.4, suite=suite)]
    return pd.DataFrame(rows)


def noisy(base, spread=0.05):
    """Seed-dependent scores whose mean is `base` but that swing by `spread` either way."""
    return lambda s: base + spread * (1, -1, 0.2)[s % 3]


def sequence_accuracy_rows(acc_by_model: dict, datasets=("gunpoint", "arrowhead"), suite="sequence", seeds=SEEDS):
    """Sequence-suite accuracies per model; minirocket is the hand-made-feature classical model."""
    rows = []
    for ds in datasets:
        for model, a in acc_by_model.items():
            family = "classical" if model in ("minirocket", "random_forest", "nn_dtw") else "deep"
            features = "crafted" if model == "minirocket" else "raw"
            for s in seeds:
                rows.append(cell(ds, model, family, s, suite=suite, accuracy=a + 0.001 * s, features=features))
    return pd.DataFrame(rows)


def verdict_of(claim_id, df):
    (v,) = evaluate_claims(df, registry=[REGISTRY[claim_id]])
    return v
