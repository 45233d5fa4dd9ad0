"""suite=rl: environments as tasks, the agents' contract and learning, the evaluator, the report
section and claim A12's rule on synthetic frames."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from baselines.rl import Discretiser, LinearQ, QLearning, Sarsa, TileCoder
from harness.data import DatasetError
from harness.data.rl import load_environment
from harness.deep.rl import DQN
from harness.tasks.control import Agent, evaluate_control, linear_epsilon

CLIFF = dict(max_episode_steps=200, reward_threshold=-13, threshold_source="shortest path")
DETERMINISTIC_LAKE = dict(kwargs={"is_slippery": False})


def lake(steps: int, seed: int = 0, **extra):
    return load_environment("FrozenLake-v1", seed=seed, train_steps=steps, **DETERMINISTIC_LAKE, **extra)


# ---------------------------------------------------------------- environments as tasks

def test_environment_task_kinds_thresholds_and_sizes():
    cart = load_environment("CartPole-v1", seed=3, train_steps=1000,
                            observation_bounds=[[-2.4, 2.4], [-3, 3], [-0.21, 0.21], [-3.5, 3.5]])
    assert cart.kind == "control" and cart.n_train == 1000 and cart.n_test == 100
    assert cart.environment.reward_threshold == 475 and cart.environment.threshold_source == "gymnasium spec"
    assert cart.environment.seed == 3 and len(cart.environment.observation_bounds) == 4
    assert cart.training_data() == (cart.environment,)
    assert cart.subsample_train(10, seed=0) is cart  # an environment has no samples to draw
    cliff = load_environment("CliffWalking-v1", seed=0, train_steps=50, **CLIFF)
    assert cliff.kind == "tabular_control" and cliff.environment.reward_threshold == -13
    env = cliff.environment.make()
    assert env.spec.max_episode_steps == 200


def test_environment_errors_say_what_to_do():
    with pytest.raises(DatasetError, match="CartPole-v1"):  # the names it has
        load_environment("CartPole-v9", seed=0, train_steps=10)
    with pytest.raises(DatasetError, match="reward_threshold"):
        load_environment("CliffWalking-v1", seed=0, train_steps=10)
    with pytest.raises(DatasetError, match="threshold_source"):
        load_environment("CliffWalking-v1", seed=0, train_steps=10, reward_threshold=-13)
    with pytest.raises(DatasetError, match=r"\[1, 3\] are unbounded"):
        load_environment("CartPole-v1", seed=0, train_steps=10)
    with pytest.raises(DatasetError, match="positive"):
        load_environment("Taxi-v4", seed=0, train_steps=0)


# ---------------------------------------------------------------- features

def test_discretiser_boxes():
    d = Discretiser([[0, 1], [-1, 1]], bins=[2, 4])
    assert d.n_states == 8 and d.shape == (2, 4)
    assert d([0.1, -0.9]) == 0 and d([0.9, 0.9]) == 7 and d([5.0, -5.0]) == 4  # beyond the bounds: outer boxes
    assert len({d([x, y]) for x in np.linspace(0, 1, 9) for y in np.linspace(-1, 1, 17)}) == 8
    edges = Discretiser([[0, 1]], bin_edges=[[0.2, 0.3]])
    assert [edges([v]) for v in (0.1, 0.2, 0.25, 0.9)] == [0, 1, 1, 2]
    with pytest.raises(ValueError, match="increase"):
        Discretiser([[0, 1]], bin_edges=[[0.3, 0.2]])


def test_tile_coder_one_tile_per_tiling_and_generalises_locally():
    coder = TileCoder([[0, 1], [0, 1]], n_tilings=8, tiles=4)
    x = coder([0.5, 0.5])
    assert x.shape == (8,) and len(set(x)) == 8
    assert all(coder.base[i] <= x[i] < coder.base[i] + coder.per_tiling for i in range(8))
    near, far = coder([0.6, 0.5]), coder([0.05, 0.95])  # a tenth apart: 0.4 of a tile
    assert 4 <= len(set(x) & set(near)) < 8  # close states share most tiles, not all
    assert not set(x) & set(far)
    assert coder([5, -5]).max() < coder.n_features  # clipped into the grid


def test_epsilon_schedule():
    assert linear_epsilon(0, 100, 1.0, 0.05, 0.1) == 1.0
    assert linear_epsilon(5, 100, 1.0, 0.05, 0.1) == pytest.approx(0.525)
    assert linear_epsilon(50, 100, 1.0, 0.05, 0.1) == 0.05


# ---------------------------------------------------------------- the loop and the evaluator

class Recorder(Agent):
    """Always moves right; records what the loop tells it."""

    def __init__(self, random_state=None, env_params=None):
        self.random_state = random_state
        self.env_params = env_params

    def setup(self, env):
        self.calls_ = []

    def begin(self, state):
        self.calls_.append(("begin", int(state)))
        return 1

    def step(self, reward, state, terminated):
        self.calls_.append(("step", reward, int(state), terminated))
        return 1

    def greedy(self, state):
        return 1


def test_loop_counts_steps_and_tells_a_time_limit_from_a_terminal_state():
    task = load_environment("CliffWalking-v1", seed=0, train_steps=12, curve_points=2, curve_episodes=1,
                            **(CLIFF | {"max_episode_steps": 5}))
    agent = Recorder().fit(task.environment)
    steps = [c for c in agent.calls_ if c[0] == "step"]
    assert len(steps) == 12  # exactly the budget
    # Moving right from the start falls off the cliff: -100, back to the start, never terminal; the
    # 5-step limit truncates, which the agent hears as not terminated, then a new episode begins.
    assert steps[0] == ("step", -100.0, 36, False)
    assert [c[0] for c in agent.calls_[:7]] == ["begin"] + ["step"] * 5 + ["begin"]
    rec = agent.record_
    assert rec.steps == [0, 6, 12] and rec.episodes == 2 and rec.returns == [-500.0] * 3
    assert rec.steps_to_threshold == np.inf
    row, cost, played = evaluate_control(agent, task)
    assert row["mean_return"] == -500.0 and not row["solved"] and not row["final_solved"]
    assert played == 100 * 5 and row["env_steps"] == 12 and json.loads(row["learning_curve"])["steps"] == [0, 6, 12]


def test_evaluator_refuses_a_model_that_is_not_an_agent():
    task = lake(10)
    with pytest.raises(TypeError, match="task: control"):
        evaluate_control(object(), task)


@pytest.mark.parametrize("make", [lambda: QLearning(learning_rate=0.5, random_state=0),
                                  lambda: Sarsa(learning_rate=0.5, random_state=0),
                                  lambda: DQN(hidden=(32,), learning_rate=3e-3, learning_starts=200, buffer_size=5000,
                                              target_update_interval=100, train_freq=2, gamma=0.9,
                                              exploration_fraction=0.5, random_state=0)])
def test_agents_solve_the_deterministic_lake(make):
    """FrozenLake without slipping: the goal (return 1) is 6 steps away; random play finds it about one
    time in 70. Each agent must reach the threshold while training and play it greedily after."""
    task = lake(2000, curve_points=10, curve_episodes=1, eval_episodes=5)
    agent = make()
    assert agent.fit(task.environment) is agent
    row, _, _ = evaluate_control(agent, task)
    assert row["mean_return"] == 1.0 and row["solved"] and row["steps_to_threshold"] <= 2000
    assert agent.predict([0, 14]).tolist()[1] == 2  # next to the goal: move right
    assert agent.n_parameters_ > 0


def test_tabular_agents_take_different_paths_on_the_cliff():
    """Sutton & Barto's Example 6.6: Q-learning learns the shortest path along the cliff (-13); SARSA,
    learning the value of its exploring policy, a safer path further away (-15 or -17)."""
    task = load_environment("CliffWalking-v1", seed=0, train_steps=8000, curve_points=4, curve_episodes=1,
                            eval_episodes=1, **CLIFF)
    q = QLearning(learning_rate=0.5, exploration_fraction=0.01, exploration_final_eps=0.1, random_state=0)
    s = Sarsa(learning_rate=0.5, exploration_fraction=0.01, exploration_final_eps=0.1, random_state=0)
    assert evaluate_control(q.fit(task.environment), task)[0]["mean_return"] == -13
    assert evaluate_control(s.fit(task.environment), task)[0]["mean_return"] in (-15, -17)


def test_linear_q_learns_to_balance_and_refuses_finite_states():
    bounds = [[-2.4, 2.4], [-3, 3], [-0.2095, 0.2095], [-3.5, 3.5]]
    task = load_environment("CartPole-v1", seed=0, train_steps=6000, observation_bounds=bounds, curve_points=3,
                            curve_episodes=2, eval_episodes=5)
    agent = LinearQ(learning_rate=0.5, random_state=0).fit(task.environment)
    row, _, _ = evaluate_control(agent, task)
    curve = json.loads(row["learning_curve"])["returns"]
    assert row["mean_return"] > 3 * curve[0]  # untrained: ~10 steps before the pole falls
    assert agent.n_parameters_ == 2 * 8 * 9 ** 4
    with pytest.raises(ValueError, match="q_learning"):
        LinearQ().fit(lake(10).environment)


def test_env_params_apply_per_environment_and_unknown_ones_fail():
    agent = QLearning(env_params={"FrozenLake-v1": {"learning_rate": 0.7}}, random_state=0).fit(lake(20).environment)
    assert agent.params_["learning_rate"] == 0.7 and agent.learning_rate == 0.1
    with pytest.raises(ValueError, match="unknown settings nope"):
        QLearning(env_params={"FrozenLake-v1": {"nope": 1}}).fit(lake(20).environment)


def test_dqn_one_hot_gather_and_greedy_table_match_the_network():
    """The one-hot first layer is a gather (the same function as a Linear layer on one-hot vectors), and
    the greedy table of a finite set of states is the network's argmax, rebuilt after every update."""
    import torch

    from harness.models.dqn import QNetwork

    net = QNetwork(16, 4, (8,), one_hot=True)
    s = torch.tensor([0, 5, 15, 5])
    dense = net.mlp(torch.nn.functional.one_hot(s, 16).float())
    assert torch.allclose(net(s), dense, atol=1e-6)
    agent = DQN(hidden=(16,), learning_starts=50, buffer_size=500, target_update_interval=50, random_state=0)
    agent.fit(lake(300, curve_points=2, curve_episodes=1).environment)
    states = np.arange(16)
    assert agent.predict(states).tolist() == agent.q_values(states).argmax(axis=1).tolist()
    before = agent.table_.copy()
    with torch.no_grad():
        agent.q_.mlp.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1e6]))
    agent.learn()  # an update empties the table: the next greedy action comes from the new network
    assert agent.table_ is None and agent.predict(states).tolist() == [3] * 16 and before.tolist() != [3] * 16


def test_same_seed_same_curve_other_seed_other_curve():
    curves = [QLearning(random_state=s).fit(lake(800, curve_points=8, curve_episodes=1).environment).record_.returns
              for s in (0, 0, 1)]
    assert curves[0] == curves[1]
    first = [DQN(hidden=(8,), learning_starts=50, random_state=s).fit(lake(200).environment).q_values([0, 5])
             for s in (4, 4, 5)]
    np.testing.assert_array_equal(first[0], first[1])
    assert not np.array_equal(first[0], first[2])


# ---------------------------------------------------------------- the suite through the runner

def test_smoke_suite_runs_every_agent_on_every_environment(run_bench):
    code, folder = run_bench("suite=rl", "profile=smoke", "hardware.threads=1")
    df = pd.read_parquet(folder / "results.parquet")
    assert code == 0, df.loc[df["status"] != "ok", ["dataset", "model", "error"]].to_string()
    agents = {"q_learning", "sarsa", "dqn"}
    for dataset in ("cartpole", "acrobot"):  # real-valued states: linear_q too
        assert set(df.loc[df["dataset"] == dataset, "model"]) == agents | {"linear_q"}
    for dataset in ("frozenlake", "cliffwalking", "taxi"):  # linear_q reads real-valued states only
        assert set(df.loc[df["dataset"] == dataset, "model"]) == agents
    lake_rows = df[df["dataset"] == "frozenlake"]
    assert (lake_rows["n_train"] == 2000).all() and (lake_rows["n_test"] == 20).all()  # the smoke profile's
    assert lake_rows["mean_return"].between(0, 1).all()
    assert df["learning_curve"].map(lambda c: len(json.loads(c)["steps"])).ge(4).all()
    assert (df["reward_threshold"] == df["dataset"].map({"cartpole": 475, "acrobot": -100, "frozenlake": 0.7,
                                                         "cliffwalking": -13, "taxi": 8})).all()


# ---------------------------------------------------------------- report and claim A12

def rl_cell(dataset, model, family, seed, ret, steps=np.inf, threshold=475.0, budget=50000, **extra):
    curve = {"steps": [0, budget // 2, budget], "seconds": [0, 1, 2], "returns": [0.0, ret / 2, ret]}
    return dict(suite="rl", dataset=dataset, model=model, family=family, params="{}", params_id="p", variant="",
                seed=seed, n_train=budget, n_test=100, profile="default", tuned=False, device="cpu",
                cpu_model="Test CPU", gpu_name=None, status="ok", error=None, accuracy=np.nan, f1_macro=np.nan,
                train_seconds=10.0 if family == "deep" else 1.0, train_cpu_seconds=1.0, predict_seconds_per_1k=1.0,
                peak_memory_mb=10.0, n_parameters=1000, mean_return=ret, return_std=1.0, reward_threshold=threshold,
                threshold_source="gymnasium spec", solved=bool(np.isfinite(steps)), steps_to_threshold=steps,
                seconds_to_threshold=steps / 1000, env_steps=budget, learning_curve=json.dumps(curve),
                run="results/rl/r1") | extra


def rl_frame(dqn, best, weak=(100.0, np.inf), seeds=(0, 1, 2), datasets=("cartpole",)):
    """dqn and best: (return, steps) or a callable of the seed giving them; weak: a worse classical agent."""
    rows = []
    for ds in datasets:
        for s in seeds:
            at = lambda v: v(s) if callable(v) else v  # noqa: E731
            rows += [rl_cell(ds, "dqn", "deep", s, *at(dqn)), rl_cell(ds, "q_learning", "classical", s, *at(best)),
                     rl_cell(ds, "sarsa", "classical", s, *weak)]
    return pd.DataFrame(rows)


def a12(df):
    from harness.claims import evaluate_claims, load_registry

    (v,) = evaluate_claims(df, registry=[e for e in load_registry() if e["id"] == "A12-rl"])
    return v


def test_a12_supported_when_dqn_reaches_the_threshold_on_its_seeds():
    v = a12(rl_frame(lambda s: (490 + s, 20000 + 1000 * s), lambda s: (300 + s, np.inf)))
    assert v.verdict == "supported", v
    assert "cartpole: dqn reached 475 on 3/3 seeds" in v.evidence and "| cartpole |" in v.detail
    assert "q_learning" in v.detail  # the best classical agent, as context


def test_a12_contradicted_when_dqn_never_reaches_it_whatever_the_classical_agents_do():
    v = a12(rl_frame(lambda s: (200 + s, np.inf), lambda s: (500 - s, 10000 + 500 * s)))
    assert v.verdict == "contradicted" and "0/3 seeds" in v.evidence, v


def test_a12_mixed_over_environments_and_over_seeds():
    good = rl_frame(lambda s: (490 + s, 20000), lambda s: (300 + s, np.inf), datasets=("cartpole",))
    bad = rl_frame(lambda s: (-300 + s, np.inf), lambda s: (-90 - s, 15000), datasets=("acrobot",))
    assert a12(pd.concat([good, bad])).verdict == "mixed"
    once = a12(rl_frame(lambda s: (490, 20000) if s == 0 else (300, np.inf), lambda s: (300 + s, np.inf)))
    assert once.verdict == "mixed" and "1/3 seeds" in once.evidence


def test_a12_an_existence_claim_a_faster_classical_agent_does_not_decide_it():
    v = a12(rl_frame(lambda s: (495 + s, 40000 + s), lambda s: (500 - s, 10000 + s)))
    assert v.verdict == "supported", v


def test_a12_one_seed_is_indicative():
    one = a12(rl_frame((490.0, 20000), (290.0, np.inf), seeds=(0,)))
    assert one.verdict == "indicative" and "1 seed" in one.scope


def test_a12_grid_games_are_reported_not_judged():
    grid = rl_frame(lambda s: (1.0, 2000), lambda s: (1.0, 500), datasets=("frozenlake",)).assign(
        reward_threshold=0.7, task="tabular_control")
    v = a12(grid)
    assert v.verdict == "inconclusive" and "grid games, not judged" in v.evidence, v


def test_a12_not_run_without_rl_rows_and_inconclusive_without_dqn():
    assert a12(pd.DataFrame([rl_cell("cartpole", "dqn", "deep", 0, 1.0) | {"suite": "vision"}])).verdict == "not-run"
    no_dqn = rl_frame((500.0, 1000), (300.0, np.inf))
    assert a12(no_dqn[no_dqn["model"] != "dqn"]).verdict == "inconclusive"


def test_report_shows_control_tables_and_learning_curves(tmp_path):
    from harness.report import write_report
    from harness.results.store import RunStore

    store = RunStore(tmp_path / "rl" / "run")
    for row in rl_frame(lambda s: (490 + s, 20000), lambda s: (300 + s, np.inf)).to_dict("records"):
        store.write_row(row)
    store.write_json("run.json", {"suite": "rl", "machine": {}})
    store.consolidate()
    md, _ = write_report([tmp_path / "rl"], tmp_path / "out")
    text = md.read_text()
    assert "### cartpole" in text and "steps to solve" in text and "| **★ dqn** | deep | 491.00" in text
    assert "Could not" not in text and "could not be drawn" not in text
    assert (tmp_path / "out" / "plots" / "rl-learning-curves.png").exists()
    assert "Highest mean evaluation return: cartpole dqn" in text
