"""A convolutional highway network (Srivastava, Greff & Schmidhuber, "Training Very Deep Networks",
NeurIPS 2015), laid out exactly as the ResNet and plain network of harness/models/resnet.py.

A highway layer mixes a transformation H(x) with its unchanged input through a learned gate:

    y = H(x) * T(x) + x * (1 - T(x)),   T(x) = sigmoid(W_T * x + b_T)

T is the transform gate and 1 - T the carry gate (the paper's simplest coupling, C = 1 - T). The
gate bias b_T starts negative, so a fresh network carries its input through nearly unchanged and
gradients reach the first layers however deep the stack; the paper initialises it between -1 and
-4 by depth and task (-2 here, `gate_bias`).

Here H is the plain network's block (two 3x3 convolutions with batch norm, ReLU), T one 3x3
convolution of the block's input to the block's output channels, one gate per channel and pixel.
The stages, widths (w, 2w, 4w), stem, head and `depth` (blocks, spread over three stages) are the
ResNet's, so `plain_net`, `highway_net` and `resnet` at the same depth differ only in how a block
combines its input with its transformation: not at all, through a gate, or by adding it. Where a
block changes the shape (the first of a later stage halves the resolution and doubles the
channels), the carry path is the ResNet's projection (1x1 convolution, stride 2, batch norm); the
paper changes dimensions with plain layers instead, which would leave shallow stacks here with
no highway at all.

Shapes: B batch, C channels, H x W image, K classes.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.resnet import BasicBlock, ResNet


class HighwayBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, gate_bias: float = -2.0):
        super().__init__()
        self.transform = BasicBlock(c_in, c_out, stride, residual=False)  # H: relu(bn(conv(relu(bn(conv x)))))
        self.gate = nn.Conv2d(c_in, c_out, 3, stride, 1)                    # T before its sigmoid
        nn.init.constant_(self.gate.bias, gate_bias)
        self.carry = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.carry = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, c_in, H, W) -> (B, c_out, H/s, W/s)
        t = torch.sigmoid(self.gate(x))                  # (B, c_out, H/s, W/s), in (0, 1)
        return self.transform(x) * t + self.carry(x) * (1 - t)


class HighwayNet(ResNet):
    def __init__(self, input_shape: tuple[int, int, int], n_classes: int, depth: int = 3, width: int = 16,
                 gate_bias: float = -2.0):
        super().__init__(input_shape, n_classes, depth=depth, width=width)
        for block in self.blocks:
            nn.init.constant_(block.gate.bias, gate_bias)

    def make_block(self, c_in: int, c_out: int, stride: int) -> nn.Module:
        return HighwayBlock(c_in, c_out, stride)
