"""Probabilistic baselines: Gaussian naive Bayes."""
from __future__ import annotations

from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline

from baselines.preprocessing import flatten


def gaussian_nb(var_smoothing: float = 1e-2):
    # Pixels that are constant within a class give zero variance; smoothing of 1e-2 (of the
    # largest feature variance) rather than the default 1e-9 keeps those from dominating.
    return Pipeline([("flatten", flatten()), ("clf", GaussianNB(var_smoothing=var_smoothing))])
