"""Training RBMs and DBNs (harness/models/rbm.py) by contrastive divergence, on the shared loop.

- CD-k (Hinton, 2002): the gradient of the log-likelihood is the data statistics minus the model's,
  and the model's are taken after k Gibbs steps started at the data (or, with `persistent`,
  continued from the previous batch's chains: PCD, Tieleman, 2008). Written as the difference of
  free energies F(v_data) - F(v_model), whose gradient is exactly the CD update, so any torch
  optimiser applies it.
- Greedy layer-wise training of a DBN (Hinton, Osindero & Teh, 2006): each RBM learns the hidden
  probabilities of the one below; the top one also sees the labels when the DBN has label units.

What is reported of each epoch is the mean squared reconstruction error (a rough guide: CD does not
minimise it), measured on each batch right after its update.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch

from harness.deep.callbacks import Callback
from harness.deep.loop import Budget, TrainState, run_loop
from harness.deep.training import gradient_step, permutation_batches
from harness.models.rbm import DBN, RBM


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
              start: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One CD-k update on the minibatch v0 (B, V + K): k Gibbs steps from the data (or from `start`,
    persistent chains), then a step on F(v0) - F(vk), whose gradient is the CD update. Returns vk and
    that free-energy gap (detached)."""
    with torch.no_grad():
        vk = v0 if start is None else start
        for _ in range(k):
            vk = rbm.gibbs_step(vk, generator)
    loss = rbm.free_energy(v0).mean() - rbm.free_energy(vk).mean()
    gradient_step(optimizer, loss)
    return vk, loss.detach()


class ContrastiveDivergence(Callback):
    """The loop's step for one RBM (`self(batch)`: a CD update on data[batch]) and, as a callback, the
    keeper of each epoch's reconstruction error (`errors`; a run stopped inside an epoch adds that
    epoch's error so far), reported as on_epoch(epoch, error)."""

    def __init__(self, rbm: RBM, data: torch.Tensor, config: CDConfig, generator: torch.Generator,
                 on_epoch: Callable[[int, float], None] | None = None):
        self.rbm, self.data, self.config, self.generator, self.on_epoch = rbm, data, config, generator, on_epoch
        self.optimizer = cd_optimizer(rbm, config)
        self.chains = None  # persistent chains: (batch_size, V + K)
        self.total, self.seen = torch.zeros((), device=data.device), 0
        self.errors: list[float] = []

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        v0 = self.data[batch]
        persist = self.config.persistent and self.chains is not None and len(self.chains) == len(v0)
        start = self.chains if persist else None  # a short batch starts at its data
        vk, gap = cd_update(self.rbm, v0, self.optimizer, self.config.k, self.generator, start)
        if self.config.persistent:
            self.chains = vk
        with torch.no_grad():
            self.total += ((self.rbm.visible_probs(self.rbm.hidden_probs(v0)) - v0) ** 2).sum()
        self.seen += len(v0)
        return gap

    def on_epoch_end(self, state: TrainState) -> None:
        self.errors.append(self.total.item() / (self.seen * self.data.shape[1]))
        self.total, self.seen = torch.zeros((), device=self.data.device), 0
        if self.on_epoch:
            self.on_epoch(state.epoch, self.errors[-1])

    def on_train_end(self, state: TrainState) -> None:
        if state.cut_short and self.seen:  # stopped inside an epoch (a plateau of a check): its error so far
            self.errors.append(self.total.item() / (self.seen * self.data.shape[1]))


def train_rbm(rbm: RBM, data: torch.Tensor, config: CDConfig, generator: torch.Generator,
              on_epoch: Callable[[int, float], None] | None = None, callbacks: Iterable[Callback] = ()) -> list[float]:
    """Contrastive divergence on `data` (N, V + K) (on the RBM's device) for config.epochs epochs;
    returns the mean squared reconstruction error of each epoch. on_epoch(epoch, error)."""
    cd = ContrastiveDivergence(rbm, data, config, generator, on_epoch)
    run_loop(cd, Budget(epochs=config.epochs), [cd, *callbacks],
             batches=permutation_batches(len(data), config.batch_size, generator, data.device))
    return cd.errors


def pretrain_dbn(dbn: DBN, X: torch.Tensor, labels: torch.Tensor | None, config: CDConfig,
                 generator: torch.Generator, on_epoch: Callable[[int, int, float], None] | None = None,
                 callbacks: Iterable[Callback] = (), top_callbacks: Iterable[Callback] = ()) -> list[list[float]]:
    """Greedy layer-wise training: RBM i learns the hidden probabilities of RBM i - 1 on X (N, V) in
    [0, 1]; the top one also sees the labels (N,) one-hot when the DBN has label units. Returns each
    RBM's per-epoch reconstruction errors. on_epoch(epochs done over all layers, total, error);
    `callbacks` watch every layer's run (one TimeLimit spans them all), `top_callbacks` the top RBM's
    alone (a check that samples the whole stack)."""
    if dbn.n_labels and labels is None:
        raise ValueError("this DBN has label units: pass the labels")
    data, errors, total, callbacks = X, [], config.epochs * len(dbn.rbms), list(callbacks)
    for i, rbm in enumerate(dbn.rbms):
        if rbm.n_labels:
            data = torch.cat([data, rbm.label_units(labels).to(data.dtype)], dim=1)
        done = i * config.epochs
        report = (lambda e, err, done=done: on_epoch(done + e, total, err)) if on_epoch else None
        top = i == len(dbn.rbms) - 1
        errors.append(train_rbm(rbm, data, config, generator, report, [*callbacks, *(top_callbacks if top else ())]))
        if i < len(dbn.rbms) - 1:
            with torch.no_grad():
                data = rbm.hidden_probs(data)
    return errors
