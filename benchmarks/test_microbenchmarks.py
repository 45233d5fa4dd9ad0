"""Microbenchmarks: one training step of every deep architecture, one fit of every classical baseline.

Both lists come from the model configs (`suites/model/*.yaml`, by `family`), so a new model file is
benchmarked without touching this one, each model on input of its own kind: images or series for
the models that read numbers, padded word ids for the text classifiers (harness/models/text.py),
windows of character ids for the character language models (`task: language_model`), fortunes for
the TF-IDF baselines and the n-gram language model; a deep generator (`task: generation`) runs one
step of its own objective on a batch of random MNIST-sized images, a classical one fits mnist5k. `tests/test_microbenchmarks_registry.py` (in
the default test run) fails if a deep model cannot be built with the input this file gives it, or a
classical one has no data kind here.

Not part of the default run (the module carries the `benchmark` marker, which pyproject's addopts
deselect, and pyproject's `--benchmark-disable` must be overridden). Run with

    python -m pytest benchmarks/test_microbenchmarks.py -m benchmark --benchmark-enable

and see benchmarks/README.md for saving a baseline and failing on a regression.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np
import pytest
import torch
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone, is_classifier
from threadpoolctl import threadpool_limits
from torch import nn

from harness.deep.charlm import neural_lm
from harness.core.config import group_options, load_item
from harness.data.text import load_fortunes
from harness.data.vision import load_mnist5k
from harness.core.runner import build_estimator
from harness.deep.training import import_object, make_optimizer

pytestmark = pytest.mark.benchmark

BATCH = 64
N_CLASSES = 10
IMAGE = (1, 28, 28)     # (C, H, W): MNIST-sized images
SEQUENCE = (1, 256)     # (C, T): one channel, 256 time steps
TABLE = (20,)           # (F,): a table of 20 numeric columns, as harness/deep/tabular.py hands it to a network
IMAGE_MODULES = {"harness.models.perceptron", "harness.models.mlp", "harness.models.cnn", "harness.models.resnet",
                 "harness.models.highway"}
TEXT_MODULES = {"harness.models.text"}  # word ids in, (T,) with T the model's own max_len
VOCABULARY = 8_700  # word ids of a text batch: the fortunes' training vocabulary at min_count 2
CHARACTERS = 100    # a character language model's alphabet: about the fortunes' (fortunes_chars)

# Model name -> the input shape (without batch) its training step is benchmarked on, for the models
# known today. A deep model not listed gets IMAGE if its module lives in one of IMAGE_MODULES, its
# own max_len of word ids if in TEXT_MODULES, SEQUENCE if elsewhere in harness.models, and a
# language model windows of its own seq_len; list it here when that default is wrong for it.
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "perceptron": IMAGE,
    "mlp": IMAGE,
    "cnn": IMAGE,
    "resnet": IMAGE,
    "plain_net": IMAGE,
    "autoencoder": IMAGE,
    "autoencoder_detector": IMAGE,
    "resnet_mlp": TABLE,
    "ft_transformer": TABLE,
    "resnet_rtdl": TABLE,
    "ft_transformer_rtdl": TABLE,
}
# Deep in the source document's sense but fitted in closed form (GMDH: least squares per neuron, layer
# by layer): no training step to time, so their fit is benchmarked as the classical models' is.
FIT_BENCHMARKED = {"gmdh"}

# Classical model name -> the data its fit is benchmarked on: "images" (1,000 mnist5k images),
# "series" (1,000 seeded series of SEQUENCE's shape) or "texts" (1,000 fortunes, the text suite's
# data; a language model reads the same texts). A model not listed gets it from the package of its
# `_target_`, through CLASSICAL_PACKAGES; list a model here when that default is wrong for it.
CLASSICAL_DATA: dict[str, str] = {
    "nn_euclidean": "series",  # baselines.neighbors.knn, but the time-series archive's baseline
}
CLASSICAL_PACKAGES = {
    "baselines.linear": "images", "baselines.kernel": "images", "baselines.neighbors": "images",
    "baselines.bayes": "images", "baselines.trees": "images", "baselines.timeseries": "series",
    "baselines.text": "texts", "harness.deep.charlm": "texts", "baselines.charlm": "texts", "baselines.generative": "images",
    "baselines.decomposition": "images", "baselines.anomaly": "images",
    "baselines.tabular": "tables", "harness.models.gmdh": "tables", "baselines.rl": "environment",
}
# "environment": an agent's fit of ENVIRONMENT_STEPS steps of cart-pole (suite=rl), evaluations included.
DATA_KINDS = ("images", "series", "texts", "tables", "environment")
ENVIRONMENT_STEPS = 2000
STATE, ACTIONS = (4,), 2  # a deep agent's Q-network step: minibatches of cart-pole states, two actions
CLASSICAL_SAMPLES = 1000
FIT_BUDGET_S = 2.0  # timed fits per classical model: enough rounds to fill this, at least MIN_FIT_ROUNDS
MIN_FIT_ROUNDS, MAX_FIT_ROUNDS = 3, 100


def model_config(name: str) -> DictConfig:
    """The model's config node, its `${profile.*}` interpolations resolved against a minimal root."""
    root = OmegaConf.create({"profile": {"max_epochs": 1, "patience": 0}, "model": load_item("model", name)})
    return root.model


def models_of(family: str) -> list[str]:
    return [name for name in group_options("model") if model_config(name).get("family", "deep") == family]


def stepped_models() -> list[str]:
    """The deep models benchmarked by a training step."""
    return [name for name in models_of("deep") if name not in FIT_BENCHMARKED]


def fitted_models() -> list[str]:
    """The models benchmarked by a whole fit: the classical ones and FIT_BENCHMARKED."""
    return [*models_of("classical"), *(name for name in models_of("deep") if name in FIT_BENCHMARKED)]


def is_language_model(name: str) -> bool:
    """Texts in, bits per text out (harness/deep/charlm.py): what its config's `task` says."""
    return model_config(name).get("task") == "language_model"


def is_generator(name: str) -> bool:
    """Images in, images out (harness/deep/generative.py): what its config's `task` says."""
    return model_config(name).get("task") == "generation"


def is_agent(name: str) -> bool:
    """An environment in, greedy actions out (harness/deep/rl.py): what its config's `task` says."""
    return "control" in str(model_config(name).get("task"))


def is_autoencoder(name: str) -> bool:
    """Inputs in, reconstructions out (harness/deep/autoencoder.py): its batch is its own target."""
    return str(model_config(name).estimator._target_) == "harness.deep.autoencoder.TorchAutoencoder"


def input_shape(name: str, est) -> tuple[int, ...]:
    """The shape (without batch) `name`'s module is benchmarked on, from its estimator `est`;
    KeyError when none is known."""
    if name in INPUT_SHAPES:
        return INPUT_SHAPES[name]
    module_path = getattr(est, "module", None)
    if module_path is None:  # a language model builds its network in fit, for windows of seq_len
        if hasattr(est, "seq_len"):
            return (est.seq_len,)
        raise KeyError(f"model {name!r} ({type(est).__name__}) has no module and no seq_len: add its input "
                       f"shape to INPUT_SHAPES in benchmarks/test_microbenchmarks.py")
    package = module_path.rpartition(".")[0]  # compared whole: harness.models.resnet1d is not resnet
    if package in TEXT_MODULES:
        return (est.max_len,)
    if package in IMAGE_MODULES:
        return IMAGE
    if package.startswith("harness.models."):
        return SEQUENCE
    raise KeyError(f"model {name!r} (module {module_path}) has no input shape: add it to INPUT_SHAPES "
                   f"in benchmarks/test_microbenchmarks.py")


def classical_data(name: str) -> str:
    """One of DATA_KINDS: the data `name`'s fit is benchmarked on; KeyError when none is known."""
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


@dataclass
class TrainingStep:
    """What one training step of a deep model needs: its network and optimizer, built as its fit
    builds them (weights seeded), a fixed batch of its kind, and its loss."""
    module: nn.Module
    optimizer: torch.optim.Optimizer
    X: torch.Tensor
    y: torch.Tensor
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def __call__(self) -> float:
        loss = self.loss(self.module(self.X), self.y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()  # also waits for the step to finish


@dataclass
class GeneratorStep:
    """One training step of a deep generator: its own objective (GAN, ELBO, denoising, CD) on a
    minibatch of images, as `build` of harness/deep/generative.py returns it, networks built and seeded."""
    step: Callable[[], float]

    def __call__(self) -> float:
        return self.step()


def next_character_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:  # (B, T, V), (B, T)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def training_step(name: str, batch: int = BATCH, seed: int = 0) -> TrainingStep | GeneratorStep:
    """One training step of deep model `name` on a batch of its kind; KeyError when no input is known."""
    est = build_estimator(model_config(name), seed, "cpu", None)
    generator = torch.Generator().manual_seed(seed)
    if is_generator(name):  # a batch of random IMAGE-shaped images in [0, 1] with labels
        est.set_params(batch_size=batch)
        X, y = est.learn_labels(torch.rand(batch, *IMAGE, generator=generator).numpy(), np.arange(batch) % N_CLASSES)
        return GeneratorStep(est.build(X, y))
    # harness.deep.rl.DQN: one Huber step of Q(s, a) on a minibatch of states, Adam as in its fit (dqn_sb3's
    # Q-network is the same MLP of `hidden` widths, so its step is timed on this one too)
    if is_agent(name):
        from harness.models.dqn import QNetwork

        torch.manual_seed(seed)
        module = QNetwork(STATE[0], ACTIONS, tuple(est.hidden))
        X, a = torch.randn(batch, *STATE, generator=generator), torch.randint(0, ACTIONS, (batch,), generator=generator)
        targets = torch.randn(batch, generator=generator)
        optimizer = torch.optim.Adam(module.parameters(), lr=est.learning_rate)
        return TrainingStep(module, optimizer, X, targets,
                            lambda q, y: nn.functional.smooth_l1_loss(q.gather(1, a[:, None]).squeeze(1), y))
    shape = input_shape(name, est)
    torch.manual_seed(seed)
    if is_language_model(name):  # harness.deep.charlm.NeuralCharLM: next-character prediction, AdamW as in train_lm
        module = neural_lm(est.backbone, CHARACTERS, shape[-1], est.embed_dim, est.width, est.layers)
        window = torch.randint(0, CHARACTERS, (batch, shape[-1] + 1), generator=generator)
        optimizer = make_optimizer("adamw", module.parameters(), est.lr, 0.01, 0.9)
        return TrainingStep(module, optimizer, window[:, :-1], window[:, 1:], next_character_loss)
    module_cls = import_object(est.module)
    if is_autoencoder(name):  # flattened images in [0, 1], as its fit gives them; squared reconstruction error
        module = module_cls((math.prod(shape),), est.code_size, sigmoid_output=True, **(est.module_params or {}))
        X = torch.rand(batch, math.prod(shape), generator=generator)
        optimizer = make_optimizer(est.optimizer, module.parameters(), est.lr, est.weight_decay, est.momentum)
        return TrainingStep(module, optimizer, X, X, nn.functional.mse_loss)
    if est.module.rpartition(".")[0] in TEXT_MODULES:
        module = module_cls(shape, N_CLASSES, vocab_size=VOCABULARY, **(est.module_params or {}))
        X = fixed_word_ids(batch, shape[-1], generator)
    else:
        module = module_cls(shape, N_CLASSES, **(est.module_params or {}))
        X = torch.randn(batch, *shape, generator=generator)
    labels = torch.randint(0, N_CLASSES, (batch,), generator=generator)
    optimizer = make_optimizer(est.optimizer, module.parameters(), est.lr, est.weight_decay, est.momentum)
    return TrainingStep(module, optimizer, X, labels, getattr(module_cls, "criterion", None) or nn.functional.cross_entropy)


def fixed_word_ids(batch: int, length: int, generator: torch.Generator) -> torch.Tensor:  # -> (batch, length) int64
    """Texts as harness.deep.text.TextClassifier encodes them: ids 2.. of VOCABULARY, each text 1 to
    `length` words long, padded with 0 at the end (as the fortunes are: most shorter than max_len)."""
    ids = torch.randint(2, VOCABULARY, (batch, length), generator=generator)
    lengths = torch.randint(1, length + 1, (batch, 1), generator=generator)
    return ids.masked_fill(torch.arange(length) >= lengths, 0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread and one BLAS/OpenMP thread: numbers that do not depend on what else runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


@pytest.mark.benchmark(group="deep: forward+backward+step, batch 64")
@pytest.mark.parametrize("name", stepped_models())
def test_train_step(benchmark, name):
    step = training_step(name)
    if not isinstance(step, GeneratorStep):  # a generator's networks are in training mode already
        step.module.train()
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


@cache
def classical_dataset(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Each data kind, loaded once, when a model first asks for it. Images: 1,000 mnist5k training
    images, 100 per class, (N, 1, 28, 28) in [0, 1], as the runner feeds them (the pipelines flatten
    them). Texts: 1,000 fortunes of the text suite's 8 categories, stratified, a 1-D object array of
    str (needs the fortunes package: the loader says how to install it). Tables: 1,000 diamonds (the
    tabular suite's; a DataFrame with 3 categorical columns, log price a regression target).
    Environment: cart-pole, as suite=rl builds it."""
    if kind == "environment":
        from harness.data.rl import load_environment

        bounds = [[-2.4, 2.4], [-3.0, 3.0], [-0.2095, 0.2095], [-3.5, 3.5]]  # suites/dataset/cartpole.yaml's
        task = load_environment("CartPole-v1", seed=0, train_steps=ENVIRONMENT_STEPS, observation_bounds=bounds,
                                curve_points=1, curve_episodes=1)
        return task.training_data()[0], None
    if kind == "tables":
        from harness.data.tabular import load_rdataset

        task = load_rdataset("ggplot2", "diamonds", "price", "diamonds", seed=0, kind="regression", log_target=True,
                             max_train=CLASSICAL_SAMPLES)
    elif kind == "images":
        task = load_mnist5k(seed=0).subsample_train(CLASSICAL_SAMPLES, seed=0)
    elif kind == "texts":
        task = load_fortunes(seed=0).subsample_train(CLASSICAL_SAMPLES, seed=0)
    else:
        return fixed_series()
    return task.X_train, task.y_train


@pytest.mark.benchmark(group="classical (and GMDH): fit on 1,000 images (mnist5k), series (1, 256), texts "
                             "(fortunes) or table rows (diamonds)")
@pytest.mark.parametrize("name", fitted_models())
def test_classical_fit(benchmark, name):
    X, y = classical_dataset(classical_data(name))
    est = build_classical(name)
    t0 = time.perf_counter()
    clone(est).fit(X, y)  # warm-up (and any JIT compiling), untimed; its duration sets the rounds
    rounds = min(MAX_FIT_ROUNDS, max(MIN_FIT_ROUNDS, math.ceil(FIT_BUDGET_S / (time.perf_counter() - t0))))
    fitted = benchmark.pedantic(lambda e: e.fit(X, y), setup=lambda: ((clone(est),), {}), rounds=rounds)
    if is_classifier(fitted):
        assert list(fitted.classes_) == list(np.unique(y))
    elif hasattr(fitted, "record_"):  # an agent (harness/deep/rl.py): it acted for its whole budget
        assert fitted.record_.steps[-1] == ENVIRONMENT_STEPS
    elif hasattr(fitted, "sample"):  # a generator (harness/deep/generative.py): it draws images
        assert np.isfinite(fitted.sample(5)).all()
    else:  # a regressor, or a language model (y is not its target, the texts are; it scores each text)
        assert np.isfinite(fitted.predict(X[:5])).all()
