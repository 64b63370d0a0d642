#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Contrastive JSCC (C-JSCC): DeepJSCC with a supervised contrastive loss on its latent,
and a classifier on the received latent.

    image -> deepjscc.Encoder -> z (unit power) -> channel -> z_hat -> deepjscc.Decoder -> image
                                                             z_hat -> Classifier -> class logits

Training loss (the paper's eq. 2): (1 - lambda) x L_mse + lambda x L_scl + CE, where

- L_mse is the paper's eq. 3: the squared error summed over an image's 3 H W pixel values
  (in [0, 1]), averaged over the batch; per image, not per pixel, so that lambda weighs the
  two terms as the paper's lambda does (a per-pixel mean would make the same lambda 3 H W
  times stronger);
- L_scl is the supervised contrastive loss (Khosla et al.; the paper's eq. 4) with
  temperature tau on the L2-normalised latents of the batch and of a label-preserving
  augmentation of it (``augment``: random 4-pixel shifts with reflection, flips and a
  brightness / contrast jitter), 2N samples whose positives are all others of their class,
  averaged over anchors;
- CE is the classifier's cross-entropy on the received latent of the original images. The
  classifier sees the latent detached, so the encoder and decoder learn from the first two
  terms alone (the paper's Algorithm 1) and lambda = 0 is D-JSCC with a classifier probe.

The classifier is exported with the decoder (``export.ReceiverHead``): decoder.onnx maps the
received latent to "image" and "class_probs" (softmax, the card's ``classes`` order).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from . import deepjscc

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class Classifier(nn.Module):
    """Received latent (N, C, H', W') -> class logits (N, classes)."""

    def __init__(self, latent_channels: int, classes: int, width: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(latent_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.PReLU(width),
            nn.Conv2d(width, width, 3, padding=1, stride=2), nn.BatchNorm2d(width), nn.PReLU(width),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes))

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.net(latent)


@dataclasses.dataclass(frozen=True)
class ContrastiveConfig(deepjscc.HopConfig):
    """A DeepJSCC network of ``hop``'s shape with a classifier over ``classes``."""
    classes: tuple[str, ...]

    def build(self) -> "ContrastiveDeepJSCC":
        return ContrastiveDeepJSCC(self)


class ContrastiveDeepJSCC(deepjscc.DeepJSCC):
    """DeepJSCC whose forward also classifies the received latent."""

    def __init__(self, config: ContrastiveConfig):
        super().__init__(config.hop)
        self.config = config
        self.classifier = Classifier(config.hop.latent_channels, len(config.classes))

    def forward(self, image: torch.Tensor, channel) -> dict[str, torch.Tensor]:
        """Returns {"latent", "received", "image_hat", "logits" (N, classes)}."""
        out = super().forward(image, channel)
        # detached: the classifier is a probe of the latent, not a third objective of the encoder
        out["logits"] = self.classifier(out["received"].detach())
        return out


def supervised_contrastive(features: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over anchors i of -1/|Q(i)| sum_{q in Q(i)} log(exp(f_i.f_q / tau) / sum_{a != i} exp(f_i.f_a / tau)).

    features: (M, D), L2-normalised rows; labels: (M,) int64. Anchors without a positive
    are left out."""
    similarity = features @ features.T / temperature
    self_mask = torch.eye(len(features), dtype=torch.bool, device=features.device)
    similarity = similarity.masked_fill(self_mask, float("-inf"))
    log_prob = similarity - torch.logsumexp(similarity, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    counts = positives.sum(dim=1)
    per_anchor = -log_prob.masked_fill(~positives, 0.0).sum(dim=1) / counts.clamp_min(1)
    return per_anchor[counts > 0].mean()


def augment(images: torch.Tensor, generator: torch.Generator | None = None, shift: int = 4) -> torch.Tensor:
    """A label-preserving view of (N, 3, H, W) ``images`` in [0, 1]: each shifted by up to
    ``shift`` pixels (reflection padding), flipped with probability 1/2, and its brightness
    and contrast scaled by factors in [0.8, 1.2]."""
    n, _, height, width = images.shape
    padded = nn.functional.pad(images, (shift,) * 4, mode="reflect")
    offsets = torch.randint(0, 2 * shift + 1, (n, 2), generator=generator)
    views = torch.stack([padded[i, :, y:y + height, x:x + width] for i, (y, x) in enumerate(offsets.tolist())])
    flip = (torch.rand(n, generator=generator) < 0.5).to(images.device)
    views[flip] = views[flip].flip(-1)
    factors = (0.8 + 0.4 * torch.rand(n, 2, 1, 1, 1, generator=generator)).to(images.device)
    mean = views.mean(dim=(1, 2, 3), keepdim=True)
    return ((views - mean) * factors[:, 0] + mean * factors[:, 1]).clamp(0, 1)


def loss(model: ContrastiveDeepJSCC, out: dict, image: torch.Tensor, labels: torch.Tensor, scl_weight: float,
         temperature: float, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """{"loss", "squared_error", "scl", "ce", "accuracy"} of forward pass ``out`` of ``image`` with
    ``labels``. The augmented view goes through the encoder only (its latent is all L_scl needs)."""
    squared_error = (out["image_hat"] - image).pow(2).flatten(1).sum(1).mean()
    ce = nn.functional.cross_entropy(out["logits"], labels)
    scl = image.new_zeros(())
    if scl_weight > 0:
        views = model.encoder(augment(image, generator))
        features = nn.functional.normalize(torch.cat([out["latent"], views]).flatten(1), dim=1)
        scl = supervised_contrastive(features, torch.cat([labels, labels]), temperature)
    accuracy = (out["logits"].argmax(1) == labels).float().mean()
    return {"loss": (1 - scl_weight) * squared_error + scl_weight * scl + ce, "squared_error": squared_error,
            "scl": scl, "ce": ce, "accuracy": accuracy}


CONFIGS = {"cjscc_cifar10_r6": ContrastiveConfig(deepjscc.CIFAR10_HOP, CIFAR10_CLASSES)}
