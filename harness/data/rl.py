"""Environments as datasets: a control task is a gymnasium environment, built by id in the process
that runs the cell, and an environment-step budget that every agent on it shares.

Only environments that ship inside gymnasium are used (classic control and toy text), so nothing is
downloaded; stepping them needs no pygame (it is imported only to render). A task's kind follows the
observation space: `tabular_control` when the states are a finite set (gymnasium's `Discrete`: the
grid games), `control` when they are real vectors (`Box`: cart-pole, acrobot).

The reward threshold is the environment's own (`gym.spec(id).reward_threshold`); an environment
that declares none (CliffWalking) gets one in its dataset config, with the reason in
`threshold_source`, and every row records which it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.data.task import DatasetError, Task


@dataclass(frozen=True)
class Environment:
    """What an agent needs to train and be evaluated: plain values, so that it crosses process
    boundaries; `make()` builds the gymnasium environment."""

    env_id: str
    train_steps: int                 # environment steps every agent may train for
    reward_threshold: float          # the return at which the environment counts as solved
    threshold_source: str            # "gymnasium spec", or why the dataset config sets it
    kwargs: dict = field(default_factory=dict)
    max_episode_steps: int | None = None  # None: the spec's time limit
    # Where each observation dimension lives, for agents that cut the space into bins or tiles:
    # the observation space's bounds, or the dataset config's where those are infinite or far too wide.
    observation_bounds: tuple | None = None
    eval_episodes: int = 100         # greedy episodes after training: mean_return
    curve_points: int = 20           # greedy evaluations during training (plus one before it)
    curve_episodes: int = 10         # episodes per evaluation during training
    seed: int = 0

    def make(self):
        import gymnasium as gym

        extra = {"max_episode_steps": self.max_episode_steps} if self.max_episode_steps else {}
        # The checker wraps every step in assertions (and warns about the float32 bounds of CartPole):
        # it is for writing environments, not for running gymnasium's own.
        return gym.make(self.env_id, disable_env_checker=True, **self.kwargs, **extra)


def load_environment(env_id: str, seed: int, train_steps: int, name: str | None = None, kwargs: dict | None = None,
                     max_episode_steps: int | None = None, reward_threshold: float | None = None,
                     threshold_source: str | None = None, observation_bounds: list | None = None,
                     eval_episodes: int = 100, curve_points: int = 20, curve_episodes: int = 10) -> Task:
    """A control task on gymnasium's `env_id` (made with `kwargs`), `train_steps` environment steps of
    training for every agent; `seed` seeds the training, evaluation and curve episodes alike for all."""
    try:
        import gymnasium as gym
    except ImportError as e:
        raise DatasetError(f"{name or env_id}: gymnasium is not installed (pip install -c constraints.txt "
                           "gymnasium)") from e
    if env_id not in gym.registry:
        family = env_id.split("-v")[0].lower()
        near = sorted(k for k in gym.registry if family[:4] in k.lower()) or sorted(gym.registry)[:20]
        raise DatasetError(f"{name or env_id}: gymnasium {gym.__version__} has no environment {env_id!r}; "
                           f"it has {', '.join(near)}")
    if int(train_steps) < 1 or int(eval_episodes) < 1 or int(curve_points) < 1 or int(curve_episodes) < 1:
        raise DatasetError(f"{name or env_id}: train_steps, eval_episodes, curve_points and curve_episodes must be "
                           f"positive (got {train_steps}, {eval_episodes}, {curve_points}, {curve_episodes})")
    spec = gym.spec(env_id)
    if reward_threshold is None:
        if spec.reward_threshold is None:
            raise DatasetError(f"{name or env_id}: gymnasium declares no reward_threshold for {env_id}; set one "
                               "with dataset.load.reward_threshold=... and say why in threshold_source")
        reward_threshold, threshold_source = spec.reward_threshold, "gymnasium spec"
    elif not threshold_source:
        raise DatasetError(f"{name or env_id}: a reward_threshold set in the dataset config needs a threshold_source "
                           "saying where it comes from")
    env = Environment(env_id, int(train_steps), float(reward_threshold), str(threshold_source), dict(kwargs or {}),
                      max_episode_steps, None, int(eval_episodes), int(curve_points), int(curve_episodes), int(seed))
    made = env.make()
    try:
        space = made.observation_space
        discrete = isinstance(space, gym.spaces.Discrete)
        if not discrete and not (isinstance(space, gym.spaces.Box) and len(space.shape) == 1):
            raise DatasetError(f"{name or env_id}: observations are {space}; agents here read a finite set of states "
                               "or a flat vector")
        if not isinstance(made.action_space, gym.spaces.Discrete):
            raise DatasetError(f"{name or env_id}: actions are {made.action_space}; agents here choose among a finite "
                               "set of actions")
        if not discrete:
            bounds = np.stack([space.low, space.high], axis=1).astype(float)
            if observation_bounds is not None:
                given = np.asarray(observation_bounds, dtype=float)
                if given.shape != bounds.shape or not (given[:, 0] < given[:, 1]).all():
                    raise DatasetError(f"{name or env_id}: observation_bounds must be {len(bounds)} [low, high] pairs "
                                       f"with low < high, got {observation_bounds}")
                bounds = given
            if not np.isfinite(bounds).all():
                open_dims = np.flatnonzero(~np.isfinite(bounds).all(axis=1)).tolist()
                raise DatasetError(f"{name or env_id}: observation dimensions {open_dims} are unbounded; give their "
                                   "ranges in dataset.load.observation_bounds")
            env = Environment(**{**env.__dict__, "observation_bounds": tuple(map(tuple, bounds.tolist()))})
    finally:
        made.close()
    empty = np.empty(0)
    return Task(name or env_id, "tabular_control" if discrete else "control", empty, empty, empty, empty,
                input_kind="tabular" if discrete else "vector", source=f"gymnasium {gym.__version__} {env_id}",
                environment=env)
