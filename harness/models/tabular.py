"""Deep networks for tables, as in Gorishniy, Rubachev, Khrulkov & Babenko, "Revisiting Deep Learning
Models for Tabular Data" (NeurIPS 2021): a ResNet-like MLP and the FT-Transformer. (The plain MLP of
that paper is harness/models/mlp.py.) Both are trained by harness/deep/tabular.py's TabularNet, which
hands them numeric columns already quantile-normalised.

Shape letters: B batch, F input columns (numeric, then categorical), N numeric columns, C
categorical columns, T tokens (N + C features + [CLS]), D token/hidden width, K outputs (classes, or
1 for a regression).

ResNet (paper section 3.2): a linear map to width D, then blocks
    x = x + Dropout(Linear(Dropout(ReLU(Linear(BatchNorm(x))))))
with an inner width of `hidden_factor` x D, and a head Linear(ReLU(BatchNorm(x))). Categorical
columns arrive one-hot.

FT-Transformer (section 3.3): a Feature Tokenizer turns every column into a D-vector (numeric
x_j -> x_j * W_j + b_j; categorical -> an embedding of its category + b_j), a [CLS] token is
appended, then pre-norm transformer blocks (the first without the attention's layer norm, as in
the paper) with ReGLU feed-forward layers of inner width 4/3 D, and the prediction is read from
the [CLS] token: Linear(ReLU(LayerNorm(cls))). The paper's default is D = 192, 3 blocks, 8 heads;
the model config sets a smaller default that trains on a CPU within the suite's time budget.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class ResNetBlock(nn.Module):
    def __init__(self, width: int, hidden: int, hidden_dropout: float, residual_dropout: float):
        super().__init__()
        self.norm = nn.BatchNorm1d(width)
        self.linear1 = nn.Linear(width, hidden)
        self.linear2 = nn.Linear(hidden, width)
        self.hidden_dropout = nn.Dropout(hidden_dropout)
        self.residual_dropout = nn.Dropout(residual_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, D)
        z = self.hidden_dropout(torch.relu(self.linear1(self.norm(x))))
        return x + self.residual_dropout(self.linear2(z))


class TabularResNet(nn.Module):
    def __init__(self, input_shape: tuple[int, ...], n_classes: int, n_blocks: int = 2, width: int = 128,
                 hidden_factor: float = 2.0, hidden_dropout: float = 0.2, residual_dropout: float = 0.0):
        super().__init__()
        self.first = nn.Linear(math.prod(input_shape), width)
        hidden = max(1, int(round(hidden_factor * width)))
        self.blocks = nn.Sequential(*(ResNetBlock(width, hidden, hidden_dropout, residual_dropout)
                                      for _ in range(n_blocks)))
        self.head = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, K)
        return self.head(self.blocks(self.first(x.flatten(1))))


class FeatureTokenizer(nn.Module):
    """Columns -> tokens: (B, N + C) -> (B, N + C, D); the C categorical columns hold codes 0..card-1."""

    def __init__(self, n_numeric: int, cardinalities: list[int], width: int):
        super().__init__()
        self.n_numeric = n_numeric
        self.weight = nn.Parameter(torch.empty(n_numeric, width))
        self.bias = nn.Parameter(torch.empty(n_numeric + len(cardinalities), width))
        self.embeddings = nn.Embedding(sum(cardinalities), width) if cardinalities else None
        offsets = torch.tensor([0, *cardinalities[:-1]]).cumsum(0) if cardinalities else torch.zeros(0)
        self.register_buffer("offsets", offsets.long(), persistent=False)
        bound = 1 / math.sqrt(width)  # the paper's initialisation: uniform in +-1/sqrt(D)
        for p in (self.weight, self.bias):
            nn.init.uniform_(p, -bound, bound)
        if self.embeddings is not None:
            nn.init.uniform_(self.embeddings.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x[:, :self.n_numeric, None] * self.weight  # (B, N, D)
        if self.embeddings is not None:
            codes = x[:, self.n_numeric:].long() + self.offsets  # (B, C)
            tokens = torch.cat([tokens, self.embeddings(codes)], dim=1)  # (B, N + C, D)
        return tokens + self.bias


class ReGLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., 2H) -> (..., H)
        a, b = x.chunk(2, dim=-1)
        return a * torch.relu(b)


class TransformerBlock(nn.Module):
    def __init__(self, width: int, heads: int, attention_dropout: float, ffn_dropout: float,
                 residual_dropout: float, first: bool):
        super().__init__()
        self.attention_norm = nn.Identity() if first else nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, dropout=attention_dropout, batch_first=True)
        self.ffn_norm = nn.LayerNorm(width)
        hidden = int(width * 4 / 3)
        self.ffn = nn.Sequential(nn.Linear(width, 2 * hidden), ReGLU(), nn.Dropout(ffn_dropout),
                                 nn.Linear(hidden, width))
        self.residual_dropout = nn.Dropout(residual_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        h = self.attention_norm(x)
        x = x + self.residual_dropout(self.attention(h, h, h, need_weights=False)[0])
        return x + self.residual_dropout(self.ffn(self.ffn_norm(x)))


class FTTransformer(nn.Module):
    categorical_embeddings = True  # TabularNet passes categorical columns as codes, with their cardinalities

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, cardinalities: list[int] | tuple = (),
                 width: int = 64, n_blocks: int = 2, heads: int = 8, attention_dropout: float = 0.2,
                 ffn_dropout: float = 0.1, residual_dropout: float = 0.0):
        super().__init__()
        cardinalities = [int(c) for c in cardinalities]
        n_numeric = math.prod(input_shape) - len(cardinalities)
        if n_numeric < 0:
            raise ValueError(f"{len(cardinalities)} categorical columns but only {math.prod(input_shape)} inputs")
        self.tokenizer = FeatureTokenizer(n_numeric, cardinalities, width)
        self.cls = nn.Parameter(torch.empty(1, 1, width))
        nn.init.uniform_(self.cls, -1 / math.sqrt(width), 1 / math.sqrt(width))
        self.blocks = nn.Sequential(*(TransformerBlock(width, heads, attention_dropout, ffn_dropout, residual_dropout,
                                                       first=i == 0) for i in range(n_blocks)))
        self.head = nn.Sequential(nn.LayerNorm(width), nn.ReLU(), nn.Linear(width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, K)
        tokens = self.tokenizer(x.flatten(1))  # (B, F, D)
        tokens = torch.cat([tokens, self.cls.expand(len(tokens), -1, -1)], dim=1)  # (B, T, D), [CLS] last
        return self.head(self.blocks(tokens)[:, -1])
