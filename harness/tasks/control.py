"""Task kinds `control` and `tabular_control`: an environment to act in (harness/data/rl.py), the
agent contract, the loop every agent trains in, and the evaluator.

An agent is a scikit-learn-style estimator. `fit(environment)` trains it in a fresh gymnasium
environment for exactly `environment.train_steps` environment steps, the budget every agent on that
environment gets; `predict(states)` gives the greedy action in each state. Agents speak the
RL-Glue protocol to the loop (Sutton & Barto 2018 write their algorithms in its shape):
`begin(state) -> action` starts an episode, `step(reward, state, terminated) -> action` learns from
the last transition and acts again, and `greedy(state) -> action` plays without exploring or
learning. A time limit ending an episode is not a terminal state: the agent is told
`terminated=False` and bootstraps from the state it reached (Pardo et al., 2018).

While it trains, the loop pauses `curve_points` times at evenly spaced step counts (and once
before the first step) to play `curve_episodes` greedy episodes in a separate copy of the
environment, reset with the same seed each time: the learning curve (evaluation return vs
environment steps). The first of those evaluations whose mean return reaches the environment's
reward threshold gives `steps_to_threshold_` and `seconds_to_threshold_` (training time only; the
evaluations' own time is left out). Resolution: one evaluation interval.

`evaluate_control` then plays `eval_episodes` (100) greedy episodes of the trained agent with seeds
of their own: `mean_return` and its spread, the row of the cell. Classical agents live in
baselines/rl.py, deep Q-learning in harness/deep/rl.py.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from rich.markup import escape
from rich.table import Table
from sklearn.base import BaseEstimator

from harness.core.display import FAMILY_COLOURS, fmt_count, fmt_seconds
from harness.core.measure import Measurement, final_estimator, measure
from harness.tasks.base import TaskKind


EVAL_SEED_OFFSET = 10_000     # the final evaluation's episodes: seeds no training episode uses



CURVE_SEED_OFFSET = 20_000    # the learning curve's evaluation episodes



@dataclass
class TrainingRecord:
    """What the loop saw: the learning curve and when the threshold was first reached."""

    steps: list[int] = field(default_factory=list)        # environment steps before each evaluation
    seconds: list[float] = field(default_factory=list)    # training seconds by then
    returns: list[float] = field(default_factory=list)    # mean greedy return of that evaluation
    episodes: int = 0                                     # training episodes finished
    steps_to_threshold: float = np.inf
    seconds_to_threshold: float = np.inf

    def as_json(self) -> str:
        return json.dumps({"steps": self.steps, "seconds": [round(s, 4) for s in self.seconds],
                           "returns": [round(r, 4) for r in self.returns]})



def linear_epsilon(step: int, total: int, start: float, end: float, fraction: float) -> float:
    """Epsilon falling linearly from `start` to `end` over the first `fraction` of `total` steps, then held."""
    span = max(1.0, fraction * total)
    return end + (start - end) * max(0.0, 1.0 - step / span)



class Agent(BaseEstimator):
    """Base of every agent: fit, predict, the loop. A subclass sets itself up in `setup(env)` and
    implements begin, step and greedy; `env_params` holds per-environment settings by environment id
    (the literature tunes per environment: the values in force are `params_`)."""

    def settings(self, env_id: str) -> dict:
        """This agent's hyperparameters for `env_id`: its own, with that environment's overrides."""
        own = {k: v for k, v in self.get_params(deep=False).items() if k not in ("env_params", "random_state", "device")}
        extra = (self.env_params or {}).get(env_id, {})
        unknown = sorted(set(extra) - set(own))
        if unknown:
            raise ValueError(f"env_params of {env_id} names unknown settings {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(own))}")
        return own | dict(extra)

    def fit(self, environment, y=None, on_epoch: Callable | None = None):
        """Train for `environment.train_steps` steps; on_epoch(i, n, return) after each curve evaluation."""
        self.params_ = self.settings(environment.env_id)
        self.environment_ = environment
        self.rng_ = np.random.default_rng(environment.seed if self.random_state is None else self.random_state)
        env = environment.make()
        try:
            self.n_actions_ = int(env.action_space.n)
            self.setup(env)
            self.record_ = train(self, env, environment, on_epoch)
        finally:
            env.close()
        return self

    def predict(self, X) -> np.ndarray:
        """The greedy action in each state (X: states as the environment gives them, one per row)."""
        return np.array([self.greedy(s) for s in X], dtype=np.int64)

    @property
    def steps_to_threshold_(self) -> float:
        return self.record_.steps_to_threshold

    def setup(self, env) -> None:
        raise NotImplementedError

    def begin(self, state) -> int:
        raise NotImplementedError

    def step(self, reward: float, state, terminated: bool) -> int:
        raise NotImplementedError

    def greedy(self, state) -> int:
        raise NotImplementedError



def play(agent: Agent, env, episodes: int, seed: int) -> tuple[np.ndarray, int]:
    """Greedy episodes, the first reset with `seed` (the later ones continue its random stream):
    (the return of each, steps taken)."""
    returns, steps = np.zeros(episodes), 0
    for i in range(episodes):
        state, _ = env.reset(seed=seed if i == 0 else None)
        done = False
        while not done:
            state, reward, terminated, truncated, _ = env.step(agent.greedy(state))
            returns[i] += reward
            steps += 1
            done = terminated or truncated
    return returns, steps



def train(agent: Agent, env, environment, on_epoch: Callable | None = None) -> TrainingRecord:
    """The loop: `environment.train_steps` steps of acting and learning, with the learning-curve
    evaluations in between (their time is not training time)."""
    budget = environment.train_steps
    marks = sorted(set(np.linspace(0, budget, environment.curve_points + 1).round().astype(int).tolist()))
    record = TrainingRecord()
    probe = environment.make()
    evaluating = 0.0
    start = time.perf_counter()

    def evaluate(step: int) -> None:
        nonlocal evaluating
        t0 = time.perf_counter()
        returns, _ = play(agent, probe, environment.curve_episodes, environment.seed + CURVE_SEED_OFFSET)
        t1 = time.perf_counter()
        evaluating += t1 - t0
        seconds = t0 - start - (evaluating - (t1 - t0))
        record.steps.append(step)
        record.seconds.append(seconds)
        record.returns.append(float(returns.mean()))
        if returns.mean() >= environment.reward_threshold and not np.isfinite(record.steps_to_threshold):
            record.steps_to_threshold, record.seconds_to_threshold = float(step), seconds
        if on_epoch and step > 0:
            on_epoch(len(record.steps) - 1, len(marks) - 1, float(returns.mean()))

    try:
        state, _ = env.reset(seed=environment.seed)
        action = agent.begin(state)
        following = 0
        for t in range(budget + 1):
            if t == marks[following]:
                evaluate(t)
                following += 1
            if t == budget:
                break
            state, reward, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                agent.step(float(reward), state, bool(terminated))  # the last transition; no action follows
                record.episodes += 1
                state, _ = env.reset()
                action = agent.begin(state)
            else:
                action = agent.step(float(reward), state, False)
    finally:
        probe.close()
    return record



def evaluate_control(est, task, device: str = "cpu", cache_dir=None) -> tuple[dict, Measurement, int]:
    """The evaluator of the control kinds: `eval_episodes` greedy episodes of the trained agent.
    Returns (metric columns, the cost of playing them, environment steps played)."""
    agent = final_estimator(est)
    environment = task.environment
    if not isinstance(getattr(agent, "record_", None), TrainingRecord):
        raise TypeError(f"{type(agent).__name__} is not a trained agent (harness/tasks/control.py Agent); a control task needs "
                        "a model whose config says `task: control`")
    env = environment.make()
    try:
        with measure(device) as cost:
            returns, steps = play(agent, env, environment.eval_episodes, environment.seed + EVAL_SEED_OFFSET)
    finally:
        env.close()
    record = agent.record_
    row = {
        "mean_return": float(returns.mean()),
        "return_std": float(returns.std(ddof=1)) if len(returns) > 1 else np.nan,
        "reward_threshold": environment.reward_threshold,
        "threshold_source": environment.threshold_source,
        "solved": bool(np.isfinite(record.steps_to_threshold)),
        "final_solved": bool(returns.mean() >= environment.reward_threshold),
        "steps_to_threshold": record.steps_to_threshold,
        "seconds_to_threshold": record.seconds_to_threshold,
        "env_steps": int(environment.train_steps),
        "train_episodes": int(record.episodes),
        "eval_episodes": int(environment.eval_episodes),
        "learning_curve": record.as_json(),
    }
    return row, cost, max(steps, 1)


def control_table(dataset: str, d: pd.DataFrame) -> list:
    """Mean return of the evaluation episodes per agent (mean over seeds, with their spread), how many
    seeds reached the reward threshold while training and after how many steps (median of those)."""
    ok = d[d["status"] == "ok"]
    num = lambda col: pd.to_numeric(ok[col], errors="coerce")  # noqa: E731
    ok = ok.assign(ret=num("mean_return"), to_steps=num("steps_to_threshold"), to_seconds=num("seconds_to_threshold"))
    agg = ok.groupby(["family", "label"], sort=False).agg(
        ret=("ret", "mean"), spread=("ret", "std"), solved=("solved", "sum"), seeds=("seed", "nunique"),
        train=("train_seconds", "mean"), params=("n_parameters", "mean")).reset_index()
    reached = ok[np.isfinite(ok["to_steps"])].groupby("label").agg(steps=("to_steps", "median"),
                                                                    seconds=("to_seconds", "median"))
    agg = agg.join(reached, on="label").sort_values("ret", ascending=False).reset_index(drop=True)
    best = {fam: g["ret"].idxmax() for fam, g in agg.groupby("family") if g["ret"].notna().any()}
    threshold = pd.to_numeric(ok["reward_threshold"], errors="coerce").max() if "reward_threshold" in ok else np.nan
    t = Table(title=f"{escape(dataset)}  (control: {int(d['n_train'].max())} environment steps per agent, "
                    f"{int(d['n_test'].max())} evaluation episodes; return, higher is better; solved at {threshold:g}; "
                    "steps→, time→: median steps and training time to reach it, over the seeds that did)",
              title_justify="left")
    columns = ("model", "family", "return", "sd", "solved", "steps→", "time→", "train", "params")
    for col in columns:
        t.add_column(col, justify="left" if col in ("model", "family") else "right", no_wrap=True)
    f = lambda x, spec: "–" if pd.isna(x) else format(x, spec)  # noqa: E731
    for i, r in agg.iterrows():
        mark = "★ " if best.get(r["family"]) == i else "  "
        t.add_row(escape(mark + r["label"]), f"[{FAMILY_COLOURS.get(r['family'], 'white')}]{escape(r['family'])}[/]",
                  f(r["ret"], ".2f"), f(r["spread"], ".2f"), f"{int(r['solved'])}/{r['seeds']}",
                  "–" if pd.isna(r.get("steps")) else fmt_count(r["steps"]), fmt_seconds(r.get("seconds")),
                  fmt_seconds(r["train"]), fmt_count(r["params"]), style="bold" if mark.strip() else None)
    for _, r in d[d["status"] != "ok"].drop_duplicates("label").iterrows():
        t.add_row(escape(f"  {r['label']}"), "", f"[red]{r['status']}[/]", *[""] * (len(columns) - 3))
    return [t]


class Control(TaskKind):
    """An environment, not a dataset: no arrays to check or sample; `n_train` is the environment steps
    each agent may train for, `n_test` the evaluation episodes. States are real vectors (cart-pole,
    acrobot); tabular_control (harness/tasks/tabular_control.py) is the same with a finite set of states."""

    name = "control"
    # bench compare reads no score of an agent yet (only its times), as before task kinds had files.
    score, compare_floor = "mean_return", None
    report_section = "control"

    def check(self, task) -> None:
        from harness.data.task import DatasetError

        if task.environment is None:
            raise DatasetError(f"{task.name}: a {task.kind} task needs an environment")

    def n_train(self, task) -> int:
        return int(task.environment.train_steps)

    def n_test(self, task) -> int:
        return int(task.environment.eval_episodes)

    def training_data(self, task) -> tuple:
        return (task.environment,)

    def subsample_train(self, task, n: int, seed: int):
        return task  # an environment has no samples to draw

    def evaluate(self, est, task, device: str, cache_dir: str | None = None):
        return evaluate_control(est, task, device, cache_dir)

    def owns(self, rows: pd.DataFrame) -> bool:
        return "mean_return" in rows and pd.to_numeric(rows["mean_return"], errors="coerce").notna().any() \
            and rows["accuracy"].isna().all()

    def tables(self, dataset: str, rows: pd.DataFrame) -> list:
        return control_table(dataset, rows)


KIND = Control()
