"""Time-series classifiers on series of shape (N, C, T): the archive's standard baselines.

- 1-NN with Euclidean distance needs no code here: `baselines.neighbors.knn` with n_neighbors=1 and
  scale=False flattens (C, T) and compares whole series (model `nn_euclidean`).
- 1-NN with dynamic time warping (`NearestNeighbourDTW`, model `nn_dtw`): aeon's numba DTW.
- MiniRocket (`minirocket`, model `minirocket`): Dempster, Schmidt & Webb (2021), "MINIROCKET: a very
  fast (almost) deterministic transform for time series classification", KDD.
- A random forest on the raw series is `baselines.trees.random_forest`, which flattens (N, C, T)
  like any other input (model `random_forest`).

aeon is imported inside the functions: its import takes about 6 s (numba), paid only by runs that
use these models.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import RidgeClassifierCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler


def to_series(X, min_length: int = 0) -> np.ndarray:
    """Any input as series (N, C, T). (N, T) is one channel; an image batch (N, C, H, W) is read
    column by column, W steps of C*H channels, as the deep sequence models read it. Series shorter
    than `min_length` get zeros at the end (MiniRocket's kernels span 9 steps)."""
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"expected series of shape (N, C, T) or (N, T), got {X.shape}")
    X = X.reshape(len(X), -1, X.shape[-1])  # (N, C, T)
    if X.shape[-1] < min_length:
        X = np.concatenate([X, np.zeros((*X.shape[:2], min_length - X.shape[-1]), X.dtype)], axis=-1)
    return X


class NearestNeighbourDTW(ClassifierMixin, BaseEstimator):
    """1-nearest neighbour under dynamic time warping, the archive's reference classifier.

    `window` is the Sakoe-Chiba band as a fraction of the series length: 1.0 warps freely (the UCR
    archive's "DTW (w=100)" column, no parameter to tune); the archive's other column, "DTW
    (learned_w)", picks the window by leave-one-out on train, which `search` approximates with one
    validation split. On several channels the warping path is shared (DTW_D: squared differences
    summed over channels at each aligned pair of time points). Ties go to the first training case.

    Cost: N_test x N_train DTWs of O(T^2 x window) each, in parallel over test cases (n_jobs).
    """

    def __init__(self, window: float = 1.0, n_jobs: int = -1):
        self.window = window
        self.n_jobs = n_jobs

    def fit(self, X, y):
        if not 0.0 <= self.window <= 1.0:
            raise ValueError(f"window is a fraction of the series length, in [0, 1]; got {self.window}")
        self.X_ = to_series(X).astype(np.float64)  # aeon's DTW is compiled for float64
        self.classes_, self.y_ = np.unique(np.asarray(y), return_inverse=True)
        self.n_parameters_ = self.X_.size  # the stored training series, as for k-NN
        return self

    def predict(self, X):
        from aeon.distances import dtw_pairwise_distance

        X = to_series(X).astype(np.float64)
        distances = dtw_pairwise_distance(X, self.X_, window=self.window, n_jobs=self.n_jobs)  # (N_test, N_train)
        return self.classes_[self.y_[np.argmin(distances, axis=1)]]


def minirocket(n_kernels: int = 10_000, max_dilations_per_kernel: int = 32, random_state: int = 0,
               n_jobs: int = -1):
    """MiniRocket features (84 fixed kernels x dilations x bias quantiles: the proportion of positive
    values) and a ridge classifier whose penalty is chosen by leave-one-out among logspace(-3, 3, 10),
    as in the paper. The paper's `RidgeClassifierCV(normalize=True)` is gone from scikit-learn; like
    aeon's MiniRocketClassifier, features are scaled by their standard deviation instead.
    The random state draws the bias quantiles' training examples; the kernels are fixed."""
    from aeon.transformations.collection.convolution_based import MiniRocket

    return Pipeline([
        ("series", FunctionTransformer(to_series, kw_args={"min_length": 9})),
        ("transform", MiniRocket(n_kernels=n_kernels, max_dilations_per_kernel=max_dilations_per_kernel,
                                 n_jobs=n_jobs, random_state=random_state)),
        ("scale", StandardScaler(with_mean=False)),
        ("clf", RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))),
    ])
