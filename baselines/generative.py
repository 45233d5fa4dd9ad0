"""Classical generative models of images: densities on PCA components, sampled and mapped back to pixels.

Each fits one PCA (`n_components`, on all training images), then, per class (conditional, the
default) or once (unconditional), a density over the components; a sample is drawn from the
density and mapped back with the PCA's inverse, clipped to [0, 1]. Per-class fits make every model
conditional at no extra cost. The contract (fit, sample, conditional_) is harness/tasks/generation.py's.

- `PCAGaussian`: a full-covariance Gaussian over the components (probabilistic PCA's cousin).
- `PCAGMM`: a Gaussian mixture over the components, its number of mixture components picked per
  class by BIC among `mixture_components`.
- `PCAKDE`: a Gaussian kernel density estimate over the components; one bandwidth per class,
  picked by 3-fold cross-validated log-likelihood among `bandwidths` (multiples of the mean standard
  deviation of the components). On the PCA components rather than on pixels: in 784 dimensions the
  likelihood-optimal bandwidth is so small next to the distances between images that the estimate
  is the training set itself. A KDE sample is a training image's components plus Gaussian noise,
  so it is close to a training image by construction (the row's `nn_distance_ratio` shows it).
"""
from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KernelDensity

from harness.tasks.generation import GenerativeModel


class PCADensity(GenerativeModel):
    """What the three share: the PCA, one density per class, sampling class by class. A subclass
    defines `fit_density(Z, rng)` -> density and `draw_density(density, m, rng)` -> (m, d), and
    `density_size(density)`, the numbers it stores."""

    def fit_images(self, X, y, on_epoch=None):
        flat = X.reshape(len(X), -1)
        d = min(self.n_components, *flat.shape)
        self.pca_ = PCA(n_components=d, random_state=self.random_state).fit(flat)
        Z = self.pca_.transform(flat)
        rng = np.random.default_rng(self.random_state)
        groups = [Z] if y is None else [Z[y == k] for k in range(len(self.classes_))]
        self.densities_ = [self.fit_density(g, rng) for g in groups]

    def draw(self, n, y, seed):
        rng = np.random.default_rng(seed)
        Z = np.empty((n, self.pca_.n_components_))
        if y is None:
            Z[:] = self.draw_density(self.densities_[0], n, rng)
        else:
            for k in np.unique(y):
                Z[y == k] = self.draw_density(self.densities_[k], int((y == k).sum()), rng)
        return self.pca_.inverse_transform(Z)

    @property
    def n_parameters_(self) -> int:
        return int(self.pca_.components_.size + self.pca_.mean_.size
                   + sum(self.density_size(d) for d in self.densities_))

    def diagnostics(self, X, y) -> dict:
        return {"pca_components": int(self.pca_.n_components_),
                "explained_variance": float(self.pca_.explained_variance_ratio_.sum())}


def gaussian_size(d: int) -> int:
    return d + d * (d + 1) // 2  # mean and a symmetric covariance


class PCAGaussian(PCADensity):
    def __init__(self, n_components: int = 32, conditional: bool = True, random_state: int = 0):
        self.n_components = n_components
        self.conditional = conditional
        self.random_state = random_state

    def fit_density(self, Z, rng):
        cov = np.cov(Z, rowvar=False) if len(Z) > 1 else np.zeros((Z.shape[1], Z.shape[1]))
        return Z.mean(axis=0), np.atleast_2d(cov) + 1e-6 * np.eye(Z.shape[1])

    def draw_density(self, density, m, rng):
        mean, cov = density
        return rng.multivariate_normal(mean, cov, size=m, method="eigh")

    def density_size(self, density) -> int:
        return gaussian_size(len(density[0]))


class PCAGMM(PCADensity):
    def __init__(self, n_components: int = 32, mixture_components: tuple[int, ...] | list[int] = (1, 2, 4, 8),
                 covariance_type: str = "full", reg_covar: float = 1e-4, conditional: bool = True,
                 random_state: int = 0):
        self.n_components = n_components
        self.mixture_components = mixture_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.conditional = conditional
        self.random_state = random_state

    def fit_density(self, Z, rng):
        if self.covariance_type not in ("full", "diag"):
            raise ValueError(f"covariance_type must be full or diag, got {self.covariance_type!r}")
        fits = [GaussianMixture(m, covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                                random_state=self.random_state).fit(Z)
                for m in sorted(set(self.mixture_components)) if m <= len(Z)]
        return min(fits, key=lambda g: g.bic(Z))

    def draw_density(self, gmm, m, rng):
        # Drawn with this rng rather than GaussianMixture.sample, which reseeds from its random_state.
        which = rng.choice(len(gmm.weights_), size=m, p=gmm.weights_)
        out = np.empty((m, gmm.means_.shape[1]))
        for j in np.unique(which):
            cov = gmm.covariances_[j] if self.covariance_type == "full" else np.diag(gmm.covariances_[j])
            out[which == j] = rng.multivariate_normal(gmm.means_[j], cov, size=int((which == j).sum()), method="eigh")
        return out

    def density_size(self, gmm) -> int:
        d = gmm.means_.shape[1]
        per = gaussian_size(d) if self.covariance_type == "full" else 2 * d
        return len(gmm.weights_) * (per + 1)

    def diagnostics(self, X, y):
        return super().diagnostics(X, y) | {"mixture_components": float(np.mean([len(g.weights_) for g in self.densities_]))}


class PCAKDE(PCADensity):
    def __init__(self, n_components: int = 32, bandwidths: tuple[float, ...] | list[float] | None = None,
                 conditional: bool = True, random_state: int = 0):
        self.n_components = n_components
        self.bandwidths = bandwidths
        self.conditional = conditional
        self.random_state = random_state

    def fit_density(self, Z, rng):
        scale = float(np.sqrt(Z.var(axis=0).mean())) or 1.0
        factors = self.bandwidths if self.bandwidths is not None else np.geomspace(0.05, 2.0, 16)
        grid = {"bandwidth": [f * scale for f in factors]}
        folds = min(3, len(Z))
        if folds < 2:
            return KernelDensity(bandwidth=grid["bandwidth"][len(factors) // 2]).fit(Z)
        search = GridSearchCV(KernelDensity(kernel="gaussian"), grid,
                              cv=KFold(folds, shuffle=True, random_state=self.random_state)).fit(Z)
        return search.best_estimator_

    def draw_density(self, kde, m, rng):
        return kde.sample(m, random_state=int(rng.integers(2**31)))

    def density_size(self, kde) -> int:
        return int(np.asarray(kde.tree_.data).size) + 1  # the stored points and the bandwidth

    def diagnostics(self, X, y):
        return super().diagnostics(X, y) | {"bandwidth": float(np.mean([k.bandwidth_ for k in self.densities_]))}
