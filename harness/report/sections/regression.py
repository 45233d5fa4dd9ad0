"""A regression dataset: test error against always predicting the test mean, and the models' own
diagnostics."""
from __future__ import annotations

import pandas as pd

from harness.core.display import fmt_seconds
from harness.report.blocks import Para, Table
from harness.report.rows import largest_size


def is_regression(g: pd.DataFrame) -> bool:
    """A dataset scored by regression error (mse) rather than accuracy."""
    return "mse" in g and g["mse"].notna().any() and g["accuracy"].isna().all()


def dataset_blocks(d: pd.DataFrame, suite: str, dataset: str) -> list:
    """The section of a regression dataset, read at its largest training size."""
    return regression_table_blocks(largest_size(d))


# Columns every row has; any other numeric column of a regression dataset is a model's own diagnostic.
BASE_COLUMNS = {"seed", "n_train", "n_test", "accuracy", "f1_macro", "train_seconds", "train_cpu_seconds",
                "predict_seconds_per_1k", "peak_memory_mb", "n_parameters", "epochs", "final_train_loss",
                "cell_seconds", "torch_threads", "mse", "mae", "baseline_mse", "r2", "tuned"}


def regression_table_blocks(ok: pd.DataFrame) -> list:
    """A regression dataset's finished cells: error against the trivial baseline, and the models' own
    diagnostics (any numeric column that is not part of every row)."""
    extra = [c for c in ok.columns if c not in BASE_COLUMNS and not c.startswith("interp")
             and pd.api.types.is_numeric_dtype(ok[c]) and ok[c].notna().any()]
    agg = ok.groupby(["label", "family"], sort=False).agg(
        seeds=("seed", "nunique"), mse=("mse", "mean"), baseline=("baseline_mse", "mean"), r2=("r2", "mean"),
        train=("train_seconds", "mean"), **{c: (c, "mean") for c in extra}).reset_index().sort_values("mse")
    rows = [[r["label"], r["family"], str(r["seeds"]), f"{r['mse']:.4g}", f"{r['baseline']:.4g}", f"{r['r2']:.3f}",
             fmt_seconds(r["train"]), *(f"{r[c]:.3g}" for c in extra)] for _, r in agg.iterrows()]
    return [Para(f"Training size {int(ok['n_train'].max())}, test size {int(ok['n_test'].max())}. Test mean "
                 "squared error against always predicting the test mean (baseline); means over seeds."),
            Table(["model", "family", "seeds", "MSE", "baseline MSE", "R²", "train time", *extra], rows,
                  right=set(range(2, 7 + len(extra))), row_cls=list(agg["family"]))]
