"""Restricted Boltzmann machines and deep belief networks: stacked RBMs trained greedily, layer by
layer, with contrastive divergence, and sampled by Gibbs sampling.

- RBM (Smolensky, 1986; Hinton, 2002): visible units v, binary hidden units h, energy
  E(v, h) = -b.v - c.h - v^T W h. Visible units are Bernoulli; grey levels in [0, 1] are read as
  their probabilities, as Hinton & Salakhutdinov (2006) do for MNIST. An RBM may carry a group of K
  label units in its visible layer, one-hot and reconstructed with a softmax: the top RBM of a DBN
  that models images and labels jointly. With `label_copies` r the label group is r tied copies of
  that softmax (its units hold r times the one-hot label): next to hundreds of feature units, one
  copy sways the hidden units too little for a clamped label to steer the Gibbs chains.
- Contrastive divergence CD-k (Hinton, 2002): the gradient of the log-likelihood is the data
  statistics minus the model's, and the model's are taken after k Gibbs steps started at the data
  (or, with `persistent`, continued from the previous batch's chains: PCD, Tieleman, 2008). Written
  as the difference of free energies F(v_data) - F(v_model), whose gradient is exactly the CD update,
  so any torch optimiser applies it.
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

from dataclasses import dataclass
from typing import Callable

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


@dataclass
class CDConfig:
    """How one RBM is trained: `epochs` passes in batches of `batch_size`, CD-`k` (persistent chains
    with `persistent`), SGD at `lr` with `momentum` and L2 `weight_decay` on the weights."""
    epochs: int = 10
    batch_size: int = 64
    k: int = 1
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    persistent: bool = False


def cd_optimizer(rbm: RBM, config: CDConfig) -> torch.optim.Optimizer:
    """SGD with momentum; weight decay on the weights only, not the biases (Hinton's practical guide)."""
    return torch.optim.SGD([{"params": [rbm.W], "weight_decay": config.weight_decay},
                            {"params": [rbm.b_v, rbm.b_h], "weight_decay": 0.0}],
                           lr=config.lr, momentum=config.momentum)


def cd_update(rbm: RBM, v0: torch.Tensor, optimizer: torch.optim.Optimizer, k: int, generator: torch.Generator,
              start: torch.Tensor | None = None) -> torch.Tensor:
    """One CD-k update on the minibatch v0 (B, V + K): k Gibbs steps from the data (or from `start`,
    persistent chains), then a step on F(v0) - F(vk), whose gradient is the CD update. Returns vk."""
    with torch.no_grad():
        vk = v0 if start is None else start
        for _ in range(k):
            vk = rbm.gibbs_step(vk, generator)
    loss = rbm.free_energy(v0).mean() - rbm.free_energy(vk).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return vk


def train_rbm(rbm: RBM, data: torch.Tensor, config: CDConfig, generator: torch.Generator,
              on_epoch: Callable[[int, float], None] | None = None) -> list[float]:
    """Contrastive divergence on `data` (N, V + K) (on the RBM's device); returns the mean squared
    reconstruction error of each epoch (a rough guide: CD does not minimise it)."""
    opt = cd_optimizer(rbm, config)
    n, errors = len(data), []
    chains = None  # persistent chains: (batch_size, V + K)
    for epoch in range(config.epochs):
        perm = torch.randperm(n, generator=generator).to(data.device)
        total = torch.zeros((), device=data.device)
        for i in range(0, n, config.batch_size):
            v0 = data[perm[i:i + config.batch_size]]
            persist = config.persistent and chains is not None and len(chains) == len(v0)
            vk = cd_update(rbm, v0, opt, config.k, generator, chains if persist else None)  # a short batch starts at its data
            if config.persistent:
                chains = vk
            with torch.no_grad():
                total += ((rbm.visible_probs(rbm.hidden_probs(v0)) - v0) ** 2).sum()
        errors.append(total.item() / (n * data.shape[1]))
        if on_epoch:
            on_epoch(epoch + 1, errors[-1])
    return errors


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


def pretrain_dbn(dbn: DBN, X: torch.Tensor, labels: torch.Tensor | None, config: CDConfig,
                 generator: torch.Generator, on_epoch: Callable[[int, int, float], None] | None = None
                 ) -> list[list[float]]:
    """Greedy layer-wise training: RBM i learns the hidden probabilities of RBM i - 1 on X (N, V) in
    [0, 1]; the top one also sees the labels (N,) one-hot when the DBN has label units. Returns each
    RBM's per-epoch reconstruction errors. on_epoch(epochs done over all layers, total, error)."""
    if dbn.n_labels and labels is None:
        raise ValueError("this DBN has label units: pass the labels")
    data, errors, total = X, [], config.epochs * len(dbn.rbms)
    for i, rbm in enumerate(dbn.rbms):
        if rbm.n_labels:
            data = torch.cat([data, rbm.label_units(labels).to(data.dtype)], dim=1)
        done = i * config.epochs
        report = (lambda e, err, done=done: on_epoch(done + e, total, err)) if on_epoch else None
        errors.append(train_rbm(rbm, data, config, generator, report))
        if i < len(dbn.rbms) - 1:
            with torch.no_grad():
                data = rbm.hidden_probs(data)
    return errors


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
