"""Kernel methods: the support vector machine with a radial basis function kernel."""
from __future__ import annotations

from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from baselines.preprocessing import flatten, scaler


def rbf_svm(C: float = 10.0, gamma: str | float = "scale", scale: bool | str = "auto", random_state: int = 0):
    # probability=False: Platt scaling costs a 5-fold refit; predict_proba is not needed for accuracy.
    return Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                     ("clf", SVC(C=C, gamma=gamma, cache_size=1000, random_state=random_state))])
