"""Steps every classical pipeline shares."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import FunctionTransformer, StandardScaler


def _flatten(X):
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def flatten():
    """Images (N, C, H, W) -> feature vectors (N, C*H*W); tabular data passes through."""
    return FunctionTransformer(_flatten, feature_names_out="one-to-one")


class AutoScaler(TransformerMixin, BaseEstimator):
    """Standardise features, unless they already share the unit scale (pixel intensities in [0, 1]).

    Per-pixel standardisation inflates near-constant border pixels into noise the size of real
    strokes: on mnist5k it costs the RBF SVM 3.6 points (0.954 -> 0.918) and k-NN 4 points.
    """

    def fit(self, X, y=None):
        X = np.asarray(X)
        self.unit_range_ = bool(X.min() >= 0 and X.max() <= 1)
        self.scaler_ = None if self.unit_range_ else StandardScaler().fit(X)
        return self

    def transform(self, X):
        return X if self.scaler_ is None else self.scaler_.transform(X)


def scaler(scale: bool | str):
    """`auto`: AutoScaler; True: always standardise; False: leave features as they are."""
    if scale == "auto":
        return AutoScaler()
    return StandardScaler() if scale else "passthrough"
