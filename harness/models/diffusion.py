"""Denoising diffusion (DDPM, Ho, Jain & Abbeel, 2020) with a small U-Net denoiser, sampled with
fewer steps by DDIM (Song, Meng & Ermon, 2021).

- `cosine_schedule(T)`: the cumulative signal level alpha_bar_t of Nichol & Dhariwal (2021), a pure
  function; `Diffusion` keeps it as a buffer. x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.
- `Diffusion.loss`: the standard epsilon-prediction loss, || eps - eps_theta(x_t, t, y) ||^2 at a
  uniform random t.
- `Diffusion.sample`: DDIM over `steps` evenly spaced timesteps of the T trained ones, from
  T - T/steps down to 0 (eta = 0: deterministic DDIM; eta = 1: the strided ancestral (DDPM-like)
  sampler), predicted x_0 clipped to [-1, 1], no noise added at the last step. The denoiser is
  passed in.
- `UNet`: two resolutions below the input (H -> H/2 -> H/4; any side divisible by 4), one residual
  block per level with GroupNorm and SiLU, the timestep (sinusoidal + MLP) and, when conditional,
  a learned class embedding added inside every block; skips concatenated on the way up.

Shapes: B batch, C channels, H x W image, c width, E embedding (4c), K classes (0: unconditional),
T trained timesteps, S sampling steps.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from harness.models.gan import check_image_shape


def cosine_schedule(timesteps: int, s: float = 0.008) -> torch.Tensor:  # -> (T,) alpha_bar_t, t = 1..T
    """alpha_bar_t = f(t) / f(0), f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2), with each step's
    beta clipped at 0.999 (Nichol & Dhariwal, 2021, eq. 17)."""
    t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0).float()


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:  # (B,) -> (B, dim)
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int = 8):
        super().__init__()
        self.norm1 = nn.GroupNorm(math.gcd(groups, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(math.gcd(groups, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # (B, c_in, h, w), (B, E) -> (B, c_out, h, w)
        h = self.conv1(nn.functional.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(nn.functional.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """eps_theta(x_t, t, y): (B, C, H, W), (B,) timesteps, (B,) labels or None -> (B, C, H, W)."""

    def __init__(self, image_shape: tuple[int, int, int], n_classes: int = 0, width: int = 16):
        super().__init__()
        c, _, _ = check_image_shape(image_shape)
        w, emb = width, 4 * width
        self.width, self.n_classes = width, n_classes
        self.time = nn.Sequential(nn.Linear(w, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label = nn.Embedding(n_classes, emb) if n_classes else None
        self.conv_in = nn.Conv2d(c, w, 3, padding=1)
        self.down0 = ResBlock(w, w, emb)                             # (B, c, H, W)
        self.pool0 = nn.Conv2d(w, w, 3, stride=2, padding=1)         # (B, c, H/2, W/2)
        self.down1 = ResBlock(w, 2 * w, emb)                         # (B, 2c, H/2, W/2)
        self.pool1 = nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1)  # (B, 2c, H/4, W/4)
        self.mid = ResBlock(2 * w, 4 * w, emb)                       # (B, 4c, H/4, W/4)
        self.up1 = ResBlock(4 * w + 2 * w, 2 * w, emb)               # (B, 2c, H/2, W/2)
        self.up0 = ResBlock(2 * w + w, w, emb)                       # (B, c, H, W)
        self.out = nn.Sequential(nn.GroupNorm(math.gcd(8, w), w), nn.SiLU(), nn.Conv2d(w, c, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time(timestep_embedding(t, self.width))  # (B, E)
        if self.label is not None:
            emb = emb + self.label(y)
        h0 = self.down0(self.conv_in(x), emb)
        h1 = self.down1(self.pool0(h0), emb)
        h = self.mid(self.pool1(h1), emb)
        h = self.up1(torch.cat([nn.functional.interpolate(h, scale_factor=2.0, mode="nearest"), h1], dim=1), emb)
        h = self.up0(torch.cat([nn.functional.interpolate(h, scale_factor=2.0, mode="nearest"), h0], dim=1), emb)
        return self.out(h)


class Diffusion(nn.Module):
    """The forward process over T timesteps (cosine schedule), its training loss and the DDIM sampler."""

    def __init__(self, timesteps: int = 1000):
        super().__init__()
        self.timesteps = timesteps
        self.register_buffer("alpha_bar", cosine_schedule(timesteps))  # (T,)

    def loss(self, denoiser: nn.Module, x0: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        """Mean squared error of the predicted noise at uniform random timesteps; x0 (B, C, H, W) in [-1, 1]."""
        t = torch.randint(0, self.timesteps, (len(x0),), generator=generator).to(x0.device)
        eps = torch.randn(x0.shape, generator=generator).to(x0.device)
        a = self.alpha_bar[t][:, None, None, None]
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
        return nn.functional.mse_loss(denoiser(x_t, t, y), eps)

    @torch.no_grad()
    def sample(self, denoiser: nn.Module, shape: tuple[int, ...], y: torch.Tensor | None, steps: int,
               generator: torch.Generator, eta: float = 0.0, device: str | torch.device = "cpu") -> torch.Tensor:
        """(B, C, H, W) images in [-1, 1] after `steps` DDIM steps from pure noise (module docstring)."""
        if not 1 <= steps <= self.timesteps:
            raise ValueError(f"sampling steps must be between 1 and the {self.timesteps} trained timesteps, got {steps}")
        x = torch.randn(shape, generator=generator).to(device)
        # S timesteps spaced T // S apart from 0, the last first ("leading" spacing, as DDIM's own code):
        # the first one is T - T // S, not T - 1, where the cosine schedule's alpha_bar (~1e-9) would
        # amplify any error of the predicted noise 10^4-fold into the predicted image.
        ts = list(range(0, self.timesteps, self.timesteps // steps))[:steps][::-1]
        for i, t in enumerate(ts):
            a_t = self.alpha_bar[t]
            a_prev = self.alpha_bar[ts[i + 1]] if i + 1 < len(ts) else torch.ones((), device=a_t.device)
            eps = denoiser(x, torch.full((shape[0],), t, device=device, dtype=torch.long), y).float()  # under autocast:
            # the schedule's arithmetic below stays float32 (x0 divides by sqrt(alpha_bar), 0.08 at the first of 20 steps)
            x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()  # the noise consistent with the clipped x0
            sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).clamp(min=0).sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps
            if i + 1 < len(ts) and eta > 0:  # no noise at the last step
                x = x + sigma * torch.randn(shape, generator=generator).to(device)
        return x
