"""The kernel SVM's predictions through BLAS (baselines/kernel.py BlasRBFSVC) are libsvm's: the same
labels and the same decision values to rounding, on real images, for many classes and for two."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from baselines.kernel import BlasRBFSVC, rbf_svm


def scaled_digits(classes: int):
    d = load_digits()
    keep = d.target < classes
    X, y = StandardScaler().fit_transform(d.data[keep]), d.target[keep] + 3  # labels that are not 0..K-1
    half = len(X) // 2
    return X[:half], y[:half], X[half:], y[half:]


@pytest.mark.parametrize("classes", [10, 3, 2])
def test_blas_predictions_are_libsvms(classes):
    X, y, X_test, _ = scaled_digits(classes)
    libsvm = SVC(C=10.0, gamma="scale", random_state=0).fit(X, y)
    blas = BlasRBFSVC(C=10.0, gamma="scale", random_state=0).fit(X, y)
    np.testing.assert_array_equal(blas.predict(X_test), libsvm.predict(X_test))
    np.testing.assert_allclose(blas.decision_function(X_test), libsvm.decision_function(X_test), rtol=0, atol=1e-9)
    ovo = libsvm.set_params(decision_function_shape="ovo").decision_function(X_test)
    np.testing.assert_allclose(blas.set_params(decision_function_shape="ovo").decision_function(X_test), ovo,
                               rtol=0, atol=1e-9)


def test_blocks_of_rows_give_the_same_values(monkeypatch):
    import baselines.kernel as kernel

    X, y, X_test, _ = scaled_digits(10)
    blas = BlasRBFSVC(C=10.0, gamma="scale").fit(X, y)
    whole = blas.decision_function(X_test)
    monkeypatch.setattr(kernel, "ROWS_PER_BLOCK", 7)
    np.testing.assert_allclose(blas.decision_function(X_test), whole, rtol=0, atol=1e-12)  # BLAS rounds by shape


def test_other_kernels_are_libsvms_own():
    X, y, X_test, _ = scaled_digits(4)
    blas = BlasRBFSVC(kernel="poly", degree=2).fit(X, y)
    np.testing.assert_array_equal(blas.predict(X_test), SVC(kernel="poly", degree=2).fit(X, y).predict(X_test))


def test_the_baseline_uses_it():
    assert isinstance(rbf_svm().named_steps["clf"], BlasRBFSVC)
