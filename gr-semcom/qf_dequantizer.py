"""qf_dequantizer: bit PDU from relay_qf -> symbol PDU of codebook centres."""
from __future__ import annotations

import pmt
from gnuradio import gr

from gnuradio.semcom import keys, pdus, quantization


class qf_dequantizer(gr.basic_block):
    def __init__(self, model, dimension=4, bits_per_real=0.75):
        """Turn bit PDUs (port ``bits``) of ``relay_qf`` back into symbol PDUs (port ``symbols``).

        model, dimension, bits_per_real: the same as the relay's. The metadata's
        qf_symbols says how many symbols to restore (they go out as n_symbols) and
        qf_codebook must name this codebook. A bit count that does not match, bits
        other than 0/1, a missing qf_symbols or another codebook are logged and the
        PDU dropped.
        """
        gr.basic_block.__init__(self, name="semcom_qf_dequantizer", in_sig=None, out_sig=None)
        self.codebook = quantization.load_codebook(model, int(dimension), float(bits_per_real))
        self.message_port_register_in(pmt.intern("bits"))
        self.message_port_register_out(pmt.intern("symbols"))
        self.set_msg_handler(pmt.intern("bits"), self.handle_bits)

    @pdus.guarded
    def handle_bits(self, msg):
        meta, bits = pdus.parse_bits(msg)
        if meta.get(keys.QF_CODEBOOK, self.codebook.name) != self.codebook.name:
            raise ValueError(f"bits were quantised with codebook {meta[keys.QF_CODEBOOK]}, this is {self.codebook.name}")
        if keys.QF_SYMBOLS not in meta:
            raise ValueError(f"metadata lacks {keys.QF_SYMBOLS}: how many symbols to restore")
        symbols = self.codebook.dequantize(bits, pdus.whole(meta, keys.QF_SYMBOLS, low=1))
        meta.pop(keys.N_BITS, None)
        meta[keys.N_SYMBOLS] = int(symbols.size)
        self.message_port_pub(pmt.intern("symbols"), pdus.make(meta, symbols))
