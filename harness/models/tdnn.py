"""Convolutions over time with global pooling: the time-delay neural network and its descendant, the FCN.

- `TDNN` follows Waibel, Hanazawa, Hinton, Shikano & Lang (1987; IEEE ASSP 1989), "Phoneme
  recognition using time-delay neural networks": each unit sees the current frame and a few
  delayed ones (layer 1: delays 0-2, layer 2: delays 0-4), with the same weights at every time
  shift, i.e. an unpadded 1-D convolution, followed by a squashing non-linearity; the responses of
  the last layer are integrated over time, which makes the decision invariant to where in the
  window the event lies. In the paper the last layer has one unit per class and the integration is
  the output; here it has `hidden[-1]` units, their time average feeds a linear layer that gives
  logits for cross-entropy, and tanh (the paper's sigmoid, centred) is the non-linearity. The
  paper's 8 units in layer 1 (it read 16 mel coefficients a frame) set the default width.
- `FCN` follows Wang, Yan & Oates (2017), "Time series classification from scratch with deep
  neural networks: a strong baseline": three convolution blocks (128, 256, 128 filters; kernels 8,
  5, 3; batch norm; ReLU), "same" padding, global average pooling, a linear classifier. No pooling
  between blocks, no dropout.

Shapes: B batch, C channels, T time steps, F filters, K classes.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.sequence import PooledConvNet, as_series, series_shape


class ConvBlock(nn.Sequential):
    """Conv1d with "same" padding (Keras': the extra pad of an even kernel on the right), batch norm,
    then ReLU unless `act=False`: (B, c_in, T) -> (B, c_out, T)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, act: bool = True):
        layers = [nn.ConstantPad1d(((kernel - 1) // 2, kernel // 2), 0.0),
                  nn.Conv1d(c_in, c_out, kernel, bias=False), nn.BatchNorm1d(c_out)]
        super().__init__(*layers, *([nn.ReLU()] if act else []))


class TDNN(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, hidden: tuple[int, ...] = (8, 8),
                 delays: tuple[int, ...] = (2, 4)):
        """`hidden`: units per time-delay layer; `delays`: per layer, the largest delay a unit sees, so its
        window is delay + 1 frames."""
        super().__init__()
        c, t = series_shape(input_shape)
        if len(delays) != len(hidden):
            raise ValueError(f"delays needs one entry per layer of hidden ({len(hidden)}), got {len(delays)}")
        if t <= sum(delays):
            raise ValueError(f"a TDNN with delays {tuple(delays)} needs series longer than {sum(delays)} steps, "
                             f"got {t}")
        layers, width = [], c
        for h, d in zip(hidden, delays):
            layers += [nn.Conv1d(width, h, d + 1), nn.Tanh()]  # (B, h, T - d)
            width = h
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, K)
        h = self.layers(as_series(x))  # (B, F, T - sum(delays))
        return self.head(h.mean(dim=-1))  # integrate the evidence over time


class FCN(PooledConvNet):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, filters: tuple[int, int, int] = (128, 256, 128),
                 kernels: tuple[int, int, int] = (8, 5, 3)):
        c, _ = series_shape(input_shape)
        blocks, width = [], c
        for f, k in zip(filters, kernels):
            blocks.append(ConvBlock(width, f, k))  # (B, f, T)
            width = f
        super().__init__(blocks, width, n_classes)
