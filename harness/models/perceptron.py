"""Rosenblatt's perceptron (1958): one layer of weights, a hard decision, and the perceptron rule.

The multiclass perceptron rule updates, on a mistake, the weights of the true class towards the
input and those of the predicted class away from it. That is plain SGD on the perceptron criterion
`max_j s_j - s_y` (zero when the prediction is right), so the shared loop trains it by declaring
that criterion rather than cross-entropy. No hidden layer: it can only draw linear boundaries.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def perceptron_criterion(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of (highest score - true class score): the perceptron rule's loss."""
    return (scores.max(dim=1).values - scores.gather(1, y[:, None]).squeeze(1)).mean()


class Perceptron(nn.Module):
    criterion = staticmethod(perceptron_criterion)

    def __init__(self, input_shape: tuple[int, ...], n_classes: int):
        super().__init__()
        self.linear = nn.Linear(math.prod(input_shape), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, ...) -> (B, K)
        return self.linear(x.flatten(1))
