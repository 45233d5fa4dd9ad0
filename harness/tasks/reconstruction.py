"""Task kind `reconstruction` (and the reducer contract that `anomaly` detectors built on
reconstruction share).

Reducers encode each input into a code of `code_size` numbers and decode the code back into an
input. PCA and kernel PCA (baselines/decomposition.py) and the autoencoder
(harness/deep/autoencoder.py) share this face, so that the unsupervised suite compares them at
equal code sizes on the same terms:

- `transform(X)`: the codes (N, d); `reconstruct(X)`: decoded codes, in X's shape;
- `anomaly_score(X)`: each input's mean squared reconstruction error (higher = more anomalous: an
  input unlike the training data is rebuilt worse);
- `predict(X)`: what the task kind scores, chosen by `output`: "reconstruction" for a
  reconstruction task (scored by MSE per input value against X itself), "anomaly_score" for an
  anomaly task (scored by ROC-AUC and PR-AUC);
- `diagnostics(X_test, y_test)`: extra columns of the row. With labels (a reconstruction task):
  `knn_accuracy`, the accuracy of a k-nearest-neighbour classifier fitted on the training codes and
  their labels and scored on the test codes (k = KNN_K for every model, plain Euclidean distance on
  the codes as the model gives them, majority vote), and `knn_input_accuracy`, the same classifier
  on the raw inputs, the reference a code must keep up with. The labels reach `fit` only to be
  stored for this probe: no reducer looks at them while it learns.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.neighbors import KNeighborsClassifier


KNN_K = 5



OUTPUTS = ("reconstruction", "anomaly_score")



def flat(X) -> np.ndarray:
    """(N, ...) -> (N, D) float32."""
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1)



def knn_accuracy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> float:
    knn = KNeighborsClassifier(n_neighbors=min(KNN_K, len(train)), n_jobs=1).fit(train, y_train)
    return float(np.mean(knn.predict(test) == np.asarray(y_test)))



class Reducer:
    """The shared face (module docstring). A subclass sets `code_size` and `output` in __init__ and
    defines `fit_reducer(X (N, D) float32, on_epoch)` (which may return the training codes, when it has
    them anyway), `encode(X (N, D)) -> (N, d)` and `decode(Z (N, d)) -> (N, D)`."""

    def fit(self, X, y=None, on_epoch: Callable[[int, int, float], None] | None = None):
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {self.output!r}")
        if int(self.code_size) < 1:
            raise ValueError(f"code_size must be at least 1, got {self.code_size}")
        X = np.asarray(X, dtype=np.float32)
        self.input_shape_ = tuple(X.shape[1:])
        codes = self.fit_reducer(flat(X), on_epoch)
        self.train_codes_ = self.transform(X) if codes is None else np.asarray(codes, dtype=np.float32)
        labels = None if y is None else np.asarray(y)
        probe = self.output == "reconstruction" and labels is not None and len(np.unique(labels)) > 1
        self.train_labels_ = labels if probe else None  # kept for the k-NN probe of diagnostics only
        self.train_inputs_ = flat(X) if probe else None
        return self

    def transform(self, X) -> np.ndarray:
        return np.asarray(self.encode(flat(X)), dtype=np.float32)

    def reconstruct(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return np.asarray(self.decode(self.encode(flat(X))), dtype=np.float32).reshape(X.shape)

    def anomaly_score(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        return ((flat(self.reconstruct(X)) - flat(X)) ** 2).mean(axis=1)

    def predict(self, X) -> np.ndarray:
        return self.reconstruct(X) if self.output == "reconstruction" else self.anomaly_score(X)

    def diagnostics(self, X_test, y_test) -> dict[str, float]:
        out = {"code_size": float(self.code_size)}
        if self.output == "reconstruction" and self.train_labels_ is not None:
            out["knn_accuracy"] = knn_accuracy(self.train_codes_, self.train_labels_, self.transform(X_test), y_test)
            out["knn_input_accuracy"] = knn_accuracy(self.train_inputs_, self.train_labels_, flat(X_test), y_test)
        return out
