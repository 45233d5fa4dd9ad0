"""Experiment tracking, an option: `+tracking=mlflow` (suites/tracking/mlflow.yaml) logs each bench run
to MLflow as it goes. Needs `pip install -e '.[mlflow]'` (mlflow-skinny and its SQL store).

One MLflow run per bench run (the run folder: its config, provenance and calibration as parameters,
its report and run.json as artifacts) and one nested run per cell, logged the moment the cell's row is
written: its identity, conditions and hyperparameters as parameters, every number of its row as a
metric, its status as the run's status (FINISHED or FAILED) and tags (status, error). Nested runs
rather than one run with per-cell metrics because a cell has its own parameters (model, seed,
hyperparameters): as a run of its own, MLflow's search, filters and comparison views work on cells
(`params.model = 'knn'`), where metric names carrying the dataset, model and seed would defeat them.

The default store is local: SQLite in the results folder (sqlite:///<paths.results>/mlflow.db,
artifacts in <paths.results>/mlartifacts), one experiment per suite, so every run of a results folder
is in one place. SQLite, not MLflow's file store, because MLflow 3 keeps its file store in maintenance
and refuses it unless an environment variable opts in. A tracking failure (a locked or unreachable
store) is a warning, after which that run is no longer tracked: the rows on disk are the results,
the tracker a view of them.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from pathlib import Path

from harness.core.config import ConfigError

INSTALL = "pip install -e '.[mlflow]'"
RUN_TAG = "bench_run_id"  # on the bench run's MLflow run: the run id of bench's rows (suite/stamp)
# A cell's identity and conditions: parameters (strings in MLflow). Its other numbers are metrics.
CELL_PARAMS = ("suite", "dataset", "model", "variant", "family", "features", "seed", "n_train", "n_test",
               "profile", "tuned", "n_configs", "device", "torch_threads", "workers", "params_id", "task_kind")
CELL_TAGS = ("status", "error", "run_id", "job", "git_commit", "code_version", "reused_from", "cell_key",
             "cpu_model", "gpu_name", "best_params")
LIMIT = 5000  # characters of a parameter or tag value (MLflow's own limits are at least this)


def enabled(cfg) -> bool:
    return bool(cfg.get("tracking"))


def check_available(cfg) -> None:
    """Before any job: `+tracking=mlflow` without MLflow installed is one error line naming the install."""
    if not enabled(cfg):
        return
    try:
        import mlflow  # noqa: F401
        import sqlalchemy  # noqa: F401 - MLflow's SQL store, the default
    except ImportError as e:
        raise ConfigError(f"+tracking=mlflow needs MLflow ({e.name} is not installed): {INSTALL}") from e


def tracking_uri(cfg) -> str:
    chosen = cfg.tracking.get("uri") or os.environ.get("MLFLOW_TRACKING_URI")
    if chosen:
        return str(chosen)
    return f"sqlite:///{Path(cfg.paths.results).expanduser().resolve() / 'mlflow.db'}"


def quiet_mlflow() -> None:
    # Creating a store logs each database migration at INFO: not what a bench user needs to read.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def flat(prefix: str, value, out: dict) -> dict:
    """Nested hyperparameters as dotted names: {'estimator': {'C': 0.1}} -> {'estimator.C': 0.1}."""
    if isinstance(value, dict):
        for k, v in value.items():
            flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value
    return out


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def cell_record(row: dict) -> tuple[dict, dict, dict]:
    """(params, metrics, tags) of one result row."""
    params = {k: row[k] for k in CELL_PARAMS if row.get(k) is not None}
    try:
        params |= flat("estimator", json.loads(row.get("params") or "{}"), {})
    except (TypeError, ValueError):
        params["estimator"] = row.get("params")
    metrics = {k: float(v) for k, v in row.items()
               if k not in CELL_PARAMS and k not in CELL_TAGS and is_number(_plain(v))}
    tags = {k: row[k] for k in CELL_TAGS if row.get(k) is not None}
    return params, metrics, tags


def _plain(v):
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


class MlflowTracker:
    """The MLflow runs of one bench run; every call is safe from the cell pool's threads."""

    def __init__(self, cfg, suite: str, run_id: str):
        import mlflow
        from mlflow import MlflowClient

        quiet_mlflow()
        self.uri = tracking_uri(cfg)
        self.client = MlflowClient(tracking_uri=self.uri)
        self.mlflow = mlflow
        self.lock = threading.Lock()
        self.failed = False
        name = cfg.tracking.get("experiment") or suite
        found = self.client.get_experiment_by_name(name)
        if found is None:
            local = self.uri.startswith("sqlite:") and not cfg.tracking.get("uri")
            artifacts = (Path(cfg.paths.results).expanduser().resolve() / "mlartifacts").as_uri() if local else None
            self.experiment = self.client.create_experiment(name, artifact_location=artifacts)
        else:
            self.experiment = found.experiment_id
        self.parent = find_parent(self.client, self.experiment, run_id) or self.client.create_run(
            self.experiment, run_name=run_id, tags={RUN_TAG: run_id, "suite": suite}).info.run_id

    def guarded(self, what: str, work) -> None:
        """Run one logging step; a failure is one warning, and this run is tracked no further."""
        if self.failed:
            return
        with self.lock:
            try:
                work()
            except Exception as e:  # noqa: BLE001 - the results on disk stand whatever the tracker does
                self.failed = True
                from harness.core.display import console

                console.print(f"warning: MLflow tracking stopped ({what}: {type(e).__name__}: "
                              f"{' '.join(str(e).split())[:200]}); the results on disk are complete",
                              markup=False, style="yellow", soft_wrap=True)

    def start(self, info: dict) -> None:
        """The bench run's parameters: its overrides, profile, calibration, commit and machine."""
        config = info.get("config") or {}
        params = {"suite": info.get("suite"), "overrides": " ".join(info.get("overrides") or []) or "(none)",
                  "profile": (config.get("profile") or {}).get("name"), "git_commit": info.get("git_commit"),
                  "code_version": info.get("code_version"), "workers": info.get("workers")}
        params |= {f"machine.{k}": v for k, v in (info.get("machine") or {}).items() if not isinstance(v, (dict, list))}
        metrics = {f"calibration_{k}": v for k, v in (info.get("calibration") or {}).items() if is_number(v)}
        self.guarded("the run's parameters", lambda: self._log(self.parent, params, metrics, {}))

    def log_cell(self, row: dict) -> None:
        params, metrics, tags = cell_record(row)
        label = row["model"] + (f"[{row['variant']}]" if row.get("variant") else "")
        name = f"{row['dataset']}/{label}/seed={row['seed']}/n={row['n_train']}"

        def work():
            run = self.client.create_run(self.experiment, run_name=name, tags={"mlflow.parentRunId": self.parent})
            self._log(run.info.run_id, params, metrics, tags)
            self.client.set_terminated(run.info.run_id, "FINISHED" if row.get("status") == "ok" else "FAILED")
        self.guarded(f"cell {name}", work)

    def end(self, info_file: Path, interrupted: bool) -> None:
        """The job's end: its run.json as an artifact, the bench run's status."""
        def work():
            if info_file.is_file():
                self.client.log_artifact(self.parent, str(info_file), artifact_path=_job_folder(info_file))
            self.client.set_terminated(self.parent, "KILLED" if interrupted else "FINISHED")
        self.guarded("the run's end", work)

    def _log(self, run: str, params: dict, metrics: dict, tags: dict) -> None:
        from mlflow.entities import Metric, Param, RunTag

        stamp = int(time.time() * 1000)
        params = [Param(k, str(v)[:LIMIT]) for k, v in params.items()]
        tags = [RunTag(k, str(v)[:LIMIT]) for k, v in tags.items()]
        metrics = [Metric(k, float(v), stamp, 0) for k, v in metrics.items()]
        for i in range(0, max(len(params), len(tags), len(metrics), 1), 100):  # MLflow's batch limits
            self.client.log_batch(run, metrics=metrics[i:i + 100], params=params[i:i + 100], tags=tags[i:i + 100])


def _job_folder(info_file: Path) -> str | None:
    """run.json at the top; a sweep's job files (jobs/<n>/run.json) under their job's folder."""
    return f"jobs/{info_file.parent.name}" if info_file.parent.parent.name == "jobs" else None


def find_parent(client, experiment: str, run_id: str) -> str | None:
    """The MLflow run of this bench run, made by an earlier job of the same sweep."""
    found = client.search_runs([experiment], filter_string=f"tags.{RUN_TAG} = '{run_id}'", max_results=1)
    return found[0].info.run_id if found else None


def open_tracker(cfg, suite: str, run_id: str) -> MlflowTracker | None:
    """The tracker of a bench run, or None where tracking is off or its store cannot be opened (a
    warning then: the run goes on untracked)."""
    if not enabled(cfg):
        return None
    try:
        return MlflowTracker(cfg, suite, run_id)
    except Exception as e:  # noqa: BLE001 - an unreachable tracker never stops a benchmark
        from harness.core.display import console

        console.print(f"warning: MLflow tracking is off for this run: {type(e).__name__}: "
                      f"{' '.join(str(e).split())[:200]}", markup=False, style="yellow", soft_wrap=True)
        return None


def log_report(cfg, folder: Path) -> None:
    """After the report of a run folder (results/<suite>/<stamp>) is written: report.md, report.html
    and its figures as the bench run's artifacts."""
    folder = Path(folder)
    tracker = open_tracker(cfg, folder.parent.name, f"{folder.parent.name}/{folder.name}")
    if tracker is None:
        return

    def work():
        for name in ("report.md", "report.html"):
            if (folder / name).is_file():
                tracker.client.log_artifact(tracker.parent, str(folder / name), artifact_path="report")
        for figure in sorted((folder / "plots").glob("*.png")):
            tracker.client.log_artifact(tracker.parent, str(figure), artifact_path="report/plots")
    tracker.guarded("the report", work)
