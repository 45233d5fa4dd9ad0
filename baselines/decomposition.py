"""Dimensionality reduction with a way back: PCA and kernel PCA as reducers of harness/tasks/reconstruction.py
(codes of `code_size` numbers, reconstructions, reconstruction error as an anomaly score).

Both read the inputs as they are (pixel intensities share the [0, 1] scale, and the reconstruction
error is measured on that scale; the UCR windows of harness/data/anomaly.py arrive scaled).

Kernel PCA (Schölkopf, Smola & Müller, 1998) with an RBF kernel exp(-gamma ||x - x'||^2). gamma: the
median heuristic, 1 / median of the squared distances between training inputs (on up to 1,000 of
them, seeded), a common choice that needs no labels and adapts to the data's scale (scikit-learn's
default, 1 / n_features, makes the kernel almost linear on MNIST-sized images). Kernel PCA has no
decoder of its own: the map back from codes to inputs is learned, as in scikit-learn's
`fit_inverse_transform` (Bakır, Weston & Schölkopf, 2004), by kernel ridge regression from the
training codes to the training inputs. Unlike scikit-learn's, whose ridge reuses the input kernel's
gamma on the codes (a different scale, so there the map is nearly linear), the ridge here has its
own RBF gamma, by the same median heuristic on the codes, and ridge penalty `alpha`.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA, KernelPCA
from sklearn.kernel_ridge import KernelRidge

from harness.tasks.reconstruction import Reducer

MEDIAN_SAMPLE = 1000  # training inputs the median heuristic looks at


def median_gamma(X: np.ndarray, seed: int = 0) -> float:
    """1 / median squared Euclidean distance between distinct rows of X (a seeded sample of them)."""
    rng = np.random.default_rng(seed)
    S = X[rng.permutation(len(X))[:MEDIAN_SAMPLE]].astype(np.float64)
    sq = (S ** 2).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * S @ S.T
    d2 = d2[np.triu_indices(len(S), k=1)]
    median = float(np.median(d2[d2 > 1e-12])) if (d2 > 1e-12).any() else 1.0
    return 1.0 / median


class PCAReducer(Reducer, BaseEstimator):
    """Principal component analysis: the codes are the projections on the first `code_size` principal
    axes of the training inputs; decoding maps them back to the input space (the best linear code of
    that size in squared error)."""

    def __init__(self, code_size: int = 8, output: str = "reconstruction"):
        self.code_size = code_size
        self.output = output

    def fit_reducer(self, X: np.ndarray, on_epoch=None) -> None:
        # svd_solver full: the exact axes (scikit-learn's auto switches to a randomized SVD on MNIST-sized data)
        self.pca_ = PCA(n_components=min(int(self.code_size), *X.shape), svd_solver="full").fit(X)

    def encode(self, X: np.ndarray) -> np.ndarray:
        return self.pca_.transform(X)

    def decode(self, Z: np.ndarray) -> np.ndarray:
        return self.pca_.inverse_transform(Z)

    @property
    def n_parameters_(self) -> int:  # the axes and the mean
        return int(self.pca_.components_.size + self.pca_.mean_.size)


class KernelPCAReducer(Reducer, BaseEstimator):
    """RBF kernel PCA with a learned pre-image map (module docstring). gamma and decoder_gamma None:
    the median heuristic; alpha: the decoder's ridge penalty."""

    def __init__(self, code_size: int = 8, gamma: float | None = None, alpha: float = 1e-2,
                 decoder_gamma: float | None = None, output: str = "reconstruction", random_state: int = 0):
        self.code_size = code_size
        self.gamma = gamma
        self.alpha = alpha
        self.decoder_gamma = decoder_gamma
        self.output = output
        self.random_state = random_state

    def fit_reducer(self, X: np.ndarray, on_epoch=None) -> np.ndarray:
        self.gamma_ = float(self.gamma) if self.gamma else median_gamma(X, self.random_state)
        self.kpca_ = KernelPCA(n_components=min(int(self.code_size), len(X)), kernel="rbf", gamma=self.gamma_,
                               eigen_solver="arpack", random_state=self.random_state)
        Z = self.kpca_.fit_transform(X)
        self.decoder_gamma_ = float(self.decoder_gamma) if self.decoder_gamma else median_gamma(Z, self.random_state)
        self.decoder_ = KernelRidge(alpha=self.alpha, kernel="rbf", gamma=self.decoder_gamma_).fit(Z, X)
        return Z

    def encode(self, X: np.ndarray) -> np.ndarray:
        return self.kpca_.transform(X)

    def decode(self, Z: np.ndarray) -> np.ndarray:
        return self.decoder_.predict(Z)

    @property
    def n_parameters_(self) -> int:  # the stored training inputs, their dual coefficients per axis, the decoder's
        return int(self.kpca_.X_fit_.size + self.kpca_.eigenvectors_.size + self.decoder_.dual_coef_.size)
