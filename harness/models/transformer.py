"""A transformer encoder for sequences (Vaswani et al., 2017, "Attention is all you need").

Laid out like nanoGPT: pre-norm blocks, `x = x + attn(ln_1(x))` then `x = x + mlp(ln_2(x))`, and a
final layer norm. Pre-norm (Xiong et al., 2020) trains stably without a learning-rate warm-up,
which the shared training loop does not have. A linear input projection takes the C channels of
each step to d_model; positions are added as the fixed sinusoids of Vaswani et al. (any length up
to `max_len`, no parameters) or as a learned table (BERT, GPT). The classifier mean-pools over time.
`causal=True` masks attention to earlier steps, for language models and per-step prediction. For
long noisy series the classifier can take patches of P steps as tokens (PatchTST) instead of steps.
Inputs padded to a common length (token ids of texts of different lengths) pass a
`key_padding_mask` (True at padding) so that no step attends to padding: a real token's features
are then the same however much padding follows it.

Self-attention costs O(T^2) time and memory per layer: fine for the few hundred steps of most UCR
series on a CPU, the thing to measure (not hide) for long ones.

Shapes: B batch, C channels, T time steps (tokens), D = d_model, nh heads, hs = D / nh head size,
K classes, P patch length.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from harness.models.sequence import SequenceClassifier, as_series, series_shape

POSITIONAL = ("sinusoidal", "learned")


@dataclass
class TransformerConfig:
    d_model: int = 64
    n_heads: int = 4
    layers: int = 2
    mlp_ratio: int = 4
    dropout: float = 0.1
    positional: str = "sinusoidal"
    max_len: int = 1024
    causal: bool = False

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        if self.positional not in POSITIONAL:
            raise ValueError(f"unknown positional {self.positional!r}; choose one of {', '.join(POSITIONAL)}")


def sinusoidal_positions(length: int, d: int) -> torch.Tensor:  # -> (length, d)
    """PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(same) (Vaswani et al., 2017, section 3.5)."""
    t = torch.arange(length, dtype=torch.float32)[:, None]  # (T, 1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)  # (ceil(d/2),)
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq[: d // 2])
    return pe


class SelfAttention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads, self.causal, self.dropout = cfg.n_heads, cfg.causal, cfg.dropout
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, attend: torch.Tensor | None = None) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        """`attend`: (B, 1, 1, T) bool, False at keys no query may attend to (padding); None: all."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)  # (B, T, D) each
        q, k, v = (z.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2) for z in (q, k, v))  # (B, nh, T, hs)
        causal = self.causal
        if attend is not None and causal:  # scaled_dot_product_attention takes a mask or is_causal, not both
            attend = attend & torch.ones(t, t, dtype=torch.bool, device=x.device).tril()  # (B, 1, T, T)
            causal = False
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=causal)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(b, t, d)  # (B, T, D)
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model), nn.GELU(),
                                 nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor, attend: torch.Tensor | None = None) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        x = x + self.attn(self.ln_1(x), attend)
        x = x + self.mlp(self.ln_2(x))
        return x


class TransformerBackbone(nn.Module):
    """(B, T, d_in) -> (B, T, D) features after the final layer norm."""

    def __init__(self, d_in: int, cfg: TransformerConfig | None = None):
        super().__init__()
        cfg = cfg or TransformerConfig()
        self.d_in, self.d_out, self.causal, self.max_len = d_in, cfg.d_model, cfg.causal, cfg.max_len
        self.input_proj = nn.Linear(d_in, cfg.d_model)
        if cfg.positional == "learned":
            self.pos = nn.Parameter(0.02 * torch.randn(cfg.max_len, cfg.d_model))
        else:
            self.register_buffer("pos", sinusoidal_positions(cfg.max_len, cfg.d_model), persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.ln_f = nn.LayerNorm(cfg.d_model)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, d_in) -> (B, T, D). `key_padding_mask`: (B, T) bool, True at padding steps, which no
        step attends to; the padding steps' own outputs are computed but mean nothing."""
        t = x.shape[1]
        if t > self.max_len:
            raise ValueError(f"sequence of {t} steps is longer than max_len={self.max_len}")
        attend = None
        if key_padding_mask is not None:
            real = ~key_padding_mask  # (B, T)
            # A row of nothing but padding (an empty text) would softmax over no keys and give NaN,
            # which the pooling's zero weights cannot remove (NaN * 0 = NaN): let it attend to all.
            real = real | ~real.any(dim=1, keepdim=True)
            attend = real[:, None, None, :]  # (B, 1, 1, T): broadcast over heads and queries
        h = self.drop(self.input_proj(x) + self.pos[:t])  # (B, T, D)
        for block in self.blocks:
            h = block(h, attend)  # (B, T, D)
        return self.ln_f(h)


def patches(x: torch.Tensor, size: int) -> torch.Tensor:  # (B, C, T) -> (B, ceil(T / P), C * P)
    """Non-overlapping patches of P steps, the end zero-padded to a whole patch, one token each."""
    b, c, t = x.shape
    x = F.pad(x, (0, -t % size))  # (B, C, P * ceil(T / P))
    return x.view(b, c, -1, size).permute(0, 2, 1, 3).reshape(b, -1, c * size)


class Transformer(SequenceClassifier):
    """Transformer encoder classifier: (B, C, T) -> (B, K), positions sized to the series' length.

    `patch=1` makes each time step a token, projected from its C channels. `patch=P` makes each
    run of P steps one token of C * P values (PatchTST: Nie et al., 2023): T / P tokens, so
    attention costs P^2 times less, and a token carries local shape that a single value does not;
    on a noisy 3-vs-5-cycle sine task, 12 epochs reach about 0.6 test accuracy with P = 1 and 1.0
    with P = 8.
    """

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, d_model: int = 64, n_heads: int = 4,
                 layers: int = 2, mlp_ratio: int = 4, dropout: float = 0.1, positional: str = "sinusoidal",
                 causal: bool = False, pooling: str = "mean", patch: int = 1):
        c, t = series_shape(input_shape)
        cfg = TransformerConfig(d_model, n_heads, layers, mlp_ratio, dropout, positional,
                                max_len=-(-t // patch), causal=causal)
        super().__init__(TransformerBackbone(c * patch, cfg), n_classes, pooling)
        self.patch = patch

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, K)
        h = self.backbone(patches(as_series(x), self.patch))  # (B, T / P, D)
        return self.head(self.pooled(h))
