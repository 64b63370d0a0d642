#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Burst frames in numpy: the header with its CRC and LDPC code, pilots, and the
synchronisation chain (detection, frequency offset, fractional timing, gain, pilot
tracking) against a simulated channel; false detections on noise alone."""
import numpy as np
import pytest

from gnuradio.semcom import framing

SPS, SPACING = 4, 32


def gaussian(rng, n):
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)


def test_header_round_trip_and_crc():
    header = framing.Header(0, 73728, 0, 512, 768, framing.model_hash("deepjscc_bsds_r16"), "00003_kodim04")
    bits = header.to_bits()
    assert bits.size == framing.HEADER_BITS and framing.Header.from_bits(bits) == header
    bits[17] ^= 1
    with pytest.raises(ValueError, match="header CRC does not match"):
        framing.Header.from_bits(bits)
    with pytest.raises(ValueError, match="longer than the header's 29 bytes"):
        framing.Header(0, 10, image_id="x" * 30)
    with pytest.raises(ValueError, match="16-bit"):
        framing.Header(0, 10, 0, 70000, 10)
    with pytest.raises(ValueError, match="padding below kind"):
        framing.Header(4, 10, 4)


def test_a_payload_longer_than_the_links_max_symbols_is_refused():
    """The one length check of both sides (burst_tx's framer on send, burst_rx at the header):
    the header's 32-bit field can claim 2^32 - 1 symbols, a link carries at most its max_symbols."""
    framing.check_payload(1, 1000)
    framing.check_payload(1000, 1000)
    for n in (0, 1001, 2 ** 32 - 1):
        with pytest.raises(ValueError, match=f"a payload of {n} symbols is outside the 1..1000 this link carries"):
            framing.check_payload(n, 1000)
    assert framing.check_max_symbols(framing.MAX_SYMBOLS) == framing.MAX_SYMBOLS
    assert framing.check_max_symbols(4096.0) == 4096 and framing.DEFAULT_MAX_SYMBOLS == 131072
    for bad in (0, -1, framing.MAX_SYMBOLS + 1, 2.5, float("nan"), True, None):
        with pytest.raises(ValueError, match="max_symbols must be a whole number 1..16777216"):
            framing.check_max_symbols(bad)
    # the header itself holds any 32-bit length: the link's limit is the blocks' to enforce
    header = framing.Header(0, 2 ** 32 - 1)
    assert framing.Header.from_bits(header.to_bits()).n_symbols == 2 ** 32 - 1


def test_pilots_sit_before_every_spacing_symbols_and_tracking_undoes_a_gain_and_a_rotation():
    rng = np.random.default_rng(1)
    data = gaussian(rng, 1000)
    laid = framing.with_pilots(data, SPACING)
    positions = framing.pilot_positions(1000, SPACING)
    assert laid.size == 1000 + 32 and list(positions[:3]) == [0, 33, 66]
    np.testing.assert_array_equal(laid[positions], framing.PILOT)
    rotation = 0.7 * np.exp(1j * (0.3 + 0.002 * np.arange(laid.size)))
    symbols, gain = framing.track((laid * rotation).astype(np.complex64), 1000, SPACING)
    np.testing.assert_allclose(symbols, data, atol=2e-3)


def burst(rng, n, sps=SPS):
    payload = gaussian(rng, n)
    header = framing.Header(0, n, 0, 32, 32, framing.model_hash("m"), "00012_airplane_0003")
    symbols = framing.frame(payload, header, SPACING)
    upsampled = np.zeros(symbols.size * sps, np.complex64)
    upsampled[::sps] = symbols
    return payload, header, np.convolve(upsampled, framing.rrc_taps(sps))


def channel(rng, samples, snr_db, cfo, delay, gain=0.7 * np.exp(1.1j)):
    """Fractional delay, frequency offset, gain and AWGN of Es/N0 = snr_db after the matched filter."""
    padded = np.concatenate([np.zeros(int(delay) + 50, np.complex64), samples, np.zeros(3000, np.complex64)])
    delayed = framing.fractional_samples(padded, np.arange(padded.size) - (delay - int(delay)))
    moved = delayed * np.exp(2j * np.pi * cfo * np.arange(padded.size)) * gain
    noise = gaussian(rng, padded.size) * np.sqrt(abs(gain) ** 2 * 10 ** (-snr_db / 10))
    return np.convolve(moved + noise, framing.rrc_taps(SPS))


@pytest.mark.parametrize("snr_db,cfo,delay", [(20, 0.0, 0.0), (10, 4e-4, 37.3), (5, 1e-3, 1001.6)])
def test_a_burst_is_found_and_its_payload_recovered_near_the_channels_noise(snr_db, cfo, delay):
    rng = np.random.default_rng(2)
    payload, header, samples = burst(rng, 5000)
    received = channel(rng, samples, snr_db, cfo, delay)
    (found,) = framing.detect(received, SPS)
    assert abs(found.cfo - cfo) < 1e-4 and found.snr_db == pytest.approx(snr_db, abs=1.0)
    body = framing.symbols_at(received, found, framing.PREAMBLE.size, framing.body_length(5000, SPACING), SPS)
    symbols, _ = framing.track(body, framing.header_length() + 5000, SPACING)
    head = framing.read_header(symbols[:framing.header_length()], found.noise_var)
    assert head == header
    error = np.mean(np.abs(symbols[framing.header_length():] - payload) ** 2)
    assert 10 * np.log10(error) < -snr_db + 1.0  # within 1 dB of the channel's noise


def test_noise_alone_gives_no_detection():
    rng = np.random.default_rng(3)
    noise = np.convolve(gaussian(rng, 400_000), framing.rrc_taps(SPS))
    assert framing.detect(noise, SPS) == []


@pytest.mark.parametrize("ppm", [0.0, 10.0, -10.0])
def test_the_timing_drift_of_a_sample_rate_offset_is_found_from_the_pilots(ppm):
    rng = np.random.default_rng(4)
    n = 20000
    payload, header, samples = burst(rng, n)
    padded = np.concatenate([np.zeros(137, np.complex64), samples, np.zeros(3000, np.complex64)])
    ratio = 1 + ppm * 1e-6  # the receiver's sample k is the transmitter's k x ratio
    resampled = framing.fractional_samples(padded, np.arange(int(padded.size / ratio) - 20) * ratio)
    received = np.convolve(resampled + gaussian(rng, resampled.size) * np.sqrt(10 ** -1.5), framing.rrc_taps(SPS))
    (found,) = framing.detect(received, SPS)
    n_body = framing.header_length() + n
    drift = framing.timing_drift(received, found, n_body, SPACING, SPS)
    assert drift == pytest.approx(-SPS * ppm * 1e-6, abs=6e-6)  # samples per symbol: 0.12 samples over the burst
    body = framing.symbols_at(received, found, framing.PREAMBLE.size, framing.body_length(n, SPACING), SPS, drift)
    symbols, _ = framing.track(body, n_body, SPACING)
    assert 10 * np.log10(np.mean(np.abs(symbols[framing.header_length():] - payload) ** 2)) < -15 + 1.0
    assert framing.timing_drift(received, found, 4000, SPACING, SPS) == 0.0  # too short a burst to measure
