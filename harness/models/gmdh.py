"""The Group Method of Data Handling: a polynomial network grown layer by layer (Ivakhnenko, 1971,
"Polynomial theory of complex systems", IEEE Trans. SMC; the method dates from 1965), its
multilayer algorithm (MIA) as described there:

- The training rows are split into a fitting part A and a selection part B (`selection_fraction`
  of them, seeded): the "regularity criterion" is the error on B, which the coefficients never saw.
- Layer 1: for every pair (x_i, x_j) of inputs, a neuron y = a0 + a1 x_i + a2 x_j + a3 x_i x_j +
  a4 x_i^2 + a5 x_j^2 (an Ivakhnenko polynomial) is fitted to the target on A by least squares
  (with a tiny ridge `alpha`, since one-hot columns make some designs singular).
- The `width` neurons with the lowest mean squared error on B survive; their outputs are the
  inputs of the next layer, which is built the same way.
- Growth stops when a layer's best selection error is not lower than the previous layer's (by more
  than a relative `tol`), or at `max_layers`; that layer is discarded and the best neuron of the
  last kept layer is the model's output. How deep it grows is `n_layers_`, chosen by the data.

One guard the 1971 paper does not have: every neuron's output is clipped to the range of the
(standardised) training target. A neuron estimates the target, and the degree of the network's
polynomial doubles with each layer, so without the clip an input a little outside the training
range can send a 10-layer network's prediction to 1e40 (measured on diabetes: test R^2 of -1e44).

`PolynomialNetwork` is the network on numeric arrays; `GMDH` puts it behind the tabular
preprocessing (one-hot categories, standardised numbers) as a regressor. It is a regressor only:
the tabular suite runs it on its regression datasets (claim A11). Fitting is closed-form per
neuron, no gradient descent; the target is standardised inside, predictions are mapped back.

Shape letters: n rows, m inputs of a layer, P pairs, W kept neurons (`width`).
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from harness.tasks.tables import TabularModel

N_COEFFICIENTS = 6


def design(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The quadratic terms of two inputs: (n,), (n,) -> (n, 6)."""
    return np.stack([np.ones_like(a), a, b, a * b, a * a, b * b], axis=1)


class PolynomialNetwork(RegressorMixin, BaseEstimator):
    """GMDH's multilayer network on numeric inputs (module docstring)."""

    def __init__(self, max_layers: int = 20, width: int = 16, selection_fraction: float = 0.33, alpha: float = 1e-6,
                 tol: float = 1e-3, random_state: int = 0):
        self.max_layers = max_layers
        self.width = width
        self.selection_fraction = selection_fraction
        self.alpha = alpha
        self.tol = tol
        self.random_state = random_state

    def _neuron(self, a: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Least-squares coefficients (6,) of one neuron on the fitting rows."""
        M = design(a, b)
        gram = M.T @ M
        gram[np.diag_indices(N_COEFFICIENTS)] += self.alpha * len(a)
        return np.linalg.solve(gram, M.T @ y)

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        y = np.asarray(y, dtype=np.float64)
        if not 0 < self.selection_fraction < 1:
            raise ValueError(f"selection_fraction must be in (0, 1), got {self.selection_fraction}")
        if self.width < 1 or self.max_layers < 1:
            raise ValueError("width and max_layers must be at least 1")
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        t = (y - self.y_mean_) / self.y_std_
        order = np.random.default_rng(self.random_state).permutation(len(X))
        n_select = max(1, int(round(self.selection_fraction * len(X))))
        if len(X) - n_select < N_COEFFICIENTS:
            raise ValueError(f"GMDH needs more than {N_COEFFICIENTS + n_select} rows, got {len(X)}")
        sel, fit = order[:n_select], order[n_select:]
        self.bounds_ = (float(t.min()), float(t.max()))
        inputs = X  # (n, m)
        self.layers_: list[list[tuple[int, int, np.ndarray]]] = []
        self.selection_errors_: list[float] = []
        best = np.inf
        for _ in range(self.max_layers):
            m = inputs.shape[1]
            pairs = list(combinations(range(m), 2)) if m > 1 else [(0, 0)]  # (P,)
            neurons = []
            for i, j in pairs:
                coef = self._neuron(inputs[fit, i], inputs[fit, j], t[fit])
                guess = np.clip(design(inputs[sel, i], inputs[sel, j]) @ coef, *self.bounds_)
                error = float(np.mean((guess - t[sel]) ** 2))
                if np.isfinite(error):
                    neurons.append((error, i, j, coef))
            neurons.sort(key=lambda n: n[0])
            kept = neurons[:self.width]  # (W,)
            if not kept or kept[0][0] >= best * (1 - self.tol):
                break  # no better than the last layer: growth stops, this layer is discarded
            best = kept[0][0]
            self.layers_.append([(i, j, coef) for _, i, j, coef in kept])
            self.selection_errors_.append(best)
            inputs = self._layer(self.layers_[-1], inputs)  # (n, W)
        if not self.layers_:
            raise ValueError("GMDH found no neuron with a finite selection error")
        self.n_layers_ = len(self.layers_)
        return self

    def _layer(self, layer, inputs: np.ndarray) -> np.ndarray:
        """The outputs of one layer's neurons: (n, m) -> (n, W)."""
        return np.stack([np.clip(design(inputs[:, i], inputs[:, j]) @ coef, *self.bounds_) for i, j, coef in layer],
                        axis=1)

    def predict(self, X) -> np.ndarray:
        out = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        for layer in self.layers_:
            out = self._layer(layer, out)
        return out[:, 0] * self.y_std_ + self.y_mean_  # the best neuron of the last layer

    @property
    def n_parameters_(self) -> int:
        """Coefficients of the neurons the output depends on (traced back from the best neuron)."""
        needed, total = {0}, 0
        for layer in reversed(self.layers_):
            total += N_COEFFICIENTS * len(needed)
            needed = {k for n in needed for k in layer[n][:2]}
        return total

    def diagnostics(self, X, y) -> dict:
        return {"n_layers": self.n_layers_}


class GMDH(TabularModel):
    """A GMDH polynomial network on a table: one-hot categories, standardised numbers."""

    __init__ = PolynomialNetwork.__init__  # the network's parameters, stored alike: `build` hands them on by name

    def build(self, kind: str):
        if kind != "regression":
            raise ValueError("GMDH here is a regressor (task: regression); it does not classify")
        return PolynomialNetwork(**self.get_params(deep=False))  # the same settings, by name

    @property
    def n_layers_(self) -> int:
        return self.model_.n_layers_
