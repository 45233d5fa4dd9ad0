"""Multi-layer perceptron: fully connected hidden layers with non-linear activations, trained by
backpropagation (Rumelhart, Hinton & Williams, 1986). ReLU by default; `activation: sigmoid` gives
the logistic units of a deep belief network's layers (harness/deep/dbn.py copies RBM weights in)."""
from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class MLP(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, hidden: tuple[int, ...] = (256, 128),
                 dropout: float = 0.2, activation: str = "relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose {', '.join(ACTIVATIONS)}")
        layers, width = [], math.prod(input_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation](), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, ...) -> (B, K)
        return self.net(x.flatten(1))
