#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Symbol PDUs as frames in a sample stream at one sample per symbol, and back.

``symbols_to_stream`` sends each PDU as a frame so that GNU Radio's channel blocks
(``channels.channel_model``, fading models, noise source + add, ...) can sit between it
and ``stream_to_symbols``; the frame lets the receiver undo what those blocks do to a
stream besides the noise (a delay of a few samples, a complex gain, a frequency offset,
slow fading) and the guard flushes whatever a filter or resampler holds back::

    preamble  2 x PREAMBLE_HALF symbols: a Zadoff-Chu sequence sent twice; the burst's
              timing (searched +-SEARCH samples around its tag), the frequency offset
              (phase step between the halves, range +-1 / (2 PREAMBLE_HALF) cycles per
              sample) and the first channel estimate
    payload   the PDU's symbols in segments of ``pilot_spacing``, each followed by
              PILOT_LENGTH known symbols (one pilot block after the last segment in any
              case): the gain and phase through the burst, interpolated between blocks
    guard     zeros, at least GUARD, up to a multiple of GUARD samples

The PDU's metadata and the frame's geometry travel as one stream tag ``BURST_TAG`` on
the preamble's first sample (as ``pdu_to_tagged_stream`` carries metadata in tags), so
the receiver never has to detect a burst blindly: it looks for the preamble near the tag.
Everything here is numpy; the blocks add the stream.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pmt

from .framing import MAX_SYMBOLS, zadoff_chu  # the most payload symbols any link carries

PREAMBLE_HALF = 251  # prime: the Zadoff-Chu sequence has ideal periodic autocorrelation
PREAMBLE = np.concatenate([zadoff_chu(PREAMBLE_HALF), zadoff_chu(PREAMBLE_HALF)])
PILOT_LENGTH = 17
PILOTS = zadoff_chu(PILOT_LENGTH, root=7)
GUARD = 256
SEARCH = 64  # samples either side of the tag where the preamble may start
BURST_TAG = "semcom_burst"
DEFAULT_PILOT_SPACING = 256
# a burst whose preamble correlates less than this with the received samples is refused:
# a clean burst gives 1, an SNR of s about s / (1 + s) (found in 199 of 200 at -12 dB, 139 at
# -15 dB); noise alone stays below it at 497 of 500 windows of 129 candidates
MIN_PREAMBLE_METRIC = 0.02
# a frame whose timing drifts further than this (samples) from the preamble's within the frame
# is resampled on the sender's clock (e.g. Channel Model's epsilon other than 1)
MAX_TIMING_ERROR = 0.05
# ... unless the blocks' timings scatter about their line by more than this (samples, RMS),
# or the drift is beyond any clock's (samples per sample): then it is taken as it is
MAX_TIMING_RESIDUAL = 0.2
MAX_DRIFT = 1e-3


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where everything of a frame of ``n_symbols`` payload symbols lies.

    pilot_spacing: payload symbols between pilot blocks (0: one pilot block, after the payload).
    """
    n_symbols: int
    pilot_spacing: int = DEFAULT_PILOT_SPACING

    def __post_init__(self):
        if not _whole(self.n_symbols) or not 1 <= self.n_symbols <= MAX_SYMBOLS:
            raise ValueError(f"a frame carries 1 to {MAX_SYMBOLS} payload symbols, got {self.n_symbols!r}")
        if not _whole(self.pilot_spacing) or self.pilot_spacing < 0:
            raise ValueError(f"pilot_spacing must be a whole number >= 0, got {self.pilot_spacing!r}")

    @property
    def segment(self) -> int:
        return int(self.pilot_spacing) or int(self.n_symbols)

    @property
    def n_pilot_blocks(self) -> int:
        return -(-int(self.n_symbols) // self.segment)

    @property
    def length(self) -> int:
        """Samples from the preamble's first to the last pilot's last (no guard)."""
        return PREAMBLE.size + int(self.n_symbols) + self.n_pilot_blocks * PILOT_LENGTH

    @property
    def padded_length(self) -> int:
        """Samples of the frame with its guard."""
        return -(-(self.length + GUARD) // GUARD) * GUARD

    def payload_positions(self) -> np.ndarray:
        """(n_symbols,) int64: each payload symbol's sample within the frame."""
        index = np.arange(int(self.n_symbols))
        return PREAMBLE.size + index + (index // self.segment) * PILOT_LENGTH

    def pilot_starts(self) -> np.ndarray:
        """(n_pilot_blocks,) int64: each pilot block's first sample within the frame."""
        block = np.arange(self.n_pilot_blocks)
        ends = np.minimum((block + 1) * self.segment, int(self.n_symbols))
        return PREAMBLE.size + ends + block * PILOT_LENGTH

    def tag_value(self, meta):
        """The ``BURST_TAG`` value: a pmt dict of the geometry and ``meta`` (the PDU's metadata pmt)."""
        value = pmt.make_dict()
        value = pmt.dict_add(value, pmt.intern("n_symbols"), pmt.from_long(int(self.n_symbols)))
        value = pmt.dict_add(value, pmt.intern("pilot_spacing"), pmt.from_long(int(self.pilot_spacing)))
        return pmt.dict_add(value, pmt.intern("metadata"), meta)

    @classmethod
    def from_tag(cls, value) -> tuple["Layout", object]:
        """(layout, metadata pmt dict) of a ``BURST_TAG`` value; ValueError when it is not one."""
        if not pmt.is_dict(value):
            raise ValueError(f"{BURST_TAG} tag value is not a dict")
        fields = [pmt.dict_ref(value, pmt.intern(key), pmt.PMT_NIL) for key in ("n_symbols", "pilot_spacing")]
        meta = pmt.dict_ref(value, pmt.intern("metadata"), pmt.PMT_NIL)
        if not all(pmt.is_integer(field) for field in fields) or not (pmt.is_dict(meta) or pmt.is_null(meta)):
            raise ValueError(f"{BURST_TAG} tag needs integers n_symbols, pilot_spacing and a metadata dict")
        return cls(*(pmt.to_long(field) for field in fields)), meta


def _whole(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and np.isfinite(value) and float(value).is_integer()


def frame(symbols: np.ndarray, pilot_spacing: int = DEFAULT_PILOT_SPACING) -> np.ndarray:
    """(Layout.padded_length,) complex64 samples of the frame carrying ``symbols`` ((n,) complex)."""
    layout = Layout(int(np.size(symbols)), pilot_spacing)
    samples = np.zeros(layout.padded_length, np.complex64)
    samples[:PREAMBLE.size] = PREAMBLE
    samples[layout.payload_positions()] = symbols
    for start in layout.pilot_starts():
        samples[start:start + PILOT_LENGTH] = PILOTS
    return samples


@dataclasses.dataclass
class Received:
    """A frame's payload after synchronisation and equalisation.

    symbols: (n_symbols,) complex64, ZF-equalised. start: the preamble's offset from the
    tag, samples. metric: the preamble's normalised correlation (0..1). cfo: frequency
    offset corrected, cycles per sample. noise_var: N0 after equalisation (the noise
    measured on the pilots over the mean channel power). gain: (n_symbols,) complex64,
    the channel gain removed from each symbol. drift: the sample-clock drift corrected,
    samples per sample (0 when the frame was taken as it came).
    """
    symbols: np.ndarray
    start: int
    metric: float
    cfo: float
    noise_var: float
    gain: np.ndarray
    drift: float

    @property
    def snr_db(self) -> float:
        return float(10 * np.log10(1 / self.noise_var)) if self.noise_var > 0 else float("inf")


def receive(window: np.ndarray, layout: Layout) -> Received:
    """Find, synchronise and equalise a frame in ``window``: (layout.length + 2 SEARCH,)
    complex samples starting SEARCH samples before the tag. ValueError when no preamble
    correlates there (the tag is not where the burst is)."""
    if window.size < layout.length + 2 * SEARCH:
        raise ValueError(f"window of {window.size} samples, the frame needs {layout.length + 2 * SEARCH}")
    window = np.asarray(window, np.complex128)
    half = PREAMBLE[:PREAMBLE_HALF]
    # each half's normalised correlation at every candidate start; the smaller of the two
    # counts, so that the preamble's second half alone (half a preamble early) does not
    candidates = 2 * SEARCH + 1
    head = window[:2 * SEARCH + PREAMBLE.size]
    corr = np.correlate(head, half, "valid")
    energy = np.maximum(np.convolve(np.abs(head) ** 2, np.ones(PREAMBLE_HALF), "valid"), 1e-30)
    first, second = corr[:candidates], corr[PREAMBLE_HALF:PREAMBLE_HALF + candidates]
    metric = np.minimum(np.abs(first) ** 2 / energy[:candidates],
                        np.abs(second) ** 2 / energy[PREAMBLE_HALF:PREAMBLE_HALF + candidates]) / PREAMBLE_HALF
    best = int(np.argmax(metric))
    if metric[best] < MIN_PREAMBLE_METRIC:
        raise ValueError(f"no preamble within {SEARCH} samples of the burst's tag (best correlation "
                         f"{metric[best]:.3f}, at least {MIN_PREAMBLE_METRIC} expected): a block between "
                         f"symbols_to_stream and stream_to_symbols changes the sample rate, delays the "
                         f"samples against their tags, or the SNR is below about -15 dB")
    cfo = float(np.angle(second[best] * np.conj(first[best])) / (2 * np.pi * PREAMBLE_HALF))
    window = window * np.exp(-2j * np.pi * cfo * (np.arange(window.size) - best))
    # the frame as it came and, where the timing drifts, resampled on the sender's clock:
    # whichever leaves less noise on the pilots (multipath fading moves the timing too, and
    # resampling that only hurts)
    options = [(0.0, window[best:best + layout.length])]
    drift = _drift(window, best, layout)
    if drift is not None:
        options.append((drift[0], _interpolate(window, best + np.arange(layout.length) + drift[1])))
    drift, (symbols, gain, noise, noise_var, residual_cfo) = min(
        ((d, _equalise(frame, layout)) for d, frame in options), key=lambda option: option[1][2])
    cfo += residual_cfo
    # the gain removed from each symbol, with the frequency offset's rotation put back
    removed = gain * np.exp(2j * np.pi * cfo * layout.payload_positions())
    return Received(symbols.astype(np.complex64), best - SEARCH, float(metric[best]), cfo, noise_var,
                    removed.astype(np.complex64), drift)


def _equalise(received: np.ndarray, layout: Layout) -> tuple:
    """(symbols, gain, noise, noise_var, cfo) of a frame's layout.length samples: the payload
    divided by the channel gain interpolated between the known blocks, that gain, the noise
    on the known blocks, N0 after equalisation, and the frequency offset the blocks' phases
    still showed (cycles per sample, removed)."""
    starts = np.concatenate([[0], layout.pilot_starts()])
    lengths = np.array([PREAMBLE.size] + [PILOT_LENGTH] * layout.n_pilot_blocks)
    known = [PREAMBLE] + [PILOTS] * layout.n_pilot_blocks
    gains = np.array([np.vdot(p, received[s:s + p.size]) / p.size for s, p in zip(starts, known)])
    residual = sum(np.sum(np.abs(received[s:s + p.size] - g * p) ** 2) for s, p, g in zip(starts, known, gains))
    noise = float(residual / np.sum(lengths - 1))
    centres = starts + (lengths - 1) / 2

    # what the preamble left of the CFO: the phase's slope over the blocks, unwrapped
    # block by block against the line fitted so far
    phases = np.angle(gains)
    equal = np.ones(phases.size)
    unwrapped = _track(centres, equal, lambda k, predicted: predicted + np.angle(np.exp(1j * (phases[k] - predicted))))
    slope = _line(centres, unwrapped, equal)[1]
    gains = _smooth(gains * np.exp(-1j * slope * centres), lengths)
    positions = layout.payload_positions()
    gain = np.interp(positions, centres, gains.real) + 1j * np.interp(positions, centres, gains.imag)
    symbols = received[positions] * np.exp(-1j * slope * positions) / np.where(np.abs(gain) > 0, gain, 1)
    noise_var = noise / max(float(np.mean(np.abs(gain) ** 2)), 1e-30)
    return symbols, gain, noise, noise_var, slope / (2 * np.pi)


def _line(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the weighted least-squares line through (x, y); a flat line
    through the one point there is for a single point."""
    if x.size < 2:
        return float(y[0]), 0.0
    mean_x, mean_y = np.average(x, weights=weights), np.average(y, weights=weights)
    slope = float(np.sum(weights * (x - mean_x) * (y - mean_y)) / np.sum(weights * (x - mean_x) ** 2))
    return float(mean_y - slope * mean_x), slope


def _track(centres: np.ndarray, weights: np.ndarray, measure) -> np.ndarray:
    """Values at ``centres`` measured one after another, each near the last one moved on by
    the slope of the weighted line fitted to the ones before (``measure(k, predicted)``): so
    that a phase unwraps, or a timing slips by whole samples, across blocks far apart, and
    follows a channel that wanders."""
    values = np.zeros(centres.size)
    total = sx = sy = sxx = sxy = 0.0  # running weighted sums: the line in O(1) per block
    for k, (x, w) in enumerate(zip(centres.tolist(), weights.tolist())):
        if k == 0:
            predicted = 0.0
        else:
            slope = (total * sxy - sx * sy) / (total * sxx - sx * sx) if k > 1 else 0.0
            predicted = values[k - 1] + slope * (x - centres[k - 1])
        value = values[k] = measure(k, predicted)
        total, sx, sy, sxx, sxy = total + w, sx + w * x, sy + w * value, sxx + w * x * x, sxy + w * x * value
    return values


def _drift(window: np.ndarray, start: int, layout: Layout):
    """(drift, timing): the sample-clock drift between sender and receiver (samples per
    sample, from the fractional timing of the preamble's halves and every pilot block) and
    the frame's timing at each of its layout.length samples (samples after ``start`` in
    ``window``); None when the timing stays within MAX_TIMING_ERROR samples of ``start``
    through the frame, scatters about its line by more than MAX_TIMING_RESIDUAL, or drifts
    faster than MAX_DRIFT."""
    margin = SEARCH // 2 + 8  # room for the whole-sample slips and the interpolator
    window = np.concatenate([np.zeros(margin), window, np.zeros(margin)])
    start += margin
    starts = np.concatenate([[0, PREAMBLE_HALF], layout.pilot_starts()])
    known = [PREAMBLE[:PREAMBLE_HALF]] * 2 + [PILOTS] * layout.n_pilot_blocks
    lengths = np.array([p.size for p in known], np.float64)
    centres = starts + (lengths - 1) / 2

    def correlations(k: int, whole: int) -> list:
        """Block k's correlations with its known symbols at lags whole + 1, whole, whole - 1."""
        begin = start + starts[k] + whole
        return [np.vdot(known[k], window[begin + lag:begin + lag + known[k].size]) for lag in (1, 0, -1)]

    strength = np.zeros(len(known))  # |correlation|^2 at the peak: faded blocks count less

    def timing(k, predicted):
        # the correlation's peak, sinc-shaped, sits where its slopes at lags -1 and +1 balance
        whole = int(np.clip(round(predicted), -SEARCH // 2, SEARCH // 2))
        late, on, early = correlations(k, whole)
        strength[k] = abs(on) ** 2
        return whole + float(np.clip(np.real((late - early) * np.conj(on)) / max(2 * strength[k], 1e-30), -0.5, 0.5))

    timings = _track(centres, lengths, timing)
    weights = strength / max(strength.max(), 1e-30) + 1e-9
    intercept, drift = _line(centres, timings, weights)
    residual = np.sqrt(np.average((timings - intercept - drift * centres) ** 2, weights=weights))
    times = intercept + drift * np.arange(layout.length)
    if np.max(np.abs(times)) <= MAX_TIMING_ERROR or residual > MAX_TIMING_RESIDUAL or abs(drift) > MAX_DRIFT:
        return None
    return drift, times


def _interpolate(samples: np.ndarray, times: np.ndarray, half_width: int = 6) -> np.ndarray:
    """``samples`` at fractional ``times`` (sample units) by Lanczos interpolation over
    2 x half_width samples."""
    whole = np.floor(times).astype(np.int64)
    taps = np.arange(-half_width + 1, half_width + 1)
    distance = taps[None, :] - (times - whole)[:, None]
    weights = np.sinc(distance) * np.sinc(distance / half_width)
    index = np.clip(whole[:, None] + taps[None, :], 0, samples.size - 1)
    return np.sum(samples[index] * weights, axis=1)


def _smooth(gains: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each block's gain averaged (weighted) with its neighbours within M blocks, M chosen
    by leave-one-out cross-validation among 1, 2, 4, ... blocks and all of them: a steady
    channel is averaged over the whole burst, a fading one over the blocks it stays
    steady for. Dividing by a noisy gain costs more than its error's power (1/|h|^2 is
    convex), so a steady channel must not be estimated block by block."""
    count = gains.size
    if count < 3:
        return np.full(count, np.dot(weights, gains) / weights.sum())
    weighted = np.concatenate([[0], np.cumsum(weights * gains)])
    total = np.concatenate([[0], np.cumsum(weights)])
    index = np.arange(count)
    best, best_error = None, np.inf
    half = 1
    while True:
        low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, count)
        sums, norms = weighted[high] - weighted[low], total[high] - total[low]
        others = (sums - weights * gains) / (norms - weights)  # leave-one-out
        error = np.dot(weights, np.abs(gains - others) ** 2)
        if error < best_error:
            best, best_error = sums / norms, error
        if half >= count:
            return best
        half *= 2
