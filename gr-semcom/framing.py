#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Burst frames for over-the-air links: preamble, header, pilots and payload, in symbols.

A frame, at one sample per symbol before pulse shaping (``burst_tx``), is::

    preamble   2 x PREAMBLE_HALF symbols: a Zadoff-Chu sequence sent twice, for detection,
               the frequency offset (the phase step between the halves, Schmidl-Cox),
               timing, and the channel gain and noise (least squares on known symbols)
    body       the header then the payload, with a known pilot symbol before every
               ``pilot_spacing`` symbols, for the phase and gain through the burst:
      header   HEADER_BYTES bytes + CRC-32 (``Header``: version, payload kind and length,
               image shape, model and image id) in HEADER_FRAMES codewords of the rate-1/4
               LDPC code n512_r14, BPSK
      payload  the PDU's symbols (analog JSCC symbols or QAM), at most the link's
               ``max_symbols`` (``check_payload``)

Everything here is numpy on symbols; the blocks add pulse shaping, the stream and the
synchronisation. Bits are MSB first.
"""
from __future__ import annotations

import dataclasses
import struct
import zlib

import numpy as np

VERSION = 1
PREAMBLE_HALF = 63  # a prime length: the Zadoff-Chu sequence has ideal periodic autocorrelation
PILOT = np.complex64(1.0)
ID_BYTES = 29  # fills HEADER_FRAMES codewords: 3 x 130 info bits hold 48 bytes
HEADER_CODE = "n512_r14"
# version, kind, padding, n_symbols, height, width, model hash, image id
_FIELDS = struct.Struct(f">BBBIHHI{ID_BYTES}s")
HEADER_BYTES = _FIELDS.size
HEADER_BITS = 8 * (HEADER_BYTES + 4)  # with the CRC-32
HEADER_FRAMES = 3  # codewords of HEADER_CODE (k = 128) that hold HEADER_BITS, zero-padded
# Payload length. The header's 32-bit field could claim 4 billion symbols, and a receiver that
# believed it would buffer samples for that burst without end, so a link is set up for a longest
# payload, ``max_symbols`` of burst_tx and burst_rx (``check_payload``): the sender refuses a
# longer PDU before its stream (whose buffer holds one burst of it) and the receiver a header
# that claims more, before it buffers anything for it. DEFAULT_MAX_SYMBOLS: both blocks'
# default (a 768x512 image at ratio 1/16 is 73,728). MAX_SYMBOLS: the most max_symbols may be,
# 2^24 as for stream_frames' frames (a 4096x4096 image at bandwidth ratio 1/3; a burst of it
# is 512 MiB of samples at 4 samples per symbol).
DEFAULT_MAX_SYMBOLS = 1 << 17
MAX_SYMBOLS = 1 << 24


def zadoff_chu(length: int = PREAMBLE_HALF, root: int = 1) -> np.ndarray:
    """Constant-amplitude sequence x[n] = exp(-j pi u n (n + 1) / N), N odd, as complex64."""
    n = np.arange(length)
    return np.exp(-1j * np.pi * root * n * (n + 1) / length).astype(np.complex64)


PREAMBLE = np.concatenate([zadoff_chu(), zadoff_chu()])


def model_hash(model_id: str) -> int:
    """The 32-bit hash of a model id that the header carries (CRC-32 of its UTF-8)."""
    return zlib.crc32(model_id.encode())


@dataclasses.dataclass(frozen=True)
class Header:
    """What a burst says about itself.

    kind: 0 for analog JSCC symbols, else the bits per QAM symbol. n_symbols: payload
    symbols (pilots not counted). padding: zero bits in the last QAM symbol (the payload
    carries n_symbols x kind - padding bits). height, width: the image's (0 when unknown). model:
    ``model_hash`` of the sender's model id (0 when unknown). image_id: at most ID_BYTES
    bytes of UTF-8.
    """
    kind: int
    n_symbols: int
    padding: int = 0
    height: int = 0
    width: int = 0
    model: int = 0
    image_id: str = ""

    def __post_init__(self):
        if not 0 <= self.kind < 256 or not 0 < self.n_symbols < 2 ** 32 or not 0 <= self.padding < max(self.kind, 1):
            raise ValueError(f"header kind must be 0..255, n_symbols 1..2^32-1 and padding below kind, got "
                             f"{self.kind}, {self.n_symbols}, {self.padding}")
        if not (0 <= self.height < 2 ** 16 and 0 <= self.width < 2 ** 16):
            raise ValueError(f"image size {self.height}x{self.width} does not fit the header's 16-bit fields")
        if len(self.image_id.encode()) > ID_BYTES:
            raise ValueError(f"image id {self.image_id!r} is longer than the header's {ID_BYTES} bytes")

    def to_bits(self) -> np.ndarray:
        """(HEADER_BITS,) uint8: the fields and their CRC-32."""
        body = _FIELDS.pack(VERSION, self.kind, self.padding, self.n_symbols, self.height, self.width, self.model,
                            self.image_id.encode())
        data = body + struct.pack(">I", zlib.crc32(body))
        return np.unpackbits(np.frombuffer(data, np.uint8))

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> "Header":
        """The header of HEADER_BITS hard bits; ValueError when the CRC or the version is wrong."""
        data = np.packbits(np.asarray(bits, np.uint8)[:HEADER_BITS]).tobytes()
        body, (crc,) = data[:HEADER_BYTES], struct.unpack(">I", data[HEADER_BYTES:])
        if zlib.crc32(body) != crc:
            raise ValueError("header CRC does not match")
        version, kind, padding, n_symbols, height, width, model, image_id = _FIELDS.unpack(body)
        if version != VERSION:
            raise ValueError(f"header version {version}, this receiver reads version {VERSION}")
        return cls(kind, n_symbols, padding, height, width, model, image_id.rstrip(b"\0").decode(errors="replace"))


def _header_code():
    from . import ldpc
    return ldpc.load(HEADER_CODE)


def check_max_symbols(max_symbols) -> int:
    """``max_symbols`` of burst_tx or burst_rx as an int; ValueError unless it is a whole
    number 1..MAX_SYMBOLS."""
    whole = isinstance(max_symbols, (int, np.integer)) or \
        isinstance(max_symbols, (float, np.floating)) and float(max_symbols).is_integer()
    if isinstance(max_symbols, bool) or not whole or not 1 <= max_symbols <= MAX_SYMBOLS:
        raise ValueError(f"max_symbols must be a whole number 1..{MAX_SYMBOLS}, got {max_symbols!r}")
    return int(max_symbols)


def check_payload(n_symbols: int, max_symbols: int) -> None:
    """ValueError unless a payload of ``n_symbols`` fits a link set up for ``max_symbols``
    (burst_tx's and burst_rx's): the one check of a burst's length, on both sides."""
    if not 1 <= n_symbols <= max_symbols:
        raise ValueError(f"a payload of {n_symbols} symbols is outside the 1..{max_symbols} this link carries "
                         f"(max_symbols of burst_tx and burst_rx)")


def header_symbols(header: Header) -> np.ndarray:
    """The header's LDPC codewords as BPSK (bit 0 -> +1, 1 -> -1), complex64."""
    code = _header_code()
    info = np.zeros(HEADER_FRAMES * code.k, np.uint8)
    info[:HEADER_BITS] = header.to_bits()
    return (1.0 - 2.0 * code.encode(info).reshape(-1)).astype(np.complex64)


def header_length() -> int:
    return HEADER_FRAMES * _header_code().n


def read_header(equalised: np.ndarray, noise_var: float) -> Header:
    """The header from its ``header_length()`` equalised symbols with noise N0 = ``noise_var``;
    ValueError when the code or the CRC does not check."""
    code = _header_code()
    llr = -4.0 * equalised.real / max(noise_var, 1e-6)  # log P(b=1)/P(b=0) of BPSK with 0 -> +1
    bits, ok, _ = code.decode(llr.reshape(HEADER_FRAMES, code.n))
    if not ok.all():
        raise ValueError(f"header: {int((~ok).sum())} of {HEADER_FRAMES} LDPC codewords do not decode")
    return Header.from_bits(bits.reshape(-1)[:HEADER_BITS])


def with_pilots(payload: np.ndarray, spacing: int) -> np.ndarray:
    """``payload`` with PILOT before every ``spacing`` symbols (and none after the last)."""
    n = payload.size
    out = np.empty(n + pilot_count(n, spacing), np.complex64)
    pilot_at = pilot_positions(n, spacing)
    mask = np.ones(out.size, bool)
    mask[pilot_at] = False
    out[pilot_at] = PILOT
    out[mask] = payload
    return out


def pilot_count(n_symbols: int, spacing: int) -> int:
    return -(-n_symbols // spacing)


def pilot_positions(n_symbols: int, spacing: int) -> np.ndarray:
    """Indices of the pilots in the payload of ``n_symbols`` with pilots: 0, spacing + 1, ..."""
    return np.arange(pilot_count(n_symbols, spacing)) * (spacing + 1)


def frame(payload: np.ndarray, header: Header, pilot_spacing: int) -> np.ndarray:
    """The frame's symbols: preamble, then header and payload with pilots."""
    if header.n_symbols != payload.size:
        raise ValueError(f"header says {header.n_symbols} payload symbols, the payload has {payload.size}")
    body = np.concatenate([header_symbols(header), np.asarray(payload, np.complex64)])
    return np.concatenate([PREAMBLE, with_pilots(body, pilot_spacing)])


def body_length(n_symbols: int, pilot_spacing: int) -> int:
    """Symbols after the preamble of a frame with ``n_symbols`` payload symbols."""
    n = header_length() + n_symbols
    return n + pilot_count(n, pilot_spacing)


def _pilot_rotation(pilots: np.ndarray) -> float:
    """Phase turned from one pilot to the next (radians): the peak of the pilots' periodogram
    (the maximum-likelihood frequency of a tone in noise; it uses every pilot coherently,
    where the phase steps between neighbours are as noisy as single pilots), refined
    between its bins by a parabola."""
    if pilots.size < 2:
        return 0.0
    size = max(1024, 8 * (1 << int(np.ceil(np.log2(pilots.size)))))
    spectrum = np.abs(np.fft.fft(pilots, size))
    peak = int(np.argmax(spectrum))
    a, b, c = spectrum[peak - 1], spectrum[peak], spectrum[(peak + 1) % size]
    offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
    return float(np.angle(np.exp(2j * np.pi * (peak + offset) / size)))


def track(received: np.ndarray, n_symbols: int, spacing: int, smoothing: int = 31) -> tuple[np.ndarray, np.ndarray]:
    """(symbols, gain): the ``n_symbols`` data symbols of ``received`` (data with pilots, as
    ``with_pilots`` lays them out) divided by the gain they saw, and that gain.

    The gain comes from the pilots: a residual frequency offset (``_pilot_rotation``), then
    the pilots with that rotation removed, averaged over ``smoothing`` neighbours,
    interpolated linearly."""
    positions = pilot_positions(n_symbols, spacing)
    at_pilots = received[positions].astype(np.complex128) / PILOT
    step = _pilot_rotation(at_pilots) / (spacing + 1)
    still = at_pilots * np.exp(-1j * step * positions)
    width = min(smoothing, still.size)
    kernel = np.ones(width)
    smoothed = np.convolve(still, kernel, "same") / np.convolve(np.ones(still.size), kernel, "same")
    mask = np.ones(received.size, bool)
    mask[positions] = False
    data = np.flatnonzero(mask)
    gain = (np.interp(data, positions, smoothed.real) + 1j * np.interp(data, positions, smoothed.imag)) * \
        np.exp(1j * step * data)
    return (received[data] / gain).astype(np.complex64), gain.astype(np.complex64)


# -- pulse shaping and synchronisation (sample level) ---------------------------------------
def rrc_taps(sps: int, rolloff: float = 0.35, span: int = 11) -> np.ndarray:
    """Root-raised-cosine taps (float32), ``span`` symbols long, unit energy: the transmit
    filter (interpolating by ``sps``) and the receiver's matched filter (GNU Radio's firdes)."""
    from gnuradio.filter import firdes
    taps = np.asarray(firdes.root_raised_cosine(1.0, sps, 1.0, rolloff, span * sps + 1), np.float64)
    return (taps / np.sqrt(np.sum(taps ** 2))).astype(np.float32)


def fractional_samples(samples: np.ndarray, positions: np.ndarray, half_width: int = 8) -> np.ndarray:
    """``samples`` at fractional ``positions`` by windowed-sinc interpolation (2 x half_width taps,
    Blackman window); positions within half_width of the ends read zeros outside."""
    base = np.floor(positions).astype(np.int64)
    mu = positions - base
    offsets = np.arange(-half_width + 1, half_width + 1)
    index = base[:, None] + offsets[None]
    x = mu[:, None] - offsets[None]
    window = 0.42 + 0.5 * np.cos(np.pi * x / half_width) + 0.08 * np.cos(2 * np.pi * x / half_width)
    kernel = np.sinc(x) * np.where(np.abs(x) < half_width, window, 0.0)
    inside = (index >= 0) & (index < samples.size)
    values = np.where(inside, samples[np.clip(index, 0, samples.size - 1)], 0)
    return (values * kernel).sum(axis=1).astype(np.complex64)


@dataclasses.dataclass
class Detection:
    """A preamble found at sample ``start`` (fractional) of the matched-filtered stream.

    cfo: frequency offset in cycles per sample; taps: the symbol-spaced least-squares
    (MMSE) equaliser (odd length, centred) fitted on the preamble, which also removes the
    gain (its small MMSE bias in amplitude goes with the pilot tracking);
    gain: the single complex gain of the preamble (for the record); noise_var: N0 of the
    equalised symbols at unit signal power, from the fit's residual; metric: the
    normalised correlation with the preamble, 0..1."""
    start: float
    cfo: float
    taps: np.ndarray
    gain: complex
    noise_var: float
    metric: float

    @property
    def snr_db(self) -> float:
        return float(-10 * np.log10(max(self.noise_var, 1e-12)))


def schmidl_cox(samples: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """(metric, P) for every start d with two ``half``-sample halves in ``samples``:
    P[d] = sum conj(y[d + m]) y[d + m + half], metric = |P|^2 / (E1 E2) in 0..1."""
    product = np.conj(samples[:-half]) * samples[half:]
    energy = np.abs(samples) ** 2
    window = lambda v: np.convolve(v, np.ones(half), "valid")  # noqa: E731 - running sum over one half
    p = window(product)
    e1, e2 = window(energy[:-half]), window(energy[half:])
    count = min(p.size, e1.size, e2.size)
    metric = np.abs(p[:count]) ** 2 / np.maximum(e1[:count] * e2[:count], 1e-30)
    return metric, p[:count]


def detect(samples: np.ndarray, sps: int, threshold: float = 0.15, coarse: float = 0.08,
           equaliser_taps: int = 1) -> list[Detection]:
    """Preambles in matched-filtered ``samples`` (``sps`` samples per symbol): Schmidl-Cox
    candidates above ``coarse``, the frequency offset from their phase step, then the
    correlation with the known preamble (frequency corrected) above ``threshold`` with its
    timing refined to a fraction of a sample, and an ``equaliser_taps``-tap equaliser
    (1: a single gain) fitted on it. Detections are at least a preamble apart."""
    half = PREAMBLE_HALF * sps
    if samples.size < 2 * half + 2 * sps:
        return []
    metric, p = schmidl_cox(samples, half)
    found: list[Detection] = []
    order = np.argsort(metric)[::-1]
    taken = np.zeros(metric.size, bool)
    for d in order:
        if metric[d] < coarse:
            break
        if taken[d]:
            continue
        taken[max(0, d - 2 * half):d + 2 * half] = True
        cfo = float(np.angle(p[d]) / (2 * np.pi * half))
        detection = _refine(samples, d, cfo, sps, equaliser_taps)
        if detection is not None and detection.metric >= threshold:
            found.append(detection)
    # candidates near one preamble can refine to overlapping starts: keep the best of those
    kept: list[Detection] = []
    for detection in sorted(found, key=lambda det: -det.metric):
        if all(abs(detection.start - other.start) >= PREAMBLE.size * sps for other in kept):
            kept.append(detection)
    return sorted(kept, key=lambda det: det.start)


def _refine(samples: np.ndarray, coarse_start: int, cfo: float, sps: int, n_taps: int) -> Detection | None:
    """Timing, equaliser and noise of the preamble near ``coarse_start`` (frequency corrected)."""
    half = PREAMBLE_HALF * sps
    # the Schmidl-Cox peak is within a quarter of a half of the start down to the lowest SNRs detected
    lo, hi = max(0, coarse_start - half // 2), min(samples.size - PREAMBLE.size * sps, coarse_start + half // 2)
    if hi <= lo:
        return None
    taus = np.arange(lo, hi)
    symbol_times = taus[:, None] + sps * np.arange(PREAMBLE.size)[None]
    rotation = np.exp(-2j * np.pi * cfo * symbol_times)
    sampled = samples[symbol_times] * rotation
    correlation = sampled @ np.conj(PREAMBLE)
    energy = np.sum(np.abs(sampled) ** 2, axis=1)
    score = np.abs(correlation) ** 2 / np.maximum(energy * PREAMBLE.size, 1e-30)
    best = int(np.argmax(score))
    fraction = 0.0
    if 0 < best < score.size - 1:  # parabola through the peak and its neighbours
        a, b, c = np.abs(correlation[best - 1:best + 2])
        denominator = a - 2 * b + c
        fraction = float(0.5 * (a - c) / denominator) if denominator < 0 else 0.0
    start = taus[best] + float(np.clip(fraction, -0.5, 0.5))
    context = n_taps // 2
    around = _rotated(samples, start, cfo, -context, PREAMBLE.size + 2 * context, sps)
    # rows: the n_taps received symbols around each preamble symbol
    rows = np.lib.stride_tricks.sliding_window_view(around, n_taps)[:, ::-1]
    taps, *_ = np.linalg.lstsq(rows, PREAMBLE.astype(np.complex128), rcond=None)
    residual = np.sum(np.abs(rows @ taps - PREAMBLE) ** 2) / (PREAMBLE.size - n_taps)
    # the fit is the MMSE equaliser: its error is N0 / (1 + N0) of the unbiased (gain-removed) symbols
    noise_var = residual / max(1.0 - residual, 1e-6)
    centre = around[context:context + PREAMBLE.size]
    gain = complex(np.vdot(PREAMBLE, centre) / PREAMBLE.size)
    return Detection(start, cfo, taps.astype(np.complex64), gain, float(noise_var), float(score[best]))


def _rotated(samples: np.ndarray, start: float, cfo: float, first: int, count: int, sps: int) -> np.ndarray:
    times = start + sps * np.arange(first, first + count)
    return fractional_samples(samples, times) * np.exp(-2j * np.pi * cfo * times)


def symbols_at(samples: np.ndarray, detection: Detection, first: int, count: int, sps: int,
               drift: float = 0.0) -> np.ndarray:
    """``count`` symbols of the burst from symbol ``first`` (0: the preamble's first),
    frequency corrected and equalised; ``drift``: samples the timing moves per symbol
    (a sample-rate offset, ``timing_drift``)."""
    context = detection.taps.size // 2
    around = _rotated(samples, detection.start, detection.cfo, first - context, count + 2 * context, sps + drift)
    return np.convolve(around, detection.taps, "valid").astype(np.complex64)


def _pulse_slope(sps: int, rolloff: float) -> float:
    """d/dtau [g(tau + T/2) - g(tau - T/2)] at tau = 0 per sample, g the raised-cosine pulse of
    the transmit and matched filters (peak 1): the early-late detector's gain."""
    taps = rrc_taps(sps, rolloff).astype(np.float64)
    pulse = np.convolve(taps, taps)
    centre = (pulse.size - 1) / 2
    g = lambda t: float(fractional_samples(pulse.astype(np.complex64), np.array([centre + t]))[0].real)  # noqa: E731
    half, step = sps / 2, 0.05
    return (g(step + half) - g(step - half) - g(-step + half) + g(-step - half)) / (2 * step)


def timing_drift(samples: np.ndarray, detection: Detection, n_body: int, spacing: int, sps: int,
                 rolloff: float = 0.35, block: int = 64) -> float:
    """Samples the timing moves per symbol through a burst (a sample-rate offset), from the
    pilots: an early-late detector (half a symbol either side; the unknown data around a
    pilot average out) over blocks of ``block`` pilots, each block sampled where the drift
    found so far puts it, and the drift the least-squares slope through the blocks' timing
    (the preamble fixes the start). 0 for bursts of fewer than 4 blocks, where the estimate
    would be noisier than the drift it could find."""
    positions = PREAMBLE.size + pilot_positions(n_body, spacing)
    if positions.size < 4 * block:
        return 0.0
    slope = _pulse_slope(sps, rolloff)
    half = sps / 2
    rotate = lambda t: np.exp(-2j * np.pi * detection.cfo * t)  # noqa: E731
    drift, moment, weight = 0.0, 0.0, 0.0
    for first in range(0, positions.size - block + 1, block):
        m = positions[first:first + block].astype(np.float64)
        t = detection.start + (sps + drift) * m
        on, early, late = (fractional_samples(samples, t + shift) * rotate(t + shift) for shift in (0.0, -half, half))
        # the pilots' mean gain as the reference: a single on-time sample shares data terms with early and late
        reference = np.mean(on)
        # how late the samples are against the pulses' peaks (early-late detector over its gain)
        late_by = np.real(np.mean(late - early) * np.conj(reference)) / max(abs(reference) ** 2, 1e-30) / slope
        centre = float(m.mean())
        moment += centre * (drift * centre - late_by)  # where the peaks are there, against the start
        weight += centre ** 2
        drift = moment / weight
    return float(drift)
