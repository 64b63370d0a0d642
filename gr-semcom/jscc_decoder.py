#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""jscc_decoder: received symbol PDU -> image PDU(s) through a model's ONNX decoder."""
from __future__ import annotations

import zlib

import numpy as np

from . import bundle, keys, pdu_block, pdus


class jscc_decoder(pdu_block.pdu_block):
    def __init__(self, model, provider="auto", threads=0, resampling="auto", samples=1, seed=0, precision="fp32"):
        """Decode symbol PDUs (port ``symbols``) to image PDUs (port ``image``).

        model: bundle folder or shipped model name; must be the encoder's model
        (a DeepJSCC one). A multi-hop (decode-and-forward) model decodes with its
        last hop's decoder: the symbols of its last relay.
        provider, threads: as for jscc_encoder.
        resampling: how a variational model's receiver draws the decoder's input
        y = z + sigma x eps from the received mean z (the VSCC paper's test modes):
        "transmitted" (sigma^2 sent after the mean, jscc_encoder send_variance),
        "knowledge_base" (the card's fixed variance per latent channel), "off"
        (decode z itself), "auto" (knowledge_base for a variational model, else
        off). A mode the model cannot do fails at construction.
        samples: draws per received PDU (>= 1; 1 when resampling is off), each sent
        as its own image PDU with metadata sample and samples, decoded in one batch.
        seed: the draws' seed; each image's generator is seeded with (seed, CRC-32 of
        its image_id), so a run is reproducible whatever the order of the images;
        0 draws fresh ones.
        precision: "fp32", "int8" (the bundle's int8 files, written by semcom_train.quantize;
        a model without them fails at construction) or "auto" (int8 when the card's measured
        int8 PSNR loss is within 0.2 dB, else fp32); ``self.bundle.precision`` is the one run.

        A model with a classifier (card ``classes``, C-JSCC) adds class_probs and
        class_label (the most probable class) to each image's metadata.

        The metadata must give image_shape (a fixed-size model's own size is used
        when it is missing). Dropped with a logged error: a model_id other than
        this decoder's, symbols of another hop (metadata hop) than the model's last,
        a symbol count that does not match the image size, resampling
        "transmitted" of a PDU without the variance, NaN or Inf symbols, a payload
        that is not c32.
        """
        pdu_block.pdu_block.__init__(self, "semcom_jscc_decoder", {"symbols": self.handle_symbols}, ("image",))
        self.bundle = bundle.DeepJSCCBundle(model, provider, threads, precision)
        self.last_hop = self.bundle.hops - 1
        self.resampling = self.bundle.resampling(resampling)
        if isinstance(samples, bool) or int(samples) != samples or samples < 1:
            raise ValueError(f"samples must be a whole number >= 1, got {samples!r}")
        if samples > 1 and self.resampling == "off":
            raise ValueError(f"samples {samples} needs resampling: with resampling off every draw is the same image")
        self.samples, self.seed = int(samples), int(seed)
        self.knowledge_base = (self.bundle.knowledge_base_variance() if self.resampling == "knowledge_base" else None)
        self.bundle.session(self.bundle.role("decoder", self.last_hop))  # load now, so a bad model fails at construction

    def rng(self, image_id) -> np.random.Generator:
        """The generator of the draws for the image ``image_id``."""
        if not self.seed:
            return np.random.default_rng()
        return np.random.default_rng([self.seed, zlib.crc32(str(image_id).encode())])

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, received):
        """complex64 (S,) received symbols -> ``samples`` uint8 (H, W, 3) images on port ``image``."""
        mean, sent_variance, height, width = pdus.received_symbols(self.bundle, meta, received, self.last_hop, "this decoder")
        if self.resampling == "transmitted" and sent_variance is None:
            raise ValueError(f"resampling 'transmitted' needs the variance in the PDU ({keys.VARIANCE_SYMBOLS}): "
                             f"send it with jscc_encoder send_variance")
        variance = {"transmitted": sent_variance, "knowledge_base": self.knowledge_base}.get(self.resampling)
        decoded, probs = self.bundle.decode_samples(mean, height, width, variance, self.samples,
                                                    self.rng(meta.get(keys.IMAGE_ID)))
        meta.update({keys.DECODER_MODEL: self.bundle.model_id, keys.RESAMPLING: self.resampling,
                     keys.SAMPLES: self.samples})
        meta.pop(keys.VARIANCE_SYMBOLS, None)
        for index, image in enumerate(decoded):
            meta[keys.SAMPLE] = index
            if probs is not None:
                meta[keys.CLASS_PROBS] = probs[index].astype(np.float32)
                meta[keys.CLASS_LABEL] = self.bundle.classes[int(np.argmax(probs[index]))]
            self.publish("image", pdus.image_pdu(meta, image))
