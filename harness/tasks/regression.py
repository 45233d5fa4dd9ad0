"""Task kind `regression`: inputs and float targets, scored by the error of the predicted values on
the test split (MSE, MAE, R² against always predicting the test mean). Shown and reported with R²
and MSE where a classification shows accuracy and macro-F1."""
from __future__ import annotations

import numpy as np

from harness.tasks.base import TaskKind


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Mean squared and absolute error, R^2, and the MSE of always predicting the mean of y_true
    (the trivial baseline a regression must beat; R^2 = 1 - mse / baseline_mse)."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    mse = float(np.mean((y_true - y_pred) ** 2))
    baseline = float(np.mean((y_true - y_true.mean(axis=0)) ** 2))
    return {"mse": mse, "mae": float(np.mean(np.abs(y_true - y_pred))), "baseline_mse": baseline,
            "r2": 1 - mse / baseline if baseline > 0 else float("nan")}


class Regression(TaskKind):
    name = "regression"
    default_for_models = True
    # bench compare reads no score of a regression yet (only its times), as before task kinds had files.
    score, compare_floor = "r2", None
    report_section = "regression"

    def scores(self, y_true, y_pred) -> dict[str, float]:
        return regression_scores(y_true, y_pred)

    def owns(self, rows) -> bool:
        return "mse" in rows and rows["mse"].notna().any() and rows["accuracy"].isna().all()


KIND = Regression()
