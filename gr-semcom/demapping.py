#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Bits <-> constellation symbols, and soft demapping to bit LLRs and posteriors.

The signal math of the digital chain, numpy only, written once: the blocks
``qam_mapper`` and ``soft_demapper`` use it, and the training side's torch
versions are tested against it.

Bit labelling (the one GNU Radio's own blocks use): symbol value v takes the
next ``k = bits_per_symbol()`` bits, most significant bit first, and point i of
``constellation.points()`` carries value ``label[i]``, where ``label[i] = i``
(what ``digital.constellation_encoder_bc`` and ``chunks_to_symbols_bc(points())``
do), or ``label[i] = pre_diff_code()[i]`` when ``apply_pre_diff_code()`` is true
(what ``constellation.calc_soft_dec``, hence ``constellation_soft_decoder_cf``,
assumes; ``generic_mod`` sends value v on point ``pre_diff_code()[v]``, the same
only for codes that are their own inverse, like DQPSK's). GNU Radio's coherent
constellations have no pre-diff code: their map is the order of their points.
Not all are Gray maps: BPSK, QPSK, 8PSK and ``qam.qam_constellation(M,
differential=False, mod_code=mod_codes.GRAY_CODE)`` are; in
``constellation_16qam()`` and ``qam.qam_constellation(M)`` with its defaults
(quadrant bits for differential coding) some nearest neighbours differ in
several bits (up to 3 in ``constellation_16qam()``, 6 in ``qam_constellation(64)``).

Power: the points are scaled to unit average power (mean |x|^2 = 1 over the
points), whatever GNU Radio's normalisation of the object (its QPSK, for one, has
mean power 4 in 3.10.5). The noise variance N0 is then 1/SNR.

Padding: a bit count that does not fill the last symbol is padded with zero
bits; the sender puts the real count in the metadata (``keys.N_BITS``) and the
receiver drops the LLRs of the padding.

Sign convention, the same as GNU Radio's ``constellation_soft_decoder_cf``:

    LLR_j(r) = log P(b_j = 1 | r) - log P(b_j = 0 | r)

positive means "1", and the posterior P(b_j = 1 | r) = sigmoid(LLR_j). For
r = h x + n, n ~ CN(0, N0), equiprobable points:

    exact    LLR_j = logsumexp_{x: b_j=1} (-|r - h x|^2 / N0) - logsumexp_{x: b_j=0} (-|r - h x|^2 / N0)
    max-log  LLR_j = max_{x: b_j=1} (-|r - h x|^2 / N0)       - max_{x: b_j=0} (-|r - h x|^2 / N0)

GNU Radio 3.10's ``calc_soft_dec(r, npwr=1)`` (what the soft decoder block
computes without a LUT) uses the same labels, bit order and sign, but the
unsquared distance, exp(-|r - x| / npwr), on its own (unscaled) points. For PSK
its signs are ours. For QAM at npwr = 1 the far points weigh so much that its
sign is often not the nearest point's; at a small npwr relative to the points'
scale the signs agree away from decision boundaries. Values agree only where the
metrics coincide: BPSK, real r in [-1, 1], both 2 r / npwr with N0 = 2 npwr.
"""
from __future__ import annotations

import numpy as np

METHODS = ("exact", "maxlog")
_CHUNK = 8192  # symbols per block of the (symbols x bits x points/2) working arrays


class Constellation:
    """Unit-power points and their bit labels.

    points: (M,) complex, M = 2**k; labels: (M,) ints, a permutation of 0..M-1,
    ``labels[i]`` the value (k bits, MSB first) point i carries. Attributes:
    ``bits_per_symbol`` k; ``points`` (M,) complex64 scaled to mean |x|^2 = 1;
    ``bits`` (M, k) uint8, the bits of each point; ``point_of_value`` (M,) int,
    the point that carries value v; ``ones`` and ``zeros`` (k, M/2) int, the
    points whose bit j is 1, resp. 0.
    """

    def __init__(self, points, labels):
        points = np.asarray(points, dtype=np.complex128).reshape(-1)
        labels = np.asarray(labels).reshape(-1)
        if points.size == 0:
            raise ValueError("constellation is empty: it has no points")
        k = int(np.log2(points.size))
        if points.size != 1 << k or k == 0:
            raise ValueError(f"constellation has {points.size} points; it needs 2**k points, k >= 1")
        if not np.all(np.isfinite(points)):
            raise ValueError("constellation points must be finite numbers")
        if sorted(labels.tolist()) != list(range(points.size)):
            raise ValueError(f"bit labels must be a permutation of 0..{points.size - 1}, got {labels.tolist()}")
        power = np.mean(np.abs(points) ** 2)
        if power == 0:
            raise ValueError("constellation points are all zero")
        self.bits_per_symbol = k
        self.points = (points / np.sqrt(power)).astype(np.complex64)
        labels = labels.astype(np.int64)
        self.bits = ((labels[:, None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.uint8)
        self.point_of_value = np.argsort(labels)
        self.ones = np.stack([np.flatnonzero(column) for column in self.bits.T])
        self.zeros = np.stack([np.flatnonzero(column == 0) for column in self.bits.T])

    @classmethod
    def from_gnuradio(cls, constellation) -> "Constellation":
        """From a ``digital.constellation`` (any subclass or ``.base()``), or a name of
        ``modulations.MODULATIONS``: its points(), bits_per_symbol() and labels (see the
        module docstring). ValueError for anything else."""
        if isinstance(constellation, str):
            from .modulations import MODULATIONS, make  # GNU Radio's digital module, only for a name
            if constellation not in MODULATIONS:
                raise ValueError(f"unknown constellation {constellation!r}; give a digital.constellation "
                                 f"or one of {', '.join(MODULATIONS)}")
            constellation = make(constellation)
        if not all(callable(getattr(constellation, name, None)) for name in ("dimensionality", "points",
                                                                              "bits_per_symbol")):
            raise ValueError(f"constellation must be a digital.constellation or a modulation name, "
                             f"got {type(constellation).__name__}")
        if constellation.dimensionality() != 1:
            raise ValueError(f"constellation has dimensionality {constellation.dimensionality()}; only 1 is supported")
        points = np.asarray(constellation.points(), dtype=np.complex128)
        k = constellation.bits_per_symbol()
        if points.size and points.size != 1 << k:
            raise ValueError(f"constellation has {points.size} points, not 2**bits_per_symbol = {1 << k}")
        labels = constellation.pre_diff_code() if constellation.apply_pre_diff_code() else range(points.size)
        return cls(points, list(labels))

    def __repr__(self) -> str:
        return f"Constellation({self.points.size} points, {self.bits_per_symbol} bits per symbol)"


def map_bits(bits, constellation: Constellation) -> np.ndarray:
    """(n,) bits (ints or bools, each 0 or 1) -> (ceil(n / k),) complex64 symbols,
    the last one padded with zero bits."""
    bits = np.asarray(bits).reshape(-1)
    if bits.dtype.kind not in "biu":
        raise ValueError(f"bits must be integers or booleans, got dtype {bits.dtype}")
    bad = bits[(bits != 0) & (bits != 1)]
    if bad.size:
        raise ValueError(f"bits must be 0 or 1, got {bad.size} other values, e.g. {bad[0]}")
    k = constellation.bits_per_symbol
    padded = np.zeros(-(-bits.size // k) * k, dtype=np.int64)
    padded[:bits.size] = bits
    values = padded.reshape(-1, k) @ (1 << np.arange(k - 1, -1, -1))
    return constellation.points[constellation.point_of_value[values]]


def check_noise_var(noise_var, name: str = "noise variance") -> float:
    """``noise_var`` as a float; ValueError unless it is a finite number > 0."""
    try:
        value = float(noise_var)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {noise_var!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {noise_var!r}")
    return value


def llrs(received, constellation: Constellation, noise_var, channel_gain=1.0,
         method: str = "exact") -> np.ndarray:
    """Per-bit LLRs log P(b=1|r) / P(b=0|r) of received symbols r = h x + n.

    received: (N,) complex. noise_var: N0 = E|n|^2 per complex symbol, > 0.
    channel_gain: h, a complex scalar or (N,) complex (coherent: known to the
    receiver). method: "exact" (log-sum-exp over the points) or "maxlog".
    Returns (N * k,) float32, the bits of symbol 0 first, MSB first.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    r = np.asarray(received, dtype=np.complex128).reshape(-1)
    if not np.all(np.isfinite(r)):
        raise ValueError(f"received symbols hold {np.count_nonzero(~np.isfinite(r))} NaN or Inf values")
    n0 = check_noise_var(noise_var)
    h = np.asarray(channel_gain, dtype=np.complex128)
    if h.ndim and h.shape != r.shape:
        raise ValueError(f"channel gain must be a scalar or one per symbol ({r.size}), got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("channel gain must be finite")
    reduce = _logsumexp if method == "exact" else _max
    points = constellation.points.astype(np.complex128)
    out = np.empty((r.size, constellation.bits_per_symbol), dtype=np.float32)
    for start in range(0, r.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        gain = h[part, None] if h.ndim else h
        distance = r[part, None] - gain * points
        metric = -(distance.real ** 2 + distance.imag ** 2) / n0  # (n, M) log-likelihoods + const
        out[part] = reduce(metric[:, constellation.ones]) - reduce(metric[:, constellation.zeros])
    return out.reshape(-1)


def posteriors(llr) -> np.ndarray:
    """P(b=1|r) = sigmoid(llr) as float32, same shape; stable for any magnitude."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(llr, dtype=np.float64))).astype(np.float32)


def _max(metric: np.ndarray) -> np.ndarray:
    return metric.max(axis=-1)


def _logsumexp(metric: np.ndarray) -> np.ndarray:
    """log(sum(exp(metric))) over the last axis; the largest term is exp(0)."""
    top = metric.max(axis=-1)
    return top + np.log(np.exp(metric - top[..., None]).sum(axis=-1))
