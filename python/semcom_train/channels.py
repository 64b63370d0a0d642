#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Differentiable channels: complex channels on latents, and digital channels on bits.

Latents (DeepJSCC): a latent ``(N, C, H, W)`` float32 is read as N images of
``C*H*W/2`` complex symbols (consecutive real pairs), the same order
``gnuradio.semcom.symbols`` uses. Signal power is 1 per complex symbol, so noise
power per complex symbol is ``10 ** (-snr_db / 10)``, split equally between real
and imaginary parts, the convention of GNU Radio's ``analog.noise_source_c`` and
``channels.channel_model`` (``AWGN``, ``RayleighBlockFading``, ``RayleighZeroForcing``).

Bits (BitSemCom): the torch twins of the runtime's bit mapper, channel and soft
demapper (``DigitalChannel``): bits -> constellation symbols -> r = h x + n -> exact
posteriors P(b = 1 | r). Bit labels and unit power come from
``gnuradio.semcom.demapping.Constellation``; ``soft_demap`` is the twin of
``demapping.llrs`` (tests compare them). The constellation belongs to the channel,
not to the weights: a model trained with QPSK runs with any constellation.

Modulation of soft values. ``modulate`` sends x = sum_i w_i(b) x_i with
w_i = prod_j (b_j if point i's bit j is 1 else 1 - b_j): exactly the point
``map_bits`` picks when the bits are 0/1, and differentiable, so gradients
reach the bits through the channel and demapper (for hard bits, d x / d b_j is
the difference of the two points that differ in bit j).
"""
from __future__ import annotations

import abc

import torch
from torch import nn

from gnuradio.semcom import demapping, modulations

STAGES = ("error_free", "noisy")  # BitSemCom's training stages (make_bit_channel)
SNR_DRAWS = ("batch", "image")


def _as_complex(latent: torch.Tensor) -> torch.Tensor:
    return torch.view_as_complex(latent.reshape(latent.shape[0], -1, 2).contiguous())


def _as_latent(symbols: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    return torch.view_as_real(symbols).reshape(shape)


class Channel(abc.ABC):
    """Base: SNR in dB drawn per image, uniformly from ``snr_db`` = (low, high).

    A single number fixes the SNR. ``generator`` makes the draws reproducible.

    ``shard`` = (rank, world size) in data-parallel training (``semcom_train.parallel``): the
    images sent are this rank's share of a global batch world size times larger, and every
    per-image draw is made for the global batch and cut to the share, so that the ranks
    together draw what one process would for the global batch.
    """

    def __init__(self, snr_db, generator: torch.Generator | None = None):
        low, high = (snr_db, snr_db) if isinstance(snr_db, (int, float)) else snr_db
        if low > high:
            raise ValueError(f"SNR range low {low} dB is above high {high} dB")
        self.low, self.high = float(low), float(high)
        self.generator = generator
        self.shard = (0, 1)

    def per_image(self, draw, shape, device) -> torch.Tensor:
        """``draw`` (torch.rand or torch.randn) of ``shape`` (images first), over the shards."""
        rank, world = self.shard
        if world == 1:
            return draw(shape, generator=self.generator, device=device)
        n = shape[0]
        return draw((n * world, *shape[1:]), generator=self.generator, device=device)[rank * n:(rank + 1) * n]

    def draw_snr_db(self, n: int, device) -> torch.Tensor:
        u = self.per_image(torch.rand, (n, 1), device)
        return self.low + (self.high - self.low) * u

    def noise(self, symbols: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        std = torch.sqrt(10.0 ** (-snr_db / 10.0) / 2.0)
        re = self.per_image(torch.randn, symbols.shape, symbols.device)
        im = self.per_image(torch.randn, symbols.shape, symbols.device)
        return torch.complex(re * std, im * std)

    def draw_gain(self, symbols: torch.Tensor) -> torch.Tensor:
        """One Rayleigh coefficient h ~ CN(0, 1) per image: (N, 1) complex64."""
        re = self.per_image(torch.randn, (symbols.shape[0], 1), symbols.device)
        im = self.per_image(torch.randn, (symbols.shape[0], 1), symbols.device)
        return torch.complex(re, im) / (2.0 ** 0.5)

    def __call__(self, latent: torch.Tensor) -> torch.Tensor:
        latent = latent.float()  # complex arithmetic in float32, also under autocast
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
    """The latent channel ``name`` (one of ``CHANNELS``) at ``snr_db``, a number or (low, high)."""
    if name not in CHANNELS:
        raise KeyError(f"unknown channel {name!r}; known: {', '.join(CHANNELS)}")
    return CHANNELS[name](snr_db, generator)


# -- constellations, modulation, soft demapping -----------------------------------------------
def constellation(spec) -> demapping.Constellation:
    """A ``demapping.Constellation`` from a ``modulations.MODULATIONS`` name, a ``digital.constellation``
    or a ``demapping.Constellation``."""
    if isinstance(spec, demapping.Constellation):
        return spec
    if isinstance(spec, str):
        spec = modulations.make(spec)
    return demapping.Constellation.from_gnuradio(spec)


class TorchConstellation:
    """Torch tensors of a ``demapping.Constellation`` (its points and bit tables, not re-derived).

    bits_per_symbol k; points_re, points_im (M,); bits (M, k) float; ones, zeros (k, M/2) long.
    """

    def __init__(self, spec, dtype=torch.float32):
        table = constellation(spec)
        self.table = table
        self.bits_per_symbol = table.bits_per_symbol
        self.points_re = torch.tensor(table.points.real, dtype=dtype)
        self.points_im = torch.tensor(table.points.imag, dtype=dtype)
        self.bits = torch.tensor(table.bits, dtype=dtype)
        self.ones = torch.tensor(table.ones, dtype=torch.long)
        self.zeros = torch.tensor(table.zeros, dtype=torch.long)

    def n_symbols(self, n_bits: int) -> int:
        return -(-n_bits // self.bits_per_symbol)

    def __repr__(self) -> str:
        return f"TorchConstellation({self.table!r})"


def modulate(bits: torch.Tensor, table: TorchConstellation) -> torch.Tensor:
    """(N, n_bits) bits -> (N, ceil(n_bits / k)) complex symbols, the last one padded
    with zero bits: ``demapping.map_bits`` for 0/1 bits, its multilinear extension
    (differentiable) for other values."""
    k = table.bits_per_symbol
    n, n_bits = bits.shape
    padded = nn.functional.pad(bits, (0, table.n_symbols(n_bits) * k - n_bits))
    b = padded.reshape(n, -1, 1, k)  # (N, S, 1, k)
    labels = table.bits.to(bits.device)  # (M, k)
    weights = (labels * b + (1 - labels) * (1 - b)).prod(dim=-1)  # (N, S, M)
    re = weights @ table.points_re.to(bits.device)
    im = weights @ table.points_im.to(bits.device)
    return torch.complex(re, im)


def soft_demap(received: torch.Tensor, table: TorchConstellation, noise_var, gain=1.0,
               method: str = "exact", n_bits: int | None = None) -> torch.Tensor:
    """Per-bit LLRs log P(b=1|r) - log P(b=0|r) of r = h x + n, n ~ CN(0, N0); the twin of
    ``demapping.llrs``, differentiable in r and h.

    received: (N, S) complex. noise_var: N0, a number or a tensor broadcasting to (N, S)
    (e.g. (N, 1)). gain: h, a number or complex tensor broadcasting to (N, S) (coherent).
    Returns (N, n_bits) (default S k), the bits of symbol 0 first, MSB first.
    """
    if method not in demapping.METHODS:
        raise ValueError(f"method must be one of {demapping.METHODS}, got {method!r}")
    device, real = received.device, received.real.dtype
    gain = torch.as_tensor(gain, device=device).to(received.dtype if received.is_complex() else torch.complex64)
    noise_var = torch.as_tensor(noise_var, dtype=real, device=device)
    p_re, p_im = table.points_re.to(device, real), table.points_im.to(device, real)
    h_re, h_im = gain.real.unsqueeze(-1), gain.imag.unsqueeze(-1)
    d_re = received.real.unsqueeze(-1) - (h_re * p_re - h_im * p_im)  # (N, S, M)
    d_im = received.imag.unsqueeze(-1) - (h_re * p_im + h_im * p_re)
    metric = -(d_re ** 2 + d_im ** 2) / noise_var.unsqueeze(-1)
    reduce = (lambda m: torch.logsumexp(m, dim=-1)) if method == "exact" else (lambda m: m.amax(dim=-1))
    ones = reduce(metric[..., table.ones.to(device)])  # (N, S, k)
    zeros = reduce(metric[..., table.zeros.to(device)])
    llr = (ones - zeros).flatten(-2)
    return llr if n_bits is None else llr[..., :n_bits]


# -- channels on bits -------------------------------------------------------------------------
class ErrorFree:
    """Stage 1 of training: the decoder gets the bits themselves as posteriors."""

    def __init__(self, generator: torch.Generator | None = None):
        self.generator = generator

    def __call__(self, bits: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"posteriors": bits}


class DigitalChannel(Channel):
    """Bits -> symbols of ``constellation`` -> r = h x + n -> exact posteriors P(b=1|r).

    constellation: a ``modulations.MODULATIONS`` name, ``digital.constellation`` or ``demapping.Constellation``
    (points at unit average power). snr_db: a number or (low, high), drawn uniformly
    per batch (``snr_per="batch"``, the paper's) or per image. fading: "awgn" (h = 1) or
    "rayleigh" (one h ~ CN(0, 1) per image, known to the receiver). N0 = 10^(-SNR/10).
    method: "exact" or "maxlog" demapping. ``generator`` makes draws reproducible.
    """

    def __init__(self, constellation, snr_db, fading: str = "awgn", snr_per: str = "batch",
                 method: str = "exact", generator: torch.Generator | None = None):
        super().__init__(snr_db, generator)
        if fading not in ("awgn", "rayleigh"):
            raise ValueError(f"fading must be 'awgn' or 'rayleigh', got {fading!r}")
        if snr_per not in SNR_DRAWS:
            raise ValueError(f"snr_per must be one of {SNR_DRAWS}, got {snr_per!r}")
        if method not in demapping.METHODS:
            raise ValueError(f"method must be one of {demapping.METHODS}, got {method!r}")
        self.table = constellation if isinstance(constellation, TorchConstellation) else TorchConstellation(constellation)
        self.fading, self.snr_per, self.method = fading, snr_per, method

    def draw_snr_db(self, n: int, device) -> torch.Tensor:
        if self.snr_per == "image":
            return super().draw_snr_db(n, device)
        u = torch.rand(1, 1, generator=self.generator, device=device)  # one SNR for the global batch
        return (self.low + (self.high - self.low) * u).expand(n, 1)

    def draw_gain(self, n: int, device) -> torch.Tensor:
        """(N, 1) complex h: ones (AWGN) or CN(0, 1) per image (Rayleigh block fading)."""
        if self.fading == "awgn":
            return torch.ones(n, 1, dtype=torch.complex64, device=device)
        re = self.per_image(torch.randn, (n, 1), device)
        im = self.per_image(torch.randn, (n, 1), device)
        return torch.complex(re, im) / 2.0 ** 0.5

    def transmit(self, symbols, snr_db, gain=1.0):
        return gain * symbols + self.noise(symbols, snr_db)

    def __call__(self, bits: torch.Tensor) -> dict[str, torch.Tensor]:
        """bits: (N, n_bits). Returns {"symbols", "received" (N, S) complex, "gain" (N, 1),
        "snr_db", "noise_var" (N, 1), "posteriors" (N, n_bits)}."""
        n = bits.shape[0]
        bits = bits.float()  # float32, also under autocast
        symbols = modulate(bits, self.table)
        snr_db = self.draw_snr_db(n, bits.device)
        gain = self.draw_gain(n, bits.device)
        received = self.transmit(symbols, snr_db, gain)
        noise_var = 10.0 ** (-snr_db / 10.0)
        llr = soft_demap(received, self.table, noise_var, gain, self.method, bits.shape[1])
        return {"symbols": symbols, "received": received, "gain": gain, "snr_db": snr_db,
                "noise_var": noise_var, "posteriors": torch.sigmoid(llr)}


def make_bit_channel(fading: str, snr_db, stage: str = "noisy", modulation="qpsk", snr_per: str = "batch",
                     generator: torch.Generator | None = None):
    """The bit channel of training ``stage``: ErrorFree, or a DigitalChannel."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if stage == "error_free":
        return ErrorFree(generator)
    return DigitalChannel(modulation, snr_db, fading, snr_per, generator=generator)
