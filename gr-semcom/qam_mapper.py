"""qam_mapper: bit PDU -> complex symbol PDU on any GNU Radio constellation."""
from __future__ import annotations

import pmt
from gnuradio import gr

from gnuradio.semcom import demapping, keys, pdus


class qam_mapper(gr.basic_block):
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
        gr.basic_block.__init__(self, name="semcom_qam_mapper", in_sig=None, out_sig=None)
        self.constellation = demapping.Constellation.from_gnuradio(constellation)
        self.message_port_register_in(pmt.intern("bits"))
        self.message_port_register_out(pmt.intern("symbols"))
        self.set_msg_handler(pmt.intern("bits"), self.handle_bits)

    @pdus.guarded
    def handle_bits(self, msg):
        meta, bits = pdus.parse_bits(msg)
        symbols = demapping.map_bits(bits, self.constellation)
        meta.update({keys.N_BITS: int(bits.size), keys.N_SYMBOLS: int(symbols.size),
                     keys.BITS_PER_SYMBOL: self.constellation.bits_per_symbol})
        self.message_port_pub(pmt.intern("symbols"), pdus.make(meta, symbols))
