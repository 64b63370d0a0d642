"""relay_qf: received symbol PDU -> bit PDU through a vector-quantisation codebook (quantize-and-forward)."""
from __future__ import annotations

import pmt
from gnuradio import gr

from gnuradio.semcom import bundle, keys, pdus, quantization


class relay_qf(gr.basic_block):
    def __init__(self, model, dimension=4, bits_per_real=0.75):
        """Quantise symbol PDUs (port ``symbols``) to bit PDUs (port ``bits``).

        model: the DeepJSCC bundle whose codebooks to use (``semcom_train.qf_codebooks``).
        dimension, bits_per_real: the rate (N_Q, b), e.g. (4, 0.75); the bundle must hold it.

        Output: u8vector of ``Codebook.n_bits`` bits (N_Q x b per vector of N_Q received
        reals, MSB first); metadata adds qf_symbols (the symbol count the dequantiser
        restores), n_bits and qf_codebook (the codebook's name). NaN or Inf symbols, a payload that is not
        c32, or symbols of another model are logged and dropped.
        """
        gr.basic_block.__init__(self, name="semcom_relay_qf", in_sig=None, out_sig=None)
        model_bundle = bundle.DeepJSCCBundle(model)
        self.codebook = quantization.load_codebook(model_bundle, int(dimension), float(bits_per_real))
        self.model_id = model_bundle.model_id
        self.message_port_register_in(pmt.intern("symbols"))
        self.message_port_register_out(pmt.intern("bits"))
        self.set_msg_handler(pmt.intern("symbols"), self.handle_symbols)

    @pdus.guarded
    def handle_symbols(self, msg):
        meta, received = pdus.parse_symbols(msg)
        sender = pdus.text(meta, keys.MODEL_ID)
        if sender is not None and sender != self.model_id:
            raise ValueError(f"symbols come from model {sender}, this relay's codebooks are {self.model_id}'s")
        bits = self.codebook.quantize(received)
        meta.update({keys.QF_SYMBOLS: int(received.size), keys.N_BITS: int(bits.size), keys.QF_CODEBOOK: self.codebook.name})
        self.message_port_pub(pmt.intern("bits"), pdus.make(meta, bits))
