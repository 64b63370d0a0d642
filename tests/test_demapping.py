#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""demapping: bit labels, mapping, exact and max-log LLRs, posteriors, against
brute-force sums and against GNU Radio's own encoder and soft decoder."""
import math

import numpy as np
import pytest
from gnuradio import blocks, digital, gr
from gnuradio.digital import qam

from gnuradio.semcom import demapping

CONSTELLATIONS = {
    "bpsk": digital.constellation_bpsk,
    "qpsk": digital.constellation_qpsk,
    "16qam": digital.constellation_16qam,
    "64qam": lambda: qam.qam_constellation(64),
    "8psk": digital.constellation_8psk,
    "dqpsk": digital.constellation_dqpsk,  # labels through its pre_diff_code
}
FADING = 0.4 * np.exp(1.1j)


@pytest.fixture(params=sorted(CONSTELLATIONS))
def gr_constellation(request):
    return CONSTELLATIONS[request.param]()


def reference(gr_constellation):
    """(unit-power points, per-point bit strings MSB first), built here from
    GNU Radio's object independently of ``demapping``."""
    points = np.array(gr_constellation.points(), dtype=complex)
    k = gr_constellation.bits_per_symbol()
    labels = gr_constellation.pre_diff_code() if gr_constellation.apply_pre_diff_code() else range(points.size)
    return points / math.sqrt(np.mean(np.abs(points) ** 2)), [format(v, f"0{k}b") for v in labels]


def brute_force(gr_constellation, received, noise_var, gain, combine):
    """LLR log P(b=1|r)/P(b=0|r) per bit with explicit loops over the points;
    ``combine`` is sum (exact) or max (max-log) of the likelihoods."""
    points, labels = reference(gr_constellation)
    gains = np.broadcast_to(gain, received.shape)
    out = []
    for r, h in zip(received, gains):
        likelihood = [math.exp(-abs(r - h * x) ** 2 / noise_var) for x in points]
        for j in range(len(labels[0])):
            ones = combine(p for p, bits in zip(likelihood, labels) if bits[j] == "1")
            zeros = combine(p for p, bits in zip(likelihood, labels) if bits[j] == "0")
            out.append(math.log(ones) - math.log(zeros))
    return np.array(out)


def noisy(symbols, noise_var, gain=1.0, seed=0):
    rng = np.random.default_rng(seed)
    noise = (rng.normal(size=symbols.size) + 1j * rng.normal(size=symbols.size)) * math.sqrt(noise_var / 2)
    return gain * symbols + noise


def random_bits(n, seed=0):
    return np.random.default_rng(seed).integers(0, 2, n).astype(np.uint8)


# -- constellation and mapping ------------------------------------------------------------
def test_points_have_unit_power_and_labels_are_gnuradios(gr_constellation):
    table = demapping.Constellation.from_gnuradio(gr_constellation)
    points, labels = reference(gr_constellation)
    assert table.points.dtype == np.complex64 and table.bits.dtype == np.uint8
    assert table.bits_per_symbol == gr_constellation.bits_per_symbol()
    assert abs(np.mean(np.abs(table.points) ** 2) - 1) < 1e-6
    np.testing.assert_allclose(table.points, points, atol=1e-6)
    assert ["".join(map(str, row)) for row in table.bits] == labels


def test_bpsk_point_plus_one_carries_bit_one():
    table = demapping.Constellation.from_gnuradio(digital.constellation_bpsk())
    np.testing.assert_allclose(demapping.map_bits([0, 1], table), [-1, 1])


def test_mapping_agrees_with_gnuradios_constellation_encoder(gr_constellation):
    """bits -> pack_k_bits (MSB first) -> [map_bb(pre_diff_code), as generic_mod does]
    -> constellation_encoder_bc: GNU Radio's symbols, before our unit-power scaling."""
    k = gr_constellation.bits_per_symbol()
    bits = random_bits(120 * k, seed=1)
    chain = [blocks.vector_source_b(bits.tolist()), blocks.pack_k_bits_bb(k)]
    if gr_constellation.apply_pre_diff_code():
        chain.append(digital.map_bb(gr_constellation.pre_diff_code()))
    sink = blocks.vector_sink_c()
    top = gr.top_block()
    top.connect(*chain, digital.constellation_encoder_bc(gr_constellation), sink)
    top.run()
    gr_points = np.array(gr_constellation.points())
    scale = math.sqrt(np.mean(np.abs(gr_points) ** 2))
    ours = demapping.map_bits(bits, demapping.Constellation.from_gnuradio(gr_constellation))
    np.testing.assert_allclose(ours * scale, np.array(sink.data()), atol=1e-5)


def test_mapping_agrees_with_chunks_to_symbols_on_the_points():
    gr_constellation = qam.qam_constellation(64)
    bits = random_bits(6 * 50, seed=2)
    top = gr.top_block()
    sink = blocks.vector_sink_c()
    top.connect(blocks.vector_source_b(bits.tolist()), blocks.pack_k_bits_bb(6),
                digital.chunks_to_symbols_bc(gr_constellation.points()), sink)
    top.run()
    scale = math.sqrt(np.mean(np.abs(np.array(gr_constellation.points())) ** 2))
    ours = demapping.map_bits(bits, demapping.Constellation.from_gnuradio(gr_constellation))
    np.testing.assert_allclose(ours * scale, np.array(sink.data()), atol=1e-5)


def test_last_symbol_is_padded_with_zero_bits():
    table = demapping.Constellation.from_gnuradio(digital.constellation_16qam())
    bits = [1, 0, 1, 1, 0, 1]
    symbols = demapping.map_bits(bits, table)
    assert symbols.shape == (2,) and symbols.dtype == np.complex64
    np.testing.assert_array_equal(symbols, demapping.map_bits(bits + [0, 0], table))
    assert demapping.map_bits(np.array([], np.uint8), table).shape == (0,)


# -- LLRs against brute force -----------------------------------------------------------
@pytest.mark.parametrize("gain", [1.0, FADING, "per symbol"], ids=["awgn", "fading", "per-symbol"])
def test_exact_and_maxlog_llrs_match_brute_force(gr_constellation, gain):
    table = demapping.Constellation.from_gnuradio(gr_constellation)
    n0 = 0.2
    symbols = demapping.map_bits(random_bits(40 * table.bits_per_symbol, seed=3), table)
    if gain == "per symbol":
        gain = np.exp(1j * np.linspace(0, 6, symbols.size)) * np.linspace(0.3, 1.5, symbols.size)
    received = noisy(symbols, n0, gain, seed=4)
    for method, combine in (("exact", sum), ("maxlog", max)):
        llr = demapping.llrs(received, table, n0, gain, method)
        assert llr.dtype == np.float32 and llr.shape == (symbols.size * table.bits_per_symbol,)
        np.testing.assert_allclose(llr, brute_force(gr_constellation, received, n0, gain, combine),
                                   rtol=1e-5, atol=1e-4, err_msg=method)


def test_posteriors_are_the_brute_force_probability_of_a_one():
    gr_constellation = digital.constellation_16qam()
    table = demapping.Constellation.from_gnuradio(gr_constellation)
    received = noisy(demapping.map_bits(random_bits(80, seed=5), table), 0.3, FADING, seed=6)
    points, labels = reference(gr_constellation)
    expected = []
    for r in received:
        likelihood = np.exp(-np.abs(r - FADING * points) ** 2 / 0.3)
        expected += [sum(p for p, bits in zip(likelihood, labels) if bits[j] == "1") / likelihood.sum()
                     for j in range(4)]
    prob = demapping.posteriors(demapping.llrs(received, table, 0.3, FADING))
    assert prob.dtype == np.float32
    np.testing.assert_allclose(prob, expected, atol=1e-6)


def test_posteriors_saturate_without_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        prob = demapping.posteriors(np.array([-1e30, -80, 0, 80, 1e30], np.float32))
    np.testing.assert_allclose(prob, [0, 1.8e-35, 0.5, 1, 1], rtol=1e-2)


def test_high_snr_llrs_are_finite_and_exact_equals_maxlog():
    """At N0 = 1e-12 the likelihoods are exp(-1e12): nothing overflows, and the
    exact LLR is the max-log one (the nearest point of each bit value wins)."""
    table = demapping.Constellation.from_gnuradio(qam.qam_constellation(64))
    received = np.array([0.1 + 0.2j, 3 - 4j, -50 + 0.01j, 0j], np.complex64)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        exact = demapping.llrs(received, table, 1e-12, FADING)
        maxlog = demapping.llrs(received, table, 1e-12, FADING, method="maxlog")
    assert np.all(np.isfinite(exact))
    np.testing.assert_allclose(exact, maxlog, rtol=1e-6)


def test_chunks_keep_per_symbol_gains_aligned():
    table = demapping.Constellation.from_gnuradio(digital.constellation_qpsk())
    n = 2 * 8192 + 7
    gain = np.exp(1j * np.arange(n) / 100.0)
    received = noisy(demapping.map_bits(random_bits(2 * n, seed=7), table), 0.5, gain, seed=8)
    llr = demapping.llrs(received, table, 0.5, gain)
    np.testing.assert_array_equal(llr[-20:], demapping.llrs(received[-10:], table, 0.5, gain[-10:]))


@pytest.mark.parametrize("gain", [1.0, FADING], ids=["awgn", "fading"])
def test_round_trip_at_high_snr_gives_the_same_bits(gr_constellation, gain):
    table = demapping.Constellation.from_gnuradio(gr_constellation)
    bits = random_bits(1001, seed=9)  # not a multiple of 2, 3, 4 or 6: the last symbol is padded
    received = noisy(demapping.map_bits(bits, table), 1e-4, gain, seed=10)
    for method in demapping.METHODS:
        llr = demapping.llrs(received, table, 1e-4, gain, method)[:bits.size]
        np.testing.assert_array_equal((llr > 0).astype(np.uint8), bits)
        np.testing.assert_array_equal((demapping.posteriors(llr) > 0.5).astype(np.uint8), bits)


# -- GNU Radio's constellation_soft_decoder_cf ----------------------------------------------
def gr_soft_decoder(gr_constellation, received) -> np.ndarray:
    """vector source -> constellation_soft_decoder_cf -> vector sink."""
    top = gr.top_block()
    sink = blocks.vector_sink_f()
    top.connect(blocks.vector_source_c(np.asarray(received, np.complex64).tolist()),
                digital.constellation_soft_decoder_cf(gr_constellation), sink)
    top.run()
    return np.array(sink.data())


@pytest.mark.parametrize("name", ["bpsk", "qpsk", "8psk", "dqpsk", "16qam", "64qam"])
def test_llr_sign_agrees_with_gnuradios_soft_decoder(name):
    """Without a LUT, GNU Radio 3.10's soft decoder computes, on its own (unscaled)
    points, log sum_{b=1} exp(-|r - x| / npwr) - log sum_{b=0} exp(-|r - x| / npwr)
    with npwr = 1: same labels, bit order and sign as ours, but the distance is not
    squared. For PSK that gives our sign everywhere. For QAM, npwr = 1 weights far
    points so much that its sign is often not the nearest point's (at 20 dB for 3%
    of 16QAM and 21% of 64QAM bits), so it gets the same points 50 times larger,
    i.e. npwr = 1/50 of their scale, where its sign is the nearest point's, as ours
    is away from the decision boundaries."""
    gr_constellation = CONSTELLATIONS[name]()
    table = demapping.Constellation.from_gnuradio(gr_constellation)
    scale = math.sqrt(np.mean(np.abs(np.array(gr_constellation.points())) ** 2))
    is_qam = name.endswith("qam")
    if is_qam:
        scale = 50.0
        gr_constellation = digital.constellation_calcdist((table.points * scale).tolist(), [], 4, 1,
                                                         digital.constellation.NO_NORMALIZATION)
    n0 = 0.01
    received = noisy(demapping.map_bits(random_bits(1000 * table.bits_per_symbol, seed=11), table), n0, seed=12)
    theirs = gr_soft_decoder(gr_constellation, received * scale)
    for method in demapping.METHODS:
        ours = demapping.llrs(received, table, n0, method=method)
        clear = np.abs(ours) > (1.0 if is_qam else 1e-3)
        assert clear.mean() > 0.95
        np.testing.assert_array_equal(np.sign(ours[clear]), np.sign(theirs[clear]), err_msg=method)


def test_bpsk_llr_value_equals_gnuradios_where_the_metrics_coincide():
    """Real r in [-1, 1]: GNU Radio's |r + 1| - |r - 1| = 2r at npwr = 1, ours
    (|r + 1|^2 - |r - 1|^2) / N0 = 4r / N0: equal at N0 = 2."""
    received = np.linspace(-1, 1, 41)
    theirs = gr_soft_decoder(digital.constellation_bpsk(), received)
    table = demapping.Constellation.from_gnuradio(digital.constellation_bpsk())
    np.testing.assert_allclose(demapping.llrs(received, table, 2.0), theirs, atol=1e-5)
    np.testing.assert_allclose(theirs, 2 * received, atol=1e-5)


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("noise_var", [0, -0.1, float("nan"), float("inf"), None, "loud"])
def test_bad_noise_variance_is_refused(noise_var):
    table = demapping.Constellation.from_gnuradio(digital.constellation_qpsk())
    with pytest.raises(ValueError, match="noise variance must be"):
        demapping.llrs(np.ones(3, np.complex64), table, noise_var)


def test_bad_symbols_gain_and_method_are_refused():
    table = demapping.Constellation.from_gnuradio(digital.constellation_qpsk())
    received = np.array([1, np.nan, 1j], np.complex64)
    with pytest.raises(ValueError, match="1 NaN or Inf"):
        demapping.llrs(received, table, 0.1)
    with pytest.raises(ValueError, match="channel gain must be finite"):
        demapping.llrs(np.ones(3), table, 0.1, complex("nan+1j"))
    with pytest.raises(ValueError, match=r"one per symbol \(3\), got shape \(2,\)"):
        demapping.llrs(np.ones(3), table, 0.1, np.ones(2))
    with pytest.raises(ValueError, match="method must be one of"):
        demapping.llrs(np.ones(3), table, 0.1, method="approx")


def test_bad_bits_are_refused():
    table = demapping.Constellation.from_gnuradio(digital.constellation_qpsk())
    with pytest.raises(ValueError, match="bits must be 0 or 1, got 2 other values, e.g. 2"):
        demapping.map_bits(np.array([0, 1, 2, 1, 255], np.uint8), table)
    with pytest.raises(ValueError, match="integers or booleans, got dtype float64"):
        demapping.map_bits(np.array([0.0, 1.0]), table)


def test_bad_constellations_are_refused():
    with pytest.raises(ValueError, match="empty"):
        demapping.Constellation.from_gnuradio(digital.constellation_calcdist([], [], 1, 1))
    with pytest.raises(ValueError, match="3 points, not 2"):
        demapping.Constellation.from_gnuradio(digital.constellation_calcdist([1, 1j, -1], [], 1, 1))
    with pytest.raises(ValueError, match="all zero"):
        demapping.Constellation([0, 0], [0, 1])
    with pytest.raises(ValueError, match="permutation"):
        demapping.Constellation([1, -1], [1, 1])
