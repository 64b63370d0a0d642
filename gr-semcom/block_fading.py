#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""block_fading: Rayleigh block fading on symbol PDUs, with the coefficients
in the metadata for coherent demapping (CSI at the receiver).

The noise is not added here: it stays GNU Radio's (``analog.noise_source_c``
and an adder on the stream path, see ``flowgraphs``). Nothing is equalised:
``soft_demapper`` uses the gain in its metric, r = h x + n.
"""
from __future__ import annotations

import numpy as np

from . import keys, pdu_block, pdus


def draw_gains(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` Rayleigh coefficients h ~ CN(0, 1) (E|h|^2 = 1) as complex64."""
    pair = rng.standard_normal((count, 2)) * np.sqrt(0.5)
    return (pair[:, 0] + 1j * pair[:, 1]).astype(np.complex64)


def n_blocks(n_symbols: int, coherence_symbols: int) -> int:
    """Fading blocks of a PDU of ``n_symbols``: 1 per PDU when coherence_symbols
    is 0, else ceil(n_symbols / coherence_symbols) (the last one may be short)."""
    return 1 if coherence_symbols == 0 else max(1, -(-n_symbols // coherence_symbols))


def per_symbol_gains(gain, coherence_symbols, n_symbols: int) -> np.ndarray:
    """One gain per symbol from one per block of ``coherence_symbols`` symbols
    (metadata ``channel_gain`` as block_fading writes it with ``coherence_symbols``);
    ValueError when the counts do not fit."""
    gain = np.asarray(gain, dtype=np.complex128).reshape(-1)
    try:
        block = int(coherence_symbols)
    except (TypeError, ValueError, OverflowError):  # OverflowError: inf
        raise ValueError(f"metadata {keys.COHERENCE_SYMBOLS!r} must be an integer, got {coherence_symbols!r}") from None
    if block < 0 or block != coherence_symbols:
        raise ValueError(f"metadata {keys.COHERENCE_SYMBOLS!r} must be an integer >= 0, got {coherence_symbols!r}")
    if gain.size == 1:
        return np.full(n_symbols, gain[0])
    if gain.size != n_blocks(n_symbols, block):
        raise ValueError(f"channel gain has {gain.size} entries, {n_symbols} symbols in blocks of "
                         f"{block} need {n_blocks(n_symbols, block)}")
    return np.repeat(gain, block)[:n_symbols]


class block_fading(pdu_block.pdu_block):
    def __init__(self, coherence_symbols=0, seed=0):
        """Multiply symbol PDUs (port ``symbols``) by Rayleigh coefficients h ~ CN(0, 1).

        coherence_symbols: 0 for one coefficient per PDU (quasi-static: one image,
        one fade), else one per block of that many symbols (the last block may be
        shorter). seed: 0 draws a fresh seed from the operating system; any other
        value makes the coefficients reproducible (the same sequence of PDUs gets
        the same coefficients).

        Output (port ``symbols``): h x per symbol, complex64. Metadata
        ``channel_gain``: the coefficient (complex) for one per PDU, else a
        c32vector with one per block, and ``coherence_symbols`` (int) saying the
        block length; ``soft_demapper`` expands it to one per symbol. A PDU that
        already has a ``channel_gain`` (a cascade of channels) or is not a symbol
        PDU is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_block_fading", {"symbols": self.handle_symbols}, ("symbols",))
        if isinstance(coherence_symbols, bool) or not isinstance(coherence_symbols, (int, np.integer)) \
                or coherence_symbols < 0:
            raise ValueError(f"coherence_symbols must be an integer >= 0 (0: one coefficient per PDU), "
                             f"got {coherence_symbols!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0 (0: a fresh seed), got {seed!r}")
        self.coherence_symbols = int(coherence_symbols)
        self.rng = np.random.default_rng(int(seed) if seed else None)

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, symbols):
        """complex64 (S,) symbols x -> complex64 (S,) h x on port ``symbols``."""
        if keys.CHANNEL_GAIN in meta:
            raise ValueError(f"PDU already has metadata {keys.CHANNEL_GAIN!r}: one fading channel per link")
        if symbols.size == 0:
            raise ValueError("symbol PDU is empty")
        gains = draw_gains(self.rng, n_blocks(symbols.size, self.coherence_symbols))
        if self.coherence_symbols == 0:
            faded = symbols * gains[0]
            meta[keys.CHANNEL_GAIN] = complex(gains[0])
        else:
            faded = symbols * np.repeat(gains, self.coherence_symbols)[:symbols.size]
            meta[keys.CHANNEL_GAIN] = gains
            meta[keys.COHERENCE_SYMBOLS] = self.coherence_symbols
        self.publish("symbols", pdus.make(meta, faded.astype(np.complex64)))
