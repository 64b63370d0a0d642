#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""symbols_to_stream: symbol PDUs -> a sample stream of frames for GNU Radio's channel blocks."""
from __future__ import annotations

import collections

import numpy as np
import pmt
from gnuradio import gr

from . import pdus, stream_frames


class symbols_to_stream(gr.sync_block):
    def __init__(self, pilot_spacing=stream_frames.DEFAULT_PILOT_SPACING):
        """Send each symbol PDU (port ``symbols``) as a frame on the complex output stream,
        one sample per symbol, for ``stream_to_symbols`` after any of GNU Radio's channel
        blocks (see ``stream_frames`` for the frame).

        pilot_spacing: payload symbols between pilot blocks of 17 (>= 0; 0: only the
        preamble and one pilot block after the payload, for a channel that does not change
        during a burst). The default 256 follows fading with a Doppler spread fD Ts up to
        about 5e-4 and costs 6.6 % of channel uses, the 502-symbol preamble and a guard of
        256 to 511 zeros per burst aside; everything is sent at the payload's unit power.

        Output: complex64 samples, only while there are frames to send (the stream waits
        between PDUs, so no buffer settings are needed). Each frame's first sample carries the
        tag ``semcom_burst`` with its geometry and the PDU's metadata. A PDU that is not
        complex symbols, is empty or holds NaN or Inf is logged and dropped.
        """
        gr.sync_block.__init__(self, name="semcom_symbols_to_stream", in_sig=None, out_sig=[np.complex64])
        stream_frames.Layout(1, pilot_spacing)  # raises for an impossible spacing
        self.pilot_spacing = int(pilot_spacing)
        self.frames = collections.deque()  # (samples, tag value) waiting to be sent
        self.sent = 0  # samples of frames[0] already out
        self.message_port_register_in(pmt.intern("symbols"))
        self.set_msg_handler(pmt.intern("symbols"), self.handle_symbols)

    @pdus.guarded
    def handle_symbols(self, msg):
        _, symbols = pdus.parse_symbols(msg)
        if symbols.size == 0:
            raise ValueError("symbol PDU is empty")
        layout = stream_frames.Layout(symbols.size, self.pilot_spacing)
        self.frames.append((stream_frames.frame(symbols, self.pilot_spacing), layout.tag_value(pmt.car(msg))))

    def work(self, input_items, output_items):
        out = output_items[0]
        produced = 0
        # messages are handled in this block's thread between calls of work: returning 0
        # when idle lets the scheduler sleep until the next PDU arrives
        while self.frames and produced < len(out):
            samples, tag = self.frames[0]
            if self.sent == 0:
                self.add_item_tag(0, self.nitems_written(0) + produced, pmt.intern(stream_frames.BURST_TAG), tag)
            count = min(samples.size - self.sent, len(out) - produced)
            out[produced:produced + count] = samples[self.sent:self.sent + count]
            produced += count
            self.sent += count
            if self.sent == samples.size:
                self.frames.popleft()
                self.sent = 0
        return produced
