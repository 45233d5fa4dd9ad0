"""A small convolutional variational autoencoder (Kingma & Welling, 2014), conditional on the class
as in Sohn, Lee & Yan (2015): the encoder reads the label as K constant image planes, the decoder
reads it one-hot beside the latent code.

Encoder: two stride-2 convolutions with ReLU and a linear layer to the mean and log-variance of a
diagonal Gaussian q(z | x, y). Decoder: linear -> (2c, H/4, W/4) -> two transposed convolutions ->
(C, H, W) logits of Bernoulli pixels (grey levels read as probabilities). The loss is the negative
ELBO: binary cross-entropy summed over pixels plus KL(q || N(0, I)), per image. Samples are the
decoder's pixel probabilities at z ~ N(0, I), the usual picture of a VAE's samples. Trained by
harness/deep/generative.py.

Shapes: B batch, Z latent size, K classes (0: unconditional), C channels, H x W image, c width.
"""
from __future__ import annotations

import torch
from torch import nn

from harness.models.gan import check_image_shape


class VAE(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], n_classes: int = 0, latent: int = 16, width: int = 32):
        super().__init__()
        c, h, w = check_image_shape(image_shape)
        self.latent, self.n_classes, self.base = latent, n_classes, (2 * width, h // 4, w // 4)
        flat = 2 * width * (h // 4) * (w // 4)
        self.encoder = nn.Sequential(
            nn.Conv2d(c + n_classes, width, 4, stride=2, padding=1), nn.ReLU(),      # (B, c, H/2, W/2)
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),          # (B, 2c, H/4, W/4)
            nn.Flatten(), nn.Linear(flat, 2 * latent),                               # (B, 2Z)
        )
        self.project = nn.Sequential(nn.Linear(latent + n_classes, flat), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.ReLU(),  # (B, c, H/2, W/2)
            nn.ConvTranspose2d(width, c, 4, stride=2, padding=1),                     # (B, C, H, W) logits
        )

    def encode(self, x: torch.Tensor, onehot: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.n_classes:
            x = torch.cat([x, onehot[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        mean, log_var = self.encoder(x).chunk(2, dim=1)  # (B, Z) each
        return mean, log_var

    def decode(self, z: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:  # -> (B, C, H, W) logits
        if self.n_classes:
            z = torch.cat([z, onehot], dim=1)
        return self.decoder(self.project(z).view(len(z), *self.base))

    def loss(self, x: torch.Tensor, onehot: torch.Tensor | None, noise: torch.Tensor) -> torch.Tensor:
        """Negative ELBO per image, averaged over the batch; `noise` (B, Z) ~ N(0, I) reparameterises z."""
        mean, log_var = self.encode(x, onehot)
        z = mean + torch.exp(0.5 * log_var) * noise
        recon = nn.functional.binary_cross_entropy_with_logits(self.decode(z, onehot), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + log_var - mean ** 2 - log_var.exp())
        return (recon + kl) / len(x)
