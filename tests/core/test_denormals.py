"""Subnormal floats are flushed to zero inside a deep model's CPU cell and nowhere else
(harness/core/hardware.py `flush_denormals`; benchmarks/denormals.py measures why)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from harness.core import cell as cell_module
from harness.core.cell import CellSpec, execute_cell
from harness.core.hardware import flush_denormals

SUBNORMAL = 1e-39  # below float32's smallest normal, 1.18e-38


def flushed() -> bool:
    return float(torch.tensor([SUBNORMAL], dtype=torch.float32)[0] * 1.0) == 0.0


def test_subnormals_are_zero_inside_and_restored_after():
    assert not flushed()
    with flush_denormals():
        assert flushed()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.finfo(np.float64).smallest_subnormal  # noqa: B018 - numpy's warning about it is silenced
    assert not flushed()
    with flush_denormals(False):
        assert not flushed()


def test_restored_when_the_body_raises():
    with pytest.raises(RuntimeError), flush_denormals():
        raise RuntimeError("a failing fit")
    assert not flushed()


@pytest.mark.parametrize("family, device, expected", [("deep", "cpu", True), ("classical", "cpu", False),
                                                      ("deep", "cuda", False)])
def test_a_cell_flushes_only_for_a_deep_model_on_the_cpu(monkeypatch, family, device, expected):
    seen = []
    monkeypatch.setattr(cell_module, "run_cell_body", lambda spec, task, emit: seen.append(flushed()) or {})
    execute_cell(CellSpec(model={}, seed=0, device=device, family=family, tuned=False), task=None)
    assert seen == [expected] and not flushed()
