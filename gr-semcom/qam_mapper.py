#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""qam_mapper: bit PDU -> complex symbol PDU on any GNU Radio constellation."""
from __future__ import annotations

from . import demapping, keys, pdu_block, pdus


class qam_mapper(pdu_block.pdu_block):
    def __init__(self, constellation):
        """Map bit PDUs (port ``bits``) to symbol PDUs (port ``symbols``).

        constellation: a ``digital.constellation`` (e.g. ``digital.constellation_qpsk()``
        or a GRC Constellation Object); its points, scaled to unit average power,
        and its bit labels (``demapping``).

        Input: u8vector of 0/1 values. Output: c32vector of ceil(n_bits / k)
        symbols, k = bits per symbol, the last symbol padded with zero bits;
        metadata adds n_bits, bits_per_symbol and n_symbols. A payload that is not
        a u8vector or holds values other than 0 and 1 is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_qam_mapper", {"bits": self.handle_bits}, ("symbols",))
        self.constellation = demapping.Constellation.from_gnuradio(constellation)

    @pdu_block.takes(pdus.parse_bits)
    def handle_bits(self, meta, bits):
        """uint8 (N,) bits -> complex64 (ceil(N / k),) symbols on port ``symbols``."""
        symbols = demapping.map_bits(bits, self.constellation)
        meta.update({keys.N_BITS: int(bits.size), keys.N_SYMBOLS: int(symbols.size),
                     keys.BITS_PER_SYMBOL: self.constellation.bits_per_symbol})
        self.publish("symbols", pdus.make(meta, symbols))
