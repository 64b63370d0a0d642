"""jscc_encoder: image PDU -> complex symbol PDU through a model's ONNX encoder."""
from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from gnuradio.semcom import bundle, keys, pdus


class jscc_encoder(gr.basic_block):
    """Encode image PDUs (port ``image``) to symbol PDUs (port ``symbols``).

    model: bundle folder or shipped model name of a DeepJSCC model (another
    method's bundle, e.g. BitSemCom's, fails at construction). provider:
    "auto", "cpu", "cuda". threads: onnxruntime threads (0: its default).

    Output: c32vector of ``n_symbols`` complex symbols with unit average power
    per image; metadata adds model_id, n_symbols, padded_shape and hop (0: a
    multi-hop model's source encoder, whose symbols its first relay decodes). An image of
    the wrong size, dtype or channel count is logged and dropped.
    """

    def __init__(self, model, provider="auto", threads=0):
        gr.basic_block.__init__(self, name="semcom_jscc_encoder", in_sig=None, out_sig=None)
        self.bundle = bundle.DeepJSCCBundle(model, provider, threads)
        self.bundle.session(self.bundle.role("encoder", 0))  # load now, so a bad model fails at construction
        self.message_port_register_in(pmt.intern("image"))
        self.message_port_register_out(pmt.intern("symbols"))
        self.set_msg_handler(pmt.intern("image"), self.handle_image)

    @pdus.guarded
    def handle_image(self, msg):
        meta, image = pdus.parse_image(msg)
        sent = self.bundle.encode(image)
        padded = self.bundle.padded_size(*image.shape[:2])
        meta.update({keys.MODEL_ID: self.bundle.model_id, keys.N_SYMBOLS: int(sent.size),
                     keys.PADDED_SHAPE: np.array(padded, dtype=np.int32), keys.HOP: 0})
        self.message_port_pub(pmt.intern("symbols"), pdus.make(meta, sent))
