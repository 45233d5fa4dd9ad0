"""Microbenchmarks: one training step of every deep architecture, one fit of every classical baseline.

Both lists come from the model configs (`suites/model/*.yaml`, by `family`), so a new model file is
benchmarked without touching this one; `tests/test_microbenchmarks_registry.py` (in the default test
run) fails if a deep model cannot be built with the input shape this file gives it, or a classical
one has no data kind here.

Not part of the default run (the module carries the `benchmark` marker, which pyproject's addopts
deselect, and pyproject's `--benchmark-disable` must be overridden). Run with

    python -m pytest benchmarks/test_microbenchmarks.py -m benchmark --benchmark-enable

and see benchmarks/README.md for saving a baseline and failing on a regression.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from threadpoolctl import threadpool_limits
from torch import nn

from harness.config import group_options, load_item
from harness.data.vision import load_mnist5k
from harness.runner import build_estimator
from harness.training import import_object, make_optimizer

pytestmark = pytest.mark.benchmark

BATCH = 64
N_CLASSES = 10
IMAGE = (1, 28, 28)     # (C, H, W): MNIST-sized images
SEQUENCE = (1, 256)     # (C, T): one channel, 256 time steps
IMAGE_MODULES = {"harness.models.perceptron", "harness.models.mlp", "harness.models.cnn", "harness.models.resnet"}

# Model name -> the input shape (without batch) its training step is benchmarked on, for the models
# known today. A deep model not listed gets IMAGE if its module lives in one of IMAGE_MODULES,
# SEQUENCE if it lives elsewhere in harness.models; list it here when that default is wrong for it.
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "perceptron": IMAGE,
    "mlp": IMAGE,
    "cnn": IMAGE,
    "resnet": IMAGE,
    "plain_net": IMAGE,
}

# Classical model name -> the data its fit is benchmarked on: "images" (1,000 mnist5k images) or
# "series" (1,000 seeded series of SEQUENCE's shape). A model not listed gets it from the package of
# its `_target_`, through CLASSICAL_PACKAGES; list a model here when that default is wrong for it.
CLASSICAL_DATA: dict[str, str] = {
    "nn_euclidean": "series",  # baselines.neighbors.knn, but the time-series archive's baseline
}
CLASSICAL_PACKAGES = {
    "baselines.linear": "images", "baselines.kernel": "images", "baselines.neighbors": "images",
    "baselines.bayes": "images", "baselines.trees": "images", "baselines.timeseries": "series",
}
CLASSICAL_SAMPLES = 1000
FIT_BUDGET_S = 2.0  # timed fits per classical model: enough rounds to fill this, at least MIN_FIT_ROUNDS
MIN_FIT_ROUNDS, MAX_FIT_ROUNDS = 3, 100


def model_config(name: str) -> DictConfig:
    """The model's config node, its `${profile.*}` interpolations resolved against a minimal root."""
    root = OmegaConf.create({"profile": {"max_epochs": 1, "patience": 0}, "model": load_item("model", name)})
    return root.model


def models_of(family: str) -> list[str]:
    return [name for name in group_options("model") if model_config(name).get("family", "deep") == family]


def input_shape(name: str, module_path: str) -> tuple[int, ...]:
    """The shape (without batch) `name`'s module is benchmarked on; KeyError when none is known."""
    if name in INPUT_SHAPES:
        return INPUT_SHAPES[name]
    package = module_path.rpartition(".")[0]  # compared whole: harness.models.resnet1d is not resnet
    if package in IMAGE_MODULES:
        return IMAGE
    if package.startswith("harness.models."):
        return SEQUENCE
    raise KeyError(f"model {name!r} (module {module_path}) has no input shape: add it to INPUT_SHAPES "
                   f"in benchmarks/test_microbenchmarks.py")


def classical_data(name: str) -> str:
    """"images" or "series": the data `name`'s fit is benchmarked on; KeyError when none is known."""
    if name in CLASSICAL_DATA:
        return CLASSICAL_DATA[name]
    target = str(model_config(name).estimator._target_)
    package = target.rpartition(".")[0]
    if package not in CLASSICAL_PACKAGES:
        raise KeyError(f"classical model {name!r} ({target}) has no data kind: add it to CLASSICAL_DATA "
                       f"in benchmarks/test_microbenchmarks.py")
    return CLASSICAL_PACKAGES[package]


def build_classical(name: str, seed: int = 0):
    """The estimator the runner would build, on one thread where it asks for more (`n_jobs`)."""
    est = build_estimator(model_config(name), seed, "cpu", None)
    est.set_params(**{k: 1 for k, v in est.get_params(deep=True).items()
                      if (k == "n_jobs" or k.endswith("__n_jobs")) and v not in (None, 1)})
    return est


def build_module(name: str, shape: tuple[int, ...] | None = None, seed: int = 0):
    """(module, estimator) for a deep model, built as TorchClassifier.fit builds it, weights seeded."""
    est = build_estimator(model_config(name), seed, "cpu", None)
    shape = shape or input_shape(name, est.module)
    torch.manual_seed(seed)
    module = import_object(est.module)(shape, N_CLASSES, **(est.module_params or {}))
    return module, est


def fixed_batch(shape: tuple[int, ...], batch: int = BATCH, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, *shape, generator=generator), torch.randint(0, N_CLASSES, (batch,), generator=generator)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread and one BLAS/OpenMP thread: numbers that do not depend on what else runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


@pytest.mark.benchmark(group="deep: forward+backward+step, batch 64")
@pytest.mark.parametrize("name", models_of("deep"))
def test_train_step(benchmark, name):
    module, est = build_module(name)
    criterion = getattr(type(module), "criterion", None) or nn.functional.cross_entropy
    opt = make_optimizer(est.optimizer, module.parameters(), est.lr, est.weight_decay, est.momentum)
    X, y = fixed_batch(input_shape(name, est.module))
    module.train()

    def step() -> float:
        loss = criterion(module(X), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()  # also waits for the step to finish

    assert math.isfinite(benchmark(step))


def fixed_series(n: int = CLASSICAL_SAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n series of SEQUENCE's shape, float32 (N, C, T): class k is a sine of k + 1 cycles at a random
    phase, plus Gaussian noise; 100 per class for n = 1,000."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % N_CLASSES
    t = np.arange(SEQUENCE[-1]) / SEQUENCE[-1]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    X = np.sin(2 * np.pi * (y[:, None] + 1) * t + phase) + 0.5 * rng.standard_normal((n, SEQUENCE[-1]))
    return X.astype(np.float32).reshape(n, *SEQUENCE), y.astype(np.int64)


@pytest.fixture(scope="module")
def classical_datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each data kind, loaded once. Images: 1,000 mnist5k training images, 100 per class,
    (N, 1, 28, 28) in [0, 1], as the runner feeds them (the pipelines flatten them)."""
    task = load_mnist5k(seed=0).subsample_train(CLASSICAL_SAMPLES, seed=0)
    return {"images": (task.X_train, task.y_train), "series": fixed_series()}


@pytest.mark.benchmark(group="classical: fit on 1,000 images (mnist5k) or series (1, 256)")
@pytest.mark.parametrize("name", models_of("classical"))
def test_classical_fit(benchmark, name, classical_datasets):
    X, y = classical_datasets[classical_data(name)]
    est = build_classical(name)
    t0 = time.perf_counter()
    clone(est).fit(X, y)  # warm-up (and any JIT compiling), untimed; its duration sets the rounds
    rounds = min(MAX_FIT_ROUNDS, max(MIN_FIT_ROUNDS, math.ceil(FIT_BUDGET_S / (time.perf_counter() - t0))))
    fitted = benchmark.pedantic(lambda e: e.fit(X, y), setup=lambda: ((clone(est),), {}), rounds=rounds)
    assert list(fitted.classes_) == list(range(N_CLASSES))
