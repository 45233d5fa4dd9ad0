"""A small residual network (He et al., 2015) and its plain twin for the depth experiments.

Three stages of basic blocks (two 3x3 convolutions with batch norm) at widths w, 2w, 4w; each
later stage halves the resolution. With `residual=True` each block adds its input back
(`x + f(x)`); with `residual=False` the same layers are stacked without the shortcut, which is
the "plain" network the ResNet paper compares against; harness/models/highway.py gates the same
blocks instead (`make_block`). `depth` counts blocks, spread over stages.
Inputs of 16 pixels or more get a stride-2 stem, which keeps 28x28 affordable on a CPU.

Shapes: B batch, C channels, H x W image, K classes.
"""
from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity()
        if residual and (stride != 1 or c_in != c_out):
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, c_in, H, W) -> (B, c_out, H/s, W/s)
        out = self.body(x)
        if self.residual:
            out = out + self.shortcut(x)
        return torch.relu(out)


class ResNet(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], n_classes: int, depth: int = 3, width: int = 16,
                 residual: bool = True):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1 block, got {depth}")
        self.residual = residual
        c, h, _ = input_shape
        stem_stride = 2 if h >= 16 else 1
        self.stem = nn.Sequential(nn.Conv2d(c, width, 3, stem_stride, 1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU())
        per_stage = [depth // 3 + (1 if i < depth % 3 else 0) for i in range(3)]
        blocks, c_in = [], width
        for stage, n_blocks in enumerate(per_stage):
            c_out = width * 2 ** stage
            for b in range(n_blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                blocks.append(self.make_block(c_in, c_out, stride))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, n_classes))

    def make_block(self, c_in: int, c_out: int, stride: int) -> nn.Module:
        """One block of a stage; the highway network (harness/models/highway.py) swaps in its own."""
        return BasicBlock(c_in, c_out, stride, self.residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, K)
        return self.head(self.blocks(self.stem(x)))
