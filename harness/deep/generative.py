"""Generative models as scikit-learn estimators, for the task kind `generation` (suite=generative).

The contract every generator keeps, classical (baselines/generative.py) or deep (here), is the
generation kind's: harness/tasks/generation.py.

What is measured of the samples is the same for every model and lives in one place:
harness/evaluation/generative_metrics.py.

The deep models train for a fixed number of optimiser steps (`max_steps`; the DBN: `rbm_steps` CD
updates per RBM), not for a time budget or to convergence, so that a run repeats on any machine and
each model's cost is its measured training time. Each is a torch module of harness/models/ trained by
its own objective here:

- `DCGAN`: the non-saturating GAN loss (Goodfellow et al., 2014), Adam at 2e-4 with beta1 0.5 as in
  DCGAN; images scaled to [-1, 1].
- `VariationalAutoencoder`: the negative ELBO with Bernoulli pixels, Adam.
- `DDPM`: epsilon prediction at uniform timesteps, Adam, gradients clipped at 1, an exponential
  moving average of the weights for sampling (Ho et al., 2020); sampled by DDIM with
  `sampling_steps` of the `timesteps` trained ones.
- `DeepBeliefNet`: greedy layer-wise contrastive divergence (harness/deep/contrastive_divergence.py), sampled by
  Gibbs steps in the top RBM with the label clamped, then a top-down pass.

Fréchet distance along training (opt-in, `fd_every` steps; off by default): every `fd_every` steps
the model draws `fd_samples` images (labels cycled over the reference's) and measures their Fréchet
distance to a reference of real TRAINING images, in the features of the final metric's classifier
(the same recipe on the same training split, harness/evaluation/generative_metrics.py); the test
split is never read. The reference is a stratified `fd_holdout` fraction of the training images,
held out of the model's training (0: `fd_samples` training images the model also learns from).
The weights that sampling reads (the GAN's generator, the VAE, the DDPM's EMA, the DBN's top RBM)
are kept at the lowest distance and restored at the end; training stops (`stop_reason` "plateau")
after `fd_patience` checks in a row without beating the last improvement by a relative `fd_margin`;
`max_steps` (the DBN: `rbm_steps` of its top RBM, whose run alone is checked) stays the cap, and a
run that reaches it still improving reads as budget-bound (one whose patience ran out at that very
check reads "plateau"). The DDPM's checks sample by DDIM in `fd_sampling_steps`
steps, the DBN's by `fd_gibbs_steps` Gibbs steps: shorter samplers than the final ones, so the
check's distance is higher than the final metric's, but the same at every check. The row records
the curve (`fd_curve`, JSON: steps and distances), the step of the best (`fd_best_step`), and the
time the checks took (`fd_seconds`, included in train_seconds).
"""
from __future__ import annotations

import copy
import json
import math
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from harness.data.task import stratified_subset
from harness.deep.callbacks import EMA, BestByScore, Callback, Diverged, Divergence, Progress, TimeLimit
from harness.deep.contrastive_divergence import CDConfig, cd_optimizer, cd_update, pretrain_dbn
from harness.deep.estimator import keep_arguments, stratified_holdout
from harness.deep.loop import Budget, run_loop
from harness.deep.precision import ComputesInPrecision, autocast, grad_scaler
from harness.deep.training import count_parameters, endless, gradient_step, permutation_batches, seeded
from harness.evaluation.generative_metrics import frechet_to, recipe_classifier
from harness.models.diffusion import Diffusion, UNet
from harness.models.gan import Discriminator, Generator
from harness.models.rbm import DBN, gibbs_sample
from harness.models.vae import VAE
from harness.tasks.generation import GenerativeModel, images_of

SAMPLE_CHUNK = 500  # images generated per forward pass: bounds memory, not results
# The Fréchet checks' defaults (module docstring): images drawn per check, checks without a 1%
# improvement before stopping, the share of training images held out as the reference.
FD_SAMPLES, FD_PATIENCE, FD_MARGIN, FD_HOLDOUT = 500, 3, 0.01, 0.1


# ---------------------------------------------------------------- deep generators

class DeepGenerator(GenerativeModel):
    """A generator trained by torch for `max_steps` steps on `device` (a subclass's __init__ stores
    max_steps, batch_size, device, time_limit besides its own arguments). A subclass defines
    `build(X, y) -> step`: it creates the fitted networks and returns one optimiser step on a fresh
    minibatch, returning the loss (the microbenchmarks time that step alone); and may add callbacks
    to the loop (`callbacks()`, e.g. an EMA of the weights). With `fd_every` (stored too, with
    fd_samples, fd_patience, fd_margin, fd_holdout) the Fréchet distance is checked along training
    (module docstring): a subclass names the module sampling reads (`sampler()`)."""

    def fit(self, X, y=None, on_epoch=None):
        """Learn the images; with `fd_every`, first set the check's reference images aside."""
        self.fd_tracker_, self.fd_record_, self.fd_reference_, self.fd_held_out_ = None, None, 0, 0
        if not self.fd_every:
            return super().fit(X, y, on_epoch)
        if y is None:
            raise ValueError("fd_every needs the labels: the feature classifier of the check learns them")
        X, y = images_of(X), np.asarray(y)
        keep, reference = self.fd_split(y)
        scorer = frechet_to(X[reference], recipe_classifier(X, y, int(y.max()) + 1))
        cycle = np.random.default_rng(self.random_state).permutation(reference)[np.arange(self.fd_samples) % len(reference)]
        self.fd_score_ = lambda: self.frechet_check(scorer, y[cycle])
        self.fd_reference_, self.fd_held_out_ = len(reference), len(X) - len(keep)
        try:
            super().fit(X[keep], y[keep], on_epoch)
        finally:
            del self.fd_score_  # a closure over the training images: not part of the fitted model
        tracker = self.fd_tracker_  # its record stays, not its copy of the weights
        self.fd_record_ = {"steps": tracker.steps, "scores": tracker.scores, "best_step": tracker.best_step,
                           "best": tracker.best, "seconds": tracker.seconds}
        self.fd_tracker_ = None
        return self

    def fd_split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(images the model learns, the check's reference): a stratified fd_holdout fraction held out,
        or with none held out (fd_holdout 0, or too few images a class), a stratified sample of
        fd_samples of the images it learns."""
        if self.fd_every < 1 or self.fd_samples < 2 or not 0 <= self.fd_holdout < 1:
            raise ValueError(f"fd_every >= 1, fd_samples >= 2 and fd_holdout in [0, 1) are needed; got "
                             f"{self.fd_every}, {self.fd_samples}, {self.fd_holdout}")
        keep, held = stratified_holdout(len(y), self.fd_holdout, self.random_state, np.unique(y, return_inverse=True)[1])
        if held is not None:
            return np.sort(keep), np.sort(held)
        everything = np.arange(len(y))
        return everything, everything[stratified_subset(y, min(self.fd_samples, len(y)), seed=self.random_state)]

    def frechet_check(self, scorer, labels: np.ndarray) -> float:
        """The Fréchet distance of images drawn now (by the check's sampler) to the reference; the
        networks are left in the mode training had them in (drawing puts them in eval mode)."""
        modes = [(m, m.training) for module in self.modules() for m in module.modules()]
        images = self.as_images(self.draw_for_check(len(labels), self.class_indices(len(labels), labels, self.random_state),
                                                    self.random_state), len(labels))
        for m, training in modes:
            m.train(training)
        return scorer(images)

    def draw_for_check(self, n, y, seed):
        return self.draw(n, y, seed)

    def fd_callbacks(self) -> list[Callback]:
        """The check as a callback of the loop, when fd_every is set (kept as `fd_tracker_`)."""
        if not getattr(self, "fd_score_", None):
            return []
        self.fd_tracker_ = BestByScore(self.fd_score_, self.sampler(), self.fd_every, self.fd_patience, self.fd_margin)
        return [self.fd_tracker_]

    def fit_images(self, X, y, on_epoch):
        """Run the step max_steps times (or until the Fréchet distance stops improving, with fd_every);
        progress through on_epoch(percent, 100, mean recent loss, "step N"). Raises Diverged on a
        non-finite loss; stops (stop_reason "time_limit") past time_limit seconds."""
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}")
        step = self.build(X, y)
        policy = [*self.callbacks(), Divergence(), *self.fd_callbacks(), Progress(on_epoch), TimeLimit(self.time_limit)]
        state = run_loop(step, Budget(steps=self.max_steps), policy)
        self.losses_, self.stop_reason_ = state.losses, state.stop_reason

    def callbacks(self) -> list[Callback]:
        return []

    def sampler(self) -> nn.Module:  # the weights sampling reads: what the Fréchet check keeps at its best
        raise NotImplementedError

    def tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)

    def onehot(self, y: torch.Tensor | None) -> torch.Tensor | None:  # (B,) -> (B, K)
        return None if y is None else nn.functional.one_hot(y, len(self.classes_)).float()

    def labels_tensor(self, y: np.ndarray | None) -> torch.Tensor | None:
        return None if y is None else torch.as_tensor(y, dtype=torch.long, device=self.device)

    def batches(self, n: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Index batches of `batch_size` over random permutations of n, endlessly (a short last batch is
        dropped, so batch norm never sees a batch of one)."""
        return endless(permutation_batches(n, self.batch_size, generator, self.device, drop_last=True))

    def chunks(self, n: int, y: np.ndarray | None) -> Iterator[tuple[int, torch.Tensor | None]]:
        """(size, labels) of consecutive chunks of at most SAMPLE_CHUNK of the n samples to draw."""
        for i in range(0, n, SAMPLE_CHUNK):
            m = min(SAMPLE_CHUNK, n - i)
            yield m, None if y is None else self.labels_tensor(y[i:i + m])

    def modules(self) -> list[nn.Module]:  # what was trained, for the parameter count
        raise NotImplementedError

    @property
    def n_parameters_(self) -> int:
        return count_parameters(*self.modules())

    def diagnostics(self, X, y) -> dict:
        tail = self.losses_[-50:]
        return {"steps": len(self.losses_), "final_train_loss": float(np.mean(tail)) if tail else float("nan"),
                **self.fd_columns()}

    def fd_columns(self) -> dict:
        """The row's record of the Fréchet checks (none without fd_every)."""
        record = getattr(self, "fd_record_", None)
        if not record:
            return {}
        curve = {"steps": record["steps"], "frechet_distance": [round(v, 4) for v in record["scores"]]}
        return {"fd_curve": json.dumps(curve), "fd_best_step": record["best_step"], "fd_best": record["best"],
                "fd_checks": len(record["steps"]), "fd_seconds": record["seconds"], "fd_reference": self.fd_reference_,
                "fd_held_out": self.fd_held_out_}


class LatentGenerator(DeepGenerator):
    """A generator that maps `latent`-d Gaussian noise (and the class) to an image in one pass: the GAN's
    generator, the VAE's decoder. A subclass defines `decode(z, onehot)`."""

    def draw(self, n, y, seed):
        generator = torch.Generator().manual_seed(seed)
        with torch.inference_mode():
            out = [self.decode(torch.randn(m, self.latent, generator=generator).to(self.device), self.onehot(labels))
                   for m, labels in self.chunks(n, y)]
        return torch.cat(out).cpu().numpy()


class DCGAN(LatentGenerator):
    """Conditional DCGAN of harness/models/gan.py: `latent` noise size, `width` channels."""

    def __init__(self, latent: int = 64, width: int = 32, lr: float = 2e-4, beta1: float = 0.5, batch_size: int = 64,
                 max_steps: int = 2000, conditional: bool = True, device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None, fd_every: int | None = None, fd_samples: int = FD_SAMPLES,
                 fd_patience: int = FD_PATIENCE, fd_margin: float = FD_MARGIN, fd_holdout: float = FD_HOLDOUT):
        keep_arguments(self, locals())

    def build(self, X, y) -> Callable[[], float]:
        generator = seeded(self.random_state)
        k = len(self.classes_) if y is not None else 0
        self.generator_ = Generator(self.input_shape_, k, self.latent, self.width).to(self.device)
        self.discriminator_ = Discriminator(self.input_shape_, k, self.width).to(self.device)
        opt_g = torch.optim.Adam(self.generator_.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        opt_d = torch.optim.Adam(self.discriminator_.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        x, labels = self.tensor(X) * 2 - 1, self.labels_tensor(y)  # images in [-1, 1]
        batches, bce = self.batches(len(x), generator), nn.functional.binary_cross_entropy_with_logits
        self.d_losses_ = []

        def step() -> float:
            idx = next(batches)
            onehot = self.onehot(None if labels is None else labels[idx])
            z = torch.randn(len(idx), self.latent, generator=generator).to(self.device)
            fake = self.generator_(z, onehot)
            real_logits, fake_logits = self.discriminator_(x[idx], onehot), self.discriminator_(fake.detach(), onehot)
            d_loss = (bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits)))
            gradient_step(opt_d, d_loss)
            fooled = self.discriminator_(fake, onehot)
            g_loss = bce(fooled, torch.ones_like(fooled))  # non-saturating: -log D(G(z))
            gradient_step(opt_g, g_loss)
            self.d_losses_.append(d_loss.item())
            return g_loss.item()

        self.generator_.train()
        self.discriminator_.train()
        return step

    def decode(self, z, onehot):  # noise -> images in [0, 1]
        self.generator_.eval()
        return (self.generator_(z, onehot) + 1) / 2

    def modules(self):
        return [self.generator_, self.discriminator_]

    def sampler(self):
        return self.generator_

    def diagnostics(self, X, y):
        return super().diagnostics(X, y) | {"final_d_loss": float(np.mean(self.d_losses_[-50:]))}


class VariationalAutoencoder(LatentGenerator):
    """Conditional convolutional VAE of harness/models/vae.py: `latent` code size, `width` channels."""

    def __init__(self, latent: int = 16, width: int = 32, lr: float = 1e-3, batch_size: int = 64, max_steps: int = 2000,
                 conditional: bool = True, device: str = "cpu", random_state: int = 0, time_limit: float | None = None,
                 fd_every: int | None = None, fd_samples: int = FD_SAMPLES, fd_patience: int = FD_PATIENCE,
                 fd_margin: float = FD_MARGIN, fd_holdout: float = FD_HOLDOUT):
        keep_arguments(self, locals())

    def build(self, X, y) -> Callable[[], float]:
        generator = seeded(self.random_state)
        self.module_ = VAE(self.input_shape_, len(self.classes_) if y is not None else 0, self.latent,
                           self.width).to(self.device)
        opt = torch.optim.Adam(self.module_.parameters(), lr=self.lr)
        x, labels = self.tensor(X), self.labels_tensor(y)
        batches = self.batches(len(x), generator)

        def step() -> float:
            idx = next(batches)
            noise = torch.randn(len(idx), self.latent, generator=generator).to(self.device)
            loss = self.module_.loss(x[idx], self.onehot(None if labels is None else labels[idx]), noise)
            gradient_step(opt, loss)
            return loss.item()

        self.module_.train()
        return step

    def decode(self, z, onehot):  # code -> images in [0, 1]
        self.module_.eval()
        return torch.sigmoid(self.module_.decode(z, onehot))

    def modules(self):
        return [self.module_]

    def sampler(self):
        return self.module_


class DDPM(ComputesInPrecision, DeepGenerator):
    """Conditional DDPM of harness/models/diffusion.py: a U-Net of `width` base channels trained on
    `timesteps` noise levels, sampled by DDIM in `sampling_steps` steps (`eta` 0: deterministic DDIM;
    1: strided ancestral sampling) from an exponential moving average of the weights (`ema_decay`).
    `precision` as the supervised networks' (harness/deep/precision.py): the U-Net's passes, in training and
    in sampling, run under its autocast; the noise schedule's arithmetic and the weights stay float32."""

    def __init__(self, width: int = 16, timesteps: int = 1000, lr: float = 1e-3, batch_size: int = 64,
                 max_steps: int = 2000, ema_decay: float = 0.995, sampling_steps: int = 50, eta: float = 0.0,
                 conditional: bool = True, precision: str = "32", device: str = "cpu", random_state: int = 0,
                 time_limit: float | None = None, fd_every: int | None = None, fd_samples: int = FD_SAMPLES,
                 fd_patience: int = FD_PATIENCE, fd_margin: float = FD_MARGIN, fd_holdout: float = FD_HOLDOUT,
                 fd_sampling_steps: int = 10):
        keep_arguments(self, locals())

    def build(self, X, y) -> Callable[[], float]:
        generator = seeded(self.random_state)
        self.denoiser_ = UNet(self.input_shape_, len(self.classes_) if y is not None else 0, self.width).to(self.device)
        self.ema_ = copy.deepcopy(self.denoiser_).requires_grad_(False)
        self.diffusion_ = Diffusion(self.timesteps).to(self.device)
        opt = torch.optim.Adam(self.denoiser_.parameters(), lr=self.lr)
        x, labels = self.tensor(X) * 2 - 1, self.labels_tensor(y)
        batches, params = self.batches(len(x), generator), list(self.denoiser_.parameters())
        scaler = grad_scaler(self.device, self.precision_)

        def step() -> float:
            idx = next(batches)
            with autocast(self.device, self.precision_):
                loss = self.diffusion_.loss(self.denoiser_, x[idx], None if labels is None else labels[idx], generator)
            gradient_step(opt, loss, params, 1.0, scaler)
            return loss.item()

        self.denoiser_.train()
        return step

    def callbacks(self):
        return [EMA(self.denoiser_, self.ema_, self.ema_decay)]  # sampling reads the average, not the last weights

    def draw(self, n, y, seed, steps: int | None = None):
        generator = torch.Generator().manual_seed(seed)
        self.ema_.eval()
        out = []
        for m, labels in self.chunks(n, y):
            with autocast(self.device, self.precision_):
                x = self.diffusion_.sample(self.ema_, (m, *self.input_shape_), labels, steps or self.sampling_steps,
                                           generator, self.eta, self.device)
            out.append((x + 1) / 2)
        return torch.cat(out).cpu().numpy()

    def draw_for_check(self, n, y, seed):
        return self.draw(n, y, seed, self.fd_sampling_steps)

    def modules(self):
        return [self.denoiser_]

    def sampler(self):
        return self.ema_

    def diagnostics(self, X, y):
        return super().diagnostics(X, y) | {"sampling_steps": self.sampling_steps}


class DeepBeliefNet(DeepGenerator):
    """DBN of harness/models/rbm.py: RBMs of `hidden` units, each trained for `rbm_steps` CD-`cd_k`
    updates (`persistent`: PCD; in whole epochs, rounded up) by SGD at `lr`; with `conditional`, the
    top RBM also holds the label units (`label_copies` tied copies of them). Sampled by `gibbs_steps`
    Gibbs steps in the top RBM, then a top-down pass."""

    def __init__(self, hidden: tuple[int, ...] | list[int] = (512, 512), rbm_steps: int = 600, batch_size: int = 64,
                 lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 1e-4, cd_k: int = 1,
                 persistent: bool = False, label_copies: int = 1, gibbs_steps: int = 200, conditional: bool = True,
                 device: str = "cpu", random_state: int = 0, time_limit: float | None = None,
                 fd_every: int | None = None, fd_samples: int = FD_SAMPLES, fd_patience: int = FD_PATIENCE,
                 fd_margin: float = FD_MARGIN, fd_holdout: float = FD_HOLDOUT, fd_gibbs_steps: int = 50):
        keep_arguments(self, locals())

    def cd_config(self, n: int) -> CDConfig:
        """The CD settings for n training images: as many epochs as rbm_steps updates take."""
        epochs = max(1, math.ceil(self.rbm_steps / math.ceil(n / self.batch_size)))
        return CDConfig(epochs, self.batch_size, self.cd_k, self.lr, self.momentum, self.weight_decay, self.persistent)

    def fit_images(self, X, y, on_epoch):
        """Greedy layer-wise: CD for each RBM in turn (not `build`'s interleaved steps); with fd_every,
        the top RBM's run is checked (the layers below are fixed by then, and sampling needs them all)."""
        generator = seeded(self.random_state)
        flat = self.tensor(X.reshape(len(X), -1))
        self.dbn_ = DBN(flat.shape[1], tuple(self.hidden), len(self.classes_) if y is not None else 0,
                        self.label_copies).to(self.device)
        config = self.cd_config(len(flat))
        self.rbm_epochs_ = config.epochs

        def progress(done: int, total: int, error: float) -> None:
            if on_epoch:
                on_epoch(done, total, error, f"RBM epoch {done}/{total}")

        self.errors_ = pretrain_dbn(self.dbn_, flat, self.labels_tensor(y), config, generator, progress,
                                    [TimeLimit(self.time_limit)], top_callbacks=self.fd_callbacks())
        if self.fd_tracker_ is not None:  # what ended the checked run: its epochs, a plateau or the time limit
            self.stop_reason_ = self.fd_tracker_.stop_reason
        if not all(math.isfinite(e) for layer in self.errors_ for e in layer):
            raise Diverged("an RBM's reconstruction error became non-finite")
        self.losses_ = [e for layer in self.errors_ for e in layer]

    def build(self, X, y) -> Callable[[], float]:
        """For the microbenchmarks: one CD minibatch update of every RBM, the batch carried up the stack."""
        generator = seeded(self.random_state)
        flat, labels = self.tensor(X.reshape(len(X), -1)), self.labels_tensor(y)
        self.dbn_ = DBN(flat.shape[1], tuple(self.hidden), len(self.classes_) if y is not None else 0,
                        self.label_copies).to(self.device)
        optimizers = [cd_optimizer(rbm, self.cd_config(len(flat))) for rbm in self.dbn_.rbms]
        batches = self.batches(len(flat), generator)

        def step() -> float:
            idx = next(batches)
            v, gap = flat[idx], 0.0
            for rbm, opt in zip(self.dbn_.rbms, optimizers):
                if rbm.n_labels:
                    v = torch.cat([v, rbm.label_units(labels[idx])], dim=1)
                vk, _ = cd_update(rbm, v, opt, self.cd_k, generator)
                gap = float(((vk - v) ** 2).mean())  # how far the top RBM's chains moved from the data
                v = rbm.hidden_probs(v).detach()
            return gap

        return step

    def draw(self, n, y, seed, steps: int | None = None):
        generator = torch.Generator().manual_seed(seed)
        out = [gibbs_sample(self.dbn_, m, steps or self.gibbs_steps, generator, labels, self.device) for m, labels in
               self.chunks(n, y)]
        return torch.cat(out).cpu().numpy()

    def draw_for_check(self, n, y, seed):
        return self.draw(n, y, seed, self.fd_gibbs_steps)

    def modules(self):
        return [self.dbn_]

    def sampler(self):
        return self.dbn_.rbms[-1]

    def diagnostics(self, X, y):
        return {"rbm_epochs": self.rbm_epochs_, "gibbs_steps": self.gibbs_steps,
                "final_train_loss": self.errors_[-1][-1],  # the top RBM's reconstruction error
                **self.fd_columns()}
