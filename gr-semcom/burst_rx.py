#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""burst_rx: a received sample stream -> equalised symbol PDUs of the bursts in it."""
from __future__ import annotations

import numpy as np
import pmt
from gnuradio import filter as grfilter
from gnuradio import gr

from . import bundle, framing, keys, pdus

_MARGIN = 16  # samples past a frame's last symbol the fractional interpolator reads


class burst_receiver(gr.sync_block):
    """Matched-filtered samples in -> symbol PDUs out (port ``symbols``), one per burst
    whose header decodes (``framing``): detection, frequency offset, timing, gain and
    noise from the preamble, pilot tracking through the body. Counts ``detections``,
    ``header_errors``, ``refused`` (headers that decode but claim a payload longer than
    ``max_symbols``) and ``bursts``."""

    def __init__(self, sps=4, pilot_spacing=32, threshold=0.15, model="", equalizer_taps=1, rolloff=0.35,
                 max_symbols=framing.DEFAULT_MAX_SYMBOLS):
        gr.sync_block.__init__(self, name="semcom_burst_receiver", in_sig=[np.complex64], out_sig=None)
        self.sps, self.pilot_spacing, self.threshold = int(sps), int(pilot_spacing), float(threshold)
        self.max_symbols = framing.check_max_symbols(max_symbols)
        self.rolloff = float(rolloff)
        self.equalizer_taps = int(equalizer_taps)
        # a bundle folder or shipped name: its card's model id is what the header's hash is of
        self.model = bundle.Bundle(model).model_id if model else ""
        self.model_hash = framing.model_hash(self.model) if model else None
        self.buffer = np.zeros(0, np.complex64)
        self.consumed = 0  # stream index of buffer[0]
        self.searched = 0  # buffer index up to which preambles have been looked for
        self.pending: framing.Detection | None = None
        self.header: framing.Header | None = None
        self.detections = self.header_errors = self.refused = self.bursts = 0
        self.message_port_register_out(pmt.intern("symbols"))

    @property
    def _preamble(self) -> int:
        return framing.PREAMBLE.size * self.sps

    def work(self, input_items, output_items):
        self.buffer = np.concatenate([self.buffer, input_items[0]])
        while True:
            try:
                if not self._step():
                    break
            except ValueError as error:  # a burst that cannot be read must not stop the stream
                if self.pending is None:  # nothing found to skip past: start afresh after these samples
                    self.logger.error(f"search at sample {self.consumed} failed: {error}")
                    self._skip(self.buffer.size)
                else:
                    self.logger.error(f"burst at sample {self.consumed + self.pending.start:.0f} dropped: {error}")
                    self._skip(self.pending.start + self._preamble)
        return len(input_items[0])

    def _step(self) -> bool:
        """Advance by one stage (detect, read the header, take the burst); False: need more samples."""
        if self.pending is None:
            return self._search()
        if self.header is None:
            return self._read_header()
        return self._take_burst()

    def _search(self) -> bool:
        # a preamble wholly inside the buffer, with room for the timing search around it
        room = self._preamble + framing.PREAMBLE_HALF * self.sps + _MARGIN
        start = max(0, self.searched - 2 * room)
        if self.buffer.size - start < 2 * room:
            return False
        found = [d for d in framing.detect(self.buffer[start:], self.sps, self.threshold,
                                           equaliser_taps=self.equalizer_taps)
                 if start + d.start + room <= self.buffer.size]
        if not found:
            self.searched = self.buffer.size - room
            self._drop(max(0, self.searched - 2 * room))
            return False
        first = found[0]
        first.start += start
        self.pending, self.detections = first, self.detections + 1
        return True

    def _read_header(self) -> bool:
        length = framing.header_length()
        with_pilots = length + framing.pilot_count(length, self.pilot_spacing)
        if self.pending.start + (framing.PREAMBLE.size + with_pilots) * self.sps + _MARGIN > self.buffer.size:
            return False
        body = framing.symbols_at(self.buffer, self.pending, framing.PREAMBLE.size, with_pilots, self.sps)
        symbols, _ = framing.track(body, length, self.pilot_spacing)
        at = f"at sample {self.consumed + self.pending.start:.0f}"
        try:
            header = framing.read_header(symbols, self._noise_var())
        except ValueError as error:
            self.header_errors += 1
            self.logger.warn(f"burst {at} dropped: {error}")
            self._skip(self.pending.start + self._preamble // 2)  # a preamble just after is still found
            return True
        try:
            # before any sample is buffered for the payload: the CRC keeps out noise, not a
            # crafted or misconfigured sender, and the length field could claim 2^32 - 1 symbols
            framing.check_payload(header.n_symbols, self.max_symbols)
        except ValueError as error:
            self.refused += 1
            self.logger.error(f"burst {header.image_id!r} {at} refused at its header: {error}; searching on")
            self._skip(self.pending.start + self._preamble // 2)
            return True
        self.header = header
        return True

    def _take_burst(self) -> bool:
        header, found = self.header, self.pending
        n_body = framing.header_length() + header.n_symbols
        length = framing.body_length(header.n_symbols, self.pilot_spacing)
        span = (framing.PREAMBLE.size + length) * self.sps
        # room for the timing to drift by a sample-rate offset of up to 100 ppm
        if found.start + span * (1 + 1e-4) + _MARGIN > self.buffer.size:
            return False
        drift = framing.timing_drift(self.buffer, found, n_body, self.pilot_spacing, self.sps, self.rolloff)
        body = framing.symbols_at(self.buffer, found, framing.PREAMBLE.size, length, self.sps, drift)
        symbols, _ = framing.track(body, n_body, self.pilot_spacing)
        noise_var, start = self._noise_var(), float(self.consumed + found.start)
        self._skip(found.start + (framing.PREAMBLE.size + length) * (self.sps + drift))
        if self.model_hash is not None and header.model not in (0, self.model_hash):
            self.logger.error(f"burst {header.image_id!r} dropped: it carries another model's symbols "
                              f"than {self.model}'s")
            return True
        self.bursts += 1
        meta = {keys.IMAGE_ID: header.image_id, keys.N_SYMBOLS: header.n_symbols, keys.SNR_DB: found.snr_db,
                keys.NOISE_VAR: noise_var, keys.EQUALIZED_GAIN: complex(found.gain),
                keys.BURST_CFO: found.cfo, keys.BURST_START: start,
                keys.BURST_DRIFT: drift / self.sps}
        if header.height and header.width:
            meta[keys.IMAGE_SHAPE] = np.array([header.height, header.width, 3], np.int32)
        if header.kind:
            meta[keys.BITS_PER_SYMBOL] = header.kind
            meta[keys.N_BITS] = header.n_symbols * header.kind - header.padding
        if self.model_hash is not None:
            meta[keys.MODEL_ID] = self.model
        self.message_port_pub(pmt.intern("symbols"), pdus.make(meta, symbols[framing.header_length():]))
        return True

    def _noise_var(self) -> float:
        """N0 of the equalised symbols (unit signal power), from the preamble."""
        return self.pending.noise_var

    def _skip(self, until: float) -> None:
        """Forget the pending burst and the samples before buffer index ``until``."""
        self.pending = self.header = None
        self._drop(int(until))
        self.searched = 0

    def _drop(self, count: int) -> None:
        if count > 0:
            self.buffer = self.buffer[count:]
            self.consumed += count
            self.searched = max(0, self.searched - count)


class burst_rx(gr.hier_block2):
    def __init__(self, sps=4, rolloff=0.35, pilot_spacing=32, threshold=0.15, model="", equalizer_taps=1,
                 max_symbols=framing.DEFAULT_MAX_SYMBOLS):
        """A complex sample stream at ``sps`` samples per symbol (an SDR source, or burst_tx
        through a channel) in; the equalised payload of every burst whose header decodes out on
        message port ``symbols`` as a symbol PDU for the JSCC decoder or the soft demapper.

        The matched filter is the root-raised cosine of ``rolloff``; ``burst_receiver`` does the
        rest (``framing``): detection above ``threshold`` (normalised preamble correlation,
        0..1), frequency offset, fractional timing, gain and noise from the preamble, pilot
        tracking, and for bursts of 8,000 symbols and more the timing drift of a sample-rate
        offset (``framing.timing_drift``). equalizer_taps: 1 removes one complex gain (flat channels); an odd number
        above 1 fits a symbol-spaced least-squares equaliser of that many taps on the
        preamble, for multipath. Metadata: image_id, image_shape, n_symbols, bits_per_symbol (QAM) from the
        header; snr_db and noise_var (N0 of the equalised symbols) estimated; equalized_gain
        (the preamble's complex gain, removed); burst_cfo (cycles per sample), burst_start
        (the stream sample of the preamble), burst_drift (the sample-rate offset found, as a
        fraction: -1e-5 for a receiver clock 10 ppm fast). model: when given, bursts of another model are
        dropped and model_id is set (a bundle folder or shipped name). max_symbols: the
        longest payload the sender's burst_tx sends (its max_symbols, 1..``framing.MAX_SYMBOLS``);
        a burst whose header claims more is refused at the header with a log line, counted
        (``receiver.refused``), and the search goes on, so no header makes the receiver
        buffer more than one burst of max_symbols.
        """
        gr.hier_block2.__init__(self, "semcom_burst_rx", gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        if int(sps) < 2 or not 0 < rolloff <= 1 or int(pilot_spacing) < 1 or not 0 < threshold < 1 \
                or int(equalizer_taps) < 1 or int(equalizer_taps) % 2 == 0:
            raise ValueError(f"burst_rx needs sps >= 2, 0 < rolloff <= 1, pilot_spacing >= 1, 0 < threshold < 1 and "
                             f"an odd equalizer_taps >= 1, got {sps}, {rolloff}, {pilot_spacing}, {threshold}, "
                             f"{equalizer_taps}")
        self.matched = grfilter.fir_filter_ccf(1, framing.rrc_taps(int(sps), float(rolloff)).tolist())
        self.receiver = burst_receiver(sps, pilot_spacing, threshold, model, equalizer_taps, rolloff, max_symbols)
        self.message_port_register_hier_out("symbols")
        self.connect(self, self.matched, self.receiver)
        self.msg_connect(self.receiver, "symbols", self, "symbols")
