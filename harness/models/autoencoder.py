"""Autoencoder: an encoder that squeezes each input through a code of d numbers and a decoder that
rebuilds the input from the code, trained to make the rebuilt input match the original (Rumelhart,
Hinton & Williams, 1986; as a non-linear generalisation of PCA: Hinton & Salakhutdinov, 2006).

A linear autoencoder with a squared-error loss learns the subspace of the first d principal
components (Baldi & Hornik, 1989); the ReLU layers here are what may let it do better than PCA at
the same code size. The code layer has no activation (a linear bottleneck, as in PCA's codes); the
output is a sigmoid when the inputs are pixel intensities in [0, 1] (`sigmoid_output`, decided by
the estimator in harness/deep/autoencoder.py from the training data), else linear.

Shapes: B batch, D = prod(input_shape) input values, d code size.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class DenseAutoencoder(nn.Module):
    """D -> hidden[0] -> ... -> hidden[-1] -> d -> hidden[-1] -> ... -> hidden[0] -> D, ReLU between."""

    def __init__(self, input_shape: tuple[int, ...], code_size: int, hidden: tuple[int, ...] = (256, 64),
                 sigmoid_output: bool = False):
        super().__init__()
        self.input_shape = tuple(input_shape)
        width, encoder = math.prod(input_shape), []
        for h in hidden:
            encoder += [nn.Linear(width, h), nn.ReLU()]
            width = h
        encoder.append(nn.Linear(width, code_size))  # the code: linear, as PCA's
        decoder, width = [], code_size
        for h in reversed(hidden):
            decoder += [nn.Linear(width, h), nn.ReLU()]
            width = h
        decoder.append(nn.Linear(width, math.prod(input_shape)))
        if sigmoid_output:
            decoder.append(nn.Sigmoid())
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, *input_shape) -> (B, d)
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B, *input_shape)
        return self.decoder(z).reshape(len(z), *self.input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, *input_shape) -> (B, *input_shape)
        return self.decode(self.encode(x))
