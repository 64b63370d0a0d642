#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""ldpc_encoder: bit PDU -> LDPC-coded bit PDU (gr-fec's encoder, see ``ldpc``)."""
from __future__ import annotations

import numpy as np

from . import keys, ldpc, pdu_block, pdus


class ldpc_encoder(pdu_block.pdu_block):
    def __init__(self, code=ldpc.DEFAULT_CODE):
        """LDPC-encode bit PDUs (port ``bits``) into coded bit PDUs (port ``bits``).

        code: a name of ``ldpc.CODES`` ("n1800_r12", "n1200_r34", "n4440_r23",
        "n512_r14") or the path of an alist file of a parity-check matrix.

        Input: u8vector of 0/1 values, any number > 0. They are cut into frames of
        k information bits; the last frame is filled up with zero bits (the
        decoder drops them again). Output: u8vector of F * n coded bits, the F
        codewords one after the other, each in gr-fec's order (information bits
        at ``ldpc.Code.info_positions``). Metadata: ``n_bits`` = F * n (the
        payload, what qam_mapper and soft_demapper count), ``ldpc_info_bits`` =
        the input's bit count, ``ldpc_frames`` = F, ``ldpc_code`` = the code's
        name. A payload that is empty, not a u8vector, or holds values other than
        0 and 1 is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_ldpc_encoder", {"bits": self.handle_bits}, ("bits",))
        self.code = ldpc.load(code)

    @pdu_block.takes(pdus.parse_bits)
    def handle_bits(self, meta, bits):
        """uint8 (N,) information bits -> uint8 (F * n,) coded bits on port ``bits``."""
        code = self.code
        frames = -(-bits.size // code.k)
        info = np.zeros(frames * code.k, dtype=np.uint8)
        info[:bits.size] = bits
        coded = code.encode(info.reshape(frames, code.k)).reshape(-1)
        meta.update({keys.N_BITS: int(coded.size), keys.LDPC_INFO_BITS: int(bits.size),
                     keys.LDPC_FRAMES: frames, keys.LDPC_CODE: code.name})
        self.publish("bits", pdus.make(meta, coded))
