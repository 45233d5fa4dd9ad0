"""A small conditional DCGAN (Radford, Metz & Chintala, 2016), conditioned on the class as in
Mirza & Osindero (2014): the generator reads the one-hot label beside its noise, the discriminator
reads it as K constant image planes beside the image.

Generator: (z, label) -> linear -> (2c, H/4, W/4) -> transposed conv -> (c, H/2, W/2) -> transposed
conv -> (C, H, W), batch norm and ReLU between, tanh at the end (images scaled to [-1, 1]).
Discriminator: two stride-2 convolutions with LeakyReLU(0.2) (batch norm on the second, none on the
first, as in DCGAN) and a linear layer to one logit. Both work on any H and W divisible by 4 (8x8
digits, 28x28 MNIST). Trained by harness/deep/generative.py.

Shapes: B batch, Z noise size, K classes (0: unconditional), C channels, H x W image, c width.
"""
from __future__ import annotations

import torch
from torch import nn


def check_image_shape(image_shape: tuple[int, int, int], factor: int = 4) -> tuple[int, int, int]:
    c, h, w = image_shape
    if h % factor or w % factor:
        raise ValueError(f"images of {h}x{w}: this network halves them twice and needs sides divisible by {factor}")
    return c, h, w


class Generator(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], n_classes: int = 0, latent: int = 64, width: int = 32):
        super().__init__()
        c, h, w = check_image_shape(image_shape)
        self.latent, self.n_classes, self.base = latent, n_classes, (2 * width, h // 4, w // 4)
        self.project = nn.Sequential(nn.Linear(latent + n_classes, 2 * width * (h // 4) * (w // 4)),
                                     nn.BatchNorm1d(2 * width * (h // 4) * (w // 4)), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),  # (B, c, H/2, W/2)
            nn.ConvTranspose2d(width, c, 4, stride=2, padding=1), nn.Tanh(),                              # (B, C, H, W)
        )

    def forward(self, z: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:  # (B, Z), (B, K) -> (B, C, H, W)
        x = torch.cat([z, onehot], dim=1) if self.n_classes else z
        return self.net(self.project(x).view(len(z), *self.base))


class Discriminator(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], n_classes: int = 0, width: int = 32):
        super().__init__()
        c, h, w = check_image_shape(image_shape)
        self.n_classes = n_classes
        self.net = nn.Sequential(
            nn.Conv2d(c + n_classes, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                     # (B, c, H/2, W/2)
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),  # (B, 2c, H/4, W/4)
            nn.Flatten(), nn.Linear(2 * width * (h // 4) * (w // 4), 1),
        )

    def forward(self, x: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:  # -> (B,) logits
        if self.n_classes:
            planes = onehot[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, K, H, W)
            x = torch.cat([x, planes], dim=1)
        return self.net(x).squeeze(1)
