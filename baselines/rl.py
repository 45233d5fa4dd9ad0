"""Classical reinforcement learning: tabular Q-learning and SARSA, and linear Q-learning on tile-coded
features (Sutton & Barto, 2018, "Reinforcement Learning: An Introduction", 2nd ed.).

- `QLearning` (Watkins, 1989; S&B section 6.5): Q(s, a) += alpha [r + gamma max_a' Q(s', a') - Q(s, a)].
- `Sarsa` (Rummery & Niranjan, 1994; S&B 6.4): the same with Q(s', a') of the action a' it will take.
- `LinearQ` (S&B 10.1, with the Q-learning target): Q(s, a) = w_a . x(s), x(s) the binary features of a
  tile coder (S&B 9.5.4); w_a += alpha / n_tilings * delta * x(s).

The tabular agents read a state of a finite set (a grid game's cell) as it is. A real-valued state
(cart-pole, acrobot) is cut into boxes first (`Discretiser`): `bins` equal intervals per dimension
inside the environment's observation bounds (harness/data/rl.py; values beyond them fall in the
outer boxes), or the interior edges of each dimension's intervals given as `bin_edges` (cart-pole:
the 162 boxes of Barto, Sutton & Anderson, 1983). Exploration is epsilon-greedy with the same linear
schedule as the DQN's (harness/deep/rl.py), ties among greedy actions broken at random while training.
The training loop, the contract and the evaluation are harness/tasks/control.py's.
"""
from __future__ import annotations

import numpy as np

from harness.tasks.control import Agent, linear_epsilon


class Discretiser:
    """A real vector -> the index of its box. `edges[i]`: the interior edges of dimension i (k edges, k + 1
    intervals); a value on an edge goes to the interval above it."""

    def __init__(self, bounds, bins=None, bin_edges=None):
        bounds = np.asarray(bounds, dtype=float)
        d = len(bounds)
        if bin_edges is not None:
            if len(bin_edges) != d:
                raise ValueError(f"bin_edges must give {d} lists of edges, one per dimension, got {len(bin_edges)}")
            self.edges = [np.asarray(e, dtype=float) for e in bin_edges]
            if any(np.any(np.diff(e) <= 0) for e in self.edges):
                raise ValueError(f"bin_edges must increase within each dimension, got {bin_edges}")
        else:
            counts = np.broadcast_to(np.asarray(bins, dtype=int), (d,))
            if np.any(counts < 1):
                raise ValueError(f"bins must be at least 1 per dimension, got {bins}")
            self.edges = [np.linspace(lo, hi, k + 1)[1:-1] for (lo, hi), k in zip(bounds, counts)]
        self.shape = tuple(len(e) + 1 for e in self.edges)
        self.strides = np.cumprod((1, *self.shape[::-1]))[:-1][::-1]
        self.n_states = int(np.prod(self.shape))

    def __call__(self, x) -> int:
        return int(sum(int(np.searchsorted(e, v, side="right")) * s for e, v, s in zip(self.edges, x, self.strides)))


class TileCoder:
    """`n_tilings` grids of `tiles` intervals per dimension over `bounds`, each shifted by a fraction of a
    tile along the displacement vector (1, 3, 5, ...) that S&B (section 9.5.4) recommend over equal
    shifts in every dimension; a state's features are the one tile of each tiling it falls in. No
    hashing: each tiling has (tiles + 1)^d tiles, the extra one holding the shifted margin."""

    def __init__(self, bounds, n_tilings: int = 8, tiles: int = 8):
        bounds = np.asarray(bounds, dtype=float)
        if n_tilings < 1 or tiles < 1:
            raise ValueError(f"n_tilings and tiles must be at least 1, got {n_tilings}, {tiles}")
        d = len(bounds)
        self.low, self.n_tilings, self.tiles = bounds[:, 0], int(n_tilings), int(tiles)
        self.scale = tiles / (bounds[:, 1] - bounds[:, 0])  # tiles per unit of each dimension
        displacement = 2 * np.arange(d) + 1
        self.offsets = (np.arange(n_tilings)[:, None] * displacement[None, :] / n_tilings) % 1.0  # (T, d) in tiles
        side = tiles + 1
        self.per_tiling = side ** d
        self.strides = side ** np.arange(d)[::-1]
        self.base = np.arange(n_tilings) * self.per_tiling
        self.n_features = n_tilings * self.per_tiling

    def __call__(self, x) -> np.ndarray:
        """The active feature of each tiling: (n_tilings,) indices."""
        coords = np.floor((np.asarray(x, dtype=float) - self.low) * self.scale + self.offsets)  # (T, d)
        coords = np.clip(coords, 0, self.tiles).astype(np.int64)
        return self.base + coords @ self.strides


class EpsilonGreedy(Agent):
    """What the classical agents share: the settings, the schedule, and random tie-breaking."""

    def check(self) -> None:
        p = self.params_
        if not 0 <= p["gamma"] <= 1 or p["learning_rate"] <= 0:
            raise ValueError(f"gamma must lie in [0, 1] and learning_rate be positive, got {p['gamma']}, "
                             f"{p['learning_rate']}")

    def epsilon(self) -> float:
        p = self.params_
        return linear_epsilon(self.t_, self.environment_.train_steps, p["exploration_initial_eps"],
                              p["exploration_final_eps"], p["exploration_fraction"])

    def choose(self, q: np.ndarray) -> int:
        """Epsilon-greedy over the action values q, ties broken at random."""
        if self.rng_.random() < self.epsilon():
            return int(self.rng_.integers(len(q)))
        best = np.flatnonzero(q == q.max())
        return int(best[0] if len(best) == 1 else self.rng_.choice(best))


class TabularAgent(EpsilonGreedy):
    """A table of Q(s, a), zero at first; a subclass's `update` moves Q(s, a) and picks the next action."""

    def __init__(self, learning_rate: float = 0.1, gamma: float = 0.99, exploration_fraction: float = 0.1,
                 exploration_initial_eps: float = 1.0, exploration_final_eps: float = 0.05, bins=6,
                 bin_edges=None, env_params: dict | None = None, random_state: int | None = None):
        self.learning_rate = learning_rate
        self.gamma = gamma
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.bins = bins
        self.bin_edges = bin_edges
        self.env_params = env_params
        self.random_state = random_state

    def setup(self, env) -> None:
        import gymnasium as gym

        self.check()
        space = env.observation_space
        if isinstance(space, gym.spaces.Discrete):
            self.discretiser_ = None
            n_states = int(space.n)
        else:
            p = self.params_
            self.discretiser_ = Discretiser(self.environment_.observation_bounds, p["bins"], p["bin_edges"])
            n_states = self.discretiser_.n_states
        self.q_ = np.zeros((n_states, self.n_actions_))
        self.t_ = 0

    @property
    def n_parameters_(self) -> int:
        return int(self.q_.size)

    def index(self, state) -> int:
        return int(state) if self.discretiser_ is None else self.discretiser_(state)

    def greedy(self, state) -> int:
        return int(self.q_[self.index(state)].argmax())

    def begin(self, state) -> int:
        self.s_ = self.index(state)
        self.a_ = self.choose(self.q_[self.s_])
        return self.a_

    def step(self, reward: float, state, terminated: bool) -> int:
        s2 = self.index(state)
        self.t_ += 1
        a2 = self.update(self.s_, self.a_, reward, s2, terminated)
        self.s_, self.a_ = s2, a2
        return a2


class QLearning(TabularAgent):
    """Tabular Q-learning (Watkins, 1989; S&B 6.5): off-policy, toward the greedy value of s'."""

    def update(self, s: int, a: int, reward: float, s2: int, terminated: bool) -> int:
        target = reward if terminated else reward + self.params_["gamma"] * self.q_[s2].max()
        self.q_[s, a] += self.params_["learning_rate"] * (target - self.q_[s, a])
        return self.choose(self.q_[s2])


class Sarsa(TabularAgent):
    """Tabular SARSA (Rummery & Niranjan, 1994; S&B 6.4): on-policy, toward the value of the action it takes next."""

    def update(self, s: int, a: int, reward: float, s2: int, terminated: bool) -> int:
        a2 = self.choose(self.q_[s2])
        target = reward if terminated else reward + self.params_["gamma"] * self.q_[s2, a2]
        self.q_[s, a] += self.params_["learning_rate"] * (target - self.q_[s, a])
        return a2


class LinearQ(EpsilonGreedy):
    """Q-learning with a linear function of tile-coded features (S&B 9.5.4 and 10.1): one weight per tile
    and action, zero at first; `learning_rate` is the step size of one feature vector, split over
    the n_tilings active tiles (S&B's alpha / n). Real-valued states only: on a finite set of states
    tile coding has nothing to generalise over and this would be tabular Q-learning."""

    def __init__(self, learning_rate: float = 0.1, gamma: float = 0.99, exploration_fraction: float = 0.1,
                 exploration_initial_eps: float = 1.0, exploration_final_eps: float = 0.05, n_tilings: int = 8,
                 tiles: int = 8, env_params: dict | None = None, random_state: int | None = None):
        self.learning_rate = learning_rate
        self.gamma = gamma
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.n_tilings = n_tilings
        self.tiles = tiles
        self.env_params = env_params
        self.random_state = random_state

    def setup(self, env) -> None:
        import gymnasium as gym

        self.check()
        if isinstance(env.observation_space, gym.spaces.Discrete):
            raise ValueError(f"linear_q reads real-valued states; {self.environment_.env_id}'s are a finite set, on "
                             "which it would be tabular Q-learning (q_learning)")
        p = self.params_
        self.coder_ = TileCoder(self.environment_.observation_bounds, p["n_tilings"], p["tiles"])
        self.w_ = np.zeros((self.n_actions_, self.coder_.n_features))
        self.t_ = 0

    @property
    def n_parameters_(self) -> int:
        return int(self.w_.size)

    def values(self, tiles: np.ndarray) -> np.ndarray:
        return self.w_[:, tiles].sum(axis=1)  # (A,)

    def greedy(self, state) -> int:
        return int(self.values(self.coder_(state)).argmax())

    def begin(self, state) -> int:
        self.x_ = self.coder_(state)
        self.a_ = self.choose(self.values(self.x_))
        return self.a_

    def step(self, reward: float, state, terminated: bool) -> int:
        p = self.params_
        self.t_ += 1
        x2 = self.coder_(state)
        q2 = self.values(x2)
        target = reward if terminated else reward + p["gamma"] * q2.max()
        delta = target - self.w_[self.a_, self.x_].sum()
        self.w_[self.a_, self.x_] += p["learning_rate"] / p["n_tilings"] * delta
        q2 = self.values(x2)  # after the update, as the tabular agent chooses from its updated table
        self.x_, self.a_ = x2, self.choose(q2)
        return self.a_
