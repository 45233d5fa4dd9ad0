"""Tree models: a single decision tree, a random forest and histogram gradient boosting.
Trees are invariant to monotone feature scaling, so no scaler."""
from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from baselines.preprocessing import flatten


def decision_tree(max_depth: int | None = None, min_samples_leaf: int = 1, random_state: int = 0):
    return Pipeline([("flatten", flatten()),
                     ("clf", DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                                    random_state=random_state))])


def random_forest(n_estimators: int = 300, max_features: str | float = "sqrt", random_state: int = 0,
                  n_jobs: int = -1):
    return Pipeline([("flatten", flatten()),
                     ("clf", RandomForestClassifier(n_estimators=n_estimators, max_features=max_features,
                                                    n_jobs=n_jobs, random_state=random_state))])


class HistGradientBoosting(HistGradientBoostingClassifier):
    """scikit-learn's histogram gradient boosting, with early stopping skipped where its internal
    validation split would hold fewer samples than there are classes (learning curves start at
    5 samples per class; scikit-learn would raise there)."""

    def fit(self, X, y, sample_weight=None):
        requested = self.early_stopping
        n_val = self.validation_fraction * len(y) if isinstance(self.validation_fraction, float) else 0
        if requested is True and n_val < len(np.unique(y)):
            self.early_stopping = False
        try:
            return super().fit(X, y, sample_weight=sample_weight)
        finally:
            self.early_stopping = requested


def hist_gradient_boosting(learning_rate: float = 0.1, max_iter: int = 200, max_leaf_nodes: int = 31,
                           early_stopping: bool = True, max_bins: int = 255, random_state: int = 0):
    # Early stopping holds out 10% of train internally (never the test split). max_bins: the
    # histogram's bins per feature (scikit-learn's 255 by default; the vision suite uses fewer on pixels).
    return Pipeline([("flatten", flatten()),
                     ("clf", HistGradientBoosting(learning_rate=learning_rate, max_iter=max_iter,
                                                  max_leaf_nodes=max_leaf_nodes, early_stopping=early_stopping,
                                                  max_bins=max_bins, random_state=random_state))])
