"""Every model config fits a tiny easy problem of its own input kind, follows scikit-learn's
contract, and is reproducible.

The kind comes from the model's config (`input_kind`): models that read numbers (images, series)
get 300 training images of scikit-learn's 8x8 digits (test: the dataset's own 450), deep models on
the CPU for a few dozen epochs; chance is 0.1 and every model must clear 0.5. Text classifiers get
short sentences on four topics (chance 0.25; they must clear 0.75), language models the same
sentences as text to model (they must beat a uniform guess over their alphabet by a quarter). A new
model whose config matches no kind gets the digits, and fails there if it cannot read them.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from harness.core.cell import build_estimator
from harness.core.config import compose_config, group_options, load_item
from harness.data.vision import load_digits
from harness.core.measure import count_parameters
from harness.tasks import scores
from harness.models.perceptron import perceptron_criterion
from harness.deep.training import TorchClassifier

MODELS = group_options("model")
EPOCHS = 40  # the perceptron rule is the slowest learner here: ~0.70 after 40 epochs, ~0.57 after 20
# Models whose configured size costs minutes on the digits' 64 columns: a smaller one of the same class.
# The FT-Transformer attends over one token per column (65 on digits; its tables have 10 to 31): at
# width 64 and 2 blocks, 40 epochs took 270 s here (under load); width 32, 1 block and 8 epochs, ~15 s.
SMALLER = {name: ["model.estimator.module_params.width=32", "model.estimator.module_params.n_blocks=1",
                  "profile.max_epochs=8"] for name in ("ft_transformer", "ft_transformer_rtdl")}
TEXT_EPOCHS = 15  # every text classifier is past 0.85 on the topic sentences by then
LM_STEPS = 40  # a language model's training steps here (its config gives a wall-clock budget instead)
# Estimators that read strings (they tokenise, or build TF-IDF features, inside fit).
TEXT_ESTIMATORS = ("harness.deep.text.", "baselines.text.")


def input_kind(name: str) -> str:
    """What the model reads, from its config: "language_model" (texts in, bits per text out),
    "text" (texts in, labels out), "regression" (a table in, numbers out) or "numbers" (images,
    series and tables, labels out)."""
    cfg = load_item("model", name)
    if cfg.get("task") in ("language_model", "generation", "reconstruction", "anomaly", "regression"):
        return cfg.task
    if "control" in list(cfg.get("task") or []) or cfg.get("task") == "control":  # agents (harness/deep/rl.py)
        return "control"
    return "text" if str(cfg.estimator._target_).startswith(TEXT_ESTIMATORS) else "numbers"


KINDS = {name: input_kind(name) for name in MODELS}
NUMBER_MODELS = [name for name, kind in KINDS.items() if kind == "numbers"]
TEXT_MODELS = [name for name, kind in KINDS.items() if kind == "text"]
LANGUAGE_MODELS = [name for name, kind in KINDS.items() if kind == "language_model"]
GENERATORS = [name for name, kind in KINDS.items() if kind == "generation"]
REDUCERS = [name for name, kind in KINDS.items() if kind == "reconstruction"]
DETECTORS = [name for name, kind in KINDS.items() if kind == "anomaly"]
# Models that predict numbers: regression-only ones, and table models of both kinds (`task: [classification,
# regression]`), which the digits test checks as classifiers too.
def task_kinds(name: str) -> list[str]:
    declared = load_item("model", name).get("task") or []
    return [declared] if isinstance(declared, str) else list(declared)


REGRESSORS = [name for name in MODELS if "regression" in task_kinds(name)]
REGRESSION_EPOCHS = 15
AGENTS = [name for name, kind in KINDS.items() if kind == "control"]

TOPICS = {  # four topics of ten words each, and words any topic uses
    "computers": "program compiler bug disk memory kernel network keyboard screen software".split(),
    "food": "bread cheese soup apple dinner kitchen butter pepper onion garlic".split(),
    "law": "judge court lawyer jury verdict trial witness appeal crime prison".split(),
    "sea": "ship sail wave harbour anchor island tide sailor boat fish".split(),
}
FILLER = "the a of and to in is was it that with for on my his her an old new good said you we never always".split()


def topic_sentences(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n sentences of 4 to 14 words, each of them a topic word with probability 0.3 (at least one),
    else a filler word; y is the topic, in turn. X is a 1-D object array of str, as the text loaders
    give it. Lengths differ, so the deep models see padding."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(TOPICS)
    texts = []
    for label in y:
        topic = TOPICS[sorted(TOPICS)[label]]
        words = [rng.choice(topic) if rng.random() < 0.3 else rng.choice(FILLER) for _ in range(rng.integers(4, 15))]
        words[rng.integers(len(words))] = rng.choice(topic)
        texts.append(" ".join(words).capitalize() + ".")
    return np.array(texts, dtype=object), y


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0).subsample_train(300, seed=0)


@pytest.fixture(scope="module")
def topics():
    return topic_sentences(200, seed=0), topic_sentences(100, seed=1)


def training_budget(name: str) -> list[str]:
    """Overrides that size the model's training here: epochs, or a neural language model's steps, or a
    deep generator's steps (and short samplers)."""
    if KINDS[name] == "generation":
        small = {"max_steps": 30, "rbm_steps": 20, "sampling_steps": 5, "gibbs_steps": 10}
        return [f"model.estimator.{k}={v}" for k, v in small.items() if k in load_item("model", name).estimator]
    if KINDS[name] == "language_model":  # neural ones train for wall-clock seconds; a step count repeats
        steps = "max_steps" in load_item("model", name).estimator
        return ["model.estimator.budget_seconds=null", f"model.estimator.max_steps={LM_STEPS}"] if steps else []
    return [f"profile.max_epochs={TEXT_EPOCHS if KINDS[name] == 'text' else EPOCHS}", *SMALLER.get(name, [])]


def model_config(name: str, *extra: str):
    return compose_config([f"model={name}", *training_budget(name), "profile.patience=0", *extra]).model


def build(name: str, seed: int = 0, *extra: str):
    """The estimator the runner would build for this model, on the CPU."""
    return build_estimator(model_config(name, *extra), seed, "cpu", None)


def check_classifier(name: str, est, X_train, y_train, X_test, y_test, n_classes: int, min_accuracy: float):
    """fit returns self; predictions are labels of the test set's shape, accurate enough; the
    probabilities (where the model gives them) are distributions whose argmax is the prediction."""
    assert est.fit(X_train, y_train) is est, "fit must return self"
    y_pred = est.predict(X_test)
    assert y_pred.shape == y_test.shape
    assert set(np.unique(y_pred)) <= set(range(n_classes))
    accuracy = float(np.mean(y_pred == y_test))
    assert accuracy > min_accuracy, f"{name}: accuracy {accuracy:.3f} on {n_classes} classes"
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X_test[:50])
        assert proba.shape == (50, n_classes)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        assert (proba >= 0).all()
        np.testing.assert_array_equal(est.classes_[proba.argmax(1)], y_pred[:50])
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


@pytest.mark.parametrize("name", NUMBER_MODELS)
def test_model_learns_digits(name, digits):
    check_classifier(name, build(name), digits.X_train, digits.y_train, digits.X_test, digits.y_test, 10, 0.5)


@pytest.fixture(scope="module")
def autompg():
    from harness.data.tabular import load_autompg

    return load_autompg(seed=0)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_predicts_miles_per_gallon(name, autompg):
    """Auto MPG (294 training cars, one categorical column): fit returns self, predictions are finite
    floats of the test set's shape and explain most of the variance (every model here reaches R^2 of
    0.8 or more; ridge 0.82, predicting the mean 0)."""
    est = build(name, 0, f"profile.max_epochs={REGRESSION_EPOCHS}")
    assert est.fit(autompg.X_train, autompg.y_train) is est, "fit must return self"
    y_pred = est.predict(autompg.X_test)
    assert y_pred.shape == autompg.y_test.shape and np.issubdtype(y_pred.dtype, np.floating)
    r2 = scores("regression", autompg.y_test, y_pred)["r2"]
    assert r2 > 0.6, f"{name}: R^2 {r2:.3f}"
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


@pytest.mark.parametrize("name", TEXT_MODELS)
def test_text_model_learns_topics(name, topics):
    (X_train, y_train), (X_test, y_test) = topics
    check_classifier(name, build(name), X_train, y_train, X_test, y_test, len(TOPICS), 0.75)


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_language_model_beats_a_uniform_guess(name, topics):
    (X_train, _), (X_test, _) = topics
    est = build(name)
    assert est.fit(X_train) is est, "fit must return self"
    bits = est.predict(X_test)
    assert bits.shape == X_test.shape and (bits > 0).all()
    bpc, uniform = scores("language_model", X_test, bits)["bpc"], np.log2(len(est.alphabet_))
    assert bpc < 0.75 * uniform, f"{name}: {bpc:.2f} bits per character, uniform {uniform:.2f}"
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_samples_images_of_the_asked_classes_reproducibly(name, digits):
    """fit returns self; samples have the training images' shape, lie in [0, 1], follow the labels
    asked for (conditional models), repeat with the seed and change with it."""
    est = build(name)
    assert est.fit(digits.X_train, digits.y_train) is est, "fit must return self"
    labels = np.repeat([3, 7], 10)
    X = est.sample(20, labels=labels, random_state=1)
    assert X.shape == (20, *digits.X_train.shape[1:]) and X.dtype == np.float32
    assert np.isfinite(X).all() and X.min() >= 0 and X.max() <= 1
    assert est.conditional_
    np.testing.assert_array_equal(X, est.sample(20, labels=labels, random_state=1))
    assert not np.array_equal(X, est.sample(20, labels=labels, random_state=2))
    assert est.sample(5).shape == (5, *digits.X_train.shape[1:])  # no labels: classes in training proportions
    with pytest.raises(ValueError, match="not among the training classes"):
        est.sample(2, labels=np.array([3, 11]))
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


@pytest.mark.parametrize("name", REDUCERS)
def test_reducer_rebuilds_digits_from_its_codes(name, digits):
    """fit returns self; predict rebuilds the test images in their shape, explaining a good part of their
    variance (code size 8 of 64 pixels); the codes keep the classes apart for a 5-NN probe."""
    est = build(name)
    assert est.fit(digits.X_train, digits.y_train) is est, "fit must return self"
    X_hat = est.predict(digits.X_test)
    assert X_hat.shape == digits.X_test.shape and np.isfinite(X_hat).all()
    explained = scores("reconstruction", digits.X_test, X_hat)["explained_variance"]
    assert explained > 0.4, f"{name}: explains {explained:.2f} of the test variance"
    assert est.transform(digits.X_test).shape == (len(digits.X_test), est.code_size)
    probe = est.diagnostics(digits.X_test, digits.y_test)
    assert probe["knn_accuracy"] > 0.6, probe
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


@pytest.mark.parametrize("name", DETECTORS)
def test_detector_ranks_a_held_out_digit_as_anomalous(name):
    """Trained on 300 digits that are not 4, a detector scores the test fours above the other digits (4:
    a class every detector here finds; on others the one-class SVM's wide kernel is near chance)."""
    from harness.data.anomaly import load_held_out_class

    task = load_held_out_class("digits", anomaly_class=4, seed=0).subsample_train(300, seed=0)
    est = build(name)
    assert est.fit(task.X_train, task.y_train) is est, "fit must return self"
    s = est.predict(task.X_test)
    assert s.shape == task.y_test.shape and np.isfinite(s).all()
    roc = scores("anomaly", task.y_test, s)["roc_auc"]
    assert roc > 0.7, f"{name}: ROC-AUC {roc:.3f}"
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


@pytest.mark.parametrize("name", AGENTS)
def test_agent_learns_to_balance_a_pole(name):
    """fit returns self after exactly the budget of environment steps; 20,000 steps of cart-pole lift
    the greedy return well above an untrained policy's (~10 steps before the pole falls); predict gives
    the greedy action of each state. Agents run on the control tasks of suite=rl (tests/suites/test_rl.py)."""
    from harness.data.rl import load_environment
    from harness.tasks.control import evaluate_control

    bounds = [[-2.4, 2.4], [-3.0, 3.0], [-0.2095, 0.2095], [-3.5, 3.5]]
    task = load_environment("CartPole-v1", seed=0, train_steps=20000, observation_bounds=bounds, curve_points=2,
                            curve_episodes=3, eval_episodes=10)
    est = build(name, 0, "model.estimator.env_params.CartPole-v1.gradient_steps=32") if name in ("dqn", "dqn_sb3") else build(name)
    assert est.fit(task.environment) is est, "fit must return self"
    assert est.record_.steps[-1] == 20000
    row, _, _ = evaluate_control(est, task)
    assert row["mean_return"] > 3 * max(est.record_.returns[0], 10), f"{name}: {row['mean_return']}"
    states = np.zeros((3, 4), np.float32)
    assert est.predict(states).shape == (3,) and set(est.predict(states)) <= {0, 1}
    n = count_parameters(est)
    assert n is not None and n > 0, f"{name}: parameter count {n}"


def is_plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(is_plain(v) for v in value.values())
    return value is None or isinstance(value, (bool, int, float, str))


@pytest.mark.parametrize("name", MODELS)
def test_clone_and_get_params_round_trip(name):
    est = build(name, 3)
    params = est.get_params(deep=False)
    twin = clone(est)
    assert twin is not est and type(twin) is type(est)
    original = est.get_params(deep=True)
    cloned = twin.get_params(deep=True)
    assert cloned.keys() == original.keys()
    for key, value in cloned.items():
        if is_plain(value):  # sub-estimators and steps are cloned objects, compared through their params
            assert value == original[key], key
    rebuilt = type(est)(**params)
    assert rebuilt.get_params(deep=False).keys() == params.keys()
    # set_params reaches the seed wherever the model has one (the runner relies on it)
    seeds = [k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")]
    if seeds:
        assert all(est.get_params(deep=True)[k] == 3 for k in seeds)
        est.set_params(**{seeds[0]: 11})
        assert est.get_params(deep=True)[seeds[0]] == 11


def test_torch_classifier_init_only_stores_arguments():
    est = TorchClassifier(lr=-5.0, optimizer="nonsense", max_epochs=0)  # validated in fit, not here
    assert est.get_params()["lr"] == -5.0
    assert not [k for k in vars(est) if k.endswith("_")], "fitted state before fit"
    with pytest.raises(ValueError):
        est.fit(np.zeros((20, 4), np.float32), np.arange(20) % 2)


def test_torch_classifier_recipe_options_reach_the_module_the_loss_and_the_rows_words(digits):
    X, y = digits.X_train[:200], digits.y_train[:200]
    plain = TorchClassifier(module="harness.models.cnn.LeNet5", max_epochs=1, batch_size=32)
    assert plain.recipe_ == "lr 0.001, early stopping, batch 32"
    shifted = TorchClassifier(module="harness.models.cnn.LeNet5", batch_size=32, augment_shift=0.06)
    assert shifted.recipe_ == "lr 0.001, early stopping, batch 32, random shifts up to 6% of the side"
    fast = TorchClassifier(module="harness.models.cnn.LeNet5", max_epochs=3, batch_size=32, lr=0.004,
                           schedule="onecycle", label_smoothing=0.1, channels_last=True).fit(X, y)
    assert fast.recipe_ == "one-cycle to lr 0.004 over 3 epochs, batch 32, label smoothing 0.1, channels_last"
    assert fast.stop_reason_ == "schedule" and fast.n_epochs_ == 3
    conv = fast.module_.features[3].weight  # (16, 6, 5, 5): the first, of one input channel, reads the same either way
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    logits, targets = torch.tensor([[4.0, 0.0, 0.0]]), torch.tensor([0])
    assert fast.criterion_(logits, targets) > plain.set_params(max_epochs=1).fit(X, y).criterion_(logits, targets)
    assert fast.predict(digits.X_test).shape == digits.y_test.shape


@pytest.mark.parametrize("name", ["random_forest", "mlp"])
def test_same_config_and_seed_gives_identical_predictions(name, digits):
    first = build(name, 5, "profile.max_epochs=5").fit(digits.X_train, digits.y_train)
    second = build(name, 5, "profile.max_epochs=5").fit(digits.X_train, digits.y_train)
    np.testing.assert_array_equal(first.predict(digits.X_test), second.predict(digits.X_test))
    if hasattr(first, "predict_proba"):
        np.testing.assert_array_equal(first.predict_proba(digits.X_test), second.predict_proba(digits.X_test))


def test_different_seeds_give_different_models(digits):
    # The determinism test above would also pass if the seed were ignored; this one would not.
    a = build("mlp", 0, "profile.max_epochs=3").fit(digits.X_train, digits.y_train)
    b = build("mlp", 1, "profile.max_epochs=3").fit(digits.X_train, digits.y_train)
    assert not np.array_equal(a.predict_proba(digits.X_test), b.predict_proba(digits.X_test))


def test_perceptron_criterion_is_zero_exactly_when_right():
    scores = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.5, 0.0, 4.0]])
    right = torch.tensor([0, 1, 2])
    assert perceptron_criterion(scores, right).item() == 0.0
    wrong = torch.tensor([1, 1, 2])  # first row: true class 1 scored 1, best scored 3
    assert perceptron_criterion(scores, wrong).item() == pytest.approx(2.0 / 3)
    assert (perceptron_criterion(scores, torch.tensor([2, 0, 1])) > 0).item()


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def xor_model(module: str, seed: int, **kw) -> TorchClassifier:
    params = dict(module=module, optimizer="adam", lr=0.05, batch_size=4, max_epochs=400, patience=0,
                  val_fraction=0.0, device="cpu", random_state=seed)
    return TorchClassifier(**(params | kw))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claim_a1_perceptron_cannot_learn_xor_but_an_mlp_can(seed):
    perceptron = xor_model("harness.models.perceptron.Perceptron", seed, optimizer="sgd", lr=0.1)
    perceptron.fit(XOR_X, XOR_Y)
    assert np.mean(perceptron.predict(XOR_X) == XOR_Y) <= 0.75  # no line separates XOR
    mlp = xor_model("harness.models.mlp.MLP", seed, module_params={"hidden": [16], "dropout": 0.0})
    mlp.fit(XOR_X, XOR_Y)
    assert np.mean(mlp.predict(XOR_X) == XOR_Y) == 1.0
    assert mlp.history_.train_loss[-1] < mlp.history_.train_loss[0]


def test_an_epoch_on_tiny_data_still_takes_the_minimum_number_of_steps():
    """20 samples in batches of 64 are one step a pass; min_steps_per_epoch=10 makes it ten."""
    from torch import nn

    from harness.deep.training import train_module

    steps = []

    class CountingSGD(torch.optim.SGD):
        def step(self, closure=None):
            steps.append(1)
            return super().step(closure)

    module = nn.Linear(4, 2)
    X, y = torch.randn(20, 4), torch.randint(0, 2, (20,))
    for min_steps, expected in ((0, 1), (10, 10)):
        steps.clear()
        train_module(module, nn.functional.cross_entropy, X, y, None, None, optimizer=CountingSGD(module.parameters(), lr=0.1),
                     batch_size=64, max_epochs=1, patience=0, generator=torch.Generator().manual_seed(0),
                     min_steps_per_epoch=min_steps)
        assert len(steps) == expected
