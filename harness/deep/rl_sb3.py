"""Stable-Baselines3's DQN (Raffin et al., 2021) as an agent of the control task kinds: a second
implementation beside bench's own DQN (harness/deep/rl.py), so that claim A12 never rests on one
hand-written agent alone (the pair is declared in suites/guards.yaml).

It takes the same settings as bench's DQN (suites/model/dqn_sb3.yaml repeats dqn.yaml's, the
rl-baselines3-zoo ones, and a test keeps the two equal) and has the same face: `fit(environment)`
trains for exactly `environment.train_steps` environment steps, `greedy(state)` plays, `record_` is
the learning curve and the steps and seconds to the reward threshold. What differs is everything that
learns: Stable-Baselines3 runs its own loop (`DQN.learn`), replay buffer, epsilon schedule, target
copies and gradient steps. A callback stops it at the budget and plays the learning curve's greedy
evaluations at the same step counts as bench's loop (harness/tasks/control.py `train`), their time
left out of the training time as there. Stable-Baselines3 is an optional extra: `pip install -e .[guards]`.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

from harness.deep.estimator import keep_arguments
from harness.deep.training import count_parameters
from harness.tasks.control import CURVE_SEED_OFFSET, Agent, TrainingRecord, play


def stable_baselines3():
    try:
        import stable_baselines3
    except ImportError as e:
        raise ImportError("dqn_sb3 needs stable-baselines3: pip install -e '.[guards]' (or pip install --no-deps "
                          "stable-baselines3, whose other needs bench already has)") from e
    return stable_baselines3


class StableBaselines3DQN(Agent):
    """Stable-Baselines3's DQN with an MLP Q-network of `hidden` widths; the parameters are bench's DQN's
    (harness/deep/rl.py), passed to `stable_baselines3.DQN` under the same names (`hidden` as
    `policy_kwargs.net_arch`; a hard target copy, tau 1, as bench's)."""

    def __init__(self, hidden: tuple[int, ...] = (256, 256), learning_rate: float = 1e-3, batch_size: int = 64,
                 buffer_size: int = 100_000, learning_starts: int = 1000, gamma: float = 0.99,
                 target_update_interval: int = 500, train_freq: int = 4, gradient_steps: int = 1,
                 exploration_fraction: float = 0.1, exploration_initial_eps: float = 1.0,
                 exploration_final_eps: float = 0.05, max_grad_norm: float = 10.0, env_params: dict | None = None,
                 device: str = "cpu", random_state: int | None = None):
        keep_arguments(self, locals())

    def fit(self, environment, y=None, on_epoch: Callable | None = None):
        """Train by Stable-Baselines3's own loop for `environment.train_steps` steps (Agent.fit's contract)."""
        sb3 = stable_baselines3()
        self.params_ = self.settings(environment.env_id)
        self.environment_ = environment
        seed = environment.seed if self.random_state is None else int(self.random_state)
        p = dict(self.params_)
        hidden = [int(h) for h in p.pop("hidden")]
        p["buffer_size"] = min(int(p["buffer_size"]), environment.train_steps)  # as bench's DQN sizes its buffer
        env = environment.make()
        probe = environment.make()
        try:
            self.n_actions_ = int(env.action_space.n)
            self.model_ = sb3.DQN("MlpPolicy", env, policy_kwargs={"net_arch": hidden}, tau=1.0, seed=seed,
                                  device=self.device, verbose=0, **p)
            curve = curve_callback(self, probe, environment, on_epoch)
            self.model_.learn(total_timesteps=environment.train_steps, callback=curve, progress_bar=False)
            self.record_ = curve.record
        finally:
            probe.close()
            env.close()
        return self

    @property
    def n_parameters_(self) -> int:
        return count_parameters(self.model_.q_net)

    def greedy(self, state) -> int:
        policy = self.model_.policy
        with torch.no_grad():
            obs, _ = policy.obs_to_tensor(np.asarray(state))
            return int(policy.q_net._predict(obs, deterministic=True)[0])


def curve_callback(agent: Agent, probe, environment, on_epoch: Callable | None):
    """A Stable-Baselines3 callback (its class is made here: the package is optional) that plays the
    learning curve's evaluations at bench's step counts, counts episodes and stops at the budget.
    Its `record` is the TrainingRecord."""
    base = stable_baselines3().common.callbacks.BaseCallback

    class LearningCurve(base):
        def _on_training_start(self) -> None:
            budget = environment.train_steps
            self.marks = sorted(set(np.linspace(0, budget, environment.curve_points + 1).round().astype(int).tolist()))
            self.following, self.evaluating = 0, 0.0
            self.record = TrainingRecord()
            self.start = time.perf_counter()
            self.evaluate_if_due()

        def evaluate_if_due(self) -> None:
            step = self.num_timesteps
            if self.following >= len(self.marks) or step != self.marks[self.following]:
                return
            self.following += 1
            t0 = time.perf_counter()
            returns, _ = play(agent, probe, environment.curve_episodes, environment.seed + CURVE_SEED_OFFSET)
            t1 = time.perf_counter()
            self.evaluating += t1 - t0
            seconds = t0 - self.start - (self.evaluating - (t1 - t0))  # training time only
            r = self.record
            r.steps.append(int(step))
            r.seconds.append(seconds)
            r.returns.append(float(returns.mean()))
            if returns.mean() >= environment.reward_threshold and not np.isfinite(r.steps_to_threshold):
                r.steps_to_threshold, r.seconds_to_threshold = float(step), seconds
            if on_epoch and step > 0:
                on_epoch(len(r.steps) - 1, len(self.marks) - 1, float(returns.mean()))

        def _on_step(self) -> bool:
            self.record.episodes += int(np.sum(self.locals.get("dones", 0)))
            self.evaluate_if_due()
            return self.num_timesteps < environment.train_steps  # False ends learn() exactly at the budget

    return LearningCurve()
