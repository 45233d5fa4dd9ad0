"""Recurrent networks: the Elman RNN, the LSTM and the GRU, on torch's fused layers.

- `rnn`: the simple recurrent network, h_t = tanh(W x_t + U h_{t-1} + b) (Elman, 1990), trained by
  backpropagation through time; its gradients to early steps vanish or explode (Bengio, Simard &
  Frasconi, 1994).
- `lstm`: long short-term memory (Hochreiter & Schmidhuber, 1997), with the forget gate of Gers,
  Schmidhuber & Cummins (2000): a gated, additively updated cell that carries gradients across time.
  The forget gate's bias starts at 1 (Jozefowicz et al., 2015), as in Keras; torch starts it near 0.
- `gru`: the gated recurrent unit (Cho et al., 2014), an LSTM with merged gates and no separate cell.

Stacked `layers` deep, optionally bidirectional (Schuster & Paliwal, 1997).

Pooling. The classifier reads the last hidden state by default (`pooling="last"`; for a
bidirectional network the forward direction's last step and the backward direction's first, each
of which has read the whole series). That is the architecture as published and as the
vanishing-gradient claim is stated: the whole series must pass through the recurrence to reach the
classifier. Mean pooling (`pooling="mean"`) gives every step a one-hop path to the loss; it often
trains faster on long series, but partly by not needing memory, which would blur the comparison of
the cells that a benchmark of them exists to make.

Shapes: B batch, C channels, T time steps, H hidden units, D = H or 2H (bidirectional), K classes.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.sequence import SequenceClassifier, series_shape

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentBackbone(nn.Module):
    """(B, T, d_in) -> (B, T, D): the top layer's hidden state at every step."""

    def __init__(self, d_in: int, cell: str = "lstm", hidden: int = 64, layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        self.d_in, self.d_out = d_in, hidden * (2 if bidirectional else 1)
        self.causal = not bidirectional
        # torch applies dropout between stacked layers only; with one layer it would warn and do nothing.
        self.rnn = CELLS[cell](d_in, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional,
                               dropout=dropout if layers > 1 else 0.0)
        if cell == "lstm":  # forget-gate bias 1: the cell starts out remembering (Jozefowicz et al., 2015; Keras)
            with torch.no_grad():
                for name, bias in self.rnn.named_parameters():
                    if name.startswith("bias_"):  # gates ordered input, forget, cell, output; ih + hh add up
                        bias[hidden:2 * hidden] = 1.0 if name.startswith("bias_ih") else 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d_in) -> (B, T, D)
        h, _ = self.rnn(x)  # (B, T, D)
        return h


class Recurrent(SequenceClassifier):
    """RNN, LSTM or GRU classifier: (B, C, T) -> (B, K). `dropout` acts between stacked layers and on
    the pooled features."""

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, cell: str = "lstm", hidden: int = 64,
                 layers: int = 1, bidirectional: bool = False, dropout: float = 0.0, pooling: str = "last"):
        c, _ = series_shape(input_shape)
        super().__init__(RecurrentBackbone(c, cell, hidden, layers, bidirectional, dropout), n_classes, pooling)
        self.dropout = nn.Dropout(dropout)

    def pooled(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, D)
        if self.pooling == "last" and not self.backbone.causal:
            forward_half, backward_half = h.chunk(2, dim=-1)  # (B, T, H) each
            return self.dropout(torch.cat([forward_half[:, -1], backward_half[:, 0]], dim=-1))
        return self.dropout(super().pooled(h))
