#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""soft_demapper: complex symbol PDU -> per-bit LLRs or posteriors."""
from __future__ import annotations

from . import demapping, keys, pdu_block, pdus
from .block_fading import per_symbol_gains

OUTPUTS = ("llr", "posterior")


class soft_demapper(pdu_block.pdu_block):
    def __init__(self, constellation, noise_var=-1.0, method="exact", output="llr"):
        """Soft-demap symbol PDUs (port ``symbols``) to soft-bit PDUs (port ``soft_bits``).

        constellation: the ``digital.constellation`` the sender mapped with (points
        scaled to unit average power, as ``qam_mapper`` sends them).
        noise_var: N0 = E|n|^2 per complex symbol; a value > 0 is used for every
        PDU, <= 0 means "take it from each PDU's metadata ``noise_var``". A PDU
        with neither is logged and dropped. method: "exact" (log-sum-exp over the
        points) or "maxlog". output: "llr" (log P(b=1|r)/P(b=0|r), GNU Radio's
        sign) or "posterior" (P(b=1|r)).

        Input: c32vector of received r = h x + n, with h from metadata
        ``channel_gain`` (complex, or one per symbol, or one per block of
        metadata ``coherence_symbols`` symbols; 1 when absent). Output:
        f32vector of n_bits values, n_bits from the metadata (the padding of the
        last symbol dropped), else all k per symbol; metadata sets n_bits and
        soft_bits (``output``, so a receiver can tell LLRs from posteriors). NaN or
        Inf symbols, a bad noise variance or gain, a bits_per_symbol that is not
        the constellation's, or an n_bits beyond the symbols are logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_soft_demapper", {"symbols": self.handle_symbols}, ("soft_bits",))
        if method not in demapping.METHODS:
            raise ValueError(f"method must be one of {demapping.METHODS}, got {method!r}")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.constellation = demapping.Constellation.from_gnuradio(constellation)
        self.method, self.output = method, output
        self.set_noise_var(noise_var)

    def set_noise_var(self, noise_var):
        """N0 for every PDU (> 0), or <= 0 to read each PDU's metadata;
        ValueError for NaN or Inf."""
        self.noise_var = pdus.noise_setting(noise_var)

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, received):
        """complex64 (S,) received symbols -> float32 (n_bits,) LLRs or posteriors on port ``soft_bits``."""
        k = self.constellation.bits_per_symbol
        if pdus.whole(meta, keys.BITS_PER_SYMBOL, k, high=255) != k:
            raise ValueError(f"symbols carry {meta[keys.BITS_PER_SYMBOL]} bits each, "
                             f"this demapper's constellation {k}")
        noise_var = pdus.noise_var_of(meta, self.noise_var)
        gain = pdus.complex_values(meta, keys.CHANNEL_GAIN, 1.0)
        if keys.COHERENCE_SYMBOLS in meta:  # one gain per fading block (block_fading)
            gain = per_symbol_gains(gain, meta[keys.COHERENCE_SYMBOLS], received.size)
        soft = demapping.llrs(received, self.constellation, noise_var, gain, self.method)
        n_bits = pdus.whole(meta, keys.N_BITS, soft.size)
        if not 0 <= n_bits <= soft.size:
            raise ValueError(f"metadata {keys.N_BITS!r} = {n_bits}, but {received.size} symbols carry {soft.size} bits")
        soft = soft[:n_bits]
        if self.output == "posterior":
            soft = demapping.posteriors(soft)
        meta[keys.N_BITS] = n_bits
        meta[keys.SOFT_BITS] = self.output
        self.publish("soft_bits", pdus.make(meta, soft))
