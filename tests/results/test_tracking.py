"""`+tracking=mlflow`: a real smoke run logged to a real local MLflow store (SQLite in a tmp folder),
read back with MLflow's own client; what a row becomes; a missing MLflow or an unusable store."""
from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from omegaconf import OmegaConf

from harness.cli import main
from harness.results import tracking
from harness.results.store import load_results

mlflow = pytest.importorskip("mlflow")


def test_without_mlflow_the_run_is_one_error_line_naming_the_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed: `import mlflow` raises ImportError
    code = main(["run", "profile=smoke", "dataset=digits", "model=gaussian_nb", f"paths.results={tmp_path}",
                 "+tracking=mlflow"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "+tracking=mlflow needs MLflow" in err and "pip install -e '.[mlflow]'" in err
    assert not list(tmp_path.glob("*/*/cells"))  # refused before any run folder was made


def test_a_row_becomes_parameters_metrics_and_tags():
    row = {"suite": "vision", "dataset": "digits", "model": "knn", "variant": "", "seed": 1, "n_train": 300,
           "params": json.dumps({"_target_": "baselines.neighbors.knn", "n_neighbors": 5, "inner": {"p": 2}}),
           "accuracy": 0.95, "train_seconds": 0.2, "n_parameters": None, "epochs": float("nan"), "tuned": False,
           "status": "error", "error": "boom", "git_commit": "abc", "cell_started": "20260101T000000"}
    params, metrics, tags = tracking.cell_record(row)
    assert params["model"] == "knn" and params["seed"] == 1 and params["tuned"] is False
    assert params["estimator.n_neighbors"] == 5 and params["estimator.inner.p"] == 2
    assert metrics == {"accuracy": 0.95, "train_seconds": 0.2}  # no None, NaN, bool or text
    assert tags == {"status": "error", "error": "boom", "git_commit": "abc"}


def test_the_default_store_is_sqlite_in_the_results_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = OmegaConf.create({"paths": {"results": str(tmp_path)}, "tracking": {"uri": None}})
    assert tracking.tracking_uri(cfg) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    assert tracking.tracking_uri(cfg) == "sqlite:///elsewhere.db"
    cfg.tracking.uri = "sqlite:///chosen.db"
    assert tracking.tracking_uri(cfg) == "sqlite:///chosen.db"


def test_a_store_that_cannot_be_opened_is_a_warning_not_a_failure(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cfg = OmegaConf.create({"paths": {"results": str(tmp_path)},
                            "tracking": {"uri": f"sqlite:///{blocker / 'under-a-file' / 'mlflow.db'}"}})
    assert tracking.open_tracker(cfg, "vision", "vision/x") is None
    assert "MLflow tracking is off for this run" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tracked_run(bench, tmp_path_factory):
    results = tmp_path_factory.mktemp("tracking") / "results"
    mp = pytest.MonkeyPatch()
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    try:
        code, folder = bench(results, "suite=vision", "profile=smoke", "dataset=digits", "hardware.threads=1",
                             "suite.models=[knn,logistic_regression]", "profile.seeds=[0,1]", "+tracking=mlflow")
    finally:
        mp.undo()
    assert code == 0
    return results, folder


def test_a_real_run_is_in_the_store_cell_by_cell_with_its_report(tracked_run, monkeypatch):
    results, folder = tracked_run
    uri = f"sqlite:///{results.resolve() / 'mlflow.db'}"  # the default store: nothing told bench where
    client = mlflow.MlflowClient(tracking_uri=uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # what mlflow.search_runs reads
    runs = mlflow.search_runs(experiment_names=["vision"])
    run_id = f"vision/{folder.name}"
    parents = runs[runs["tags.bench_run_id"] == run_id]
    assert len(parents) == 1 and parents["status"].iloc[0] == "FINISHED"
    parent = parents["run_id"].iloc[0]
    cells = runs[runs["tags.mlflow.parentRunId"] == parent]
    rows = load_results([folder])
    assert len(cells) == len(rows) == 4
    assert sorted(cells["params.model"]) == ["knn", "knn", "logistic_regression", "logistic_regression"]
    assert set(cells["status"]) == {"FINISHED"} and set(cells["tags.status"]) == {"ok"}
    # the metrics are the rows' own numbers, cell by cell
    got = cells.set_index(["params.model", "params.seed"])["metrics.accuracy"].sort_index()
    want = rows.set_index([rows["model"], rows["seed"].astype(str)])["accuracy"].sort_index()
    assert got.tolist() == pytest.approx(want.tolist())
    assert cells["params.estimator.C"].dropna().tolist() == ["0.1", "0.1"]  # logistic regression's hyperparameter
    assert pd.to_numeric(parents["metrics.calibration_seconds"]).iloc[0] > 0
    artifacts = {a.path for a in client.list_artifacts(parent)} | {a.path for a in client.list_artifacts(parent, "report")}
    assert {"run.json", "report/report.md", "report/report.html"} <= artifacts
    md = client.download_artifacts(parent, "report/report.md")
    assert open(md).read() == (folder / "report.md").read_text()
