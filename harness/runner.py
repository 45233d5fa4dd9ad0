"""The runner: plan the cells of one job, run each through fit/evaluate, write one row per cell.

A cell is (dataset, model, params, seed, training size). Every cell is isolated: a model that
raises, diverges or passes its time limit becomes a row with that status and the suite goes on.
Rows reach disk the moment their cell ends.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedShuffleSplit

from harness import hardware
from harness.config import Plan, resolve_plan
from harness.data import DatasetError, Task
from harness.data.task import stratified_subset
from harness.display import RunDisplay, console, summary_tables
from harness.interpret import COLUMNS as INTERP_COLUMNS, interpret
from harness.metrics import classification_scores, count_parameters, measure
from harness.results import RunStore
from harness.training import Diverged, TimeBudgetExceeded

log = logging.getLogger("bench")


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def params_of(model_cfg: DictConfig) -> tuple[str, str]:
    """The model's hyperparameters as canonical JSON, and a short id for file names."""
    params = OmegaConf.to_container(model_cfg.estimator, resolve=True)
    text = json.dumps(params, sort_keys=True, default=str)
    return text, hashlib.sha1(text.encode()).hexdigest()[:8]


def build_estimator(model_cfg: DictConfig, seed: int, device: str, time_limit: float | None):
    """Instantiate the model and give it the cell's seed, device and time limit where it takes them."""
    est = instantiate(model_cfg.estimator, _convert_="all")
    names = est.get_params(deep=True)
    est.set_params(**{k: seed for k in names if k == "random_state" or k.endswith("__random_state")})
    if "device" in names:
        est.set_params(device=device)
    if "time_limit" in names and time_limit:
        est.set_params(time_limit=time_limit)
    return est


def tuned(est, model_cfg: DictConfig, seed: int):
    """A grid search over the model's declared `search` grid, scored on one stratified 20% validation
    split of the training data (the test split is never seen), refit on all of train."""
    grid = OmegaConf.to_container(model_cfg.search, resolve=True)
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
    return GridSearchCV(est, grid, cv=split, refit=True, n_jobs=1)


def fit_and_evaluate(est, task: Task, *, family: str, device: str, on_epoch=None) -> dict:
    """Train on task's train split, score on its test split; times and sizes of the real work only."""
    fit_kwargs = {"on_epoch": on_epoch} if family == "deep" and on_epoch and not hasattr(est, "cv") else {}
    with measure(device) as fit_cost:
        est.fit(task.X_train, task.y_train, **fit_kwargs)
    with measure(device) as predict_cost:
        y_pred = est.predict(task.X_test)
    row = classification_scores(task.y_test, y_pred)
    row.update(
        train_seconds=fit_cost.wall_seconds,
        train_cpu_seconds=fit_cost.cpu_seconds,
        predict_seconds_per_1k=predict_cost.wall_seconds / len(task.y_test) * 1000,
        peak_memory_mb=max(fit_cost.peak_memory_mb, predict_cost.peak_memory_mb),
        n_parameters=count_parameters(est),
    )
    inner = getattr(est, "best_estimator_", est)
    row["epochs"] = getattr(inner, "n_epochs_", None)
    if hasattr(inner, "history_"):
        row["final_train_loss"] = inner.history_.train_loss[-1]
    if hasattr(est, "best_params_"):
        row["best_params"] = json.dumps(est.best_params_, sort_keys=True, default=str)
    return row


def failure(e: BaseException) -> tuple[str, str]:
    if isinstance(e, TimeBudgetExceeded):
        return "timeout", str(e)
    if isinstance(e, Diverged):
        return "diverged", str(e)
    if isinstance(e, (MemoryError, torch.OutOfMemoryError)):
        return "error", f"out of memory: {e}".strip()
    return "error", f"{type(e).__name__}: {e}".strip().splitlines()[0][:500]


def task_overrides(cfg: DictConfig) -> list[str]:
    """The job's command-line overrides. Inside a Hydra app they live in HydraConfig, not in cfg."""
    found = OmegaConf.select(cfg, "hydra.overrides.task", default=None)
    if found is None:
        from hydra.core.hydra_config import HydraConfig

        found = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    return list(found)


class Runner:
    """Runs the plan of one Hydra job into one run folder."""

    def __init__(self, cfg: DictConfig, run_dir: Path, job: str = "0"):
        self.cfg, self.job = cfg, job
        self.plan: Plan = resolve_plan(cfg)
        self.device = hardware.resolve_device(cfg.hardware.device)
        self.threads = hardware.configure_threads(cfg.hardware.threads)
        self.store = RunStore(run_dir)
        self.machine = hardware.machine_info(self.device, self.threads)
        self.commit = hardware.git_commit()

    def provenance(self, started: str, ended: str | None = None) -> dict:
        return {
            "suite": self.plan.suite, "job": self.job,
            "overrides": task_overrides(self.cfg),
            "config": OmegaConf.to_container(self.cfg, resolve=True) | {"hydra": None},
            "datasets": {k: OmegaConf.to_container(v, resolve=True) for k, v in self.plan.datasets.items()},
            "models": {k: OmegaConf.to_container(v, resolve=True) for k, v in self.plan.models.items()},
            "git_commit": self.commit, "versions": hardware.package_versions(), "machine": self.machine,
            "started": started, "ended": ended,
        }

    def cell_count(self) -> int:
        sizes = self.cfg.scaling.get("sizes") or [None] * self.cfg.scaling.get("points", 1)
        return len(self.plan.datasets) * len(self.plan.models) * len(self.plan.seeds) * len(sizes)

    def training_sizes(self, task: Task) -> list[int]:
        """The training-set sizes of the learning curve (just the full split when scaling is off)."""
        scaling, n = self.cfg.scaling, task.n_train
        if not scaling.enabled:
            return [n]
        if scaling.get("sizes"):
            return sorted({min(int(s), n) for s in scaling.sizes})
        smallest = min(n, scaling.min_per_class * task.n_classes)
        return sorted({int(round(s)) for s in np.geomspace(smallest, n, scaling.points)})

    def run(self) -> int:
        """Run every cell; return the exit code: 0 if all cells are ok, 1 if any failed, 130 on Ctrl-C."""
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        info_name = "run.json" if self.job == "0" else f"jobs/{self.job}/run.json"
        self.store.write_json(info_name, self.provenance(started))
        failed, interrupted = 0, False
        try:
            with RunDisplay(self.cell_count()) as display:
                for ds_name, ds_cfg in self.plan.datasets.items():
                    for seed in self.plan.seeds:
                        failed += self.run_dataset(ds_name, ds_cfg, seed, display)
        except KeyboardInterrupt:
            interrupted = True
        ended = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.store.write_json(info_name, self.provenance(started, ended))
        df = self.store.consolidate()
        if len(df):
            for table in summary_tables(df[df["suite"] == self.plan.suite]):
                console.print(table)
        if interrupted:
            console.print(f"[yellow]interrupted[/]: {len(df)} finished cells kept in {self.store.folder}")
            return 130
        return 1 if failed else 0

    def load_task(self, ds_cfg: DictConfig, seed: int) -> Task:
        task = instantiate(ds_cfg.load, seed=seed, _convert_="all")
        profile = self.cfg.profile
        if profile.max_train:
            task = task.subsample_train(profile.max_train, seed)
        if profile.max_test and profile.max_test < len(task.y_test):
            idx = stratified_subset(task.y_test, profile.max_test, seed)
            task.X_test, task.y_test = task.X_test[idx], task.y_test[idx]
        return task

    def run_dataset(self, ds_name: str, ds_cfg: DictConfig, seed: int, display: RunDisplay) -> int:
        """All models on one dataset and seed; returns how many cells failed."""
        try:
            full = self.load_task(ds_cfg, seed)
        except (DatasetError, OSError, ValueError) as e:
            # The dataset cannot be had: one error row per model, so the gap is visible in results.
            display.print(f"[red]dataset {ds_name}[/]: {e}")
            for model_cfg in self.plan.models.values():
                row = self.base_row(ds_name, model_cfg, seed, 0, 0)
                row.update(status="error", error=f"dataset: {str(e).splitlines()[0]}")
                self.store.write_row(row)
                display.end_cell(row)
            return len(self.plan.models)
        failed = 0
        for size in self.training_sizes(full):
            task = full.subsample_train(size, seed)
            for model_cfg in self.plan.models.values():
                row = self.run_cell(task, model_cfg, seed, display)
                failed += row["status"] != "ok"
        return failed

    def base_row(self, ds_name: str, model_cfg: DictConfig, seed: int, n_train: int, n_test: int) -> dict:
        params, params_id = params_of(model_cfg)
        family = str(model_cfg.get("family", "deep"))
        return {
            "suite": self.plan.suite, "dataset": ds_name, "model": str(model_cfg.name),
            "variant": str(model_cfg.get("variant") or ""),
            "family": family, "params": params, "params_id": params_id,
            "seed": int(seed), "n_train": int(n_train), "n_test": int(n_test), "profile": self.cfg.profile.name,
            "tuned": bool((self.cfg.tune or self.cfg.suite.get("tune", False)) and model_cfg.get("search")),
            "device": self.device if family == "deep" else "cpu",
            "cpu_model": self.machine["cpu_model"], "gpu_name": self.machine["gpu_name"],
            "torch_threads": self.threads, "git_commit": self.commit, "job": self.job,
            "status": "ok", "error": None,
            "accuracy": np.nan, "f1_macro": np.nan, "train_seconds": np.nan, "train_cpu_seconds": np.nan,
            "predict_seconds_per_1k": np.nan, "peak_memory_mb": np.nan, "n_parameters": None, "epochs": None,
            "final_train_loss": np.nan,
            "best_params": None,
            "cell_started": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f"), "cell_seconds": np.nan,
        }

    def interpretation(self, est, task: Task, model_cfg: DictConfig, seed: int) -> dict:
        """The interp_ columns of a cell (empty for a failed one). Interpretation that fails is recorded
        in `interp_error`; the cell keeps its status and scores."""
        cols = dict(INTERP_COLUMNS, interpretable_by_construction=bool(model_cfg.get("interpretable", False)),
                    interpret_seconds=np.nan)
        if est is None:
            return cols
        t0 = time.perf_counter()
        try:
            return cols | interpret(est, task, self.cfg.interpret, seed)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - the cell's own results stand without its explanation
            log.debug("interpretation of %s/%s seed %s failed:\n%s", task.name, model_cfg.name, seed,
                      traceback.format_exc())
            return cols | {"interp_error": failure(e)[1], "interpret_seconds": time.perf_counter() - t0}

    def run_cell(self, task: Task, model_cfg: DictConfig, seed: int, display: RunDisplay) -> dict:
        row = self.base_row(task.name, model_cfg, seed, task.n_train, len(task.y_test))
        label = row["model"] + (f"[{row['variant']}]" if row["variant"] else "")
        display.start_cell(task.name, label, seed, task.n_train)
        t0 = time.perf_counter()
        try:
            set_seed(seed)
            est = build_estimator(model_cfg, seed, row["device"], self.cfg.get("time_limit"))
            if row["tuned"]:
                est = tuned(est, model_cfg, seed)
            row.update(fit_and_evaluate(est, task, family=row["family"], device=row["device"], on_epoch=display.on_epoch))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - any model failure becomes a row, the suite goes on
            row["status"], row["error"] = failure(e)
            log.debug("cell %s/%s seed %s failed:\n%s", task.name, label, seed, traceback.format_exc())
        if self.cfg.interpret.enabled:
            row.update(self.interpretation(est if row["status"] == "ok" else None, task, model_cfg, seed))
        row["cell_seconds"] = time.perf_counter() - t0
        self.store.write_row(row)
        display.end_cell(row)
        return row
