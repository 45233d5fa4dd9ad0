"""suite=foundations: XOR data, the perceptron rule, the highway network, which model runs on which
dataset, decision maps, and the suite end to end in smoke."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from baselines.linear import perceptron_sklearn
from harness.evaluation.boundary import decision_map, read_decision_map
from harness.core.config import ConfigError, compose_config, resolve_plan
from harness.data import DatasetError
from harness.data.task import Task
from harness.data.xor import load_xor, load_xor_cloud
from harness.models.highway import HighwayBlock, HighwayNet
from harness.models.perceptron import Perceptron, perceptron_criterion
from harness.models.resnet import ResNet
from harness.report.rows import with_labels
from harness.report.sections.decision_maps import plot_decision_maps
from harness.deep.training import TorchClassifier

# ---------------------------------------------------------------- data


def test_xor_is_the_truth_table_with_train_equal_to_test():
    t = load_xor(seed=3)
    np.testing.assert_array_equal(t.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(t.y_train, [0, 1, 1, 0])
    np.testing.assert_array_equal(t.X_test, t.X_train)
    np.testing.assert_array_equal(t.y_test, t.y_train)
    assert t.kind == "classification" and t.input_kind == "tabular"


def test_xor_cloud_is_balanced_labelled_by_quadrant_and_seeded():
    t = load_xor_cloud(n_train=200, n_test=120, noise=0.3, seed=1)
    for X, y in ((t.X_train, t.y_train), (t.X_test, t.y_test)):
        np.testing.assert_array_equal(y, (X[:, 0] > 0) ^ (X[:, 1] > 0))
        corner = (X > 0).astype(int) @ [2, 1]  # nearest corner, up to the few points noise carries across
        assert np.abs(np.bincount(corner, minlength=4) - len(X) / 4).max() <= 0.03 * len(X)
    assert t.X_train.shape == (200, 2) and t.X_test.shape == (120, 2) and t.X_train.dtype == np.float32
    np.testing.assert_array_equal(load_xor_cloud(seed=1).X_train, load_xor_cloud(seed=1).X_train)
    assert not np.array_equal(load_xor_cloud(seed=1).X_train, load_xor_cloud(seed=2).X_train)
    assert not np.array_equal(t.X_train[:120], t.X_test)  # train and test are separate draws
    for bad in ({"n_train": 10}, {"n_test": 0}, {"noise": 0}):
        with pytest.raises(DatasetError):
            load_xor_cloud(**bad)


# ---------------------------------------------------------------- the perceptron rule


def test_perceptron_criterion_updates_only_on_mistakes_as_rosenblatt_did():
    """One SGD step on the criterion: nothing moves for a correctly classified input; on a mistake the
    true class's weights move towards x and the predicted class's away, by lr * x (biases by lr)."""
    torch.manual_seed(0)
    m = Perceptron((2,), 2)
    x = torch.tensor([[0.5, -2.0]])
    pred = int(m(x).argmax(1))
    for y, moves in ((pred, False), (1 - pred, True)):
        before = [p.detach().clone() for p in m.parameters()]
        opt = torch.optim.SGD(m.parameters(), lr=0.3)
        opt.zero_grad()
        perceptron_criterion(m(x), torch.tensor([y])).backward()
        opt.step()
        w, b = (p.detach() - q for p, q in zip(m.parameters(), before))
        if not moves:
            assert torch.all(w == 0) and torch.all(b == 0)
        else:
            torch.testing.assert_close(w[y], 0.3 * x[0])
            torch.testing.assert_close(w[pred], -0.3 * x[0])
            torch.testing.assert_close(b, torch.tensor([0.3, -0.3]) * (1 if y == 0 else -1))
        for p, q in zip(m.parameters(), before):  # undo, so the second case starts where the first did
            p.data.copy_(q)


def rosenblatt(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray, order: np.ndarray, lr: float):
    """The multiclass perceptron rule, one input at a time, written out."""
    W, b = W.copy(), b.copy()
    for i in order:
        pred = int(np.argmax(W @ X[i] + b))
        if pred != y[i]:
            W[y[i]] += lr * X[i]
            W[pred] -= lr * X[i]
            b[y[i]] += lr
            b[pred] -= lr
    return W, b


def test_torch_perceptron_with_batch_one_is_rosenblatts_rule_and_learns_separable_data():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1, 0.4, (20, 2)), rng.normal(1, 0.4, (20, 2))]).astype(np.float32)
    y = np.repeat([0, 1], 20)
    est = TorchClassifier(module="harness.models.perceptron.Perceptron", optimizer="sgd", lr=1.0, momentum=0.0,
                          batch_size=1, max_epochs=1, patience=0, val_fraction=0.0, min_steps_per_epoch=0,
                          random_state=5).fit(X, y)
    torch.manual_seed(5)  # what fit does before building the module and its batch order
    init = Perceptron((2,), 2)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(5)).numpy()
    W, b = rosenblatt(X, y, init.linear.weight.detach().numpy().astype(np.float64),
                      init.linear.bias.detach().numpy().astype(np.float64), order, 1.0)
    np.testing.assert_allclose(est.module_.linear.weight.detach().numpy(), W, atol=1e-5)
    np.testing.assert_allclose(est.module_.linear.bias.detach().numpy(), b, atol=1e-5)
    # Separable: both perceptrons end with every point right, as the convergence theorem says.
    longer = est.set_params(max_epochs=20).fit(X, y)
    assert (longer.predict(X) == y).all()
    assert (perceptron_sklearn(random_state=0).fit(X, y).predict(X) == y).all()


# ---------------------------------------------------------------- highway network


def test_highway_block_with_closed_gates_carries_its_input():
    block = HighwayBlock(8, 8, 1, gate_bias=-30.0).eval()
    x = torch.randn(3, 8, 5, 5)
    torch.testing.assert_close(block(x), x, atol=1e-6, rtol=0)
    open_block = HighwayBlock(8, 8, 1, gate_bias=30.0).eval()
    torch.testing.assert_close(open_block(x), open_block.transform(x), atol=1e-6, rtol=0)


def test_highway_net_has_the_resnet_layout_and_its_gate_bias():
    net = HighwayNet((1, 8, 8), 10, depth=7, width=4, gate_bias=-3.0)
    assert len(net.blocks) == 7 and all(isinstance(b, HighwayBlock) for b in net.blocks)
    assert all(torch.all(b.gate.bias == -3.0) for b in net.blocks)
    assert net(torch.rand(2, 1, 8, 8)).shape == (2, 10)
    plain = ResNet((1, 8, 8), 10, depth=7, width=4, residual=False)
    assert [b.transform.body[0].out_channels for b in net.blocks] == [b.body[0].out_channels for b in plain.blocks]
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_resnet_and_plain_net_are_unchanged_by_the_block_hook():
    # the parameter counts of results/reference/depth (depth 1 and 24 on digits)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(ResNet((1, 8, 8), 10, depth=1, residual=False)) == 5018
    assert count(ResNet((1, 8, 8), 10, depth=24, residual=False)) == 755514
    assert count(ResNet((1, 8, 8), 10, depth=24, residual=True)) == 758266


# ---------------------------------------------------------------- which model runs where


def plan(*overrides):
    return resolve_plan(compose_config(["suite=foundations", *overrides]))


def test_foundations_runs_each_experiment_on_its_own_data():
    p = plan()
    xor = {str(m.name) for m in p.models_for("xor")}
    assert xor == {"perceptron", "perceptron_sklearn", "mlp"}
    assert {str(m.name) for m in p.models_for("digits")} == {"plain_net", "highway_net", "resnet"}
    assert {m.variant for m in p.models_for("digits") if m.name == "highway_net"} == {
        "depth=1", "depth=4", "depth=12", "depth=24"}
    assert p.seeds_for("xor") == list(range(10)) and p.seeds_for("digits") == [0]
    assert {str(m.name) for m in plan("model=mlp").models_for("digits")} == set()
    full = plan("profile=full")
    assert "mnist5k" in full.datasets and len(full.seeds_for("xor_cloud")) == 20
    vision = resolve_plan(compose_config(["suite=vision"]))  # a suite without dataset_models runs everything
    assert len(vision.models_for("digits")) == len(vision.models)


def test_dataset_models_naming_what_the_suite_does_not_run_is_one_line_listing_the_names():
    for override, words in (("+suite.dataset_models.nope=[mlp]", ["'nope'", "xor_cloud"]),
                            ("suite.dataset_models.xor=[cnn]", ["'cnn'", "perceptron_sklearn"])):
        with pytest.raises(ConfigError) as err:
            plan(override)
        assert "\n" not in str(err.value) and all(w in str(err.value) for w in words)


# ---------------------------------------------------------------- decision maps


class Quadrants:
    """A stand-in classifier of the plane: class 1 where x1 > 0.3."""

    def predict(self, X):
        return (np.asarray(X)[:, 0] > 0.3).astype(int)


def test_decision_map_records_the_predicted_class_over_the_plane_with_the_points():
    t = load_xor_cloud(n_train=40, n_test=40, seed=0)
    found = read_decision_map(decision_map(Quadrants(), t)["decision_map"])
    xs = np.linspace(*found["x"], found["size"])
    np.testing.assert_array_equal(found["regions"], np.tile(xs > 0.3, (found["size"], 1)).astype(np.uint8))
    assert found["x"][0] < t.X_train[:, 0].min() and found["y"][1] > t.X_test[:, 1].max()
    assert len(found["points"]) == 40 and set(found["points"][:, 2]) == {0, 1}
    images = Task("img", "classification", np.zeros((4, 1, 2, 2)), np.array([0, 1, 0, 1]), np.zeros((2, 1, 2, 2)),
                  np.array([0, 1]))
    assert decision_map(Quadrants(), images) == {}
    broken = json.loads(decision_map(Quadrants(), t)["decision_map"]) | {"size": 3}
    with pytest.raises(ValueError):
        read_decision_map(json.dumps(broken))


def test_report_draws_a_panel_per_model_and_the_worst_seed():
    t = load_xor()
    text = decision_map(Quadrants(), t)["decision_map"]
    rows = pd.DataFrame([dict(model="mlp", variant="hidden=[2]", seed=s, accuracy=a, decision_map=text, status="ok",
                              suite="foundations", dataset="xor", device="cpu", tuned=False, params_id="p")
                         for s, a in ((0, 1.0), (1, 0.5))]
                        + [dict(model="perceptron", variant="", seed=0, accuracy=0.5, decision_map=text, status="ok",
                                suite="foundations", dataset="xor", device="cpu", tuned=False, params_id="p")])
    fig = plot_decision_maps(with_labels(rows))
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 3 and "worst seed" in titles[1] and "50.0%" in titles[1]


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, bench):
    results = tmp_path_factory.mktemp("foundations")
    code, folder = bench(results, "suite=foundations", "profile=smoke", "hardware.threads=1")
    return code, folder, pd.read_parquet(folder / "results.parquet")


def test_suite_runs_end_to_end_in_smoke(smoke_run):
    code, folder, df = smoke_run
    assert code == 0, df.loc[df["status"] != "ok", ["dataset", "model", "error"]].to_string()
    for dataset in ("xor", "xor_cloud"):
        d = df[df["dataset"] == dataset]
        assert set(d["model"]) == {"perceptron", "perceptron_sklearn", "mlp"}
        assert d["decision_map"].map(lambda v: isinstance(v, str)).all()
        assert (d.loc[d["model"].str.startswith("perceptron"), "accuracy"] <= 0.77).all()
    depth = df[df["dataset"] == "digits"]
    assert set(depth["model"]) == {"plain_net", "highway_net", "resnet"} and len(depth) == 3 * 2
    assert depth["final_train_loss"].notna().all() and depth["decision_map"].isna().all()
    report = (folder / "report.md").read_text()
    assert "decision-regions" in report and "A1-xor" in report and "A9-depth" in report
