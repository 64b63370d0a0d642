#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""flowgraphs.awgn_hop in a running flowgraph: PDUs that GNU Radio's pdu_to_tagged_stream
cannot take (longer than its buffer, not a pair, not complex, empty) are dropped with a log
line before it, and the PDUs after them still cross the hop."""
from __future__ import annotations

import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from conftest import logged
from gnuradio.semcom import keys, pdus
from semcom_tools import flowgraphs


class forward(gr.basic_block):
    """Publishes whatever is posted to it: a message source for the hop that passes even
    messages GNU Radio's own PDU blocks would stop on."""

    def __init__(self):
        gr.basic_block.__init__(self, name="forward", in_sig=None, out_sig=None)
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self.handle)

    def handle(self, msg):
        self.message_port_pub(pmt.intern("out"), msg)


def through_hop(messages, max_symbols, expected, timeout=10.0):
    """(PDUs out of an awgn_hop set up for ``max_symbols``, the hop) after posting ``messages``."""
    top = gr.top_block()
    entry, hop, store = forward(), flowgraphs.awgn_hop(30.0, 5, max_symbols), blocks.message_debug()
    top.msg_connect(hop.connect(top, (entry, "out")), (store, "store"))
    top.start()
    try:
        for msg in messages:
            entry.to_basic_block()._post(pmt.intern("in"), msg)
        deadline = time.monotonic() + timeout
        while store.num_messages() < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # anything that should not come out has had time to
    finally:
        top.stop()
        top.wait()
    return [pdus.parse_symbols(store.get_message(i)) for i in range(store.num_messages())], hop


def test_an_oversize_pdu_is_dropped_before_the_stream_and_the_next_one_crosses_the_hop(capfd):
    """pdu_to_tagged_stream stops for good on a PDU longer than its buffer ("Buffer too small
    for min_noutput_items"), and every image after it vanished."""
    sent = np.exp(1j * np.arange(512)).astype(np.complex64)
    messages = [pdus.make({keys.IMAGE_ID: "huge"}, np.ones(20000, np.complex64)),
                pdus.make({keys.IMAGE_ID: "valid"}, sent)]
    received, hop = through_hop(messages, 1000, 1)
    assert [meta[keys.IMAGE_ID] for meta, _ in received] == ["valid"]
    assert np.mean(np.abs(received[0][1] - sent) ** 2) < 0.01  # the valid one, through 30 dB of noise
    log = logged(capfd)
    assert ("dropped message for image huge: 20000 symbols, outside the 1..1000 the AWGN hop's stream buffer is "
            "set up for (max_symbols); refused before pdu_to_tagged_stream") in log
    assert "Buffer too small" not in log and hop.gate.refused == 1


def test_messages_the_stream_cannot_carry_are_dropped_with_a_log_line(capfd):
    """A message that is not a pair stops pdu_to_tagged_stream too ("received a malformed pdu
    message"); a byte vector would cross as garbage symbols and an empty one vanish unlogged."""
    messages = [pmt.intern("junk"),
                pdus.make({keys.IMAGE_ID: "bytes"}, np.ones(64, np.uint8)),
                pdus.make({keys.IMAGE_ID: "empty"}, np.zeros(0, np.complex64)),
                pdus.make({keys.IMAGE_ID: "valid"}, np.ones(100, np.complex64))]
    received, hop = through_hop(messages, 1000, 1)
    assert [(meta[keys.IMAGE_ID], symbols.size) for meta, symbols in received] == [("valid", 100)]
    log = logged(capfd)
    assert "dropped message: message is not a PDU (metadata, vector) pair; refused before pdu_to_tagged_stream" in log
    assert "dropped message for image bytes: PDU payload is not a c32vector of symbols" in log
    assert "dropped message for image empty: 0 symbols, outside the 1..1000" in log
    assert hop.gate.refused == 3
