"""Deep Q-learning, an agent of the control task kinds (the contract and the loop it trains in:
harness/tasks/control.py).

DQN follows Mnih et al. (2015): experience replay, a target network copied every
`target_update_interval` steps, an epsilon-greedy policy whose epsilon falls linearly, the Huber
loss, with Adam and gradient-norm clipping as in Stable-Baselines3 (Raffin et al., 2021), whose
rl-baselines3-zoo settings suites/model/dqn.yaml uses.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from harness.deep.callbacks import require_finite
from harness.deep.estimator import keep_arguments
from harness.deep.training import count_parameters, gradient_step, make_optimizer
from harness.tasks.control import Agent, linear_epsilon

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
        keep_arguments(self, locals())

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
        self.optimizer_ = make_optimizer("adam", self.q_.parameters(), p["learning_rate"], fused=fused or None)
        shape, dtype = ((), np.int64) if self.one_hot_ else ((n_inputs,), np.float32)
        self.buffer_ = ReplayBuffer(min(int(p["buffer_size"]), self.environment_.train_steps), shape, dtype)
        self.t_, self.updates_, self.last_loss_ = 0, 0, np.nan
        self.state_, self.action_ = None, None
        self.table_ = None  # finite states: the greedy action of every state, until the next update

    @property
    def n_parameters_(self) -> int:
        return count_parameters(self.q_)

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
        gradient_step(self.optimizer_, loss, self.q_.parameters(), p["max_grad_norm"])
        self.updates_ += 1
        self.table_ = None
        self.last_loss_ = float(loss.detach())
        require_finite(self.last_loss_, f"DQN loss became {self.last_loss_} after {self.updates_} updates")
