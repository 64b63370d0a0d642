"""jscc_decoder: received symbol PDU -> image PDU through a model's ONNX decoder."""
from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from gnuradio.semcom import bundle, keys, pdus


class jscc_decoder(gr.basic_block):
    """Decode symbol PDUs (port ``symbols``) to image PDUs (port ``image``).

    model: bundle folder or shipped model name; must be the encoder's model
    (a DeepJSCC one). A multi-hop (decode-and-forward) model decodes with its
    last hop's decoder: the symbols of its last relay.
    provider, threads: as for jscc_encoder.

    The metadata must give image_shape (a fixed-size model's own size is used
    when it is missing). Dropped with a logged error: a model_id other than
    this decoder's, symbols of another hop (metadata hop) than the model's last,
    a symbol count that does not match the image size, NaN or
    Inf symbols, a payload that is not c32.
    """

    def __init__(self, model, provider="auto", threads=0):
        gr.basic_block.__init__(self, name="semcom_jscc_decoder", in_sig=None, out_sig=None)
        self.bundle = bundle.DeepJSCCBundle(model, provider, threads)
        self.last_hop = self.bundle.hops - 1
        self.bundle.session(self.bundle.role("decoder", self.last_hop))  # load now, so a bad model fails at construction
        self.message_port_register_in(pmt.intern("symbols"))
        self.message_port_register_out(pmt.intern("image"))
        self.set_msg_handler(pmt.intern("symbols"), self.handle_symbols)

    @pdus.guarded
    def handle_symbols(self, msg):
        meta, received = pdus.parse_symbols(msg)
        image = self.bundle.decode_received(meta, received, self.last_hop, "this decoder")
        meta[keys.DECODER_MODEL] = self.bundle.model_id
        self.message_port_pub(pmt.intern("image"), pdus.image_pdu(meta, image))
