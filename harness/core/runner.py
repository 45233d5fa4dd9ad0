"""The runner: plan the cells of one job, run each through fit/evaluate, write one row per cell.

A cell is (dataset, model, params, seed, training size). Every cell is isolated: by default it runs
in its own child process (harness/core/isolation.py), and a model that raises, diverges, crashes or
passes its time limit becomes a row with that status while the suite goes on. A cell that an
earlier run of the same suite already finished with the same config and code is copied, not run
again (harness/core/resume.py). Rows reach disk the moment their cell ends.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from concurrent.futures import wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from rich.markup import escape

from harness.core import hardware
from harness.core.calibration import calibrate
from harness.core.cell import CellSpec, build_estimator, execute_cell, set_seed, tuning_space  # noqa: F401 - re-exported
from harness.core.config import Plan, resolve_plan
from harness.data import DatasetError, Task
from harness.data.task import as_kind, stratified_subset, take
from harness.core.display import RunDisplay, console, summary_tables
from harness.core.isolation import call_in_child, run_isolated, start_server
from harness.results.schema import CELL_STARTED_FORMAT, MEASURES
from harness.results.store import RunStore
from harness.results.tracking import open_tracker
from harness.core.resume import ResumeIndex, cell_key, code_version, data_fingerprint
from harness.core.safety import imported_values
from harness.core.scheduling import CellPool, cost_sources, expected_seconds, resolve_workers, threads_per_cell
from harness.tasks import default_kinds

log = logging.getLogger("bench")


def params_of(model_cfg: DictConfig) -> tuple[str, str]:
    """The model's hyperparameters as canonical JSON, and a short id for file names."""
    params = OmegaConf.to_container(model_cfg.estimator, resolve=True)
    text = json.dumps(params, sort_keys=True, default=str)
    return text, hashlib.sha1(text.encode()).hexdigest()[:8]


def plan_modules(plan: Plan) -> list[str]:
    """The modules the plan's models and loaders live in (what their `_target_` and `module` name)."""
    found = []
    for node in [*plan.datasets.values(), *plan.models.values()]:
        for _, path in imported_values(OmegaConf.to_container(node, resolve=True)):
            found.append(path.rpartition(".")[0])
    return [m for m in dict.fromkeys(found) if m]


def serves(model_cfg: DictConfig, kind: str | None) -> bool:
    """Whether a model runs on a task of this kind: a model config's `task:` (one kind or a list)
    names the kinds it does (a language model, a generator, a reducer, an anomaly detector); a model
    without one does the kinds that say `default_for_models` (harness/tasks/). An unknown kind (None: a dataset config that does not say)
    matches every model."""
    if kind is None:
        return True
    declared = model_cfg.get("task") or default_kinds()
    return kind in ([declared] if isinstance(declared, str) else list(declared))


def task_overrides(cfg: DictConfig) -> list[str]:
    """The job's command-line overrides. Inside a Hydra app they live in HydraConfig, not in cfg."""
    found = OmegaConf.select(cfg, "hydra.overrides.task", default=None)
    if found is None:
        from hydra.core.hydra_config import HydraConfig

        found = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    return list(found)


def search_budget(cfg: DictConfig) -> int | None:
    """The random-search budget: `n_configs=N` on the command line, else the suite's `n_configs` (a
    number, or one per profile name); None (no budget) tunes by the `search` grid."""
    chosen = cfg.get("n_configs")
    if chosen is None:
        chosen = cfg.suite.get("n_configs")
        if isinstance(chosen, DictConfig):
            chosen = chosen.get(cfg.profile.name)
    return None if chosen is None else int(chosen)


class Runner:
    """Runs the plan of one Hydra job into one run folder."""

    def __init__(self, cfg: DictConfig, run_dir: Path, job: str = "0"):
        self.cfg, self.job = cfg, job
        self.plan: Plan = resolve_plan(cfg)
        self.allow_any_target = bool(cfg.get("allow_any_target", False))  # resolve_plan checked the targets
        self.device = hardware.resolve_device(cfg.hardware.device)
        # hardware.threads null leaves torch's default (a thread per core) unless the suite names its own
        # (`threads:`, for suites of small networks, which gain nothing from more and lose much on a busy machine)
        self.isolate = str(cfg.get("isolation", "process")) == "process"
        asked = cfg.hardware.threads or cfg.suite.get("threads")
        self.workers = resolve_workers(cfg.hardware.get("workers", 1), threads=asked, device=self.device,
                                       isolated=self.isolate, suite_cap=cfg.suite.get("workers"))
        self.threads = hardware.configure_threads(threads_per_cell(asked, self.workers))
        self.cancel = threading.Event()  # Ctrl-C: cells running in the pool's threads stop
        if self.isolate:
            start_server(plan_modules(self.plan))
        self.store = RunStore(run_dir)
        self.run_id = f"{self.plan.suite}/{Path(run_dir).name}"  # in every row: whose run it is (jobs of a sweep share it)
        self.machine = hardware.machine_info(self.device, self.threads)
        self.commit = hardware.git_commit()
        self.versions = hardware.package_versions()
        self.code_version = code_version()
        self.resume = (ResumeIndex(Path(cfg.paths.results) / self.plan.suite, exclude=self.store.folder)
                       if cfg.get("resume", True) else None)
        self.n_configs = search_budget(cfg)
        self.calibration: dict | None = None
        self.reused = 0  # cells copied from earlier runs instead of run
        self.lock = threading.Lock()
        self.cost: Callable | None = None  # seconds per training example by model, for longest-first order
        self.tracker = None  # MLflow, with +tracking=mlflow (harness/results/tracking.py)

    def provenance(self, started: str, ended: str | None = None) -> dict:
        return {
            "suite": self.plan.suite, "job": self.job,
            "overrides": task_overrides(self.cfg),
            "config": OmegaConf.to_container(self.cfg, resolve=True) | {"hydra": None},
            "datasets": {k: OmegaConf.to_container(v, resolve=True) for k, v in self.plan.datasets.items()},
            "models": {k: OmegaConf.to_container(v, resolve=True) for k, v in self.plan.models.items()},
            "git_commit": self.commit, "code_version": self.code_version, "versions": self.versions,
            "machine": self.machine, "workers": self.workers, "calibration": self.calibration,
            "started": started, "ended": ended,
        }

    def cell_count(self) -> int:
        """Cells to run, by each dataset config's declared `task:` kind where it has one (the loaded
        task's kind decides which models run)."""
        sizes = self.cfg.scaling.get("sizes") or [None] * self.cfg.scaling.get("points", 1)
        return sum(sum(serves(m, ds.get("task")) for m in self.plan.models_for(name)) * len(self.plan.seeds_for(name))
                   for name, ds in self.plan.datasets.items()) * len(sizes)

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
        # Measured where cells run (a child process once the forkserver is up), on the cells' threads.
        self.calibration = call_in_child(calibrate, self.threads) if self.isolate else calibrate()
        self.store.write_json(info_name, self.provenance(started))
        self.tracker = open_tracker(self.cfg, self.plan.suite, self.run_id)
        if self.tracker is not None:
            self.tracker.start(self.provenance(started))
        failed, interrupted = 0, False
        try:
            with RunDisplay(self.cell_count(), epochs=self.workers == 1) as display, CellPool(self.workers) as pool:
                try:
                    # Several workers: one longest-first queue over every dataset and seed, so that the
                    # short cells of one dataset fill the gaps beside the long ones of another (every task
                    # is then loaded before the first cell starts). One: in order, one task at a time.
                    queue = []
                    for ds_name, ds_cfg in self.plan.datasets.items():
                        for seed in self.plan.seeds_for(ds_name):
                            lost, cells = self.cells_of(ds_name, ds_cfg, seed, display)
                            failed += lost
                            if self.workers > 1:
                                queue += cells
                            else:
                                for _, job in cells:
                                    pool.submit(job)
                    for _, job in sorted(queue, key=lambda c: -c[0]):
                        pool.submit(job)
                    # Inside the try: Ctrl-C while the last cells run must cancel them too (from the finally
                    # below it did not, and the pool's shutdown then waited for a long cell to end)
                    wait(pool.futures)
                except KeyboardInterrupt:
                    self.cancel.set()
                    raise
                finally:
                    wait(pool.futures)
                rows = [f.result() for f in pool.futures if not f.cancelled() and f.exception() is None]
                if any(isinstance(f.exception(), KeyboardInterrupt) for f in pool.futures if not f.cancelled()):
                    raise KeyboardInterrupt
                failed += sum(row["status"] != "ok" for row in rows)
                for f in pool.futures:  # a fault of bench itself (not of a model: those are rows) stays loud
                    if not f.cancelled() and f.exception() is not None:
                        raise f.exception()
        except KeyboardInterrupt:
            interrupted = True
        ended = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.store.write_json(info_name, self.provenance(started, ended))
        if self.tracker is not None:
            self.tracker.end(self.store.folder / info_name, interrupted)
        df = self.store.consolidate()
        if self.reused:
            console.print(f"resume: {self.reused} cells were finished by earlier runs with the same config and "
                          "code and were copied, not run (--force runs them again)")
        if len(df):
            for table in summary_tables(df[df["suite"] == self.plan.suite]):
                console.print(table)
        if interrupted:
            console.print(f"[yellow]interrupted[/]: {len(df)} finished cells kept in {self.store.folder}")
            return 130
        return 1 if failed else 0

    def load_task(self, ds_cfg: DictConfig, seed: int) -> Task:
        try:
            task = instantiate(ds_cfg.load, seed=seed, _convert_="all")
        except InstantiationException as e:  # Hydra wraps the loader's own error: show that one
            cause = e.__cause__
            if isinstance(cause, (DatasetError, OSError, ValueError, ImportError)):
                raise cause from e
            # e.g. a TypeError from +dataset.load.KEY=... that the loader does not take: an error row, not a traceback
            raise DatasetError(f"{type(cause).__name__}: {cause}" if cause else str(e)) from e
        task = as_kind(task, self.cfg.suite.get("task"))  # e.g. labelled images read as a generation task
        profile = self.cfg.profile
        if profile.max_train:
            task = task.subsample_train(profile.max_train, seed)
        if profile.max_test and profile.max_test < len(task.y_test):
            idx = stratified_subset(task.y_test, profile.max_test, seed)
            task.X_test, task.y_test = take(task.X_test, idx), task.y_test[idx]
        return task

    def write_row(self, row: dict) -> None:
        """A finished cell's row to disk, then (with +tracking=) to the tracker."""
        self.store.write_row(row)
        if self.tracker is not None:
            self.tracker.log_cell(row)

    def cells_of(self, ds_name: str, ds_cfg: DictConfig, seed: int, display: RunDisplay) -> tuple[int, list]:
        """All cells of one dataset and seed, as (expected cost, job for the pool); and how many cells
        failed before any ran (a dataset that cannot be had: one error row per model, written here)."""
        try:
            full = self.load_task(ds_cfg, seed)
        except (DatasetError, OSError, ValueError, ImportError) as e:
            # The dataset cannot be had: one error row per model, so the gap is visible in results.
            display.print(f"[red]dataset {ds_name}[/]: {e}")
            models = [m for m in self.plan.models_for(ds_name) if serves(m, ds_cfg.get("task"))]
            for model_cfg in models:
                row = self.base_row(ds_name, model_cfg, seed, 0, 0)
                row.update(task_kind=ds_cfg.get("task"), status="error", error=f"dataset: {' '.join(str(e).split())}")  # where it looked, too
                self.write_row(row)
                display.end_cell(row)
            return len(models), []
        full.name = ds_name  # the plan's name (a dataset variant's includes its settings)
        mine = self.plan.models_for(ds_name)
        models = [m for m in mine if serves(m, full.kind)]
        if not models and seed == self.plan.seeds_for(ds_name)[0]:
            names = ", ".join(dict.fromkeys(str(m.name) for m in self.plan.models.values()))
            display.print(f"[yellow]{ds_name}[/]: none of the models chosen ({names}) runs on it "
                          + (f"(it is a {full.kind} task: see `task:` in their configs)" if mine else
                             "(the suite's dataset_models lists others for it)") + "; nothing runs on it")
        sizes = self.training_sizes(full)
        cells = [(size, model_cfg) for size in sizes for model_cfg in models if self.plan.runs_at(model_cfg, size, sizes)]
        if self.workers > 1 and self.cost is None:  # only the order depends on it
            self.cost = expected_seconds(cost_sources(self.cfg, self.plan.suite))
        tasks = {size: full.subsample_train(size, seed) for size in sizes}
        jobs = []
        for size, model_cfg in cells:
            # interpret.sizes=largest: the learning curve's smaller cells skip interpretation
            interpret = self.cfg.interpret.enabled and (size == sizes[-1] or self.cfg.interpret.get("sizes", "all") == "all")
            cost = self.cost(model_cfg, ds_name) * size if self.cost is not None else 0.0
            jobs.append((cost, lambda alongside, t=tasks[size], m=model_cfg, i=interpret:
                         self.run_cell(t, ds_cfg, m, seed, display, i, alongside)))
        return 0, jobs

    def budget_of(self, model_cfg: DictConfig) -> int | None:
        """The random-search budget of one model: its own `n_configs` (a suite's variants over the
        tuning budget, e.g. `variants: {random_forest: {n_configs: [1, 4, 16]}}`), else the run's."""
        own = model_cfg.get("n_configs")
        return self.n_configs if own is None else int(own)

    def base_row(self, ds_name: str, model_cfg: DictConfig, seed: int, n_train: int, n_test: int) -> dict:
        params, params_id = params_of(model_cfg)
        family = str(model_cfg.get("family", "deep"))
        return {
            "suite": self.plan.suite, "dataset": ds_name, "model": str(model_cfg.name),
            "variant": str(model_cfg.get("variant") or ""),
            "family": family, "features": str(model_cfg.get("features", "raw")), "params": params,
            "params_id": params_id,
            "seed": int(seed), "n_train": int(n_train), "n_test": int(n_test), "profile": self.cfg.profile.name,
            "tuned": bool((self.cfg.tune or self.cfg.suite.get("tune", False))
                          and tuning_space(model_cfg, self.budget_of(model_cfg))),
            "device": self.device if family == "deep" else "cpu",
            "cpu_model": self.machine["cpu_model"], "gpu_name": self.machine["gpu_name"],
            "torch_threads": self.threads, "workers": self.workers, "cells_alongside": 0,
        "git_commit": self.commit, "code_version": self.code_version,
            "run_id": self.run_id, "job": self.job, "cell_key": None, "reused_from": None,
            "status": "ok", "error": None, **MEASURES,
            "cell_started": datetime.now(timezone.utc).strftime(CELL_STARTED_FORMAT), "cell_seconds": np.nan,
        }

    def cell_spec(self, row: dict, model_cfg: DictConfig, seed: int, interpret: bool | None = None) -> CellSpec:
        model = OmegaConf.to_container(model_cfg, resolve=True)
        limit = model.get("time_limit", self.cfg.get("time_limit"))  # a model's own limit wins
        label = row["model"] + (f"[{row['variant']}]" if row["variant"] else "")
        interpret = self.cfg.interpret.enabled if interpret is None else interpret
        interp = OmegaConf.to_container(self.cfg.interpret, resolve=True) if interpret else None
        budget = self.budget_of(model_cfg) if row["tuned"] else None
        if budget:  # a column only where a random search ran (its rows also get configs_tried and val_score)
            row["n_configs"] = budget
        return CellSpec(model=model, seed=seed, device=row["device"], family=row["family"], tuned=row["tuned"],
                        n_configs=budget,
                        time_limit=limit, threads=self.threads, interpret=interp,
                        allow_any_target=self.allow_any_target, label=label,
                        cache_dir=OmegaConf.select(self.cfg, "paths.cache", default=None),
                        precision=None if self.cfg.get("precision") is None else str(self.cfg.precision))

    def key_of(self, spec: CellSpec, row: dict, ds_cfg: DictConfig) -> str:
        """What decides the cell's outcome (see harness/core/resume.py), hashed."""
        dataset = OmegaConf.to_container(ds_cfg, resolve=True)
        return cell_key({
            "suite": row["suite"], "dataset": dataset, "data": data_fingerprint(dataset.get("load")), "model": spec.model,
            "seed": spec.seed, "n_train": row["n_train"], "n_test": row["n_test"], "tuned": spec.tuned,
            "n_configs": spec.n_configs,
            "device": spec.device, "threads": spec.threads, "time_limit": spec.time_limit, "interpret": spec.interpret,
            "profile": {k: self.cfg.profile.get(k) for k in ("max_train", "max_test")},
            "code_version": self.code_version, "versions": self.versions,
            # only where given and it can matter: a model's own precision is in its config, and cells without
            # an override keep the keys they had
            **({"precision": spec.precision} if spec.precision is not None and spec.family == "deep" else {}),
        })

    def run_cell(self, task: Task, ds_cfg: DictConfig, model_cfg: DictConfig, seed: int, display: RunDisplay,
                 interpret: bool | None = None, alongside: Callable[[], int] = lambda: 0) -> dict:
        row = self.base_row(task.name, model_cfg, seed, task.n_train, task.n_test)
        row["task_kind"], row["input_kind"] = task.kind, task.input_kind
        spec = self.cell_spec(row, model_cfg, seed, interpret)
        row["cell_key"] = self.key_of(spec, row, ds_cfg)
        done = self.resume.get(row["cell_key"]) if self.resume is not None else None
        if done is not None:
            # this run's row now (reused_from says whence), with what older rows did not record
            done = done | {"job": self.job, "run_id": self.run_id, "input_kind": task.input_kind}
            with self.lock:
                self.reused += 1
            self.write_row(done)
            display.end_cell(done)
            return done
        display.start_cell(task.name, spec.label, seed, task.n_train)
        t0 = time.perf_counter()

        def on_event(kind: str, payload) -> None:
            if kind == "epoch":
                display.on_epoch(*payload)

        result = (run_isolated(spec, task, on_event, cancel=self.cancel) if self.isolate
                  else execute_cell(spec, task, on_event))
        for warning in result.pop("warnings", None) or []:  # a cell process's own (harness/core/isolation.py)
            display.print(f"[yellow]warning[/] {escape(task.name)} · {escape(spec.label)}: {escape(warning)}", soft_wrap=True)
        trace = result.pop("traceback", None)
        if trace:
            log.debug("cell %s/%s seed %s failed:\n%s", task.name, spec.label, seed, trace)
        elif result["status"] != "ok":
            log.debug("cell %s/%s seed %s: %s: %s", task.name, spec.label, seed, result["status"], result["error"])
        row.update(result)
        row["cell_seconds"] = time.perf_counter() - t0
        row["cells_alongside"] = alongside()
        self.write_row(row)
        display.end_cell(row)
        return row
