#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""stream_frames: the frame of symbols_to_stream and its receiver, in numpy, against
channels computed here (delay, complex gain, frequency offset, noise, fading)."""
import numpy as np
import pytest

from gnuradio.semcom import stream_frames as sf

RNG_SEED = 7


def symbols(n: int, rng) -> np.ndarray:
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)


def through(frame_samples: np.ndarray, delay: int, gain=1.0, cfo=0.0, noise_var=0.0, rng=None) -> np.ndarray:
    """The samples around a frame tagged at SEARCH: ``delay`` samples late (negative:
    early), times ``gain`` and a frequency offset ``cfo``, plus complex noise."""
    lead = sf.SEARCH + delay
    stream = np.concatenate([np.zeros(lead), frame_samples, np.zeros(2 * sf.SEARCH)])
    stream = stream * gain * np.exp(2j * np.pi * cfo * np.arange(stream.size))
    if noise_var:
        stream = stream + np.sqrt(noise_var / 2) * (rng.standard_normal(stream.size) + 1j * rng.standard_normal(stream.size))
    return stream


@pytest.mark.parametrize("n, spacing", [(1, 256), (512, 256), (1000, 0), (29403, 256), (73728, 1024)])
def test_layout_places_payload_and_pilots_without_overlap(n, spacing):
    layout = sf.Layout(n, spacing)
    payload, pilots = layout.payload_positions(), layout.pilot_starts()
    pilot_samples = (pilots[:, None] + np.arange(sf.PILOT_LENGTH)).ravel()
    used = np.concatenate([np.arange(sf.PREAMBLE.size), payload, pilot_samples])
    assert np.array_equal(np.sort(used), np.arange(layout.length))  # every sample once, no gaps
    assert pilots[-1] + sf.PILOT_LENGTH == layout.length  # a pilot block closes the payload
    assert layout.n_pilot_blocks == (-(-n // spacing) if spacing else 1)
    assert layout.padded_length % sf.GUARD == 0 and layout.padded_length - layout.length >= sf.GUARD
    samples = sf.frame(np.arange(n).astype(np.complex64), spacing)
    assert samples.dtype == np.complex64 and samples.size == layout.padded_length
    np.testing.assert_array_equal(samples[payload], np.arange(n))
    assert not samples[layout.length:].any()


@pytest.mark.parametrize("delay", [-sf.SEARCH, -5, 0, 3, sf.SEARCH])
@pytest.mark.parametrize("gain, cfo", [(1.0, 0.0), (0.5 - 0.3j, 0.0), (1 + 1j, 1.4e-3), (0.8j, -1.4e-3)])
def test_noiseless_channel_is_undone_exactly(delay, gain, cfo):
    rng = np.random.default_rng(RNG_SEED)
    sent = symbols(3000, rng)
    layout = sf.Layout(sent.size)
    window = through(sf.frame(sent), delay, gain, cfo)[:layout.length + 2 * sf.SEARCH]
    got = sf.receive(window, layout)
    assert got.start == delay
    # a frequency offset turns the phase within each half of the preamble, which lowers its metric
    assert got.metric > (0.99 if cfo == 0 else 0.6)
    assert abs(got.cfo - cfo) < 1e-7
    np.testing.assert_allclose(got.symbols, sent, atol=2e-4)
    expected_gain = gain * np.exp(2j * np.pi * cfo * (sf.SEARCH + delay + layout.payload_positions()))
    np.testing.assert_allclose(got.gain, expected_gain, rtol=2e-4)


@pytest.mark.parametrize("snr_db", [0.0, 10.0])
def test_equalised_noise_is_the_channels_and_estimated(snr_db):
    """Through AWGN with a gain and a frequency offset, the error of the equalised symbols
    is the channel's noise over |h|^2 (within 0.2 dB: the channel estimate adds little),
    and noise_var estimates it within 10 %."""
    rng = np.random.default_rng(RNG_SEED)
    sent = symbols(73728, rng)
    noise_var, gain = 10 ** (-snr_db / 10), 0.7 * np.exp(0.4j)
    window = through(sf.frame(sent), 2, gain, 8e-4, noise_var, rng)
    got = sf.receive(window[:sf.Layout(sent.size).length + 2 * sf.SEARCH], sf.Layout(sent.size))
    error = np.mean(np.abs(got.symbols - sent) ** 2)
    expected = noise_var / abs(gain) ** 2
    assert 10 * np.log10(error / expected) < 0.2
    assert got.noise_var == pytest.approx(expected, rel=0.1)
    assert got.snr_db == pytest.approx(10 * np.log10(1 / got.noise_var))


def test_slow_fading_is_tracked_by_the_pilots():
    """A gain whose phase turns twice and whose amplitude swings 2:1 over the burst
    (much faster than the CFO range allows the preamble to see) is followed."""
    rng = np.random.default_rng(RNG_SEED)
    sent = symbols(20000, rng)
    layout = sf.Layout(sent.size)
    samples = sf.frame(sent)
    t = np.arange(samples.size) / layout.length
    fading = (1 + 0.5 * np.sin(2 * np.pi * t)) * np.exp(4j * np.pi * t ** 2)
    window = through(samples * fading, 0, noise_var=0.01, rng=rng)[:layout.length + 2 * sf.SEARCH]
    got = sf.receive(window, layout)
    error = np.mean(np.abs(got.symbols - sent) ** 2 * np.abs(fading[layout.payload_positions()]) ** 2)
    assert error < 0.012  # the noise's 0.01, and little more


def test_a_window_without_the_preamble_is_refused():
    rng = np.random.default_rng(RNG_SEED)
    layout = sf.Layout(512)
    noise = symbols(layout.length + 2 * sf.SEARCH, rng)
    with pytest.raises(ValueError, match="no preamble within 64 samples of the burst's tag"):
        sf.receive(noise, layout)
    late = through(sf.frame(symbols(512, rng)), 2 * sf.SEARCH)[:layout.length + 2 * sf.SEARCH]
    with pytest.raises(ValueError, match="changes the sample rate, delays the samples"):
        sf.receive(late, layout)
    with pytest.raises(ValueError, match="window of 10 samples"):
        sf.receive(noise[:10], layout)


@pytest.mark.parametrize("n, spacing, message", [(0, 256, "a frame carries 1 to 16777216 payload symbols"),
                                                 (1.5, 256, "a frame carries 1 to"),
                                                 ((1 << 24) + 1, 256, "a frame carries 1 to 16777216"),
                                                 (10, -1, "pilot_spacing must be a whole number >= 0"),
                                                 (10, 2.5, "pilot_spacing must be a whole number >= 0")])
def test_impossible_layouts_raise(n, spacing, message):
    with pytest.raises(ValueError, match=message):
        sf.Layout(n, spacing)
