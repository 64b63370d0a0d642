#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""ldpc_decoder: soft-bit PDU (LLRs) -> decoded bit PDU, with per-frame success."""
from __future__ import annotations

import numpy as np

from . import keys, ldpc, pdu_block, pdus


class ldpc_decoder(pdu_block.pdu_block):
    def __init__(self, code=ldpc.DEFAULT_CODE, max_iterations=50, engine="numpy"):
        """Decode soft-bit PDUs (port ``soft_bits``) into bit PDUs (port ``bits``).

        code: the encoder's code (a name of ``ldpc.CODES`` or an alist path).
        max_iterations: belief-propagation iterations per frame at most (>= 1).
        engine: "numpy" (sum-product in the LLR domain, all frames of a PDU at
        once) or "gr-fec" (GNU Radio's ``fec.ldpc_decoder``, frame by frame; in
        3.10 it collapses to the all-zero word when messages saturate, which is
        then reported as a failed frame: see ``ldpc``).

        Input: f32vector of F * n LLRs log P(b=1|r)/P(b=0|r) (soft_demapper with
        output "llr"), in the encoder's order. Output: u8vector of the decoded
        information bits, ``ldpc_info_bits`` of them (the padding of the last
        frame dropped; all F * k without that key). Metadata: ``n_bits`` = that
        count, ``ldpc_frame_ok`` (u8, 1 where the frame's syndrome is zero),
        ``ldpc_failed_frames`` (how many are not), ``ldpc_iterations`` (s32 per
        frame). A failed frame still gives bits (its last hard decision). A PDU
        that is not a float vector, holds NaN or Inf, is not a whole number of
        codewords, or was encoded with another code is logged and dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_ldpc_decoder", {"soft_bits": self.handle_soft_bits}, ("bits",))
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, (int, np.integer)) \
                or max_iterations < 1:
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if engine not in ldpc.ENGINES:
            raise ValueError(f"engine must be one of {ldpc.ENGINES}, got {engine!r}")
        self.code = ldpc.load(code)
        self.max_iterations, self.engine = int(max_iterations), engine

    @pdu_block.takes(pdus.parse_floats, "soft-bit", "LLRs")
    def handle_soft_bits(self, meta, llr):
        """float32 (F * n,) LLRs -> uint8 (ldpc_info_bits,) decoded bits on port ``bits``."""
        code = self.code
        if pdus.text(meta, keys.LDPC_CODE, code.name) != code.name:
            raise ValueError(f"PDU was encoded with LDPC code {meta[keys.LDPC_CODE]!r}, "
                             f"this decoder's is {code.name!r}")
        if llr.size == 0 or llr.size % code.n:
            raise ValueError(f"{llr.size} LLRs are not a whole number of {code.name} codewords of {code.n} bits")
        if not np.all(np.isfinite(llr)):
            raise ValueError(f"soft-bit PDU holds {np.count_nonzero(~np.isfinite(llr))} NaN or Inf values")
        frames = llr.size // code.n
        n_info = meta.get(keys.LDPC_INFO_BITS, frames * code.k)
        if not isinstance(n_info, (int, np.integer)) or not (frames - 1) * code.k < n_info <= frames * code.k:
            raise ValueError(f"metadata {keys.LDPC_INFO_BITS!r} = {n_info!r} does not fit {frames} frames "
                             f"of {code.k} information bits")
        decode = code.decode if self.engine == "numpy" else code.decode_grfec
        bits, ok, iterations = decode(llr.reshape(frames, code.n), self.max_iterations)
        meta.update({keys.N_BITS: int(n_info), keys.LDPC_FRAME_OK: ok.astype(np.uint8),
                     keys.LDPC_FAILED_FRAMES: int(frames - ok.sum()),
                     keys.LDPC_ITERATIONS: iterations.astype(np.int32)})
        self.publish("bits", pdus.make(meta, bits.reshape(-1)[:n_info]))
