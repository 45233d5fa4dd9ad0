"""LeNet-5-style convolutional network (LeCun et al., 1998).

Two 5x5 convolution + 2x2 pooling stages, then three fully connected layers (120, 84, K), as in
LeNet-5; with ReLU and max-pooling instead of scaled tanh and subsampling, as it is trained today.
"Same" padding lets the network take 8x8 digits as well as 28x28 MNIST.

Shapes: B batch, C channels, H x W image, K classes.
"""
from __future__ import annotations

import torch
from torch import nn


class LeNet5(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], n_classes: int, channels: tuple[int, int] = (6, 16),
                 dropout: float = 0.0):
        super().__init__()
        c, h, w = input_shape
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(c, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # (B, c1, H/2, W/2)
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, c2, H/4, W/4)
        )
        flat = c2 * (h // 4) * (w // 4)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, 120), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, K)
        return self.classifier(self.features(x))
