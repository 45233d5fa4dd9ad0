"""Classical anomaly detectors, each fitted on normal samples only and scoring new ones (higher =
more anomalous), as the `anomaly` task kind expects (harness/data/anomaly.py):

- isolation forest (Liu, Ting & Zhou, 2008): anomalies are isolated by fewer random axis-aligned
  splits. 200 trees of 256 samples each (the paper's sub-sample size; more trees than scikit-learn's
  100 steadies the scores). Splits on single features ignore their scale: no scaler.
- one-class SVM (Schölkopf et al., 2001), RBF kernel: a boundary around the training data in the
  kernel's feature space. nu = 0.1 (at most a tenth of the clean training samples outside the
  boundary); gamma "scale" = 1 / (n_features x variance of the inputs), scikit-learn's default and
  the usual first choice, which adapts to the data's scale.
- local outlier factor (Breunig et al., 2000) with `novelty=True`: how much sparser a sample's
  neighbourhood is than its 20 nearest training neighbours' (the paper's and scikit-learn's 20).
The kernel and distance methods see the inputs standardised unless they already share the [0, 1]
pixel scale (baselines.preprocessing.AutoScaler, as the classifiers do). Each detector's score is
minus scikit-learn's `score_samples` (which is higher for normal samples).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import Pipeline
from sklearn.svm import OneClassSVM

from baselines.preprocessing import flatten, scaler


class Detector(BaseEstimator):
    """A scikit-learn outlier-detection pipeline whose `predict` is an anomaly score per sample."""

    def __init__(self, pipeline: Pipeline | None = None):
        self.pipeline = pipeline

    def fit(self, X, y=None):
        self.pipeline_ = clone(self.pipeline).fit(X)  # y: normal training data's labels, all 0, unused
        return self

    def predict(self, X) -> np.ndarray:
        return -self.pipeline_.score_samples(X)

    @property
    def n_parameters_(self) -> int | None:
        """Trees: nodes; one-class SVM: support vectors x features plus dual coefficients; LOF: the
        stored training points x features."""
        m = self.pipeline_.steps[-1][1]
        if hasattr(m, "estimators_"):
            return int(sum(t.tree_.node_count for t in m.estimators_))
        if hasattr(m, "support_vectors_"):
            return int(m.support_vectors_.size + m.dual_coef_.size)
        if hasattr(m, "n_samples_fit_"):
            return int(m.n_samples_fit_ * m.n_features_in_)
        return None


def isolation_forest(n_estimators: int = 200, max_samples: int | str = 256, random_state: int = 0,
                     n_jobs: int = -1) -> Detector:
    return Detector(Pipeline([("flatten", flatten()),
                              ("detector", IsolationForest(n_estimators=n_estimators, max_samples=max_samples,
                                                           random_state=random_state, n_jobs=n_jobs))]))


def one_class_svm(nu: float = 0.1, gamma: str | float = "scale", scale: bool | str = "auto") -> Detector:
    return Detector(Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                              ("detector", OneClassSVM(kernel="rbf", nu=nu, gamma=gamma, cache_size=1000))]))


def local_outlier_factor(n_neighbors: int = 20, scale: bool | str = "auto", n_jobs: int = -1) -> Detector:
    return Detector(Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                              ("detector", LocalOutlierFactor(n_neighbors=n_neighbors, novelty=True,
                                                              n_jobs=n_jobs))]))
