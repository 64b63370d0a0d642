"""Differentiable complex channels acting on latents.

A latent ``(N, C, H, W)`` float32 is read as N images of ``C*H*W/2`` complex
symbols (consecutive real pairs), the same order ``gnuradio.semcom.symbols``
uses. Signal power is 1 per complex symbol, so noise power per complex symbol
is ``10 ** (-snr_db / 10)``, split equally between real and imaginary parts,
the convention of GNU Radio's ``analog.noise_source_c`` and
``channels.channel_model``.
"""
from __future__ import annotations

import abc

import torch


def _as_complex(latent: torch.Tensor) -> torch.Tensor:
    return torch.view_as_complex(latent.reshape(latent.shape[0], -1, 2).contiguous())


def _as_latent(symbols: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    return torch.view_as_real(symbols).reshape(shape)


class Channel(abc.ABC):
    """Base: SNR in dB drawn per image, uniformly from ``snr_db`` = (low, high).

    A single number fixes the SNR. ``generator`` makes the draws reproducible.
    """

    def __init__(self, snr_db, generator: torch.Generator | None = None):
        low, high = (snr_db, snr_db) if isinstance(snr_db, (int, float)) else snr_db
        if low > high:
            raise ValueError(f"SNR range low {low} dB is above high {high} dB")
        self.low, self.high = float(low), float(high)
        self.generator = generator

    def draw_snr_db(self, n: int, device) -> torch.Tensor:
        u = torch.rand(n, 1, generator=self.generator, device=device)
        return self.low + (self.high - self.low) * u

    def noise(self, symbols: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        std = torch.sqrt(10.0 ** (-snr_db / 10.0) / 2.0)
        re = torch.randn(symbols.shape, generator=self.generator, device=symbols.device)
        im = torch.randn(symbols.shape, generator=self.generator, device=symbols.device)
        return torch.complex(re * std, im * std)

    def draw_gain(self, symbols: torch.Tensor) -> torch.Tensor:
        """One Rayleigh coefficient h ~ CN(0, 1) per image: (N, 1) complex64."""
        re = torch.randn(symbols.shape[0], 1, generator=self.generator, device=symbols.device)
        im = torch.randn(symbols.shape[0], 1, generator=self.generator, device=symbols.device)
        return torch.complex(re, im) / (2.0 ** 0.5)

    def __call__(self, latent: torch.Tensor) -> torch.Tensor:
        symbols = _as_complex(latent)
        snr_db = self.draw_snr_db(symbols.shape[0], latent.device)
        return _as_latent(self.transmit(symbols, snr_db), latent.shape)

    @abc.abstractmethod
    def transmit(self, symbols: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        """symbols: (N, K) complex64; snr_db: (N, 1). Returns (N, K) complex64."""


class AWGN(Channel):
    """y = x + n, n ~ CN(0, 10^(-snr/10))."""

    def transmit(self, symbols, snr_db):
        return symbols + self.noise(symbols, snr_db)


class RayleighBlockFading(Channel):
    """y = h x + n with one h ~ CN(0, 1) per image; the receiver gets no CSI."""

    def transmit(self, symbols, snr_db):
        return self.draw_gain(symbols) * symbols + self.noise(symbols, snr_db)


class RayleighZeroForcing(Channel):
    """y = x + n / h: block fading, one h ~ CN(0, 1) per image, removed by a zero-forcing
    equaliser that knows h (what ``flowgraphs.analog_point_to_point`` does over "rayleigh")."""

    def transmit(self, symbols, snr_db):
        return symbols + self.noise(symbols, snr_db) / self.draw_gain(symbols)


CHANNELS = {"awgn": AWGN, "rayleigh": RayleighBlockFading, "rayleigh_zf": RayleighZeroForcing}


def make_channel(name: str, snr_db, generator: torch.Generator | None = None) -> Channel:
    if name not in CHANNELS:
        raise KeyError(f"unknown channel {name!r}; known: {', '.join(CHANNELS)}")
    return CHANNELS[name](snr_db, generator)
