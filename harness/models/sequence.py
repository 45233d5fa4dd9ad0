"""What the sequence families share: the input layout, pooling over time, and two heads.

Layout. Classifiers take aeon's 3-D layout, channels first: (B, C, T) float32, C = 1 for a
univariate series. A 2-D batch (B, T) is one channel; an image batch (B, C, H, W) is read column
by column, as a sequence of W steps of C*H features each (row-by-row "sequential MNIST" would need a
transpose; columns are a free reshape), so every model config also runs on the image datasets.
Backbones work in the layout of nanoGPT and mamba-minimal, features last: (B, T, D).

Backbones. `RecurrentBackbone`, `TransformerBackbone` and `MambaBackbone` each map
(B, T, d_in) -> (B, T, d_out) and say whether they are `causal` (output t sees inputs <= t only).
The heads put one on top:
- `SequenceClassifier`: pool over time, one linear layer -> (B, K): the recurrent, transformer and
  Mamba classifiers. The convolutional ones (TDNN, FCN, ResNet1D) pool their own feature maps.
- `SequenceTagger`: one linear layer per step -> (B, T, n_outputs), for next-token prediction over
  embeddings (give `vocab_size`; inputs are then (B, T) token ids) and the adding and copy tasks
  (per-step outputs, or the last step of them).

Shapes: B batch, C channels, T time steps, D features per step, K classes, V vocabulary.
"""
from __future__ import annotations

import math

import torch
from torch import nn

POOLING = ("last", "mean")


def series_shape(input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(C, T), (T,) or (C, H, W) -> (channels, steps) as `as_series` reads the input."""
    return math.prod(input_shape[:-1]), input_shape[-1]


def as_series(x: torch.Tensor) -> torch.Tensor:  # (B, ..., T) -> (B, C, T)
    return x.reshape(x.shape[0], -1, x.shape[-1])


def as_steps(x: torch.Tensor) -> torch.Tensor:  # (B, ..., T) -> (B, T, C)
    return as_series(x).transpose(1, 2)


def pool(h: torch.Tensor, how: str) -> torch.Tensor:  # (B, T, D) -> (B, D)
    if how == "last":
        return h[:, -1]
    if how == "mean":
        return h.mean(dim=1)
    raise ValueError(f"unknown pooling {how!r}; choose one of {', '.join(POOLING)}")


class SequenceClassifier(nn.Module):
    """A backbone, pooling over time, a linear classifier: (B, C, T) -> (B, K)."""

    def __init__(self, backbone: nn.Module, n_classes: int, pooling: str):
        super().__init__()
        if pooling not in POOLING:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLING)}")
        self.backbone, self.pooling = backbone, pooling
        self.head = nn.Linear(backbone.d_out, n_classes)

    def pooled(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, D)
        return pool(h, self.pooling)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, K)
        h = self.backbone(as_steps(x))  # (B, T, D)
        return self.head(self.pooled(h))


class SequenceTagger(nn.Module):
    """A backbone with a linear read-out at every step: (B, T, d_in) or (B, T) ids -> (B, T, n_outputs).

    A character language model is `SequenceTagger(backbone, n_outputs=V, vocab_size=V)` with a causal
    backbone, trained on next-token cross-entropy; the adding task reads `out[:, -1]`, the copy task
    every step. The tagger refuses nothing: a non-causal backbone used as a language model sees
    the token it is asked to predict, so check `backbone.causal` where it matters.
    """

    def __init__(self, backbone: nn.Module, n_outputs: int, vocab_size: int | None = None):
        super().__init__()
        self.backbone = backbone
        self.embed = nn.Embedding(vocab_size, backbone.d_in) if vocab_size else None
        self.head = nn.Linear(backbone.d_out, n_outputs)

    @property
    def causal(self) -> bool:
        return self.backbone.causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d_in) or (B, T) ids -> (B, T, n_outputs)
        if self.embed is not None:
            x = self.embed(x)  # (B, T, d_in)
        return self.head(self.backbone(x))


class PooledConvNet(nn.Module):
    """Convolutional blocks over time, global average pooling, a linear classifier: (B, C, T) -> (B, K).
    The shape shared by the FCN and the 1-D ResNet (Wang et al., 2017): subclasses build the blocks."""

    def __init__(self, blocks: list[nn.Module], width: int, n_classes: int):
        super().__init__()
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, K)
        h = self.blocks(as_series(x))  # (B, F, T)
        return self.head(h.mean(dim=-1))  # global average pooling over time
