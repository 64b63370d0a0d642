"""ldpc_encoder: bit PDU -> LDPC-coded bit PDU (gr-fec's encoder, see ``ldpc``)."""
from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from gnuradio.semcom import keys, ldpc, pdus


class ldpc_encoder(gr.basic_block):
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
        gr.basic_block.__init__(self, name="semcom_ldpc_encoder", in_sig=None, out_sig=None)
        self.code = ldpc.load(code)
        self.message_port_register_in(pmt.intern("bits"))
        self.message_port_register_out(pmt.intern("bits"))
        self.set_msg_handler(pmt.intern("bits"), self.handle_bits)

    @pdus.guarded
    def handle_bits(self, msg):
        meta, bits = pdus.parse_bits(msg)
        code = self.code
        frames = -(-bits.size // code.k)
        info = np.zeros(frames * code.k, dtype=np.uint8)
        info[:bits.size] = bits
        coded = code.encode(info.reshape(frames, code.k)).reshape(-1)
        meta.update({keys.N_BITS: int(coded.size), keys.LDPC_INFO_BITS: int(bits.size),
                     keys.LDPC_FRAMES: frames, keys.LDPC_CODE: code.name})
        self.message_port_pub(pmt.intern("bits"), pdus.make(meta, coded))
