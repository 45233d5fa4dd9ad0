"""Text classifiers over token ids: an embedding layer, a backbone, pooling over the real tokens, a
linear head. Trained by `harness.deep.text.TextClassifier`, which builds the vocabulary and the ids.

- `FastText`: the mean of the token embeddings, one optional hidden layer, a linear classifier
  (Joulin et al., 2017, "Bag of tricks for efficient text classification"; without its hashed
  bigrams).
- `TextCNN`: convolutions of widths 3, 4 and 5 over the embeddings, ReLU, max over time, dropout
  0.5 (Kim, 2014, "Convolutional neural networks for sentence classification"; the randomly
  initialised "CNN-rand" variant: no pretrained word vectors here).
- `RecurrentText`: an LSTM or GRU (harness/models/recurrent.py) over the embeddings.
- `TransformerText`: the pre-norm transformer encoder of harness/models/transformer.py.
- `MambaText`: the Mamba backbone of harness/models/mamba.py.

Padding. Ids are (B, T) int64, 0 is padding (at the end) and 1 the unknown token. Every model's
output for a text is the same however much padding follows it (tests/suites/test_text.py checks it):
pooling is over the real tokens only (mean, or max for the CNN), and no real token's features see
padding. The CNN's windows end at their token (a window reaching into padding ends at a padding
token, which the max skips); the recurrent and Mamba backbones are causal, so padding comes after
every real token's state (cheaper than packed sequences, and the same states); the transformer,
which attends both ways, gets a key padding mask, so no token attends to padding.

Shapes: B batch, T tokens, E embedding size, D backbone features, K classes, V vocabulary.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.mamba import MambaBackbone, MambaConfig
from harness.models.recurrent import RecurrentBackbone
from harness.models.transformer import TransformerBackbone, TransformerConfig

PAD = 0


def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, T, D), (B, T) -> (B, D)
    m = mask.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
    return (h * m).sum(1) / m.sum(1).clamp(min=1.0)


def masked_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, T, D), (B, T) -> (B, D)
    return h.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1).clamp(min=-1e4)  # all-pad rows -> finite


class EmbeddingClassifier(nn.Module):
    """ids (B, T) -> embeddings (B, T, E) -> backbone (B, T, D) -> masked mean (B, D) -> dropout, linear (B, K).
    `backbone=None` is the bag of embeddings."""

    def __init__(self, vocab_size: int, n_classes: int, embed_dim: int, backbone: nn.Module | None,
                 dropout: float = 0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(backbone.d_out if backbone is not None else embed_dim, n_classes)

    def encode(self, h: torch.Tensor, real: torch.Tensor) -> torch.Tensor:  # (B, T, E), (B, T) -> (B, T, D)
        """The backbone's features; a causal backbone needs no mask (padding comes after every real token)."""
        return h if self.backbone is None else self.backbone(h)

    def features(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, D)
        ids = ids.long()
        real = ids != PAD  # (B, T)
        return masked_mean(self.encode(self.embed(ids), real), real)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, K)
        return self.head(self.dropout(self.features(ids)))


class FastText(EmbeddingClassifier):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, vocab_size: int, embed_dim: int = 64,
                 hidden: int = 0, dropout: float = 0.0):
        super().__init__(vocab_size, n_classes, embed_dim, None, dropout)
        if hidden:
            self.head = nn.Sequential(nn.Linear(embed_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


class TextCNN(EmbeddingClassifier):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, vocab_size: int, embed_dim: int = 64,
                 widths: tuple[int, ...] = (3, 4, 5), filters: int = 100, dropout: float = 0.5):
        super().__init__(vocab_size, n_classes, embed_dim, None, dropout)
        self.widths = tuple(widths)
        self.convs = nn.ModuleList([nn.Conv1d(embed_dim, filters, w, padding=w - 1) for w in self.widths])
        self.head = nn.Linear(filters * len(self.widths), n_classes)

    def features(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, F * len(widths))
        ids = ids.long()
        x = self.embed(ids).transpose(1, 2)  # (B, E, T)
        pooled = []
        for w, conv in zip(self.widths, self.convs):
            h = torch.relu(conv(x))[..., :ids.shape[1]].transpose(1, 2)  # (B, T, F): window ending at t
            pooled.append(masked_max(h, ids != PAD))  # (B, F)
        return torch.cat(pooled, dim=1)


class RecurrentText(EmbeddingClassifier):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, vocab_size: int, embed_dim: int = 64,
                 cell: str = "lstm", hidden: int = 64, layers: int = 1, dropout: float = 0.2):
        super().__init__(vocab_size, n_classes, embed_dim, RecurrentBackbone(embed_dim, cell, hidden, layers), dropout)


class TransformerText(EmbeddingClassifier):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, vocab_size: int, embed_dim: int = 64,
                 d_model: int = 64, n_heads: int = 4, layers: int = 2, dropout: float = 0.1,
                 positional: str = "sinusoidal"):
        cfg = TransformerConfig(d_model, n_heads, layers, 4, dropout, positional, max_len=input_shape[-1])
        super().__init__(vocab_size, n_classes, embed_dim, TransformerBackbone(embed_dim, cfg), dropout)

    def encode(self, h: torch.Tensor, real: torch.Tensor) -> torch.Tensor:  # (B, T, E), (B, T) -> (B, T, D)
        return self.backbone(h, key_padding_mask=~real)  # attention looks both ways: keep it off the padding


class MambaText(EmbeddingClassifier):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, vocab_size: int, embed_dim: int = 64,
                 d_model: int = 64, layers: int = 2, d_state: int = 16, expand: int = 2, d_conv: int = 4,
                 dropout: float = 0.1):
        cfg = MambaConfig(d_model, layers, d_state, expand, d_conv)
        super().__init__(vocab_size, n_classes, embed_dim, MambaBackbone(embed_dim, cfg), dropout)
