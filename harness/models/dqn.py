"""The Q-network of deep Q-learning (Mnih et al., 2015, "Human-level control through deep
reinforcement learning"): one forward pass gives the value of every action in a state, Q(s, .).

Mnih et al. read Atari frames with a CNN; the states here are short vectors (cart-pole, acrobot) or
one of a finite set of cells (grid games), so the network is an MLP with ReLU units, as in the DQN
settings of rl-baselines3-zoo for the classic-control tasks (two hidden layers of 256). A state
given as an index enters one-hot. The training (replay buffer, target network, epsilon schedule,
Huber loss) is harness/deep/rl.py's DQN; this module never trains itself.

Shapes: B batch, D state dimensions (or S states, one-hot), A actions.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.mlp import MLP


class QNetwork(nn.Module):
    def __init__(self, n_inputs: int, n_actions: int, hidden: tuple[int, ...] = (256, 256), one_hot: bool = False):
        super().__init__()
        self.n_inputs, self.one_hot = int(n_inputs), bool(one_hot)
        self.mlp = MLP((self.n_inputs,), int(n_actions), hidden=tuple(hidden), dropout=0.0)

    def forward(self, s: torch.Tensor) -> torch.Tensor:  # (B, D) floats, or (B,) state indices -> (B, A)
        if not self.one_hot:
            return self.mlp(s)
        # The first layer applied to a one-hot vector is its weight column for that state plus its bias:
        # gather it instead of multiplying by a (B, S) matrix of zeros (the same function and gradient).
        first, rest = self.mlp.net[0], self.mlp.net[1:]
        return rest(nn.functional.embedding(s.long(), first.weight.t()) + first.bias)  # (B, H) -> (B, A)
