#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""BitSemCom (Zhang, Bo, Mo, Tao): bit-level JSCC with a learnable probabilistic bit mapper.

    image -> Encoder (deepjscc.Encoder, latent not power-normalised) -> z (N, C, H/4, W/4)
          -> BitMapper: 1-D convolutions -> Bernoulli logits (N, n_bits)
          -> bits: Gumbel-softmax sample (training) / Bernoulli sample or threshold (inference)
          -> constellation symbols (any digital.constellation, ``demapping`` labels)
          -> r = h x + n (AWGN, or Rayleigh block fading with h known at the receiver)
          -> exact soft demapping -> posteriors P(b = 1 | r) (N, n_bits)
          -> Decoder (deepjscc.Decoder) on the posteriors laid out as the bit grid -> image

Bit mapping. The mapper reads the latent's H'W' = H/4 x W/4 spatial positions,
in row-major order, as a sequence with the C latent channels as the
convolution's channels (what the paper's seed code does with its tokens) and
gives ``bit_channels`` = B logits per position. Bit i of an image is element
i of the (B, H', W') logit grid flattened in C order: i = (b * H' + y) * W' + x.
Symbols take k = bits_per_symbol consecutive bits, most significant first, the
last symbol padded with zero bits (``demapping.map_bits``); the receiver drops
the padding's posteriors. The decoder takes the posteriors reshaped back to the
(B, H', W') grid (as 2P - 1, centred soft bits). n_bits = B H' W' is a config
value; CIFAR-10 uses B = 16 on the 8 x 8 grid: 1,024 bits, 512 QPSK channel uses,
the 1/6 bandwidth ratio of ``deepjscc_cifar10_r6`` (256 uses with 16QAM,
171 with 64QAM).

Digitisation (``BitSemComConfig.bit_mapper``):

- "gumbel" (the method): logits l = log pi1 - log pi0, the binary form of the
  two-class Gumbel-softmax (the difference of two Gumbel(0, 1) draws is a
  Logistic(0, 1) draw g). Training: hard bit 1[l + g > 0] in the forward pass,
  gradient of the relaxed sigmoid((l + g) / tau) in the backward pass
  (straight-through); ``temperature`` tau is set by the training loop.
  Inference: b ~ Bernoulli(sigmoid(l)) with a seedable generator ("sample",
  the paper's), or 1[l > 0] ("threshold", deterministic).
- "uniform" (ablation Backbone-1bit): no mapper, p = sigmoid(z) with C = B.
  Training: p + U(-1/2, 1/2) (the usual additive-noise proxy of rounding);
  inference: round(p). The training values are not bits: they are modulated
  by the multilinear extension of the constellation map (below).
- "hard_sigmoid_ste" (ablation Backbone-Hard+STE): no mapper, p = sigmoid(z).
  Forward 1[p > 1/2], backward the gradient of p (straight-through).

The bits go through a bit channel of ``semcom_train.channels``: ``ErrorFree`` (training
stage 1) or ``DigitalChannel``, the torch twin of the runtime's modulation, channel and
soft demapping, with any constellation (it belongs to the channel, not to the weights).
``semcom_train.export`` writes the ONNX files and the card.
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from . import deepjscc

BIT_MAPPERS = ("gumbel", "uniform", "hard_sigmoid_ste")
DECISIONS = ("sample", "threshold")


# -- configuration and configs -----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BitSemComConfig:
    """Hyper-parameters that fix a BitSemCom network.

    latent_channels: C of the encoder's latent. bit_channels: B, bits per latent
    position (n_bits = B x H/4 x W/4). width: backbone width (deepjscc.Encoder/Decoder).
    image_size: (H, W) for fixed-size models (the ONNX files take (N, n_bits) vectors), or
    None for fully convolutional ones (any size; the decoder takes the (N, B, H', W') grid).
    bit_mapper: one of BIT_MAPPERS; the ablations have no mapper and need C = B.
    mapper_width, mapper_kernel: the mapper's hidden channels and 1-D kernel size.
    """
    latent_channels: int
    bit_channels: int
    width: int
    image_size: tuple[int, int] | None
    bit_mapper: str = "gumbel"
    mapper_width: int = 32
    mapper_kernel: int = 3

    def __post_init__(self):
        if self.bit_mapper not in BIT_MAPPERS:
            raise ValueError(f"bit_mapper must be one of {BIT_MAPPERS}, got {self.bit_mapper!r}")
        if self.bit_mapper != "gumbel" and self.latent_channels != self.bit_channels:
            raise ValueError(f"ablation {self.bit_mapper!r} digitises the latent itself: latent_channels "
                             f"({self.latent_channels}) must equal bit_channels ({self.bit_channels})")
        if self.image_size is not None and any(s % deepjscc.DOWNSAMPLING for s in self.image_size):
            raise ValueError(f"image_size must be (H, W), multiples of {deepjscc.DOWNSAMPLING}, or None; "
                             f"got {self.image_size}")

    def grid_for(self, height: int, width: int) -> tuple[int, int, int]:
        """(B, H', W'): the layout of the bits of an image of ``height`` x ``width``
        (padded up to a multiple of the downsampling)."""
        step = deepjscc.DOWNSAMPLING
        return self.bit_channels, -(-height // step), -(-width // step)

    @property
    def grid(self) -> tuple[int, int, int]:
        """(B, H', W') of the config's image size."""
        if self.image_size is None:
            raise ValueError("a fully convolutional model has no fixed bit grid: use grid_for(height, width)")
        return self.grid_for(*self.image_size)

    def bits_for(self, height: int, width: int) -> int:
        """Bits per image of ``height`` x ``width``."""
        return math.prod(self.grid_for(height, width))

    @property
    def n_bits(self) -> int:
        return math.prod(self.grid)

    @property
    def decision(self) -> str:
        """How inference makes bits of the probabilities: "sample" (the method) or "threshold"."""
        return "sample" if self.bit_mapper == "gumbel" else "threshold"

    def channel_uses(self, bits_per_symbol: int) -> int | None:
        """Complex symbols per image with a constellation of ``bits_per_symbol`` (None:
        fully convolutional, it depends on the image)."""
        return None if self.image_size is None else -(-self.n_bits // bits_per_symbol)

    def bandwidth_ratio(self, bits_per_symbol: int) -> float:
        """Channel uses / (3 x H x W) (for images whose sides are multiples of the downsampling)."""
        if self.image_size is None:
            return self.bit_channels / bits_per_symbol / (3 * deepjscc.DOWNSAMPLING ** 2)
        return self.channel_uses(bits_per_symbol) / (3 * self.image_size[0] * self.image_size[1])

    def build(self) -> "BitSemCom":
        return BitSemCom(self)


_CIFAR = dict(latent_channels=16, bit_channels=16, width=48, image_size=(32, 32))
# 16 x 8 x 8 = 1,024 bits = 512 QPSK symbols = ratio 1/6, the backbone of deepjscc_cifar10_r6
CONFIGS = {
    "bitsemcom_cifar10": BitSemComConfig(**_CIFAR),
    "bitsemcom_cifar10_uniform": BitSemComConfig(**_CIFAR, bit_mapper="uniform"),
    "bitsemcom_cifar10_hardste": BitSemComConfig(**_CIFAR, bit_mapper="hard_sigmoid_ste"),
    # 32 x 8 x 8 = 2,048 bits: 512 16QAM symbols, the same 1/6 ratio as QPSK with 1,024 bits
    "bitsemcom_cifar10_16qam": BitSemComConfig(**{**_CIFAR, "bit_channels": 32}),
    # fully convolutional, the backbone of deepjscc_bsds_r16: 6 bits per 4 x 4 pixels =
    # 3 QPSK symbols per 48 values = ratio 1/16 (Kodak 768 x 512: 147,456 bits)
    "bitsemcom_bsds": BitSemComConfig(latent_channels=6, bit_channels=6, width=48, image_size=None),
}


# -- bit mapper -------------------------------------------------------------------------------
class BitMapper(nn.Module):
    """Latent (N, C, H', W') -> Bernoulli logits (N, B, H', W') by 1-D convolutions
    over the H'W' positions (row-major), channels as convolution channels."""

    def __init__(self, latent_channels: int, bit_channels: int, width: int, kernel: int):
        super().__init__()
        pad = kernel // 2
        self.net = nn.Sequential(
            nn.Conv1d(latent_channels, width, kernel, padding=pad), nn.PReLU(width),
            nn.Conv1d(width, width, kernel, padding=pad), nn.PReLU(width),
            nn.Conv1d(width, bit_channels, kernel, padding=pad),
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        n, _, h, w = latent.shape
        return self.net(latent.flatten(2)).reshape(n, -1, h, w)


def logistic_noise(shape, generator=None, device=None) -> torch.Tensor:
    """Logistic(0, 1) samples: the difference of two Gumbel(0, 1) draws."""
    u = torch.rand(shape, generator=generator, device=device).clamp_(1e-6, 1 - 1e-6)
    return torch.log(u) - torch.log1p(-u)


def gumbel_bits(logits: torch.Tensor, temperature: float, generator=None) -> torch.Tensor:
    """Straight-through binary Gumbel-softmax: values exactly 0/1, gradient of
    sigmoid((logits + g) / temperature), g ~ Logistic(0, 1)."""
    noisy = logits + logistic_noise(logits.shape, generator, logits.device)
    soft = torch.sigmoid(noisy / temperature)
    hard = (noisy > 0).to(logits.dtype)
    return hard + (soft - soft.detach())  # exactly hard in value


def sample_bits(probs: torch.Tensor, generator=None) -> torch.Tensor:
    """b ~ Bernoulli(probs) as float 0/1."""
    return (torch.rand(probs.shape, generator=generator, device=probs.device) < probs).to(probs.dtype)


def temperature_schedule(start: float, end: float, steps: int):
    """step -> Gumbel-softmax temperature, exponential from ``start`` to ``end`` over ``steps``."""
    if start <= 0 or end <= 0:
        raise ValueError(f"temperatures must be > 0, got {start} and {end}")
    return lambda step: start * (end / start) ** (min(step, steps) / steps)


# -- the model --------------------------------------------------------------------------------
class BitSemCom(nn.Module):
    """Encoder, bit mapper, bit channel and decoder; ``forward`` returns a dict with stable keys.

    ``temperature``: the Gumbel-softmax temperature used in training mode.
    ``decision``: inference bits, "sample" or "threshold" (default: the config's).
    """

    def __init__(self, config: BitSemComConfig):
        super().__init__()
        self.config = config
        self.encoder = deepjscc.Encoder(config.latent_channels, config.width, normalize=False)
        self.mapper = (BitMapper(config.latent_channels, config.bit_channels, config.mapper_width,
                                 config.mapper_kernel) if config.bit_mapper == "gumbel" else nn.Identity())
        self.decoder = deepjscc.Decoder(config.bit_channels, config.width)
        self.temperature = 1.0
        self.decision = config.decision

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, n_bits) logits of P(b = 1)."""
        return self.mapper(self.encoder(image)).flatten(1)

    def encode_probs(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, n_bits) P(b = 1): what encoder.onnx computes."""
        return torch.sigmoid(self.logits(image))

    def decode_posteriors(self, posteriors: torch.Tensor, grid: tuple[int, int, int] | None = None) -> torch.Tensor:
        """(N, n_bits) P(b = 1 | r) -> (N, 3, H, W) in [0, 1]: what decoder.onnx computes.

        grid: the (B, H/4, W/4) bit grid, by default the config's image size (the torch
        networks are fully convolutional; the exported ONNX files take the config's size).
        """
        soft = posteriors.reshape(posteriors.shape[0], *(grid or self.config.grid))
        return self.decoder(2.0 * soft - 1.0)

    def digitize(self, logits: torch.Tensor, generator=None, decision: str | None = None) -> torch.Tensor:
        """Bits (training: relaxed per ``bit_mapper``; inference: ``decision``)."""
        probs = torch.sigmoid(logits)
        if self.training:
            kind = self.config.bit_mapper
            if kind == "gumbel":
                return gumbel_bits(logits, self.temperature, generator)
            if kind == "uniform":
                return probs + torch.rand(probs.shape, generator=generator, device=probs.device) - 0.5
            hard = (logits > 0).to(probs.dtype)
            return hard + (probs - probs.detach())
        decision = decision or self.decision
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
        return sample_bits(probs, generator) if decision == "sample" else (logits > 0).to(probs.dtype)

    def forward(self, image: torch.Tensor, channel, generator: torch.Generator | None = None,
                decision: str | None = None) -> dict[str, torch.Tensor]:
        """image: (N, 3, H, W) in [0, 1]; channel: ``channels.ErrorFree`` or
        ``channels.DigitalChannel`` (any constellation). ``generator`` (default: the
        channel's) draws the bits.

        Returns {"latent", "logits", "probs", "bits", "posteriors", "image_hat"} (bits-shaped
        tensors (N, n_bits)) and the channel's extras ("symbols", "received", ...).
        """
        latent = self.encoder(image)
        logits = self.mapper(latent).flatten(1)
        bits = self.digitize(logits, generator if generator is not None else channel.generator, decision)
        out = channel(bits)
        return {"latent": latent, "logits": logits, "probs": torch.sigmoid(logits), "bits": bits, **out,
                "image_hat": self.decode_posteriors(out["posteriors"], (self.config.bit_channels, *latent.shape[2:]))}


