"""Every model config can be benchmarked by benchmarks/test_microbenchmarks.py: a deep model's module
builds, and takes a batch, at the input shape that file gives it; a classical model has a data kind
there. A new architecture whose input is neither an image nor (1, 256), or a baseline from a new
package, fails here until it is listed in that file's INPUT_SHAPES or CLASSICAL_DATA, instead of
escaping the microbenchmarks. Fast: a forward pass of two samples per deep model, no fits."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.config import group_options

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks" / "test_microbenchmarks.py"


def load_microbenchmarks():
    # benchmarks/ is not a package and not on the test path; load the file itself.
    spec = importlib.util.spec_from_file_location("microbenchmarks", BENCHMARKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mb = load_microbenchmarks()
DEEP = mb.models_of("deep")
CLASSICAL = mb.models_of("classical")


def test_every_model_config_is_benchmarked():
    assert set(DEEP) | set(CLASSICAL) == set(group_options("model")), "a model family the benchmarks skip"
    assert {"cnn", "mlp", "perceptron", "resnet"} <= set(DEEP)
    assert {"knn", "random_forest"} <= set(CLASSICAL)


def test_tables_name_existing_models():
    stale = (set(mb.INPUT_SHAPES) - set(DEEP)) | (set(mb.CLASSICAL_DATA) - set(CLASSICAL))
    assert not stale, f"INPUT_SHAPES or CLASSICAL_DATA list models without a config of that family: {sorted(stale)}"


@pytest.mark.parametrize("name", CLASSICAL)
def test_classical_model_has_data(name):
    assert mb.classical_data(name) in ("images", "series")  # raises KeyError when none is known


@pytest.mark.parametrize("name", DEEP)
def test_module_takes_its_benchmark_shape(name):
    module, est = mb.build_module(name)  # raises KeyError when no shape is known for the model
    shape = mb.input_shape(name, est.module)
    X, _ = mb.fixed_batch(shape, batch=2)
    module.eval()
    with torch.no_grad():
        out = module(X)
    assert out.shape == (2, mb.N_CLASSES), f"{name} on {shape}: output {tuple(out.shape)}"


def test_default_shapes_follow_the_module_path():
    assert mb.input_shape("new_image_model", "harness.models.cnn.LeNet5") == mb.IMAGE
    assert mb.input_shape("new_sequence_model", "harness.models.resnet1d.ResNet1d") == mb.SEQUENCE
    with pytest.raises(KeyError, match="INPUT_SHAPES"):
        mb.input_shape("outside", "somewhere.else.Net")


def test_fixed_series_are_seeded_and_balanced():
    X, y = mb.fixed_series(100)
    assert X.shape == (100, *mb.SEQUENCE) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [10] * mb.N_CLASSES
    np.testing.assert_array_equal(X, mb.fixed_series(100)[0])
