"""Conformance of every task kind in the registry (harness/tasks/), generated from the registry: a
new kind file is tested by default."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import harness.tasks
from harness.core.display import summary_tables
from harness.results.compare import Thresholds
from harness.results.store import load_results
from harness.tasks import DETECTION, default_kinds, kind, kind_of_rows, kinds, scores
from harness.tasks.base import TaskKind

ROOT = Path(__file__).resolve().parents[2]
KINDS = sorted(kinds())


def test_the_folder_is_the_registry():
    """Every module of harness/tasks/ but the base and the table-model contract defines one kind,
    named as its file."""
    modules = {m.name for m in pkgutil.iter_modules(harness.tasks.__path__)} - {"base", "tables"}
    assert modules == set(KINDS)
    assert set(DETECTION) <= set(KINDS) and default_kinds() == ("classification", "regression")


@pytest.mark.parametrize("name", KINDS)
def test_kind_declares_what_the_engine_reads(name):
    k = kind(name)
    assert isinstance(k, TaskKind) and k.name == name
    assert k.compare_floor is None or hasattr(Thresholds(), k.compare_floor)
    section = importlib.import_module(f"harness.report.sections.{k.report_section}")
    assert hasattr(section, "dataset_blocks") or hasattr(section, "suite_blocks")
    assert isinstance(k.owns(pd.DataFrame({"accuracy": [np.nan]})), bool)


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: anomaly, classification"):
        kind("clasification")


# Known answers: perfect predictions give each kind's best score.
PERFECT = {
    "classification": (np.array([0, 1, 1, 0]), np.array([0, 1, 1, 0]), {"accuracy": 1.0, "f1_macro": 1.0}),
    "semi_supervised": (np.array([0, 1, 2]), np.array([0, 1, 2]), {"accuracy": 1.0}),
    "regression": (np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 4.0]), {"mse": 0.0, "r2": 1.0}),
    "anomaly": (np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]), {"roc_auc": 1.0, "pr_auc": 1.0}),
    "reconstruction": (np.ones((2, 3)), np.ones((2, 3)), {"reconstruction_mse": 0.0}),
    "language_model": (np.array(["ab", "cd"], dtype=object), np.array([4.0, 4.0]), {"bpc": 2.0}),
}


@pytest.mark.parametrize("name", sorted(PERFECT))
def test_scores_have_known_answers(name):
    y_true, y_pred, expected = PERFECT[name]
    got = scores(name, y_true, y_pred)
    assert {k: got[k] for k in expected} == pytest.approx(expected)
    assert kind(name).score in got


@pytest.mark.parametrize("name", ["generation", "control", "tabular_control"])
def test_kinds_scored_otherwise_than_by_predictions_say_so(name):
    """A generator is asked for samples, an agent plays episodes: their `evaluate` is their own."""
    assert type(kind(name)).evaluate is not TaskKind.evaluate


def reference_datasets():
    """(suite, dataset, the kind its config declares) for every dataset of the committed references."""
    found = []
    for folder in sorted((ROOT / "results/reference").iterdir()):
        if not (folder / "results.parquet").exists():
            continue
        suite_task = yaml.safe_load((ROOT / f"suites/suite/{folder.name}.yaml").read_text()).get("task")
        for dataset in pd.read_parquet(folder / "results.parquet", columns=["dataset"])["dataset"].unique():
            config = ROOT / f"suites/dataset/{str(dataset).split('[')[0]}.yaml"
            declared = yaml.safe_load(config.read_text()).get("task") if config.exists() else None
            found.append((folder.name, str(dataset), declared or (suite_task if suite_task != "mixed" else None)))
    return found


@pytest.mark.parametrize("suite,dataset,declared", reference_datasets())
def test_rows_without_a_kind_column_are_recognised(suite, dataset, declared):
    """Rows of runs older than the task_kind column (the committed references) are read as the kind
    their dataset loads as."""
    rows = load_results([ROOT / "results/reference" / suite])
    rows = rows[(rows["dataset"] == dataset) & (rows["status"] == "ok")]
    if declared is None or not len(rows):
        pytest.skip("the dataset's config declares no kind")
    rows = rows.drop(columns=["task_kind"], errors="ignore")  # a refreshed reference has it: read as an older one
    assert kind_of_rows(rows).name == (declared if declared != "tabular_control" else "control")


@pytest.mark.parametrize("suite", sorted(p.name for p in (ROOT / "results/reference").iterdir()
                                         if (p / "results.parquet").exists()))
def test_every_kind_draws_its_tables_from_real_rows(suite):
    assert summary_tables(load_results([ROOT / "results/reference" / suite]))
