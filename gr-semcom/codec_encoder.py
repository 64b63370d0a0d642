#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""codec_encoder: image PDU -> bit PDU of an image codec's stream, sized to the link's budget."""
from __future__ import annotations

import math

import numpy as np

from . import codecs, keys, ldpc, pdu_block, pdus


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


class codec_encoder(pdu_block.pdu_block):
    def __init__(self, codec="jpeg", max_bits=0, channel_uses=0, bandwidth_ratio=1 / 16, bits_per_symbol=2,
                 code=ldpc.DEFAULT_CODE):
        """Compress image PDUs (port ``image``) into bit PDUs (port ``bits``) that fill
        the link's bit budget: the sender of the separation baseline.

        codec: a name of ``codecs.CODECS`` ("jpeg", "webp", "avif").
        The budget per image, the first of these that is set (> 0):
          max_bits: that many bits for every image;
          channel_uses: complex channel symbols per image, and
          bandwidth_ratio: channel uses = floor(ratio x 3 x H x W), per image (the
          JSCC models' count: 1/6 gives 512 for 32x32, 1/16 gives 73,728 for 768x512);
        with channel uses, the budget is ``codecs.budget_bits``: the bits the
        codewords of ``code`` that fit channel_uses x bits_per_symbol coded bits
        carry (channel uses x bits per symbol x code rate, less the partial last
        codeword), or channel_uses x bits_per_symbol with code "" (no channel code).
        bits_per_symbol: the constellation's (2 for QPSK). code: the LDPC encoder's
        code (a name of ``ldpc.CODES`` or an alist path), or "".

        Output: u8vector of exactly the budget's bits: the stream of the best
        quality that fits (``codecs``), most significant bit of each byte first,
        then zero bits (the decoders ignore them), so every image of a size takes
        the same channel uses. Metadata adds codec, codec_quality, codec_bytes and
        n_bits (the budget), and keeps image_id and image_shape. When even the
        codec's lowest quality does not fit, the slot is sent all zero
        (codec_quality -1, codec_bytes 0; the receiver finds no image and shows
        its fallback), ``did_not_fit`` counts it, and a warning is logged for the
        first such image (the others at debug level). An image PDU that is malformed, or whose
        budget is 0 bits (not one codeword fits), is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_codec_encoder", {"image": self.handle_image}, ("bits",))
        self.codec = codecs.get(codec)
        self.max_bits = _count(max_bits, "max_bits")
        self.channel_uses = _count(channel_uses, "channel_uses")
        ratio = float(bandwidth_ratio)
        if not (math.isfinite(ratio) and ratio >= 0):
            raise ValueError(f"bandwidth_ratio must be a finite number >= 0, got {bandwidth_ratio!r}")
        if not (self.max_bits or self.channel_uses or ratio):
            raise ValueError("no budget: set max_bits, channel_uses or bandwidth_ratio > 0")
        self.bandwidth_ratio = ratio
        self.bits_per_symbol = _count(bits_per_symbol, "bits_per_symbol")
        if not self.bits_per_symbol:
            raise ValueError("bits_per_symbol must be >= 1")
        self.code = ldpc.load(code) if code else None
        self.did_not_fit = 0  # images sent empty because even the lowest quality did not fit

    def uses(self, height: int, width: int) -> int:
        """Channel uses of an image of ``height`` x ``width`` (0 with max_bits)."""
        if self.max_bits:
            return 0
        return self.channel_uses or codecs.channel_uses(self.bandwidth_ratio, height, width)

    def budget(self, height: int, width: int) -> int:
        """Codec bits for an image of ``height`` x ``width`` (see the class doc)."""
        if self.max_bits:
            return self.max_bits
        return codecs.budget_bits(self.uses(height, width), self.bits_per_symbol, self.code)

    @pdu_block.takes(pdus.parse_image)
    def handle_image(self, meta, image):
        """uint8 (H, W, 3) image -> uint8 (budget,) bits of its codec stream on port ``bits``."""
        height, width = image.shape[:2]
        n_bits = self.budget(height, width)
        if n_bits <= 0:
            coded = self.uses(height, width) * self.bits_per_symbol
            raise ValueError(f"no budget for a {height}x{width} image: {self.uses(height, width)} channel uses "
                             f"x {self.bits_per_symbol} bits = {coded} coded bits hold no {self.code.name} "
                             f"codeword of {self.code.n} bits")
        try:
            encoded = self.codec.search(image, n_bits)
        except codecs.DoesNotFit as error:
            self.did_not_fit += 1
            text = f"image {meta.get(keys.IMAGE_ID, '?')}: {error}: sending no image"
            if self.did_not_fit == 1:
                self.logger.warn(f"{text} (further images that do not fit are logged at debug level)")
            else:
                self.logger.debug(text)
            encoded = codecs.Encoded(b"", -1)
        meta.update({keys.CODEC: self.codec.name, keys.CODEC_QUALITY: encoded.quality,
                     keys.CODEC_BYTES: len(encoded.data), keys.N_BITS: n_bits,
                     keys.IMAGE_SHAPE: np.array(image.shape, dtype=np.int32)})
        self.publish("bits", pdus.make(meta, codecs.to_bits(encoded.data, n_bits)))
