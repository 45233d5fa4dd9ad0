"""What a task kind is: everything bench knows about one kind of problem, in one place.

A task kind (classification, regression, language_model, anomaly, reconstruction, semi_supervised,
generation, control, tabular_control) says how a `Task` of its kind is checked and sampled, how a
fitted model is evaluated on it and which columns that gives (with which way is better), how its
rows are recognised, shown in the terminal, compared between runs and laid out in the report. Each
kind is one file of harness/tasks/ defining `KIND`; the folder is the registry (harness/tasks/__init__.py).
The engine (harness/core/) asks the registry and holds no kind's name.

`TaskKind` is the default: a supervised problem of arrays, scored from predictions on the test
inputs. A kind overrides what differs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from harness.core.measure import Measurement, measure

if TYPE_CHECKING:
    from harness.data.task import Task


class TaskKind:
    name: str = ""
    # Models whose config has no `task:` run on this kind (the classifiers and regressors bench began with).
    default_for_models: bool = False
    # The column a row of this kind is judged by, whether higher is better, and the `bench compare`
    # threshold (a harness.results.compare.Thresholds field) that is its smallest change that counts;
    # None: `bench compare` compares this kind's times only.
    score: str | None = "accuracy"
    higher_is_better: bool = True
    compare_floor: str | None = "accuracy_drop"
    relative_floor: bool = False  # the floor is a fraction of the base value, not in the score's units
    # Validation splits (tuning) keep the class proportions.
    stratified_validation: bool = False
    # Tables of datasets whose variants (digits_anomaly[anomaly_class=3]) belong together come first,
    # one per base dataset (harness/core/display.py).
    grouped_by_base: bool = False
    # The module of harness/report/sections/ that lays out this kind's rows in the report.
    report_section: str = "classification"

    # ---------------------------------------------------------------- the Task

    def check(self, task: Task) -> None:
        """Raise DatasetError when the task's arrays cannot be a problem of this kind."""
        from harness.data.task import DatasetError

        for split, X, y in (("train", task.X_train, task.y_train), ("test", task.X_test, task.y_test)):
            if len(X) != len(y):
                raise DatasetError(f"{task.name}: {split} split has {len(X)} inputs but {len(y)} labels")
            if len(X) == 0:
                raise DatasetError(f"{task.name}: the {split} split is empty")

    def n_classes(self, task: Task) -> int:
        return int(max(task.y_train.max(), task.y_test.max()) + 1)

    def n_train(self, task: Task) -> int:
        return len(task.y_train)

    def n_test(self, task: Task) -> int:
        return len(task.y_test)

    def training_data(self, task: Task) -> tuple:
        """What a model's fit takes."""
        return task.X_train, task.y_train

    def test_targets(self, task: Task):
        """What predictions on X_test are scored against."""
        return task.y_test

    def subsample_train(self, task: Task, n: int, seed: int) -> Task:
        """The task with a stratified random n-sample of its training split (test untouched)."""
        from harness.data.task import Task, stratified_subset, take

        idx = stratified_subset(task.y_train, n, seed)
        return Task(task.name, task.kind, take(task.X_train, idx), task.y_train[idx], task.X_test,
                    task.y_test, task.input_kind, task.class_names, task.source)

    def view(self, task: Task) -> Task:
        """The task read as this kind, when a suite asks for it (`task:` in a suite file); a kind that
        cannot read other kinds leaves the task as it is."""
        return task

    # ---------------------------------------------------------------- evaluation

    def scores(self, y_true, y_pred) -> dict[str, float]:
        raise NotImplementedError(f"task kind {self.name} defines no scores")

    def evaluate(self, est, task: Task, device: str, cache_dir: str | None = None) -> tuple[dict, Measurement, int]:
        """Score a fitted model: (score columns, the cost of predicting, inputs predicted). By default
        from its predictions on the test inputs."""
        with measure(device) as predict_cost:
            y_pred = est.predict(task.X_test)
        return self.scores(self.test_targets(task), y_pred), predict_cost, len(task.y_test)

    # ---------------------------------------------------------------- rows

    def owns(self, rows: pd.DataFrame) -> bool:
        """Whether rows written without a `task_kind` column (older runs) are of this kind, by their scores."""
        return False

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        """The terminal tables of one dataset's rows (of a base dataset's, when grouped_by_base)."""
        from harness.core.display import results_table

        return results_table(dataset, rows)


def has_scores(d: pd.DataFrame, column: str) -> bool:
    """Whether any row holds a number in `column`."""
    return column in d and pd.to_numeric(d[column], errors="coerce").notna().any()


def scores_instead_of_accuracy(d: pd.DataFrame, column: str) -> bool:
    """Rows scored by `column` where accuracy is not recorded (a kind of its own)."""
    return column in d and d[column].notna().any() and d["accuracy"].isna().all()

