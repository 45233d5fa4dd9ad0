"""Task kind `classification`: inputs and class labels 0..K-1, scored by accuracy and macro-F1 of
the predicted labels on the test split. The kind of every model whose config names no `task:`."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from harness.tasks.base import TaskKind


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_macro": float(f1_score(y_true, y_pred, average="macro"))}


class Classification(TaskKind):
    name = "classification"
    default_for_models = True
    stratified_validation = True

    def check(self, task) -> None:
        from harness.data.task import DatasetError

        super().check(task)
        if len(np.unique(task.y_train)) < 2:
            raise DatasetError(f"{task.name}: the training split has a single class; nothing to classify")

    def scores(self, y_true, y_pred) -> dict[str, float]:
        return classification_scores(y_true, y_pred)

    def owns(self, rows) -> bool:
        return True


KIND = Classification()
