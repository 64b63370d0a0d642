#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""qf_dequantizer: bit PDU from relay_qf -> symbol PDU of codebook centres."""
from __future__ import annotations

from . import keys, pdu_block, pdus, quantization


class qf_dequantizer(pdu_block.pdu_block):
    def __init__(self, model, dimension=4, bits_per_real=0.75):
        """Turn bit PDUs (port ``bits``) of ``relay_qf`` back into symbol PDUs (port ``symbols``).

        model, dimension, bits_per_real: the same as the relay's. The metadata's
        qf_symbols says how many symbols to restore (they go out as n_symbols) and
        qf_codebook must name this codebook. A bit count that does not match, bits
        other than 0/1, a missing qf_symbols or another codebook are logged and the
        PDU dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_qf_dequantizer", {"bits": self.handle_bits}, ("symbols",))
        self.codebook = quantization.load_codebook(model, int(dimension), float(bits_per_real))

    @pdu_block.takes(pdus.parse_bits)
    def handle_bits(self, meta, bits):
        """uint8 (N,) codebook indices' bits -> complex64 (qf_symbols,) symbols on port ``symbols``."""
        if pdus.text(meta, keys.QF_CODEBOOK, self.codebook.name) != self.codebook.name:
            raise ValueError(f"bits were quantised with codebook {meta[keys.QF_CODEBOOK]}, this is {self.codebook.name}")
        if keys.QF_SYMBOLS not in meta:
            raise ValueError(f"metadata lacks {keys.QF_SYMBOLS}: how many symbols to restore")
        symbols = self.codebook.dequantize(bits, pdus.whole(meta, keys.QF_SYMBOLS, low=1))
        meta.pop(keys.N_BITS, None)
        meta[keys.N_SYMBOLS] = int(symbols.size)
        self.publish("symbols", pdus.make(meta, symbols))
