#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""burst_tx: symbol PDU -> pulse-shaped burst samples (preamble, header, pilots, payload)."""
from __future__ import annotations

import numpy as np
from gnuradio import filter as grfilter
from gnuradio import gr, pdu

from . import framing, keys, pdu_block, pdus


class burst_framer(pdu_block.pdu_block):
    """Symbol PDU (port ``symbols``) -> frame PDU (port ``frame``): ``framing.frame`` with
    the header from the metadata, then ``tail`` zero symbols (the pulse-shaping filter's
    flush and the gap before the next burst). A payload of more than ``max_symbols`` is
    dropped with a log line: the stream buffer after the framer holds no longer burst, and
    GNU Radio's pdu_to_tagged_stream would stop for good on one that does not fit."""

    def __init__(self, pilot_spacing=32, tail=64, max_symbols=framing.DEFAULT_MAX_SYMBOLS):
        pdu_block.pdu_block.__init__(self, "semcom_burst_framer", {"symbols": self.handle_symbols}, ("frame",))
        self.pilot_spacing, self.tail = int(pilot_spacing), int(tail)
        self.max_symbols = framing.check_max_symbols(max_symbols)

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, payload):
        """complex64 (S,) payload -> complex64 frame and ``tail`` zeros on port ``frame``."""
        framing.check_payload(payload.size, self.max_symbols)
        height, width = pdus.image_size(meta, (0, 0))
        model = pdus.text(meta, keys.MODEL_ID)
        kind = pdus.whole(meta, keys.BITS_PER_SYMBOL, 0, high=255)
        padding = payload.size * kind - pdus.whole(meta, keys.N_BITS, payload.size * kind) if kind else 0
        header = framing.Header(kind, int(payload.size), padding, height, width,
                                framing.model_hash(model) if model else 0, pdus.text(meta, keys.IMAGE_ID, ""))
        samples = np.concatenate([framing.frame(payload, header, self.pilot_spacing),
                                  np.zeros(self.tail, np.complex64)])
        self.publish("frame", pdus.make({keys.IMAGE_ID: header.image_id}, samples))


class burst_tx(gr.hier_block2):
    def __init__(self, sps=4, rolloff=0.35, pilot_spacing=32, gap=64, amplitude=1.0,
                 max_symbols=framing.DEFAULT_MAX_SYMBOLS):
        """Symbol PDUs (message port ``symbols``: analog JSCC symbols from jscc_encoder, or QAM
        symbols from qam_mapper) to a complex sample stream of bursts, ``sps`` samples per
        symbol, root-raised-cosine shaped (``rolloff``), ready for an SDR sink.

        Each burst: the preamble, the LDPC-protected header (image id, image shape, model,
        payload length and kind from the metadata: ``bits_per_symbol``, 0 for analog, and the
        QAM padding from ``n_bits``), the
        payload with a pilot before every ``pilot_spacing`` symbols (``framing``), then
        ``gap`` zero symbols. ``amplitude`` scales the samples: their average power is
        amplitude^2 (keep the peaks under an SDR's full scale, e.g. 0.3). The stream carries
        ``packet_len`` tags (one per burst) for burst-mode sinks. max_symbols: the longest
        payload (1..``framing.MAX_SYMBOLS``), for the stream buffer a whole burst must fit
        in; a longer PDU is dropped with a log line naming its image and the limit, and the
        PDUs after it go on. Give burst_rx the same max_symbols: it refuses longer bursts.
        """
        gr.hier_block2.__init__(self, "semcom_burst_tx", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        if int(sps) < 2 or not 0 < rolloff <= 1 or int(pilot_spacing) < 1 or int(gap) < 0 \
                or not (np.isfinite(amplitude) and amplitude > 0):
            raise ValueError(f"burst_tx needs sps >= 2, 0 < rolloff <= 1, pilot_spacing >= 1, gap >= 0 and "
                             f"amplitude > 0, got {sps}, {rolloff}, {pilot_spacing}, {gap}, {amplitude}")
        self.sps, self.rolloff, self.pilot_spacing = int(sps), float(rolloff), int(pilot_spacing)
        self.max_symbols = framing.check_max_symbols(max_symbols)
        taps = framing.rrc_taps(self.sps, self.rolloff)
        # the filter's tail of ceil(len(taps) / sps) symbols comes out before the gap
        self.framer = burst_framer(pilot_spacing, -(-taps.size // self.sps) + int(gap), self.max_symbols)
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, "packet_len")
        # the framer lets no longer payload through, so every frame fits this buffer
        longest = framing.PREAMBLE.size + framing.body_length(self.max_symbols, self.pilot_spacing) + self.framer.tail
        self.to_stream.set_min_output_buffer(pdus.burst_buffer(longest))
        self.shaper = grfilter.interp_fir_filter_ccf(self.sps, (taps * np.sqrt(self.sps) * amplitude).tolist())
        self.message_port_register_hier_in("symbols")
        self.msg_connect(self, "symbols", self.framer, "symbols")
        self.msg_connect(self.framer, "frame", self.to_stream, "pdus")
        self.connect(self.to_stream, self.shaper, self)
