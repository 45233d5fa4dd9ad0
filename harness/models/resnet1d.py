"""The residual network for time series of Wang, Yan & Oates (2017), as benchmarked by Fawaz et al. (2019).

Three residual blocks of 64, 128 and 128 filters. Each block is three convolutions with kernels 8, 5
and 3 ("same" padding, batch norm, ReLU after the first two), plus a shortcut that is a 1x1
convolution with batch norm where the width changes and batch norm alone where it does not (as in
Fawaz et al.'s reference code); the sum goes through a ReLU. Then global average pooling and a
linear classifier. Time resolution is kept throughout: no pooling, no strides.

Wang et al. (2017), "Time series classification from scratch with deep neural networks: a strong
baseline"; Fawaz et al. (2019), "Deep learning for time series classification: a review".

Shapes: B batch, C channels, T time steps, F filters, K classes.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.sequence import PooledConvNet, series_shape
from harness.models.tdnn import ConvBlock


class ResidualBlock1d(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernels: tuple[int, ...]):
        super().__init__()
        widths = [c_in] + [c_out] * len(kernels)
        self.body = nn.Sequential(*[ConvBlock(widths[i], widths[i + 1], k, act=i < len(kernels) - 1)
                                    for i, k in enumerate(kernels)])
        self.shortcut = (nn.Sequential(nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out))
                         if c_in != c_out else nn.BatchNorm1d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, c_in, T) -> (B, c_out, T)
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet1D(PooledConvNet):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, filters: tuple[int, ...] = (64, 128, 128),
                 kernels: tuple[int, ...] = (8, 5, 3)):
        c, _ = series_shape(input_shape)
        blocks, width = [], c
        for f in filters:
            blocks.append(ResidualBlock1d(width, f, tuple(kernels)))  # (B, f, T)
            width = f
        super().__init__(blocks, width, n_classes)
