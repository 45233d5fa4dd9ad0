"""Second implementations as guards (suites/guards.yaml): Stable-Baselines3's DQN beside bench's, the
FT-Transformer and ResNet of rtdl-revisiting-models beside bench's, how a pair is read (agree,
disagree, undecided), the report's side-by-side table, and the claims' reading of a disagreement."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from harness.core.config import compose_config, load_item, resolve_plan
from harness.evaluation.guards import (
    AGREE,
    DISAGREE,
    UNDECIDED,
    Guard,
    compare_pairs,
    load_guards,
)
from tests.suites.test_rl import a12, lake, rl_cell, rl_frame
from tests.suites.test_tabular import other_domains, row, tabular_duels

pytest.importorskip("stable_baselines3")
pytest.importorskip("rtdl_revisiting_models")

PAIRS = [(g.model, g.second) for g in load_guards()]


# ---------------------------------------------------------------- the pairs are the same settings

@pytest.mark.parametrize("model, second", PAIRS)
def test_a_second_implementation_runs_on_its_models_settings(model, second):
    """Everything but the code that learns is the guarded model's: settings, search spaces, task kinds."""
    a, b = (OmegaConf.to_container(load_item("model", name)) for name in (model, second))
    code = ("_target_", "module")
    assert {k: v for k, v in a["estimator"].items() if k not in code} == \
           {k: v for k, v in b["estimator"].items() if k not in code}
    assert a["estimator"].get("_target_") != b["estimator"].get("_target_") or a["estimator"]["module"] != b["estimator"]["module"]
    for key in ("task", "family", "search", "random_search"):
        assert a.get(key) == b.get(key), key


@pytest.mark.parametrize("suite", ["rl", "tabular"])
@pytest.mark.parametrize("profile", ["smoke", "default", "full"])
def test_suites_set_a_pair_up_alike_and_run_guards_in_the_full_profile(suite, profile):
    cfg = compose_config([f"suite={suite}", f"profile={profile}"])
    node = OmegaConf.to_container(cfg.suite)
    tweaks = (node.get("profiles") or {}).get(profile) or {}
    for model, second in PAIRS:
        for layer in (node.get("overrides") or {}, tweaks.get("overrides") or {}):
            assert layer.get(model) == layer.get(second), (profile, model)
    plan = resolve_plan(cfg)
    seconds = {s for m, s in PAIRS if m in plan.models}
    assert seconds  # the suite runs a guarded model
    if profile == "full":  # where the claims are judged at scale, every guard runs beside its model
        assert seconds <= set(plan.models)
    else:  # smoke and default keep their lists (and the committed smoke references)
        assert not seconds & set(plan.models)


# ---------------------------------------------------------------- Stable-Baselines3's DQN, bench's face

def test_sb3_dqn_trains_exactly_its_budget_and_scores_like_any_agent():
    from harness.deep.rl import DQN
    from harness.deep.rl_sb3 import StableBaselines3DQN
    from harness.tasks.control import evaluate_control

    settings = dict(hidden=(32,), learning_rate=3e-3, learning_starts=200, buffer_size=5000, target_update_interval=100,
                    train_freq=2, gamma=0.9, exploration_fraction=0.5, random_state=0)
    task = lake(2000, curve_points=10, curve_episodes=1, eval_episodes=5)
    agent = StableBaselines3DQN(**settings)
    assert agent.fit(task.environment) is agent
    assert agent.record_.steps == list(range(0, 2001, 200)) and agent.record_.episodes > 0
    assert agent.model_.num_timesteps == 2000  # stopped at the budget, not at the next multiple of train_freq
    row, _, _ = evaluate_control(agent, task)
    # the deterministic lake, as bench's DQN solves it (tests/suites/test_rl.py)
    assert row["mean_return"] == 1.0 and row["solved"] and row["steps_to_threshold"] <= 2000
    theirs, _, _ = evaluate_control(DQN(**settings).fit(task.environment), task)
    assert set(row) == set(theirs)
    assert agent.n_parameters_ == 16 * 32 + 32 + 32 * 4 + 4  # one-hot 16 states -> 32 -> 4 actions, as bench's
    assert agent.predict([14]).tolist() == [2]  # next to the goal: move right


def test_sb3_dqn_takes_per_environment_settings_and_refuses_unknown_ones():
    from harness.deep.rl_sb3 import StableBaselines3DQN

    agent = StableBaselines3DQN(hidden=(8,), learning_starts=10, env_params={"FrozenLake-v1": {"gamma": 0.5}},
                                random_state=0).fit(lake(40, curve_points=2).environment)
    assert agent.model_.gamma == 0.5 and agent.gamma == 0.99
    with pytest.raises(ValueError, match="unknown settings nope"):
        StableBaselines3DQN(env_params={"FrozenLake-v1": {"nope": 1}}).fit(lake(20).environment)


# ---------------------------------------------------------------- rtdl's networks, bench's loop

def test_rtdl_ft_transformer_hands_the_papers_parameter_groups_to_the_optimiser(monkeypatch):
    """No weight decay on the feature and [CLS] embeddings, the norms and the biases; decay on the rest.
    bench's own FTTransformer gives the optimiser all its parameters."""
    import harness.deep.estimator as estimator
    from harness.deep.tabular import TabularNet

    seen = {}
    real = estimator.make_optimizer

    def spy(name, params, *args, **kwargs):
        seen["params"] = params if isinstance(params, list) else list(params)
        return real(name, seen["params"], *args, **kwargs)

    monkeypatch.setattr(estimator, "make_optimizer", spy)
    X = pd.DataFrame({"a": np.linspace(0, 1, 60), "b": np.sin(np.arange(60)), "c": pd.Categorical(["x", "y", "z"] * 20)})
    y = (X["a"] > 0.5).astype(int).to_numpy()
    est = TabularNet("harness.models.rtdl.RTDLFTTransformer", {"width": 16, "n_blocks": 2}, max_epochs=1, patience=0,
                     weight_decay=1e-3).fit(X, y)
    main, no_decay = seen["params"]
    network = est.module_.network
    assert main["weight_decay"] == 1e-3 and no_decay["weight_decay"] == 0.0  # the optimiser fills in its own value
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    embeddings = [*network.cls_embedding.parameters(), *network.cont_embeddings.parameters(),
                  *network.cat_embeddings.parameters()]
    norms = [p for n, p in network.named_parameters() if "normalization" in n and not n.startswith("backbone.output")]
    biases = [p for n, p in network.named_parameters() if n.endswith(".bias")]
    assert ids(embeddings) | ids(norms) | ids(biases) <= ids(no_decay["params"])
    attention = network.backbone.blocks[0]["attention"].W_q.weight
    assert id(attention) in ids(main["params"])
    assert ids(main["params"]) | ids(no_decay["params"]) == ids(network.parameters())
    TabularNet("harness.models.tabular.FTTransformer", {"width": 16, "n_blocks": 1}, max_epochs=1, patience=0).fit(X, y)
    assert all(isinstance(p, torch_parameter()) for p in seen["params"])  # one group: every parameter decays


def torch_parameter():
    import torch

    return torch.nn.Parameter


@pytest.mark.parametrize("ours, theirs, params", [
    ("harness.models.tabular.FTTransformer", "harness.models.rtdl.RTDLFTTransformer", {"width": 16, "n_blocks": 1}),
    ("harness.models.tabular.TabularResNet", "harness.models.rtdl.RTDLResNet", {"width": 32, "n_blocks": 1})])
def test_rtdl_networks_have_bench_networks_sizes_and_learn_mixed_tables(ours, theirs, params):
    from harness.deep.tabular import TabularNet

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": pd.Categorical(rng.choice(list("pqr"), 300))})
    y = ((X["a"] + (X["c"] == "q") - 0.3 * X["b"]) > 0.3).astype(int).to_numpy()
    fitted = [TabularNet(m, params, max_epochs=15, patience=0, random_state=0).fit(X[:200], y[:200]) for m in (ours, theirs)]
    assert fitted[0].n_parameters_ == fitted[1].n_parameters_
    accuracy = [float((f.predict(X[200:]) == y[200:]).mean()) for f in fitted]
    assert min(accuracy) > 0.85, accuracy
    r = TabularNet(theirs, params, max_epochs=15, patience=0, random_state=0).fit(X[:200], X["a"][:200] * 3 + 1)
    assert np.corrcoef(r.predict(X[200:]), X["a"][200:] * 3 + 1)[0, 1] > 0.9  # a regressor too


# ---------------------------------------------------------------- reading a pair

GUARD = Guard("ft_transformer", "ft_transformer_rtdl", ("accuracy", "r2"), 0.05)


def pair_rows(ours, theirs, seeds=(0, 1, 2), dataset="credit", model="ft_transformer", second="ft_transformer_rtdl"):
    at = lambda v, s: v(s) if callable(v) else v  # noqa: E731
    return pd.DataFrame([row(dataset, m, "deep", s, accuracy=at(v, s)) for s in seeds
                         for m, v in ((model, ours), (second, theirs))])


@pytest.mark.parametrize("ours, theirs, seeds, expected", [
    (lambda s: 0.80 + 0.01 * s, lambda s: 0.82 + 0.005 * s, (0, 1, 2), AGREE),         # inside the margin
    (lambda s: 0.80 + 0.01 * s, lambda s: 0.90 + 0.012 * s, (0, 1, 2), DISAGREE),      # beyond it and the noise
    (0.80, lambda s: (0.95, 0.70, 1.0)[s], (0, 1, 2), UNDECIDED),                       # beyond it, in the noise
    (0.80, 0.95, (0,), UNDECIDED),                                                       # one seed: no noise to read
])
def test_a_pair_disagrees_only_beyond_the_noise_and_the_margin(ours, theirs, seeds, expected):
    (result,) = compare_pairs(pair_rows(ours, theirs, seeds), guards=(GUARD,))
    assert result.decision == expected and result.diff.n == len(seeds) and result.score == "accuracy"
    assert "ft_transformer" in result.text() and expected in result.text()


def test_a_pair_needs_both_models_and_reads_regression_by_r2_and_returns_relative_to_the_threshold():
    assert compare_pairs(pair_rows(0.8, 0.9).query("model == 'ft_transformer'"), guards=(GUARD,)) == []
    r2 = pd.DataFrame([row("diamonds", m, "deep", s, r2=v + 0.001 * s) for s in (0, 1, 2)
                       for m, v in (("ft_transformer", 0.90), ("ft_transformer_rtdl", 0.70))])
    (result,) = compare_pairs(r2, guards=(GUARD,))
    assert result.score == "r2" and result.decision == DISAGREE
    dqn = Guard("dqn", "dqn_sb3", ("mean_return",), 0.1, "reward_threshold")
    rows = pd.DataFrame([rl_cell("cartpole", m, "deep", s, ret) for s in (0, 1, 2)
                         for m, ret in (("dqn", 470.0 + s), ("dqn_sb3", 430.0 + 2 * s))])
    (result,) = compare_pairs(rows, guards=(dqn,))
    assert result.margin == pytest.approx(47.5) and result.decision == AGREE  # 40 apart: inside 10% of 475


# ---------------------------------------------------------------- the claims

def with_sb3(frame: pd.DataFrame, sb3_return, sb3_steps=np.inf) -> pd.DataFrame:
    """The frame plus dqn_sb3 cells for every dqn cell."""
    dqn = frame[frame["model"] == "dqn"]
    extra = [rl_cell(r.dataset, "dqn_sb3", "deep", r.seed, sb3_return(r.seed) if callable(sb3_return) else sb3_return,
                     sb3_steps) for r in dqn.itertuples()]
    return pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)


def test_a12_reads_implementations_disagree_when_sb3_does_not_reproduce_bench_dqn():
    solved = rl_frame((500.0, 20000), (200.0, np.inf))
    assert a12(solved).verdict == "supported"
    v = a12(with_sb3(solved, lambda s: 150.0 + 5 * s))
    assert v.verdict == "implementations-disagree" and v.rule_verdict == "supported"
    assert "dqn and dqn_sb3" in v.evidence and "disagree" in v.conditions.guards[0]
    assert any(line.startswith("second implementations:") for line in v.conditions.lines())


def test_a12_stands_when_the_two_dqns_agree_and_a_guard_alone_is_no_evidence():
    solved = rl_frame((500.0, 20000), (200.0, np.inf))
    v = a12(with_sb3(solved, lambda s: 495.0 - s, 25000))
    assert v.verdict == "supported" and "agree" in v.conditions.guards[0]
    only_sb3 = with_sb3(solved, 500.0, 20000)
    only_sb3 = only_sb3[only_sb3["model"] != "dqn"]
    assert a12(only_sb3).verdict == "inconclusive"  # dqn_sb3 checks dqn; it does not stand in for it


def test_a_disagreement_faults_only_the_verdicts_that_rest_on_that_model_there():
    """T2's tabular half compares the best network with the best tree per table: a disagreeing guard of
    the FT-Transformer on credit faults it; one on a table the verdict did not use (or of a network
    that lost the choice of best) does not."""
    from tests.claims.cells import verdict_of

    base = pd.concat([other_domains(0.95, 0.90), tabular_duels(0.80, 0.85)])
    assert verdict_of("T2-complexity", base).verdict == "supported"
    faulty = pd.concat([base, pair_rows(0.0, lambda s: 0.95 + 0.003 * s).query("model == 'ft_transformer_rtdl'")])
    v = verdict_of("T2-complexity", faulty)
    assert v.verdict == "implementations-disagree" and v.rule_verdict == "supported"
    elsewhere = pd.concat([base, pair_rows(0.5, lambda s: 0.9 + 0.003 * s, dataset="wine"),
                           pair_rows(0.5, lambda s: 0.9 + 0.003 * s, dataset="wine", model="resnet_mlp",
                                     second="resnet_rtdl")])
    v = verdict_of("T2-complexity", elsewhere)
    assert v.verdict == "supported" and sum("disagree" in g for g in v.conditions.guards) == 2


def test_report_shows_each_pair_side_by_side_only_where_both_ran():
    from harness.report.sections.guards import guard_blocks

    solved = rl_frame((500.0, 20000), (200.0, np.inf))
    assert guard_blocks(solved, "rl") == []
    blocks = guard_blocks(with_sb3(solved, lambda s: 150.0 + 5 * s), "rl")
    table = blocks[-1]
    assert table.header[:5] == ["dataset", "model", "score", "second implementation", "score"]
    (line,) = table.rows
    assert line[:5] == ["cartpole", "dqn", "500", "dqn_sb3", "155"]
