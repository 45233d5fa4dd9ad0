"""The result row: one flat row per cell, defined here once for the runner that writes it and the
report and claims that read it.

Every row has the columns of `base_row` (identity, conditions, provenance, status and the measures
every kind records, `task_kind`, the name of its task's kind, and `input_kind`, what its inputs are:
image, tabular, sequence or text); a task kind adds its own score columns (harness/tasks/<kind>.py), a model its
diagnostics, interpretation its `interp_` columns. Rows written by older versions of bench lack some
columns: `with_defaults` fills them with the value that means "not recorded".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# The identity of a cell: two rows with the same identity in one run are the same experiment.
IDENTITY = ["suite", "dataset", "model", "variant", "params", "seed", "n_train"]
STATUSES = ("ok", "error", "timeout", "diverged", "interrupted")
# `cell_started`: when a cell began, in UTC (also the suffix of its file under cells/).
CELL_STARTED_FORMAT = "%Y%m%dT%H%M%S%f"

# Columns older results lack, with the value that means "not recorded".
OPTIONAL_COLUMNS = {"variant": "", "features": "raw", "final_train_loss": np.nan, "n_parameters": np.nan,
                    "peak_memory_mb": np.nan, "train_cpu_seconds": np.nan, "device": "cpu", "tuned": False,
                    "params_id": "", "run": "", "cpu_model": "", "gpu_name": None, "cell_seconds": np.nan,
                    "n_test": np.nan, "error": None,
                    # before cells ran side by side (harness/core/scheduling.py), each ran alone
                    "workers": 1, "cells_alongside": 0, "run_id": "",
                    # before inputs were recorded: "" (the report then goes by the suite's name)
                    "input_kind": "",
                    # a deep model's training recipe in words (harness/deep/estimator.py `recipe_`)
                    "recipe": None,
                    # what a model computed in, "32", "bf16" or "16" (harness/deep/precision.py; not `precision`,
                    # the generative suite's metric); None: classical, or not recorded
                    "compute_precision": None}

# The measures every cell records, whatever its kind, with their value before the cell ran.
MEASURES = {"accuracy": np.nan, "f1_macro": np.nan, "train_seconds": np.nan, "train_cpu_seconds": np.nan,
            "predict_seconds_per_1k": np.nan, "peak_memory_mb": np.nan, "n_parameters": None, "epochs": None,
            "final_train_loss": np.nan, "best_params": None}


def with_defaults(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df with every optional column present (older rows: their "not recorded" value)."""
    df = df.copy()
    for col, default in OPTIONAL_COLUMNS.items():
        if col not in df:
            df[col] = default
    return df
