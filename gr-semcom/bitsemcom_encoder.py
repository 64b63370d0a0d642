#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""bitsemcom_encoder: image PDU -> bit probability PDU through a BitSemCom model's ONNX encoder."""
from __future__ import annotations

import numpy as np

from . import bundle, keys, pdu_block, pdus


class bitsemcom_encoder(pdu_block.pdu_block):
    def __init__(self, model, provider="auto", threads=0, precision="fp32"):
        """Encode image PDUs (port ``image``) to probability PDUs (port ``probs``).

        model: bundle folder or shipped model name of a BitSemCom model (card
        method "bitsemcom"; a DeepJSCC bundle fails at construction). provider:
        "auto", "cpu", "cuda", "tensorrt" (bundle.choose_providers). threads:
        onnxruntime threads (0: its default).
        precision: "fp32", "int8" (the bundle's int8 files, written by
        semcom_train.quantize; a model without them fails at construction) or
        "auto" (int8 when the card's measured int8 PSNR loss is within 0.2 dB).

        Output: f32vector of the image's Bernoulli probabilities P(b = 1)
        (the card's ``n_bits``, or ``bits_for(H, W)`` for a fully convolutional
        model), bit i as the card's ``bit_order`` says; ``bit_mapper`` makes bits
        of them. Metadata adds model_id, n_bits and image_shape. An image of the
        wrong size, dtype or channel count is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_bitsemcom_encoder", {"image": self.handle_image}, ("probs",))
        self.bundle = bundle.BitSemComBundle(model, provider, threads, precision)
        self.bundle.session("encoder")  # load now, so a bad model fails at construction

    @pdu_block.takes(pdus.parse_image)
    def handle_image(self, meta, image):
        """uint8 (H, W, 3) image -> float32 (n_bits,) probabilities on port ``probs``."""
        probs = self.bundle.encode_probs(image)
        meta.update({keys.MODEL_ID: self.bundle.model_id, keys.N_BITS: int(probs.size),
                     keys.IMAGE_SHAPE: np.array(image.shape, dtype=np.int32)})
        self.publish("probs", pdus.make(meta, probs))
