"""Classical models for tables: each a classifier or a regressor by the targets it is fitted on, behind
the preprocessing that suits it (harness/tasks/tables.py's TabularModel; fitted on the training data only).

- `LogisticRegressionModel` (classification) and `RidgeModel` (regression): one-hot categories,
  standardised numbers (a penalty compares coefficients only on a common scale).
- `RandomForestModel` (Breiman, 2001): category indices (a tree splits an index range; one-hot
  would spread a category over many weak columns), numbers as they are (missing values go to the
  trees, which handle them).
- `HistGradientBoostingModel` (the LightGBM-style histogram boosting of scikit-learn): categories
  as native categorical features (splits on sets of categories), early stopping on 10% of its
  training data, numbers as they are.

The tabular suite (suites/suite/tabular.yaml) runs these under the names of the vision suite's
classifiers (logistic_regression, random_forest, hist_gradient_boosting) plus `ridge`.
"""
from __future__ import annotations

from sklearn.ensemble import (HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge

from harness.tasks.tables import TabularModel


class LogisticRegressionModel(TabularModel):
    def __init__(self, C: float = 1.0, max_iter: int = 2000, random_state: int = 0):
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def build(self, kind: str):
        if kind != "classification":
            raise ValueError("logistic regression classifies; for a regression use ridge")
        return LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)


class RidgeModel(TabularModel):
    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def build(self, kind: str):
        if kind != "regression":
            raise ValueError("ridge regression predicts numbers; for classes use logistic_regression")
        return Ridge(alpha=self.alpha)


class RandomForestModel(TabularModel):
    categorical, numeric = "ordinal", "none"

    def __init__(self, n_estimators: int = 300, max_features: str | float | None = "sqrt", max_depth: int | None = None,
                 min_samples_leaf: int = 1, random_state: int = 0, n_jobs: int = -1):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state
        self.n_jobs = n_jobs

    def build(self, kind: str):
        forest = RandomForestClassifier if kind == "classification" else RandomForestRegressor
        return forest(n_estimators=self.n_estimators, max_features=self.max_features, max_depth=self.max_depth,
                      min_samples_leaf=self.min_samples_leaf, n_jobs=self.n_jobs, random_state=self.random_state)


class HistGradientBoostingModel(TabularModel):
    categorical, numeric = "native", "none"

    def __init__(self, learning_rate: float = 0.1, max_iter: int = 200, max_leaf_nodes: int = 31,
                 min_samples_leaf: int = 20, l2_regularization: float = 0.0, max_features: float = 1.0,
                 early_stopping: bool = True, random_state: int = 0):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.early_stopping = early_stopping
        self.random_state = random_state

    def build(self, kind: str):
        from baselines.trees import HistGradientBoosting  # the classifier that skips early stopping on tiny splits

        boosting = HistGradientBoosting if kind == "classification" else HistGradientBoostingRegressor
        mask = self.encoder_.categorical_mask_.copy()
        # scikit-learn splits on sets of at most 255 categories; a column with more stays an index
        mask[self.encoder_.n_numeric_:] = [c - 1 <= 255 for c in self.encoder_.cardinalities_]
        return boosting(learning_rate=self.learning_rate, max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                        min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
                        max_features=self.max_features, early_stopping=self.early_stopping,
                        categorical_features=mask if mask.any() else None,
                        random_state=self.random_state)
