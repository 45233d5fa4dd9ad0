"""benchmarks/gpu_evidence.py, the one device call for the GPU rows, checked where CI runs (no GPU):
what `prepare` packs, that `land` adds runs and never overwrites one, and (slow) a rehearsal of the
whole call on the CPU whose rows land beside others and enter the scorecard."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.benchmarks import load_script

ge = load_script("gpu_evidence")


def came_back(folder: Path, started: str = "2026-12-06T10:00:00+00:00") -> Path:
    """What a device call returns: each half's rows and run.json."""
    for half in ("cuda", "cpu"):
        (folder / half).mkdir(parents=True)
        pd.DataFrame({"suite": ["vision"], "model": ["cnn"], "device": [half]}).to_parquet(folder / half / "results.parquet")
        (folder / half / "run.json").write_text(json.dumps({"suite": "vision", "started": started}))
    return folder


def test_prepare_packs_the_missing_packages_and_the_idx_files(tmp_path, monkeypatch, capsys):
    data = tmp_path / "fashion"
    data.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (data / name).write_bytes(b"idx")
    monkeypatch.setenv("BENCH_DATA_DIR", str(data))
    ge.prepare(tmp_path / "device")
    site = tmp_path / "device" / "site"
    assert (site / "hydra" / "__init__.py").is_file() and (site / "omegaconf" / "__init__.py").is_file()
    assert (site / "antlr4" / "__init__.py").is_file() and list(site.glob("hydra_core-*.dist-info"))
    assert len(list((tmp_path / "device" / "data").iterdir())) == 4
    assert "carry=['.device']" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("BENCH_DATA_DIR", str(empty))
    with pytest.raises(SystemExit, match="dataset-fashion-mnist"):
        ge.prepare(tmp_path / "device2")


def test_land_adds_each_half_as_its_own_run_and_never_overwrites(tmp_path):
    evidence = tmp_path / "evidence"
    landed = ge.land(came_back(tmp_path / "back"), evidence)
    assert [p.name for p in landed] == ["2026-12-06_10-00-00-cuda", "2026-12-06_10-00-00-cpu"]
    assert all((p / "results.parquet").is_file() and (p / "run.json").is_file() for p in landed)
    with pytest.raises(SystemExit, match="never overwritten"):
        ge.land(tmp_path / "back", evidence)


@pytest.mark.slow
def test_a_rehearsal_of_the_device_call_lands_rows_the_scorecard_reads(tmp_path):
    from harness.report.scorecard import render
    from tests.data.test_data import write_idx

    data = tmp_path / "data"
    data.mkdir()  # Fashion-MNIST's layout and shapes, noise for pixels: only the plumbing is tested
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("t10k", 40)):
        write_idx(data / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(data / f"{split}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    out = tmp_path / "out"
    assert ge.run(out, deadline=240, rehearse=True, data_dir=data) == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["cpu.log", "cpu/results.parquet", "cpu/run.json", "cuda.log", "cuda/results.parquet", "cuda/run.json"]
    deep = pd.read_parquet(out / "cuda" / "results.parquet")
    assert set(deep["model"]) == set(ge.DEEP) and (deep["status"] == "ok").all()
    every = pd.read_parquet(out / "cpu" / "results.parquet")
    assert {"hist_gradient_boosting", "cnn"} <= set(every["model"]) and set(every["dataset"]) == {"fashion_mnist"}
    assert every["n_train"].max() <= 120  # read from `data`, the folder it was given
    landed = ge.land(out, tmp_path / "evidence")
    assert len(landed) == 2
    text = render(tmp_path / "evidence", tmp_path)
    assert text.count("| vision |") == 2  # both runs in the evidence table
