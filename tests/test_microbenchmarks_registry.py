"""Every model config can be benchmarked by benchmarks/test_microbenchmarks.py: a deep model's network
builds, takes a batch of its kind (images, series, word ids, character windows) at the input shape
that file gives it, and gives a finite loss; a classical model has a data kind there. A new
architecture whose input that file cannot derive, or a baseline from a new package, fails here
until it is listed in that file's INPUT_SHAPES or CLASSICAL_DATA, instead of escaping the
microbenchmarks. Fast: a forward pass of two samples per deep model, no fits."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.core.config import group_options

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks" / "test_microbenchmarks.py"


def load_microbenchmarks():
    # benchmarks/ is not a package and not on the test path; load the file itself.
    spec = importlib.util.spec_from_file_location("microbenchmarks", BENCHMARKS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does: its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


mb = load_microbenchmarks()
DEEP = mb.stepped_models()       # a training step each
CLASSICAL = mb.fitted_models()   # a fit each: classical models, and GMDH (deep, fitted in closed form)


def test_every_model_config_is_benchmarked():
    assert set(DEEP) | set(CLASSICAL) == set(group_options("model")), "a model family the benchmarks skip"
    assert {"cnn", "mlp", "perceptron", "resnet", "fasttext", "transformer_text"} <= set(DEEP)
    assert {"knn", "random_forest", "word_tfidf_logreg", "char_tfidf_nb"} <= set(CLASSICAL)


def test_tables_name_existing_models():
    stale = (set(mb.INPUT_SHAPES) - set(DEEP)) | (set(mb.CLASSICAL_DATA) - set(CLASSICAL))
    assert not stale, f"INPUT_SHAPES or CLASSICAL_DATA list models without a config of that family: {sorted(stale)}"


@pytest.mark.parametrize("name", CLASSICAL)
def test_classical_model_has_data(name):
    assert mb.classical_data(name) in mb.DATA_KINDS  # raises KeyError when none is known


def test_text_baselines_get_texts_and_numeric_ones_do_not():
    assert {mb.classical_data(n) for n in CLASSICAL if n.startswith(("word_tfidf", "char_tfidf"))} == {"texts"}
    assert mb.classical_data("knn") == "images" and mb.classical_data("minirocket") == "series"


@pytest.mark.parametrize("name", DEEP)
def test_module_takes_its_benchmark_batch(name):
    step = mb.training_step(name, batch=2)  # raises KeyError when no input is known for the model
    if mb.is_generator(name):  # its own objective on a minibatch of images: one step gives a finite loss
        assert np.isfinite(step())
        return
    step.module.eval()
    with torch.no_grad():
        out = step.module(step.X)
    if mb.is_language_model(name):  # next-character logits at every step of the window
        assert step.X.dtype == torch.int64 and out.shape == (*step.X.shape, mb.CHARACTERS)
    elif mb.is_autoencoder(name):  # a reconstruction of its batch
        assert out.shape == step.X.shape
    elif mb.is_agent(name):  # a deep agent's Q-network: a value per action
        assert out.shape == (2, mb.ACTIONS)
    else:
        assert out.shape == (2, mb.N_CLASSES), f"{name} on {tuple(step.X.shape)}: output {tuple(out.shape)}"
    assert torch.isfinite(step.loss(out, step.y))


def test_default_shapes_follow_the_module_path():
    from harness.deep.text import TextClassifier
    from harness.deep.training import TorchClassifier

    assert mb.input_shape("new_image_model", TorchClassifier("harness.models.cnn.LeNet5")) == mb.IMAGE
    assert mb.input_shape("new_sequence_model", TorchClassifier("harness.models.resnet1d.ResNet1d")) == mb.SEQUENCE
    assert mb.input_shape("new_text_model", TextClassifier("harness.models.text.FastText", max_len=30)) == (30,)
    with pytest.raises(KeyError, match="INPUT_SHAPES"):
        mb.input_shape("outside", TorchClassifier("somewhere.else.Net"))


def test_text_batches_are_padded_word_ids():
    step = mb.training_step("fasttext", batch=16)
    assert step.X.dtype == torch.int64 and step.X.shape == (16, mb.model_config("fasttext").estimator.max_len)
    real = step.X != 0
    assert (step.X[real] >= 2).all() and (step.X[real] < mb.VOCABULARY).all()
    # padding only at the end of a text, and some texts shorter than the batch's length
    assert (real.int().cummin(dim=1).values.bool() == real).all() and not real.all()


def test_fixed_series_are_seeded_and_balanced():
    X, y = mb.fixed_series(100)
    assert X.shape == (100, *mb.SEQUENCE) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [10] * mb.N_CLASSES
    np.testing.assert_array_equal(X, mb.fixed_series(100)[0])
