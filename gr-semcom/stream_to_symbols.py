#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""stream_to_symbols: a sample stream of frames -> received, equalised symbol PDUs."""
from __future__ import annotations

import collections

import numpy as np
import pmt
from gnuradio import gr

from . import keys, stream_frames

# samples with no burst tag after which the block says that something upstream drops tags
TAGLESS_WARNING = 1 << 22


class stream_to_symbols(gr.sync_block):
    def __init__(self):
        """Receive the frames of ``symbols_to_stream`` from a complex stream (after GNU
        Radio's channel blocks) and emit each payload as a symbol PDU on port ``symbols``.

        Each frame is found from its ``semcom_burst`` tag: the preamble within +-64 samples
        of it (a filter's or resampler's delay), then the frequency offset (up to +-0.0015
        cycles per sample), a sample-clock drift (the frame resampled when it drifts more
        than 0.05 samples), the complex gain through the burst from the pilots (averaged
        over as many pilot blocks as the channel stays steady for), and zero-forcing
        equalisation, so a channel's gain, phase, delay, clock offset and slow fading are
        undone and the decoder sees the symbols as over a plain AWGN channel.

        Output: c32vector of the payload's n_symbols with the sender's metadata, plus
        estimated_snr_db and noise_var (N0 after equalisation, estimated on the pilots), burst_cfo
        (cycles per sample), burst_drift (the sample-clock drift corrected, samples per sample)
        and burst_start (the preamble's stream sample).

        Nothing is lost silently: a frame whose preamble is not near its tag (a block that
        changes the sample rate, e.g. a resampler with a rate other than 1) is logged with its
        image id and dropped; frames still incomplete when the flowgraph stops are logged;
        a stream without tags (a block that drops them, e.g. Channel Model with Block Tags
        on) is reported after 4 M samples. ``received`` and ``dropped`` count the frames.
        """
        gr.sync_block.__init__(self, name="semcom_stream_to_symbols", in_sig=[np.complex64], out_sig=None)
        self.chunks: collections.deque[np.ndarray] = collections.deque()
        self.held_from = 0  # stream offset of the first sample held in chunks
        self.held = 0  # samples held in chunks
        self.pending = collections.deque()  # (tag offset, layout, metadata pmt)
        self.last_tag = 0
        self.warned = False
        self.received = 0
        self.dropped = 0
        self.message_port_register_out(pmt.intern("symbols"))

    def work(self, input_items, output_items):
        samples = input_items[0]
        offset = self.nitems_read(0)
        for tag in self.get_tags_in_window(0, 0, len(samples), pmt.intern(stream_frames.BURST_TAG)):
            self.last_tag = tag.offset
            try:
                layout, meta = stream_frames.Layout.from_tag(tag.value)
            except ValueError as error:
                self.dropped += 1
                self.logger.error(f"burst at sample {tag.offset} dropped: {error}")
                continue
            self.pending.append((tag.offset, layout, meta))
        self.chunks.append(np.array(samples))
        self.held += len(samples)
        while self.pending and self._complete(self.pending[0]):
            self._take(*self.pending.popleft())
        self._trim()
        if not self.warned and offset + len(samples) - self.last_tag > TAGLESS_WARNING:
            self.warned = True
            self.logger.error(f"no {stream_frames.BURST_TAG} tag in {TAGLESS_WARNING} samples: a block between "
                              f"symbols_to_stream and this block drops stream tags (Channel Model's Block Tags "
                              f"must be off), or the sender sends nothing")
        return len(samples)

    def _complete(self, burst) -> bool:
        tag_offset, layout, _ = burst
        return self.held_from + self.held >= tag_offset + layout.length + stream_frames.SEARCH

    def _window(self, begin: int, end: int) -> np.ndarray:
        """Samples [begin, end) of the stream, zeros before what is held."""
        held = np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0]
        self.chunks = collections.deque([held])
        lead = max(self.held_from - begin, 0)
        return np.concatenate([np.zeros(lead, np.complex64), held[begin + lead - self.held_from:end - self.held_from]])

    def _take(self, tag_offset: int, layout, meta) -> None:
        window = self._window(tag_offset - stream_frames.SEARCH, tag_offset + layout.length + stream_frames.SEARCH)
        image_id = pmt.to_python(pmt.dict_ref(meta, pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)) \
            if pmt.is_dict(meta) else None
        try:
            burst = stream_frames.receive(window, layout)
        except ValueError as error:
            self.dropped += 1
            self.logger.error(f"burst{f' of image {image_id}' if image_id else ''} at sample {tag_offset} "
                              f"dropped: {error}")
            return
        meta = meta if pmt.is_dict(meta) else pmt.make_dict()
        for key, value in ((keys.ESTIMATED_SNR_DB, pmt.from_double(burst.snr_db)),
                           (keys.NOISE_VAR, pmt.from_double(burst.noise_var)),
                           (keys.BURST_CFO, pmt.from_double(burst.cfo)),
                           (keys.BURST_DRIFT, pmt.from_double(burst.drift)),
                           (keys.BURST_START, pmt.from_double(float(tag_offset + burst.start)))):
            meta = pmt.dict_add(meta, pmt.intern(key), value)
        self.received += 1
        self.message_port_pub(pmt.intern("symbols"),
                              pmt.cons(meta, pmt.init_c32vector(burst.symbols.size, burst.symbols.tolist())))

    def _trim(self) -> None:
        """Forget samples no pending frame needs (keeping SEARCH for a tag yet to come)."""
        end = self.held_from + self.held
        keep_from = self.pending[0][0] - stream_frames.SEARCH if self.pending else end - stream_frames.SEARCH
        drop = min(max(keep_from - self.held_from, 0), self.held)
        while drop and self.chunks:
            first = self.chunks[0]
            if len(first) <= drop:
                self.chunks.popleft()
                cut = len(first)
            else:  # the rest of a chunk that _window joined: a copy, so the part before is freed
                self.chunks[0] = first[drop:].copy()
                cut = drop
            self.held_from += cut
            self.held -= cut
            drop -= cut

    def stop(self):
        for tag_offset, layout, meta in self.pending:
            image_id = pmt.to_python(pmt.dict_ref(meta, pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)) \
                if pmt.is_dict(meta) else None
            missing = tag_offset + layout.length + stream_frames.SEARCH - (self.held_from + self.held)
            self.logger.error(f"burst{f' of image {image_id}' if image_id else ''} at sample {tag_offset} lost: the "
                              f"stream ended {missing} samples before its end (a block upstream holds back more "
                              f"than the guard of {stream_frames.GUARD} samples)")
        self.dropped += len(self.pending)
        self.pending.clear()
        return True
