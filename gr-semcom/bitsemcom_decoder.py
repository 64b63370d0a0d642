#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""bitsemcom_decoder: soft-bit PDU (LLRs or posteriors) -> image PDU through a BitSemCom model's ONNX decoder."""
from __future__ import annotations

import numpy as np

from . import bundle, demapping, keys, pdu_block, pdus

INPUTS = ("llr", "posterior")


class bitsemcom_decoder(pdu_block.pdu_block):
    def __init__(self, model, provider="auto", threads=0, input="llr", precision="fp32"):
        """Decode soft-bit PDUs (port ``soft_bits``) to image PDUs (port ``image``).

        model: bundle folder or shipped model name; must be the encoder's model (a
        BitSemCom one). provider, threads, precision: as for bitsemcom_encoder. input: what
        the PDUs hold, "llr" (log P(b=1|r)/P(b=0|r), soft_demapper's default;
        turned into posteriors P(b=1|r) = sigmoid(LLR), the sign convention of
        ``demapping``) or "posterior" (soft_demapper with output "posterior").

        Input: f32vector of the image's bits' values (soft_demapper drops the
        padding of the last symbol); the metadata's image_shape gives the size
        (a fixed-size model's own size when it is missing; required by fully
        convolutional models). Output: u8vector image with image_shape; metadata
        adds decoder_model. Dropped with a logged error: a model_id other than
        this decoder's, a count other than the model's bits for that size, metadata
        soft_bits (set by soft_demapper) other than ``input``, NaN values, or
        posteriors outside [0, 1], a payload that is not f32.
        """
        pdu_block.pdu_block.__init__(self, "semcom_bitsemcom_decoder", {"soft_bits": self.handle_soft_bits},
                                     ("image",))
        if input not in INPUTS:
            raise ValueError(f"input must be one of {INPUTS}, got {input!r}")
        self.input = input
        self.bundle = bundle.BitSemComBundle(model, provider, threads, precision)
        self.bundle.session("decoder")  # load now, so a bad model fails at construction

    @pdu_block.takes(pdus.parse_floats, "soft-bit")
    def handle_soft_bits(self, meta, soft):
        """float32 (n_bits,) LLRs or posteriors -> uint8 (H, W, 3) image on port ``image``."""
        sender = pdus.text(meta, keys.MODEL_ID)
        if sender is not None and sender != self.bundle.model_id:
            raise ValueError(f"soft bits come from model {sender}, this decoder is {self.bundle.model_id}")
        kind = pdus.text(meta, keys.SOFT_BITS, self.input)
        if kind != self.input:
            raise ValueError(f"PDU holds {kind} values (metadata {keys.SOFT_BITS!r}), this decoder's input "
                             f"is {self.input}")
        height, width = pdus.decoded_size(self.bundle, meta)
        expected = self.bundle.bits_for(height, width)
        if soft.size != expected:
            raise ValueError(f"{soft.size} soft bits received, model {self.bundle.model_id} sends "
                             f"{expected} for a {height}x{width} image")
        if np.isnan(soft).any():
            raise ValueError(f"soft-bit PDU holds {np.count_nonzero(np.isnan(soft))} NaN values of {soft.size}")
        # an LLR of +-inf is a certain bit; posteriors are checked by decode_soft
        posteriors = demapping.posteriors(soft) if self.input == "llr" else soft
        image = self.bundle.decode_soft(posteriors, height, width)
        meta[keys.DECODER_MODEL] = self.bundle.model_id
        self.publish("image", pdus.image_pdu(meta, image))
