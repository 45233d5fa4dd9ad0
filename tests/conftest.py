"""Shared fixtures: a throw-away results folder and `run_bench`, which runs the real CLI into it.

Tests compose the real config and shrink it (profile=smoke, one dataset, a few models, CPU); they
never write into the repository's results/ folder.
"""
from __future__ import annotations

import os

# Two cores shared by torch, OpenMP (scikit-learn's histogram boosting) and pytest: one thread each
# is several times faster than letting them fight. Must happen before torch or sklearn load.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def run_folders_under(results: Path) -> set[Path]:
    """Every run folder (`<suite>/<timestamp>`) below a results root."""
    return {p.parent for p in Path(results).glob("*/*/cells")} if Path(results).exists() else set()


def invoke_bench(results: Path, *overrides: str) -> tuple[int, Path | None]:
    """`bench run OVERRIDES paths.results=RESULTS` in this process; (exit code, the new run folder)."""
    from harness.cli import main

    before = run_folders_under(results)
    code = main(["run", *overrides, f"paths.results={results}"])
    new = sorted(run_folders_under(results) - before)
    assert len(new) <= 1, f"one run made several folders: {new}"
    return code, (new[0] if new else None)


@pytest.fixture(scope="session")
def bench():
    """`invoke_bench` for module-scoped fixtures that share one run between several tests."""
    return invoke_bench


@pytest.fixture
def tmp_results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def run_bench(tmp_results: Path):
    """run_bench(*overrides) -> (exit code, run folder or None), results under tmp_results."""
    return lambda *overrides: invoke_bench(tmp_results, *overrides)


@pytest.fixture(autouse=True)
def _no_results_env(monkeypatch):
    # paths.results and paths.data_dir read these; a developer's own settings must not leak into tests.
    monkeypatch.delenv("BENCH_RESULTS", raising=False)
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
