#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""equalizer: coherent one-tap equalisation of symbol PDUs with the channel gain in their metadata.

Analog JSCC decoders (``jscc_decoder``) take symbols as the AWGN channel
delivers them, r = x + n. After block fading, r = h x + n with h known at the
receiver (metadata ``channel_gain``, as ``block_fading`` writes it); this block
turns it back into an estimate of x. Digital links do not need it:
``soft_demapper`` uses h in its metric.
"""
from __future__ import annotations

import numpy as np

from . import demapping, keys, pdu_block, pdus
from .block_fading import per_symbol_gains

METHODS = ("zf", "mmse")


def equalize(received: np.ndarray, gain, method: str = "zf", noise_var: float | None = None) -> np.ndarray:
    """One-tap estimate of x from r = h x + n, n ~ CN(0, N0), x of unit power.

    received: (S,) complex. gain: h, a scalar or (S,) complex. "zf": r / h;
    "mmse": conj(h) r / (|h|^2 + N0) (needs ``noise_var`` N0 > 0). Returns (S,)
    complex64. ValueError for a zero or non-finite gain (zf) or a bad N0 (mmse).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    h = np.asarray(gain, dtype=np.complex128)
    if not np.all(np.isfinite(h)):
        raise ValueError("channel gain must be finite")
    r = np.asarray(received, dtype=np.complex128)
    if method == "zf":
        if np.any(h == 0):
            raise ValueError("channel gain is zero: zero forcing cannot invert it (use mmse)")
        return (r / h).astype(np.complex64)
    n0 = demapping.check_noise_var(noise_var)
    return (np.conj(h) * r / (np.abs(h) ** 2 + n0)).astype(np.complex64)


class equalizer(pdu_block.pdu_block):
    def __init__(self, method="zf", noise_var=-1.0):
        """Equalise symbol PDUs (port ``symbols``) with their metadata's channel gain.

        method: "zf" (zero forcing, r / h: unbiased, noise grows as 1/|h|^2) or
        "mmse" (conj(h) r / (|h|^2 + N0): smaller error, shrinks weak fades).
        noise_var: N0 for "mmse"; > 0 is used for every PDU, <= 0 reads each
        PDU's metadata ``noise_var``; ignored by "zf".

        Input: c32vector r with metadata ``channel_gain`` (one complex value, one
        per symbol, or one per block of ``coherence_symbols``). Output: c32vector of
        the same length; ``channel_gain`` and ``coherence_symbols`` move to
        ``equalized_gain`` and ``equalized_coherence_symbols`` (so no later block
        applies h again). Logged and dropped: no ``channel_gain`` in the metadata, a
        zero (zf) or non-finite gain, a missing or bad N0 (mmse), NaN or Inf symbols.
        """
        pdu_block.pdu_block.__init__(self, "semcom_equalizer", {"symbols": self.handle_symbols}, ("symbols",))
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.method = method
        self.set_noise_var(noise_var)

    def set_noise_var(self, noise_var):
        """N0 for "mmse" (> 0), or <= 0 to read each PDU's metadata; ValueError for NaN or Inf."""
        self.noise_var = pdus.noise_setting(noise_var)

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, received):
        """complex64 (S,) received symbols r -> complex64 (S,) estimates of x on port ``symbols``."""
        if keys.CHANNEL_GAIN not in meta:
            raise ValueError(f"no metadata {keys.CHANNEL_GAIN!r}: nothing to equalise (coherent CSI needed)")
        gain = pdus.complex_values(meta, keys.CHANNEL_GAIN)
        recorded = meta.pop(keys.CHANNEL_GAIN)
        block = meta.pop(keys.COHERENCE_SYMBOLS, None)
        if block is not None:
            gain = per_symbol_gains(gain, block, received.size)
        meta[keys.EQUALIZED_GAIN] = recorded
        if block is not None:
            meta[keys.EQUALIZED_COHERENCE_SYMBOLS] = block
        noise_var = pdus.noise_var_of(meta, self.noise_var) if self.method == "mmse" else None
        equalized = equalize(received, gain, self.method, noise_var)
        self.publish("symbols", pdus.make(meta, equalized))
