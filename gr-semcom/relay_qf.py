#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""relay_qf: received symbol PDU -> bit PDU through a vector-quantisation codebook (quantize-and-forward)."""
from __future__ import annotations

from . import bundle, keys, pdu_block, pdus, quantization


class relay_qf(pdu_block.pdu_block):
    def __init__(self, model, dimension=4, bits_per_real=0.75):
        """Quantise symbol PDUs (port ``symbols``) to bit PDUs (port ``bits``).

        model: the DeepJSCC bundle whose codebooks to use (``semcom_train.qf_codebooks``).
        dimension, bits_per_real: the rate (N_Q, b), e.g. (4, 0.75); the bundle must hold it.

        Output: u8vector of ``Codebook.n_bits`` bits (N_Q x b per vector of N_Q received
        reals, MSB first); metadata adds qf_symbols (the symbol count the dequantiser
        restores), n_bits and qf_codebook (the codebook's name). NaN or Inf symbols, a payload that is not
        c32, or symbols of another model are logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_relay_qf", {"symbols": self.handle_symbols}, ("bits",))
        model_bundle = bundle.DeepJSCCBundle(model)
        self.codebook = quantization.load_codebook(model_bundle, int(dimension), float(bits_per_real))
        self.model_id = model_bundle.model_id

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, received):
        """complex64 (S,) received symbols -> uint8 (n_bits,) codebook indices' bits on port ``bits``."""
        sender = pdus.text(meta, keys.MODEL_ID)
        if sender is not None and sender != self.model_id:
            raise ValueError(f"symbols come from model {sender}, this relay's codebooks are {self.model_id}'s")
        bits = self.codebook.quantize(received)
        meta.update({keys.QF_SYMBOLS: int(received.size), keys.N_BITS: int(bits.size), keys.QF_CODEBOOK: self.codebook.name})
        self.publish("bits", pdus.make(meta, bits))
