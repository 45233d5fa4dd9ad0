"""Random search with a fixed budget of configurations, the same for every model (Bergstra & Bengio,
2012; the protocol of Grinsztajn, Oyallon & Varoquaux, 2022, with their default-first rule).

A model config declares its space under `random_search:` (or, without one, its `search:` grid is
read as a discrete space). Each key is an estimator parameter, or `param.key` inside a dict
parameter (`module_params.dropout`); each value is either a list (one element drawn uniformly) or
one of
    {log_uniform: [low, high]}   {uniform: [low, high]}   {int_uniform: [low, high]}   (bounds inclusive)
`n_configs` configurations are tried: the model's own (default) configuration first, then
`n_configs - 1` distinct ones drawn from the space with the cell's seed (fewer where a small
discrete space holds fewer; `configs_tried` in the row says how many). Each is fitted on the training split less
a validation part (`val_fraction`, stratified for classes) and scored there (accuracy, or R^2 for a
regression); the test split is never seen. The best validation score wins (the earlier on a tie).
With `refit` it is fitted again on all training data; without (the tabular suite's choice, as in
Grinsztajn et al.) the model trained on the training part is the one scored. A configuration that
fails (a bad combination, a diverged network) scores -inf and the search goes on; a time limit
passed ends the search.
"""
from __future__ import annotations

import copy
import inspect
import json
import math

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split

from harness.data.task import take
from harness.core.outcomes import TimeBudgetExceeded

DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform")


def check_space(space: dict) -> None:
    """Raise ValueError for a value that is neither a non-empty list nor a known distribution."""
    for key, value in space.items():
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"search space {key}: an empty list")
            continue
        if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS):
            raise ValueError(f"search space {key}: {value!r} is neither a list nor one of "
                             f"{', '.join('{' + d + ': [low, high]}' for d in DISTRIBUTIONS)}")
        (name, bounds), = value.items()
        if len(bounds) != 2 or not bounds[0] <= bounds[1] or (name == "log_uniform" and bounds[0] <= 0):
            raise ValueError(f"search space {key}: {name} needs [low, high] with low <= high (> 0 for log_uniform)")


def draw(space: dict, rng: np.random.Generator) -> dict:
    """One configuration drawn from the space."""
    config = {}
    for key, value in space.items():
        if isinstance(value, (list, tuple)):
            config[key] = copy.deepcopy(value[rng.integers(len(value))])
            continue
        (name, (low, high)), = value.items()
        if name == "log_uniform":
            config[key] = float(math.exp(rng.uniform(math.log(low), math.log(high))))
        elif name == "uniform":
            config[key] = float(rng.uniform(low, high))
        else:
            config[key] = int(rng.integers(int(low), int(high) + 1))
    return config


def configure(est, config: dict):
    """Set a configuration's values on the estimator; `param.key` sets a key inside a dict parameter."""
    plain = {k: v for k, v in config.items() if "." not in k}
    nested: dict[str, dict] = {}
    params = est.get_params(deep=True)
    for key, value in config.items():
        if "." in key:
            head, *path = key.split(".")
            if head not in params:
                raise ValueError(f"search space {key}: the estimator has no parameter {head!r}")
            node = nested.setdefault(head, copy.deepcopy(params[head]) or {})
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
    return est.set_params(**plain, **nested)


def validation_score(est, X, y) -> float:
    """Accuracy for class targets, R^2 for float ones."""
    pred = est.predict(X)
    if np.issubdtype(np.asarray(y).dtype, np.floating):
        return float(r2_score(y, pred))
    return float(accuracy_score(y, pred))


class RandomSearch(BaseEstimator):
    """The search of the module docstring around one estimator. After fit: `best_estimator_`,
    `best_params_` (the winning configuration's drawn values; {} for the default), `best_score_`
    (its validation score), `n_configs_` (configurations tried) and `results_` (one dict per
    configuration: params, score, error)."""

    def __init__(self, estimator=None, space: dict | None = None, n_configs: int = 10, val_fraction: float = 0.2,
                 refit: bool = False, random_state: int = 0):
        self.estimator = estimator
        self.space = space
        self.n_configs = n_configs
        self.val_fraction = val_fraction
        self.refit = refit
        self.random_state = random_state

    def configurations(self) -> list[dict]:
        """The default configuration, then n_configs - 1 draws (distinct where the space allows)."""
        space = dict(self.space or {})
        check_space(space)
        rng = np.random.default_rng(self.random_state)
        configs, seen = [{}], set()
        for _ in range(max(0, int(self.n_configs) - 1)):
            for _attempt in range(50):
                config = draw(space, rng)
                key = json.dumps(config, sort_keys=True, default=str)
                if key not in seen:
                    break
            else:  # a small discrete space holds fewer distinct configurations than the budget
                break
            seen.add(key)
            configs.append(config)
        return configs

    def fit(self, X, y, on_epoch=None):
        if int(self.n_configs) < 1:
            raise ValueError(f"n_configs must be at least 1, got {self.n_configs}")
        y = np.asarray(y)
        classes = not np.issubdtype(y.dtype, np.floating)
        stratify = y if classes and np.unique(y, return_counts=True)[1].min() >= 2 else None
        tr, va = train_test_split(np.arange(len(y)), test_size=self.val_fraction, stratify=stratify,
                                  random_state=self.random_state)
        X_tr, X_va = take(X, tr), take(X, va)
        self.results_, best, best_est = [], -np.inf, None
        for config in self.configurations():
            est = configure(clone(self.estimator), config)
            try:
                fit_with(est, X_tr, y[tr], on_epoch)
                score = validation_score(est, X_va, y[va])
                error = None
            except TimeBudgetExceeded:
                raise
            except Exception as e:  # noqa: BLE001 - one bad configuration does not end the search
                score, error = -np.inf, f"{type(e).__name__}: {e}".splitlines()[0][:300]
            self.results_.append({"params": config, "score": score, "error": error})
            if np.isfinite(score) and score > best:
                best, best_est, self.best_params_ = score, est, config
        if best_est is None:
            raise RuntimeError(f"every configuration failed; the first: {self.results_[0]['error']}")
        self.best_score_, self.n_configs_ = best, len(self.results_)
        if self.refit:
            best_est = fit_with(configure(clone(self.estimator), self.best_params_), X, y, on_epoch)
        self.best_estimator_ = best_est
        return self

    def predict(self, X):
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        return self.best_estimator_.predict_proba(X)


def fit_with(est, X, y, on_epoch=None):
    """est.fit, passing `on_epoch` where the estimator's fit takes it (deep models report epochs)."""
    if on_epoch is not None and "on_epoch" in inspect.signature(est.fit).parameters:
        return est.fit(X, y, on_epoch=on_epoch)
    return est.fit(X, y)
