"""Restricted Boltzmann machines and deep belief networks: stacked RBMs trained greedily, layer by
layer, with contrastive divergence, and sampled by Gibbs sampling.

- RBM (Smolensky, 1986; Hinton, 2002): visible units v, binary hidden units h, energy
  E(v, h) = -b.v - c.h - v^T W h. Visible units are Bernoulli; grey levels in [0, 1] are read as
  their probabilities, as Hinton & Salakhutdinov (2006) do for MNIST. An RBM may carry a group of K
  label units in its visible layer, one-hot and reconstructed with a softmax: the top RBM of a DBN
  that models images and labels jointly. With `label_copies` r the label group is r tied copies of
  that softmax (its units hold r times the one-hot label): next to hundreds of feature units, one
  copy sways the hidden units too little for a clamped label to steer the Gibbs chains.
- Contrastive divergence CD-k (Hinton, 2002), how they are trained: harness/deep/contrastive_divergence.py.
- DBN (Hinton, Osindero & Teh, 2006): RBMs stacked greedily, each trained on the hidden
  probabilities of the one below; with labels, the top RBM sees [penultimate features, one-hot label]
  and is the "associative memory" of the paper. Sampling runs Gibbs steps in the top RBM with the
  label clamped, then one top-down pass through the lower RBMs' weights (the paper's generative
  weights, here untied by no up-down fine-tuning: the greedy stack as trained).
- Pretraining (Hinton & Salakhutdinov, 2006): `DBN.encoder()` is the stack as a feed-forward
  network (Linear + Sigmoid per RBM, weights copied), to fine-tune with a classifier head on top.

Shapes: B batch, V visible units (pixels), H hidden units, K label units.
"""
from __future__ import annotations

import torch
from torch import nn


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary samples of probabilities p, drawn from a CPU generator whatever p's device (so one seed
    gives the same chains on any device)."""
    u = torch.rand(p.shape, generator=generator) if generator is not None else torch.rand(p.shape)
    return (u.to(p.device) < p).to(p.dtype)


class RBM(nn.Module):
    """V Bernoulli visible units (+ K softmax label units, `label_copies` tied copies) and H binary
    hidden units."""

    def __init__(self, n_visible: int, n_hidden: int, n_labels: int = 0, init_scale: float = 0.01,
                 label_copies: int = 1):
        super().__init__()
        self.n_visible, self.n_hidden, self.n_labels = n_visible, n_hidden, n_labels
        self.label_copies = label_copies
        self.W = nn.Parameter(init_scale * torch.randn(n_visible + n_labels, n_hidden))  # (V + K, H)
        self.b_v = nn.Parameter(torch.zeros(n_visible + n_labels))                       # (V + K,)
        self.b_h = nn.Parameter(torch.zeros(n_hidden))                                   # (H,)

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:  # (B, V + K) -> (B, H)
        return torch.sigmoid(v @ self.W + self.b_h)

    def visible_probs(self, h: torch.Tensor) -> torch.Tensor:  # (B, H) -> (B, V + K)
        logits = h @ self.W.T + self.b_v
        if not self.n_labels:
            return torch.sigmoid(logits)
        pixels, labels = logits.split([self.n_visible, self.n_labels], dim=1)
        return torch.cat([torch.sigmoid(pixels), self.label_copies * torch.softmax(labels, dim=1)], dim=1)

    def forward(self, v: torch.Tensor) -> torch.Tensor:  # the RBM as a layer: hidden probabilities
        return self.hidden_probs(v)

    def label_units(self, labels: torch.Tensor) -> torch.Tensor:  # (B,) class indices -> (B, K)
        """What the label units hold for these labels: the one-hot times the number of copies."""
        return self.label_copies * nn.functional.one_hot(labels, self.n_labels).to(self.W.dtype)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:  # (B, V + K) -> (B,)
        """F(v) = -b.v - sum_j softplus(c_j + v.W_j); p(v) is proportional to exp(-F(v))."""
        return -(v @ self.b_v) - nn.functional.softplus(v @ self.W + self.b_h).sum(dim=1)

    def gibbs_step(self, v: torch.Tensor, generator: torch.Generator | None = None,
                   clamp: torch.Tensor | None = None, sample_visible: bool = False) -> torch.Tensor:
        """v -> sampled h -> visible probabilities (mean field, which keeps the variance of CD's
        statistics down, as Hinton's practical guide advises) or, with `sample_visible`, binary visible
        states (the pixel units only; what a sampling chain needs to wander); `clamp` (B, K) fixes the labels."""
        h = bernoulli(self.hidden_probs(v), generator)
        v = self.visible_probs(h)
        if sample_visible:
            v = torch.cat([bernoulli(v[:, :self.n_visible], generator), v[:, self.n_visible:]], dim=1)
        if clamp is not None:
            v = torch.cat([v[:, :self.n_visible], clamp], dim=1)
        return v


class DBN(nn.Module):
    """A stack of RBMs V -> hidden[0] -> ... -> hidden[-1]; with `n_labels`, the top RBM's visible
    layer also holds K one-hot label units (Hinton, Osindero & Teh, 2006)."""

    def __init__(self, n_visible: int, hidden: tuple[int, ...] | list[int] = (500, 500), n_labels: int = 0,
                 label_copies: int = 1):
        super().__init__()
        if not hidden:
            raise ValueError("a DBN needs at least one hidden layer")
        sizes = [n_visible, *hidden]
        self.n_labels = n_labels
        self.rbms = nn.ModuleList(RBM(sizes[i], sizes[i + 1], n_labels if i == len(hidden) - 1 else 0,
                                      label_copies=label_copies) for i in range(len(hidden)))

    def up(self, v: torch.Tensor, layers: int | None = None) -> torch.Tensor:  # (B, V) -> (B, hidden[layers - 1])
        """Hidden probabilities after the first `layers` RBMs (None: all of them); an RBM with label units
        reads them as all zero (no label given)."""
        for rbm in self.rbms[:layers]:
            if rbm.n_labels:
                v = torch.cat([v, torch.zeros(len(v), rbm.n_labels, device=v.device, dtype=v.dtype)], dim=1)
            v = rbm.hidden_probs(v)
        return v

    def down(self, h: torch.Tensor, start: int) -> torch.Tensor:  # (B, visible of rbms[start]) -> (B, V)
        """Top-down pass from the visible layer of RBM `start` to the pixels, in probabilities."""
        for rbm in reversed(self.rbms[:start]):
            h = rbm.visible_probs(h)
        return h

    def encoder(self) -> nn.Sequential:
        """The stack as a feed-forward network, Linear + Sigmoid per RBM, with the RBMs' weights and
        hidden biases copied (label units left out): (B, V) -> (B, hidden[-1]). For DBN pretraining of a
        classifier (Hinton & Salakhutdinov, 2006): put a head on it and fine-tune."""
        layers = []
        for rbm in self.rbms:
            linear = nn.Linear(rbm.n_visible, rbm.n_hidden)
            with torch.no_grad():
                linear.weight.copy_(rbm.W[:rbm.n_visible].T)
                linear.bias.copy_(rbm.b_h)
            layers += [linear, nn.Sigmoid()]
        return nn.Sequential(*layers)


@torch.no_grad()
def gibbs_sample(dbn: DBN, n: int, steps: int, generator: torch.Generator, labels: torch.Tensor | None = None,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """n samples (n, V) in pixel probabilities: `steps` Gibbs steps in the top RBM from random binary
    states, binary visible states throughout but the last step's probabilities (labels (n,) clamped when
    the DBN has label units; without labels it samples them too), then the top-down pass. The chains start from noise, not from data, so nothing is copied from training."""
    top = dbn.rbms[-1]
    v = bernoulli(torch.full((n, top.n_visible), 0.5, device=device), generator)
    clamp = None
    if top.n_labels:
        if labels is not None:
            clamp = top.label_units(labels.to(device)).to(v.dtype)
        start = clamp if clamp is not None else torch.full((n, top.n_labels), top.label_copies / top.n_labels,
                                                           device=device)
        v = torch.cat([v, start], dim=1)
    for step in range(steps):
        v = top.gibbs_step(v, generator, clamp, sample_visible=step < steps - 1)  # probabilities at the end
    return dbn.down(v[:, :top.n_visible], len(dbn.rbms) - 1)
