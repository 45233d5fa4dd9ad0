"""One cell's work: build the model, fit it, score it, explain it. No files, no display, no config tree.

`execute_cell` takes plain data (a CellSpec and a Task) and returns the measured columns, so the same
code runs in the runner's process or in a worker process that can be killed at the time limit
(harness/core/isolation.py).
"""
from __future__ import annotations

import json
import logging
import random
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.model_selection import GridSearchCV, ShuffleSplit, StratifiedShuffleSplit

from harness.evaluation.boundary import decision_map
from harness.evaluation.budget import still_improving
from harness.data import Task
from harness.evaluation.interpret import COLUMNS as INTERP_COLUMNS, interpret
from harness.core import hardware
from harness.core.measure import count_parameters, measure
from harness.core.safety import check_targets
from harness.core.outcomes import Diverged, TimeBudgetExceeded
from harness.core.tuning import RandomSearch
from harness.tasks import kind as task_kind

log = logging.getLogger("bench")

# on_event(kind, payload): ("epoch", (epoch, max_epochs, loss)) while training, ("fitted", None) after
# fit, ("scored", columns) after prediction, before interpretation.
EventSink = Callable[[str, object], None]


@dataclass
class CellSpec:
    """Everything a cell needs besides its data, as plain values (it crosses process boundaries)."""

    model: dict                   # the model's resolved config: name, family, estimator, search, ...
    seed: int
    device: str
    family: str
    tuned: bool = False
    n_configs: int | None = None   # tuning by random search with this budget; None: the `search` grid
    time_limit: float | None = None
    threads: int | None = None
    interpret: dict | None = None  # interpret settings when interpret=on, else None
    allow_any_target: bool = False
    label: str = field(default="")
    cache_dir: str | None = None  # where evaluators keep what they reuse across cells (paths.cache)
    precision: str | None = None  # overrides every deep model's own precision (harness/deep/precision.py); None: each its own


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_estimator(model_cfg, seed: int, device: str, time_limit: float | None, allow_any_target: bool = False,
                    precision: str | None = None):
    """Instantiate the model and give it the cell's seed, device and time limit where it takes them, and the
    precision if one is given (else it keeps its own)."""
    node = OmegaConf.to_container(model_cfg, resolve=True) if isinstance(model_cfg, DictConfig) else model_cfg
    check_targets(node["estimator"], f"model {node.get('name', '?')}.estimator", allow_any_target)
    est = instantiate(node["estimator"], _convert_="all")
    names = est.get_params(deep=True)
    est.set_params(**{k: seed for k in keys_of(names, "random_state")})
    if "device" in names:
        est.set_params(device=device)
    if "time_limit" in names and time_limit:
        est.set_params(time_limit=time_limit)
    if precision is not None:
        est.set_params(**{k: precision for k in keys_of(names, "precision")})
    return est


def keys_of(params: dict, name: str) -> list[str]:
    """The keys of `get_params(deep=True)` that set `name`: its own, or a pipeline step's (`clf__name`)."""
    return [k for k in params if k == name or k.endswith(f"__{name}")]


def trained_precision(est, family: str) -> str | None:
    """The row's `compute_precision`: what the deep estimator (or a pipeline's deep step) says it computes in
    (its `precision_`, "auto" resolved for its device), "32" for another deep model (its loop ignores the
    setting), None for a classical one. The estimator resolves it: the engine knows no model's precision."""
    for part in [est, *(step for _, step in getattr(est, "steps", []))]:
        precision = getattr(part, "precision_", None)  # a fitted sklearn model's `precision_` is a matrix
        if isinstance(precision, str):
            return precision
    return "32" if family == "deep" else None


def tuning_space(model: dict, n_configs: int | None) -> dict | None:
    """What tuning searches: with a random-search budget, the model's `random_search` space (else its
    `search` grid read as one); without, the `search` grid. None when the model declares nothing."""
    if n_configs:
        return model.get("random_search") or model.get("search") or None
    return model.get("search") or None


def tuned(est, model: dict, seed: int, kind: str, n_configs: int | None = None):
    """Without a budget: a grid search over the model's declared `search` grid, scored on one 20%
    validation split of the training data (stratified where the kind has classes to keep in
    proportion; the test split is never seen), refit on all of train. With `n_configs`: a random search of that many configurations,
    the model's own first, on the same kind of split, the best not refit (harness/core/tuning.py)."""
    if n_configs:
        return RandomSearch(est, tuning_space(model, n_configs), n_configs=n_configs, val_fraction=0.2, refit=False,
                            random_state=seed)
    splitter = StratifiedShuffleSplit if task_kind(kind).stratified_validation else ShuffleSplit
    split = splitter(n_splits=1, test_size=0.2, random_state=seed)
    return GridSearchCV(est, model["search"], cv=split, refit=True, n_jobs=1)


def fit_and_evaluate(est, task: Task, *, family: str, device: str, on_epoch=None, on_fitted=None,
                     cache_dir: str | None = None) -> dict:
    """Train on task's train split, score on its test split; times and sizes of the real work only."""
    fit_kwargs = {"on_epoch": on_epoch} if family == "deep" and on_epoch and not hasattr(est, "cv") else {}
    data = task.training_data()  # outside the timing: reading the task is not training
    with measure(device) as fit_cost:
        est.fit(*data, **fit_kwargs)
    if on_fitted:
        on_fitted()
    # the task's kind scores the fitted model (harness/tasks/<kind>.py)
    row, predict_cost, n_predicted = task_kind(task.kind).evaluate(est, task, device, cache_dir)
    row.update(decision_map(est, task))  # a 2-feature classification's regions, for the report (else nothing)
    row.update(
        train_seconds=fit_cost.wall_seconds,
        train_cpu_seconds=fit_cost.cpu_seconds,
        predict_seconds_per_1k=predict_cost.wall_seconds / n_predicted * 1000,
        peak_memory_mb=max(fit_cost.peak_memory_mb, predict_cost.peak_memory_mb),
        n_parameters=count_parameters(est),
    )
    inner = getattr(est, "best_estimator_", est)
    row["epochs"] = getattr(inner, "n_epochs_", None)
    row["stop_reason"] = stop_reason(inner)
    row["recipe"] = getattr(inner, "recipe_", None)  # a deep model's training recipe in words
    if row["stop_reason"] == "time_limit":  # stopped at the cell's limit: scored, and read as budget-bound
        row["budget_hit"] = 1.0
    if hasattr(inner, "history_"):
        row["final_train_loss"] = inner.history_.train_loss[-1]
        row["loss_still_falling"] = loss_still_falling(inner.history_)
    if hasattr(est, "best_params_"):
        row["best_params"] = json.dumps(est.best_params_, sort_keys=True, default=str)
    if isinstance(est, RandomSearch):  # {} in best_params: the model's own configuration won
        row.update(configs_tried=est.n_configs_, val_score=est.best_score_)
    if hasattr(inner, "diagnostics"):  # a model's own measurements on the test split (e.g. gradient norms)
        row.update(inner.diagnostics(task.X_test, task.y_test))
    return row


def stop_reason(est) -> str | None:
    """What ended training: a budget ("epochs", "steps", "seconds", "iterations": the cap was reached;
    "time_limit": the cell's time limit) or
    what the model decided ("early_stopping", "solved", "converged", "plateau": a generator's Fréchet
    distance stopped improving; "schedule": a one-cycle recipe ran its planned course); None for models
    that do not iterate."""
    final = est.steps[-1][1] if hasattr(est, "steps") and isinstance(est.steps, list) else est
    if getattr(final, "stop_reason_", None):
        return final.stop_reason_
    n_iter, max_iter = getattr(final, "n_iter_", None), getattr(final, "max_iter", None)
    if n_iter is None or not isinstance(max_iter, (int, float)):
        return None
    if max_iter <= 0:  # libsvm's -1: no cap, the solver ran to its tolerance
        return "converged"
    return "iterations" if float(np.max(n_iter)) >= max_iter else "converged"


def loss_still_falling(history) -> bool:
    """Whether training stopped while its loss (validation if measured, else training) was still falling
    by more than 1% over the last quarter of epochs: more budget would likely have helped."""
    curve = [x for x in (history.val_loss or history.train_loss) if np.isfinite(x)]
    if len(curve) < 4:
        return False
    return still_improving(curve, higher_is_better=False, tolerance=0.01 * abs(float(np.median(curve))))


def failure(e: BaseException) -> tuple[str, str]:
    """(status, one-line message) of an exception raised by a cell."""
    if isinstance(e, TimeBudgetExceeded):
        return "timeout", str(e)
    if isinstance(e, Diverged):
        return "diverged", str(e)
    if isinstance(e, (MemoryError, torch.OutOfMemoryError)):
        return "error", f"out of memory: {e}".strip()
    return "error", f"{type(e).__name__}: {e}".strip().splitlines()[0][:500]


def interpretation(est, task: Task, spec: CellSpec) -> dict:
    """The interp_ columns of a cell (empty for a failed one). Interpretation that fails is recorded
    in `interp_error`; the cell keeps its status and scores."""
    cols = dict(INTERP_COLUMNS, interpretable_by_construction=bool(spec.model.get("interpretable", False)),
                interpret_seconds=np.nan)
    if est is None:
        return cols
    t0 = time.perf_counter()
    try:
        return cols | interpret(est, task, OmegaConf.create(spec.interpret), spec.seed)
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - the cell's own results stand without its explanation
        log.debug("interpretation of %s/%s seed %s failed:\n%s", task.name, spec.label, spec.seed,
                  traceback.format_exc())
        return cols | {"interp_error": failure(e)[1], "interpret_seconds": time.perf_counter() - t0}


def execute_cell(spec: CellSpec, task: Task, on_event: EventSink | None = None) -> dict:
    """Fit and score one model on one task. Returns the measured columns plus `status` and `error`
    (and `traceback` when it failed); never raises except KeyboardInterrupt."""
    with hardware.flush_denormals(spec.family == "deep" and spec.device == "cpu"):
        return run_cell_body(spec, task, on_event or (lambda kind, payload: None))


def run_cell_body(spec: CellSpec, task: Task, emit: EventSink) -> dict:
    out: dict = {"status": "ok", "error": None}
    est = None
    try:
        set_seed(spec.seed)
        est = build_estimator(spec.model, spec.seed, spec.device, spec.time_limit, spec.allow_any_target,
                              spec.precision)
        out["compute_precision"] = trained_precision(est, spec.family)
        if spec.tuned:
            est = tuned(est, spec.model, spec.seed, task.kind, spec.n_configs)
        out.update(fit_and_evaluate(est, task, family=spec.family, device=spec.device,
                                    on_epoch=lambda *a: emit("epoch", a), on_fitted=lambda: emit("fitted", None),
                                    cache_dir=spec.cache_dir))
        emit("scored", dict(out))
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - any model failure becomes a row, the suite goes on
        out["status"], out["error"] = failure(e)
        out["traceback"] = traceback.format_exc()
        est = None
    if spec.interpret is not None:
        out.update(interpretation(est, task, spec))
    return out
