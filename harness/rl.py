"""Agents that learn by acting: the contract every agent keeps, the training loop they share, the
evaluator of the control task kinds, and deep Q-learning.

An agent is a scikit-learn-style estimator. `fit(environment)` trains it in a fresh gymnasium
environment (harness/data/rl.py) for exactly `environment.train_steps` environment steps, the
budget every agent on that environment gets; `predict(states)` gives the greedy action in each
state. Agents speak the RL-Glue protocol to the loop (Sutton & Barto 2018 write their algorithms
in its shape): `begin(state) -> action` starts an episode, `step(reward, state, terminated) ->
action` learns from the last transition and acts again, and `greedy(state) -> action` plays
without exploring or learning. A time limit ending an episode is not a terminal state: the agent
is told `terminated=False` and bootstraps from the state it reached (Pardo et al., 2018).

While it trains, the loop pauses `curve_points` times at evenly spaced step counts (and once
before the first step) to play `curve_episodes` greedy episodes in a separate copy of the
environment, reset with the same seed each time: the learning curve (evaluation return vs
environment steps). The first of those evaluations whose mean return reaches the environment's
reward threshold gives `steps_to_threshold_` and `seconds_to_threshold_` (training time only; the
evaluations' own time is left out). Resolution: one evaluation interval.

`evaluate_control` then plays `eval_episodes` (100) greedy episodes of the trained agent with seeds
of their own: `mean_return` and its spread, the row of the cell.

DQN below follows Mnih et al. (2015): experience replay, a target network copied every
`target_update_interval` steps, an epsilon-greedy policy whose epsilon falls linearly, the Huber
loss, with Adam and gradient-norm clipping as in Stable-Baselines3 (Raffin et al., 2021), whose
rl-baselines3-zoo settings suites/model/dqn.yaml uses.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from harness.metrics import Measurement, final_estimator, measure

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
        raise TypeError(f"{type(agent).__name__} is not a trained agent (harness/rl.py Agent); a control task needs "
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


# ---------------------------------------------------------------- deep Q-learning

class ReplayBuffer:
    """The last `capacity` transitions in preallocated arrays; uniform random minibatches. A state that
    is an index of a finite set is stored as that index (one-hot only inside the network)."""

    def __init__(self, capacity: int, state_shape: tuple[int, ...], state_dtype):
        self.capacity, self.size, self.next = int(capacity), 0, 0
        self.states = np.zeros((self.capacity, *state_shape), dtype=state_dtype)
        self.next_states = np.zeros_like(self.states)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminal = np.zeros(self.capacity, dtype=np.float32)

    def add(self, state, action: int, reward: float, next_state, terminated: bool) -> None:
        i = self.next
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminal[i] = next_state, float(terminated)
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        idx = rng.integers(0, self.size, size=n)
        return tuple(torch.from_numpy(a[idx]) for a in
                     (self.states, self.actions, self.rewards, self.next_states, self.terminal))


class DQN(Agent):
    """Deep Q-learning (Mnih et al., 2015) with an MLP Q-network (harness/models/dqn.py).

    Every step: act epsilon-greedily (uniformly at random for the first `learning_starts` steps),
    store the transition; every `train_freq` steps after `learning_starts`, take `gradient_steps`
    Adam steps (-1: as many as steps collected) on minibatches of `batch_size` from the replay
    buffer, minimising the Huber loss between Q(s, a) and r + gamma * max_a' Q_target(s', a') (0 after
    a terminal state); every `target_update_interval` steps copy the network into the target network.
    On a finite set of states the greedy action of every state is computed in one forward pass and kept
    until the next gradient step, so greedy play between updates (the evaluations) costs a lookup.
    """

    def __init__(self, hidden: tuple[int, ...] = (256, 256), learning_rate: float = 1e-3, batch_size: int = 64,
                 buffer_size: int = 100_000, learning_starts: int = 1000, gamma: float = 0.99,
                 target_update_interval: int = 500, train_freq: int = 4, gradient_steps: int = 1,
                 exploration_fraction: float = 0.1, exploration_initial_eps: float = 1.0,
                 exploration_final_eps: float = 0.05, max_grad_norm: float = 10.0, env_params: dict | None = None,
                 device: str = "cpu", random_state: int | None = None):
        self.hidden = hidden
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.buffer_size = buffer_size
        self.learning_starts = learning_starts
        self.gamma = gamma
        self.target_update_interval = target_update_interval
        self.train_freq = train_freq
        self.gradient_steps = gradient_steps
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.max_grad_norm = max_grad_norm
        self.env_params = env_params
        self.device = device
        self.random_state = random_state

    def setup(self, env) -> None:
        import gymnasium as gym

        from harness.models.dqn import QNetwork

        p = self.params_
        for key in ("batch_size", "buffer_size", "train_freq", "target_update_interval"):
            if int(p[key]) < 1:
                raise ValueError(f"{key} must be at least 1, got {p[key]}")
        if not 0 <= p["gamma"] <= 1 or p["learning_rate"] <= 0:
            raise ValueError(f"gamma must lie in [0, 1] and learning_rate be positive, got {p['gamma']}, "
                             f"{p['learning_rate']}")
        space = env.observation_space
        self.one_hot_ = isinstance(space, gym.spaces.Discrete)
        n_inputs = int(space.n) if self.one_hot_ else int(np.prod(space.shape))
        seed = int(self.rng_.integers(2**31))
        torch.manual_seed(seed)
        self.q_ = QNetwork(n_inputs, self.n_actions_, tuple(p["hidden"]), one_hot=self.one_hot_).to(self.device)
        self.target_ = copy.deepcopy(self.q_).requires_grad_(False)
        # Fused Adam: one kernel for all parameters rather than a loop of small ops (the minibatches
        # are tiny, so per-op overhead is most of a gradient step's cost on a CPU).
        fused = torch.device(self.device).type in ("cpu", "cuda")
        self.optimizer_ = torch.optim.Adam(self.q_.parameters(), lr=p["learning_rate"], fused=fused or None)
        shape, dtype = ((), np.int64) if self.one_hot_ else ((n_inputs,), np.float32)
        self.buffer_ = ReplayBuffer(min(int(p["buffer_size"]), self.environment_.train_steps), shape, dtype)
        self.t_, self.updates_, self.last_loss_ = 0, 0, np.nan
        self.state_, self.action_ = None, None
        self.table_ = None  # finite states: the greedy action of every state, until the next update

    @property
    def n_parameters_(self) -> int:
        return sum(p.numel() for p in self.q_.parameters() if p.requires_grad)

    def q_values(self, states) -> np.ndarray:
        """Q(s, .) for a batch of states: (B, A)."""
        dtype = torch.long if self.one_hot_ else torch.float32
        with torch.inference_mode():
            return self.q_(torch.as_tensor(np.asarray(states), dtype=dtype, device=self.device)).cpu().numpy()

    def greedy(self, state) -> int:
        if self.one_hot_:
            # A finite set of states: one forward pass gives the greedy action of all of them, valid
            # until the next gradient step (evaluation episodes then cost a table lookup a step).
            if self.table_ is None:
                self.table_ = self.q_values(np.arange(self.q_.n_inputs)).argmax(axis=1)
            return int(self.table_[int(state)])
        with torch.inference_mode():
            x = torch.from_numpy(np.asarray(state, dtype=np.float32)).to(self.device)
            return int(self.q_(x[None]).argmax())

    def act(self, state) -> int:
        p = self.params_
        eps = linear_epsilon(self.t_, self.environment_.train_steps, p["exploration_initial_eps"],
                             p["exploration_final_eps"], p["exploration_fraction"])
        if self.t_ < p["learning_starts"] or self.rng_.random() < eps:
            return int(self.rng_.integers(self.n_actions_))
        return self.greedy(state)

    def begin(self, state) -> int:
        self.state_, self.action_ = state, self.act(state)
        return self.action_

    def step(self, reward: float, state, terminated: bool) -> int:
        p = self.params_
        self.buffer_.add(self.state_, self.action_, reward, state, terminated)
        self.t_ += 1
        if self.t_ > p["learning_starts"] and self.t_ % p["train_freq"] == 0:
            for _ in range(p["train_freq"] if p["gradient_steps"] < 0 else p["gradient_steps"]):
                self.learn()
        if self.t_ % p["target_update_interval"] == 0:
            self.target_.load_state_dict(self.q_.state_dict())
        self.state_, self.action_ = state, self.act(state)
        return self.action_

    def learn(self) -> None:
        """One Adam step on the Huber loss of the TD error of a replayed minibatch."""
        p = self.params_
        s, a, r, s2, done = (x.to(self.device) for x in self.buffer_.sample(int(p["batch_size"]), self.rng_))
        with torch.no_grad():
            target = r + p["gamma"] * (1.0 - done) * self.target_(s2).max(dim=1).values  # (B,)
        q = self.q_(s).gather(1, a[:, None]).squeeze(1)  # (B,)
        loss = nn.functional.smooth_l1_loss(q, target)
        self.optimizer_.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.q_.parameters(), p["max_grad_norm"])
        self.optimizer_.step()
        self.updates_ += 1
        self.table_ = None
        self.last_loss_ = float(loss.detach())
        if not np.isfinite(self.last_loss_):
            from harness.training import Diverged

            raise Diverged(f"DQN loss {self.last_loss_} after {self.updates_} updates")
