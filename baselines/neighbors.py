"""Instance-based learning: k-nearest neighbours (distance-weighted votes)."""
from __future__ import annotations

from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from baselines.preprocessing import flatten, scaler


def knn(n_neighbors: int = 5, weights: str = "distance", scale: bool | str = "auto"):
    return Pipeline([("flatten", flatten()), ("scale", scaler(scale)),
                     ("clf", KNeighborsClassifier(n_neighbors=n_neighbors, weights=weights, n_jobs=-1))])
