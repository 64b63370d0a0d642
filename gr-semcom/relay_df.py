#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""relay_df: received symbol PDU -> re-encoded symbol PDU (decode-and-forward relay)."""
from __future__ import annotations

from . import bundle, keys, pdu_block, pdus


class relay_df(pdu_block.pdu_block):
    def __init__(self, model, relay=1, provider="auto", threads=0, precision="fp32"):
        """Relay ``relay`` of a multi-hop DeepJSCC model: decode the symbols received on hop
        ``relay`` - 1 (port ``symbols``) with that hop's decoder, re-encode the image with hop
        ``relay``'s encoder and send it on (port ``symbols``); the relay's reconstruction goes
        out on port ``image``.

        model: bundle folder or shipped name of a decode-and-forward model (card ``hops`` >= 2).
        relay: 1 .. hops - 1, the relay's place on the route (1: the one after the source).
        provider, threads, precision: as for jscc_encoder.

        Output metadata: hop = ``relay``, n_symbols and the input's other keys. Dropped with
        a logged error: symbols of another model, of another hop (a relay fed the wrong
        hop's symbols), of a count that does not fit the image, NaN or Inf.
        """
        pdu_block.pdu_block.__init__(self, "semcom_relay_df", {"symbols": self.handle_symbols}, ("symbols", "image"))
        self.bundle = bundle.DeepJSCCBundle(model, provider, threads, precision)
        relay = int(relay)
        if self.bundle.hops < 2:
            raise bundle.ModelError(f"model {self.bundle.model_id} is single-hop: it has no relays "
                                    f"(a decode-and-forward model's card has hops >= 2)")
        if not 1 <= relay < self.bundle.hops:
            raise ValueError(f"relay must be 1 .. {self.bundle.hops - 1} for model {self.bundle.model_id} "
                             f"({self.bundle.hops} hops), got {relay}")
        self.relay = relay
        for kind, hop in (("decoder", relay - 1), ("encoder", relay)):  # load now: a bad model fails here
            self.bundle.session(self.bundle.role(kind, hop))

    @pdu_block.takes(pdus.parse_symbols)
    def handle_symbols(self, meta, received):
        """complex64 (S,) symbols of hop relay - 1 -> uint8 (H, W, 3) image on port ``image`` and
        complex64 symbols of hop ``relay`` on port ``symbols``."""
        mean, _, height, width = pdus.received_symbols(self.bundle, meta, received, self.relay - 1,
                                                       f"relay {self.relay}")
        image = self.bundle.decode(mean, height, width, self.relay - 1)
        sent = self.bundle.encode(image, hop=self.relay)
        self.publish("image", pdus.image_pdu({**meta, keys.HOP: self.relay}, image))
        meta.update({keys.HOP: self.relay, keys.N_SYMBOLS: int(sent.size), keys.MODEL_ID: self.bundle.model_id})
        self.publish("symbols", pdus.make(meta, sent))
