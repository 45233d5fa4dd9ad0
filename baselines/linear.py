"""Linear classifiers: multinomial logistic regression, a linear support vector machine, and
Rosenblatt's perceptron as scikit-learn implements it (the classical reference for the torch one)."""
from __future__ import annotations

from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from baselines.preprocessing import flatten, scaler


def logistic_regression(C: float = 1.0, max_iter: int = 1000, scale: bool | str = "auto", random_state: int = 0):
    return Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                     ("clf", LogisticRegression(C=C, max_iter=max_iter, random_state=random_state))])


def linear_svm(C: float = 0.1, max_iter: int = 5000, scale: bool | str = "auto", random_state: int = 0):
    # The dual coordinate-descent solver: on 4,000 x 784 MNIST it fits in 0.1 s where the primal
    # solver that dual="auto" picks (samples > features) took 100 s for the same accuracy.
    return Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                     ("clf", LinearSVC(C=C, max_iter=max_iter, dual=True, random_state=random_state))])


def perceptron_sklearn(eta0: float = 1.0, max_iter: int = 1000, tol: float | None = 1e-3, scale: bool | str = "auto",
                       random_state: int = 0):
    # scikit-learn's Perceptron is Rosenblatt's online rule: one sample at a time, shuffled each epoch,
    # weights moved by eta0 * x only on a mistake (one-vs-rest for more than two classes). On data
    # no line separates it never converges: it stops when an epoch's loss has not improved by `tol`
    # for five epochs, or after max_iter epochs, and keeps the weights it ends with.
    return Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                     ("clf", Perceptron(eta0=eta0, max_iter=max_iter, tol=tol, random_state=random_state))])
