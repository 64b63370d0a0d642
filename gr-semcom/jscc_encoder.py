#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""jscc_encoder: image PDU -> complex symbol PDU through a model's ONNX encoder."""
from __future__ import annotations

import numpy as np

from . import bundle, keys, pdu_block, pdus


class jscc_encoder(pdu_block.pdu_block):
    def __init__(self, model, provider="auto", threads=0, send_variance=False, precision="fp32"):
        """Encode image PDUs (port ``image``) to symbol PDUs (port ``symbols``).

        model: bundle folder or shipped model name of a DeepJSCC model (another
        method's bundle, e.g. BitSemCom's, fails at construction). provider:
        "auto", "cpu", "cuda", "tensorrt" (bundle.choose_providers). threads:
        onnxruntime threads (0: its default).
        send_variance: a variational model (VSCC, VAE) also sends its encoder's
        variance after the mean (the "transmitted" test mode: twice the channel
        uses); a model without a variance fails at construction.
        precision: "fp32", "int8" (the bundle's int8 files, written by semcom_train.quantize;
        a model without them fails at construction) or "auto" (int8 when the card's measured
        int8 PSNR loss is within 0.2 dB, else fp32); ``self.bundle.precision`` is the one run.

        Output: c32vector of ``n_symbols`` complex symbols with unit average power
        per image (the mean's; the variances are sent as they are); metadata adds
        model_id, n_symbols, padded_shape, hop (0: a multi-hop model's source
        encoder, whose symbols its first relay decodes) and, with send_variance,
        variance_symbols. An image of the wrong size, dtype or channel count is
        logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_jscc_encoder", {"image": self.handle_image}, ("symbols",))
        self.bundle = bundle.DeepJSCCBundle(model, provider, threads, precision)
        self.send_variance = bool(send_variance)
        if self.send_variance:
            self.bundle.resampling("transmitted")  # ModelError for a model without a variance
        self.bundle.session(self.bundle.role("encoder", 0))  # load now, so a bad model fails at construction

    @pdu_block.takes(pdus.parse_image)
    def handle_image(self, meta, image):
        """uint8 (H, W, 3) image -> complex64 (n_symbols,) symbols on port ``symbols``."""
        sent, variance = self.bundle.encode_latent(image)
        if self.send_variance:
            meta[keys.VARIANCE_SYMBOLS] = int(variance.size)
            sent = np.concatenate([sent, variance])
        padded = self.bundle.padded_size(*image.shape[:2])
        meta.update({keys.MODEL_ID: self.bundle.model_id, keys.N_SYMBOLS: int(sent.size),
                     keys.PADDED_SHAPE: np.array(padded, dtype=np.int32), keys.HOP: 0})
        self.publish("symbols", pdus.make(meta, sent))
