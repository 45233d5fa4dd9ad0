"""The FT-Transformer and ResNet of the paper's authors (Gorishniy, Rubachev, Khrulkov & Babenko,
"Revisiting Deep Learning Models for Tabular Data", NeurIPS 2021), from their package
`rtdl-revisiting-models`, given the face of bench's own (harness/models/tabular.py) so that
harness/deep/tabular.py's TabularNet trains them the same way: the second implementations that guard
bench's `ft_transformer` and `resnet_mlp` (suites/guards.yaml).

Only the face is bench's: the arguments keep bench's names (width, n_blocks, ...) and are passed on
under the package's, the input arrives as TabularNet gives it (B, N + C): N quantile-normalised
numbers, then C category codes for the FT-Transformer, one-hot categories for the ResNet), and
`make_parameter_groups` is the package's where it has one (the FT-Transformer: no weight decay on the
feature and [CLS] embeddings, the layer norms and the biases, as the paper trains it), which
DeepEstimator hands to the optimiser. Everything the network computes is the package's code. The
package is an optional extra: `pip install -e .[guards]`.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def rtdl_revisiting_models():
    try:
        import rtdl_revisiting_models
    except ImportError as e:
        raise ImportError("ft_transformer_rtdl and resnet_rtdl need rtdl-revisiting-models: pip install -e "
                          "'.[guards]' (or pip install --no-deps rtdl-revisiting-models)") from e
    return rtdl_revisiting_models


class RTDLFTTransformer(nn.Module):
    """rtdl_revisiting_models.FTTransformer: width D = `d_block`, ReGLU feed-forward of inner width
    4/3 D (`ffn_d_hidden_multiplier`), as bench's FTTransformer."""

    categorical_embeddings = True  # TabularNet passes categorical columns as codes, with their cardinalities

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, cardinalities: list[int] | tuple = (),
                 width: int = 64, n_blocks: int = 2, heads: int = 8, attention_dropout: float = 0.2,
                 ffn_dropout: float = 0.1, residual_dropout: float = 0.0):
        super().__init__()
        cardinalities = [int(c) for c in cardinalities]
        self.n_numeric = math.prod(input_shape) - len(cardinalities)
        if self.n_numeric < 0:
            raise ValueError(f"{len(cardinalities)} categorical columns but only {math.prod(input_shape)} inputs")
        self.n_categorical = len(cardinalities)
        self.network = rtdl_revisiting_models().FTTransformer(
            n_cont_features=self.n_numeric, cat_cardinalities=cardinalities, d_out=n_classes, n_blocks=n_blocks,
            d_block=width, attention_n_heads=heads, attention_dropout=attention_dropout, ffn_d_hidden=None,
            ffn_d_hidden_multiplier=4 / 3, ffn_dropout=ffn_dropout, residual_dropout=residual_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N + C) -> (B, K)
        x = x.flatten(1)
        numeric = x[:, :self.n_numeric] if self.n_numeric else None  # (B, N)
        codes = x[:, self.n_numeric:].long() if self.n_categorical else None  # (B, C)
        return self.network(numeric, codes)

    def make_parameter_groups(self) -> list[dict]:
        """The package's groups: weight decay off for embeddings, norms and biases."""
        return self.network.make_parameter_groups()


class RTDLResNet(nn.Module):
    """rtdl_revisiting_models.ResNet: blocks of width D = `d_block`, inner width `hidden_factor` x D,
    hidden dropout `dropout1`, residual dropout `dropout2`. The package gives it no parameter groups
    (the paper decays every weight of its ResNet), so the optimiser gets all parameters, as bench's."""

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, n_blocks: int = 2, width: int = 128,
                 hidden_factor: float = 2.0, hidden_dropout: float = 0.2, residual_dropout: float = 0.0):
        super().__init__()
        self.network = rtdl_revisiting_models().ResNet(
            d_in=math.prod(input_shape), d_out=n_classes, n_blocks=n_blocks, d_block=width,
            d_hidden=max(1, int(round(hidden_factor * width))), d_hidden_multiplier=None,
            dropout1=hidden_dropout, dropout2=residual_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, K)
        return self.network(x.flatten(1))
