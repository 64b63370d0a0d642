#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""pdu_block: the base of gr-semcom's message blocks, which take PDUs on named input ports
and send PDUs on named output ports (``pdus`` builds and checks the PDUs).

A block derives from ``pdu_block``, makes each input's handler with ``takes`` and names
its ports in ``__init__``::

    class qam_mapper(pdu_block.pdu_block):
        def __init__(self, constellation):
            pdu_block.pdu_block.__init__(self, "semcom_qam_mapper", {"bits": self.handle_bits}, ("symbols",))

        @pdu_block.takes(pdus.parse_bits)
        def handle_bits(self, meta, bits):
            self.publish("symbols", pdus.make(meta, ...))
"""
from __future__ import annotations

import functools

import pmt
from gnuradio import gr

from . import pdus


def takes(parse, *args):
    """Make ``process(self, meta, payload)`` a ``pdu_block`` input's message handler
    ``(self, msg)``: ``parse(msg, *args)`` (a ``pdus.parse_*`` function) gives the metadata
    dict and the numpy payload, and ``pdus.guarded`` drops, with a log line, a message that
    fails to parse or to process."""
    def decorate(process):
        # wraps keeps the method's name: GNU Radio calls a Python block's handler by its name
        @functools.wraps(process)
        def handle(block, msg):
            process(block, *parse(msg, *args))
        return pdus.guarded(handle)
    return decorate


class pdu_block(gr.basic_block):
    """A message-only block: ``inputs`` maps each input port's name to its handler (a
    method made with ``takes``), ``outputs`` names the output ports ``publish`` sends on."""

    def __init__(self, name: str, inputs: dict, outputs=()):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        for port, handler in inputs.items():
            self.message_port_register_in(pmt.intern(port))
            self.set_msg_handler(pmt.intern(port), handler)
        for port in outputs:
            self.message_port_register_out(pmt.intern(port))

    def publish(self, port: str, pdu) -> None:
        """Send ``pdu`` (``pdus.make`` or ``pdus.image_pdu``) on the output port ``port``."""
        self.message_port_pub(pmt.intern(port), pdu)
