#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""codec_decoder: bit PDU (from ldpc_decoder) -> image PDU, with a fallback image when decoding fails."""
from __future__ import annotations

import numpy as np

from . import codecs, keys, pdu_block, pdus

# fallback name -> grey level of every pixel; "mean": what a receiver with no
# information about the image shows, the middle of the 0..255 range
FALLBACKS = {"mean": 128}


class codec_decoder(pdu_block.pdu_block):
    def __init__(self, codec="jpeg", fallback="mean"):
        """Decode bit PDUs (port ``bits``) of a codec stream into image PDUs (port
        ``image``): the receiver of the separation baseline.

        codec: the encoder's codec (a name of ``codecs.CODECS``). fallback: the
        image shown when nothing can be decoded: "mean" (mid-grey, 128 in every
        channel: the image of zero information) or a grey level 0..255.

        Input: u8vector of 0/1 bits (ldpc_decoder's output), the stream MSB first
        and any zero fill after it. The image is the fallback, and metadata
        ``decode_failed`` is 1, when the LDPC decoder reported failed frames
        (metadata ``ldpc_failed_frames`` > 0: a real receiver's parity check
        says the data are wrong), or when the stream does not decode or decodes to
        a size other than metadata ``image_shape`` (which the fallback takes);
        otherwise the decoded image, ``decode_failed`` 0. Output: image PDU,
        metadata kept. A payload that is not a u8vector of 0/1 values, is empty,
        lacks ``image_shape``, or comes from another codec (metadata ``codec``)
        is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_codec_decoder", {"bits": self.handle_bits}, ("image",))
        self.codec = codecs.get(codec)
        grey = FALLBACKS.get(fallback) if isinstance(fallback, str) else fallback
        if isinstance(grey, bool) or not isinstance(grey, (int, np.integer)) or not 0 <= grey <= 255:
            raise ValueError(f"fallback must be one of {sorted(FALLBACKS)} or a grey level 0..255, got {fallback!r}")
        self.fallback = int(grey)

    def fallback_image(self, height: int, width: int) -> np.ndarray:
        return np.full((height, width, 3), self.fallback, dtype=np.uint8)

    @pdu_block.takes(pdus.parse_bits)
    def handle_bits(self, meta, bits):
        """uint8 (N,) bits of a codec stream -> uint8 (H, W, 3) image on port ``image``."""
        sender = pdus.text(meta, keys.CODEC, self.codec.name)
        if sender != self.codec.name:
            raise ValueError(f"bits carry a {sender} stream, this decoder's codec is {self.codec.name}")
        height, width = pdus.image_size(meta)
        failed_frames = pdus.whole(meta, keys.LDPC_FAILED_FRAMES, 0)
        image = None if failed_frames else self.codec.decode(codecs.from_bits(bits), (height, width, 3))
        meta[keys.DECODE_FAILED] = int(image is None)
        if image is None:
            image = self.fallback_image(height, width)
        self.publish("image", pdus.image_pdu(meta, image))
