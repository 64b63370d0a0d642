#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""DeepJSCC networks (Bourtsoulatze et al., 2019): the encoder and decoder every model here builds on.

The encoder maps an image batch ``(N, 3, H, W)`` float32 in [0, 1] to a latent
``(N, C, H/4, W/4)`` float32 whose flattened pairs ``(x[2k], x[2k+1])`` are the
real and imaginary parts of complex channel symbol ``k`` (see
``gnuradio.semcom.symbols``). The latent is normalised to unit average power per
complex symbol, per image. The decoder inverts the map and ends in a sigmoid.

Both are fully convolutional. The decoder upsamples with conv + PixelShuffle
rather than transposed convolutions because onnxruntime runs the latter at about
half of torch's speed on these CPUs (measured when the network was designed).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

DOWNSAMPLING = 4  # two stride-2 convolutions


def normalize_power(latent: torch.Tensor) -> torch.Tensor:
    """Scale each image's latent to unit average power per complex symbol.

    latent: (N, C, H, W) float32 with C even. Returns the same shape.
    """
    n = latent.shape[0]
    flat = latent.reshape(n, -1)
    # two real values per complex symbol, so mean |s|^2 = 2 * mean(x^2)
    power = 2.0 * flat.pow(2).mean(dim=1, keepdim=True)
    return (flat * torch.rsqrt(power + 1e-12)).reshape(latent.shape)


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=5, stride=stride, padding=2)


class Encoder(nn.Module):
    """Image (N, 3, H, W) in [0, 1] -> normalised latent (N, C, H/4, W/4).

    ``normalize=False`` leaves the latent as the convolutions give it (for
    digitising encoders such as ``semcom_train.bitsemcom``); no parameters differ.
    """

    def __init__(self, latent_channels: int, width: int, normalize: bool = True):
        super().__init__()
        self.normalize = normalize
        self.net = nn.Sequential(
            _conv(3, width // 2, 2), nn.PReLU(width // 2),
            _conv(width // 2, width, 2), nn.PReLU(width),
            _conv(width, width), nn.PReLU(width),
            _conv(width, width), nn.PReLU(width),
            _conv(width, latent_channels),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        # centre the input; the decoder's sigmoid undoes the shift
        latent = self.net(image - 0.5)
        return normalize_power(latent) if self.normalize else latent


class Decoder(nn.Module):
    """Received latent (N, C, H/4, W/4) -> image (N, 3, H, W) in [0, 1]."""

    def __init__(self, latent_channels: int, width: int):
        super().__init__()
        self.net = nn.Sequential(
            _conv(latent_channels, width), nn.PReLU(width),
            _conv(width, width), nn.PReLU(width),
            _conv(width, width), nn.PReLU(width),
            _conv(width, 4 * (width // 2)), nn.PixelShuffle(2), nn.PReLU(width // 2),
            _conv(width // 2, 4 * 3), nn.PixelShuffle(2),
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(latent))


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters that fix a DeepJSCC network.

    latent_channels: real channels of the latent, two per complex symbol.
    image_size: (H, W) for fixed-size models, None for fully convolutional use.
    """
    latent_channels: int
    width: int
    image_size: tuple[int, int] | None

    @property
    def bandwidth_ratio(self) -> float:
        """Complex channel symbols / (3 x H x W)."""
        return self.latent_channels / 2 / (3 * DOWNSAMPLING ** 2)

    def build(self) -> "DeepJSCC":
        return DeepJSCC(self)


class DeepJSCC(nn.Module):
    """Encoder, channel and decoder; ``forward`` returns a dict with stable keys."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.latent_channels, config.width)
        self.decoder = Decoder(config.latent_channels, config.width)

    def forward(self, image: torch.Tensor, channel) -> dict[str, torch.Tensor]:
        """image: (N, 3, H, W) in [0, 1]; channel: callable on latents.

        Returns {"latent", "received", "image_hat"}.
        """
        latent = self.encoder(image)
        received = channel(latent)
        return {"latent": latent, "received": received, "image_hat": self.decoder(received)}


@dataclasses.dataclass(frozen=True)
class HopConfig:
    """Base of the configs of networks built from DeepJSCC encoders and decoders of ``hop``'s shape."""
    hop: ModelConfig

    @property
    def image_size(self):
        return self.hop.image_size


@dataclasses.dataclass(frozen=True)
class MultiHopConfig(HopConfig):
    """Decode-and-forward over ``relays`` relays (``relays`` + 1 hops), each hop its own
    DeepJSCC encoder and decoder of ``hop``'s shape (the multi-hop DeepJSCC paper)."""
    relays: int

    def build(self) -> "MultiHopDeepJSCC":
        return MultiHopDeepJSCC(self)


class MultiHopDeepJSCC(nn.Module):
    """Source -> hop 0 -> relay 1 -> ... -> relay r -> hop r -> destination. Relay k decodes
    hop k-1's received latent to an image and re-encodes it for hop k; trained end to end with
    the loss at the destination only (no objective on the relays' images)."""

    def __init__(self, config: MultiHopConfig):
        super().__init__()
        self.config = config
        hops = config.relays + 1
        self.encoders = nn.ModuleList(Encoder(config.hop.latent_channels, config.hop.width) for _ in range(hops))
        self.decoders = nn.ModuleList(Decoder(config.hop.latent_channels, config.hop.width) for _ in range(hops))

    def forward(self, image: torch.Tensor, channel) -> dict:
        """image: (N, 3, H, W) in [0, 1]; channel: callable on latents, applied on every hop.

        Returns {"latent" (hop 0's), "received" (the last hop's), "relay_images" (list of r
        (N, 3, H, W)), "image_hat"}."""
        relay_images, current, first = [], image, None
        for hop, (encoder, decoder) in enumerate(zip(self.encoders, self.decoders)):
            latent = encoder(current)
            if hop == 0:
                first = latent
            received = channel(latent)
            current = decoder(received)
            if hop < self.config.relays:
                relay_images.append(current)
        return {"latent": first, "received": received, "relay_images": relay_images, "image_hat": current}

    def load_single_hop(self, weights: dict) -> None:
        """Start every hop from one DeepJSCC model's weights (keys encoder.* and decoder.*)."""
        for hop in range(self.config.relays + 1):
            for part, modules in (("encoder", self.encoders), ("decoder", self.decoders)):
                prefix = part + "."
                modules[hop].load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})


# name -> config (the registry, ``models.REGISTRY``, holds these and the other modules' configs)
CONFIGS = {
    # 3*32*32/6 = 512 symbols = 8x8 positions x 8 complex channels
    "deepjscc_cifar10_r6": ModelConfig(latent_channels=16, width=48, image_size=(32, 32)),
    # 3*768*512/16 = 73,728 symbols = 192x128 positions x 3 complex channels
    "deepjscc_bsds_r16": ModelConfig(latent_channels=6, width=48, image_size=None),
}
# decode-and-forward over 1, 2 and 3 relays with the CIFAR-10 hop (multi-hop DeepJSCC paper)
CONFIGS.update({f"deepjscc_cifar10_r6_df{relays}": MultiHopConfig(CONFIGS["deepjscc_cifar10_r6"], relays)
                for relays in (1, 2, 3)})
CIFAR10_HOP = CONFIGS["deepjscc_cifar10_r6"]  # the hop the variational and contrastive models build on
