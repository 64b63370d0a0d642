#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""block_fading in a running flowgraph: one coefficient per PDU or per block,
the coefficients in the metadata, reproducible seeds, Rayleigh statistics, the
soft demapper reading per-block gains, and bad input."""
import numpy as np
import pmt
import pytest
from gnuradio import digital

from conftest import logged, run_block
from gnuradio.semcom import block_fading, demapping, keys, pdus, soft_demapper
from gnuradio.semcom.block_fading import draw_gains, per_symbol_gains


def symbol_pdu(n=95, image_id="a", seed=0, **extra):
    rng = np.random.default_rng(seed)
    symbols = (rng.normal(size=n) + 1j * rng.normal(size=n)).astype(np.complex64)
    return pdus.make({keys.IMAGE_ID: image_id, **extra}, symbols), symbols


def faded(msg):
    return pdus.parse_symbols(msg)


def test_one_coefficient_per_pdu_is_applied_and_recorded():
    msg, sent = symbol_pdu()
    (out,) = run_block(block_fading(seed=5), "symbols", [msg], "symbols", expected=1)
    meta, received = faded(out)
    gain = meta[keys.CHANNEL_GAIN]
    assert isinstance(gain, complex) and keys.COHERENCE_SYMBOLS not in meta
    np.testing.assert_allclose(received, sent * np.complex64(gain), rtol=1e-6)
    assert meta[keys.IMAGE_ID] == "a" and received.dtype == np.complex64


def test_one_coefficient_per_block_with_a_short_last_block():
    msg, sent = symbol_pdu(n=95)
    (out,) = run_block(block_fading(coherence_symbols=10, seed=5), "symbols", [msg], "symbols", expected=1)
    meta, received = faded(out)
    gains = meta[keys.CHANNEL_GAIN]
    assert gains.dtype == np.complex64 and gains.shape == (10,)  # 9 blocks of 10 and one of 5
    assert meta[keys.COHERENCE_SYMBOLS] == 10
    np.testing.assert_allclose(received, sent * np.repeat(gains, 10)[:95], rtol=1e-6)
    np.testing.assert_array_equal(per_symbol_gains(gains, 10, 95), np.repeat(gains, 10)[:95])


def gains_of(block, messages):
    return [pmt.to_python(pmt.dict_ref(pmt.car(m), pmt.intern(keys.CHANNEL_GAIN), pmt.PMT_NIL))
            for m in run_block(block, "symbols", messages, "symbols", expected=len(messages))]


def test_seeds_are_reproducible_and_zero_draws_a_fresh_one():
    messages = [symbol_pdu(image_id=str(i))[0] for i in range(3)]
    first = gains_of(block_fading(seed=11), messages)
    assert gains_of(block_fading(seed=11), messages) == first
    assert len(set(first)) == 3  # a new coefficient per PDU
    assert gains_of(block_fading(seed=12), messages) != first
    assert gains_of(block_fading(seed=0), messages) != gains_of(block_fading(seed=0), messages)
    blocks = gains_of(block_fading(coherence_symbols=7, seed=11), messages[:1])
    np.testing.assert_array_equal(blocks[0], gains_of(block_fading(coherence_symbols=7, seed=11), messages[:1])[0])


def test_coefficients_are_rayleigh_with_unit_mean_power():
    # per symbol through the block: 20000 draws
    msg = pdus.make({}, np.ones(20000, np.complex64))
    (out,) = run_block(block_fading(coherence_symbols=1, seed=3), "symbols", [msg], "symbols", expected=1)
    meta, received = faded(out)
    np.testing.assert_array_equal(received, meta[keys.CHANNEL_GAIN])
    power = np.abs(received.astype(np.complex128)) ** 2
    assert abs(power.mean() - 1) < 0.04  # std of the mean: 1/sqrt(20000) = 0.007
    assert abs(received.real.var() - 0.5) < 0.03 and abs(received.imag.var() - 0.5) < 0.03
    assert abs(received.mean()) < 0.03
    # |h|^2 is exponential(1): P(|h|^2 < 0.1) = 1 - exp(-0.1)
    assert abs(np.mean(power < 0.1) - (1 - np.exp(-0.1))) < 0.015
    # one per PDU: 200 PDUs
    per_pdu = gains_of(block_fading(seed=4), [symbol_pdu(n=3)[0]] * 200)
    assert abs(np.mean(np.abs(per_pdu) ** 2) - 1) < 0.25  # std 1/sqrt(200) = 0.07
    big = draw_gains(np.random.default_rng(9), 400000)
    assert abs(np.mean(np.abs(big) ** 2) - 1) < 0.01


def test_soft_demapper_expands_per_block_gains():
    constellation = digital.constellation_16qam()
    table = demapping.Constellation.from_gnuradio(constellation)
    bits = np.random.default_rng(2).integers(0, 2, 4 * 53).astype(np.uint8)
    msg = pdus.make({keys.IMAGE_ID: "q"}, demapping.map_bits(bits, table))
    (out,) = run_block(block_fading(coherence_symbols=8, seed=6), "symbols", [msg], "symbols", expected=1)
    meta, received = faded(out)
    (soft,) = run_block(soft_demapper(constellation, noise_var=0.01), "symbols", [out], "soft_bits", expected=1)
    llr = np.array(pmt.f32vector_elements(pmt.cdr(soft)), np.float32)
    per_symbol = np.repeat(meta[keys.CHANNEL_GAIN], 8)[:53]
    np.testing.assert_array_equal(llr, demapping.llrs(received, table, 0.01, per_symbol))
    np.testing.assert_array_equal((llr > 0).astype(np.uint8), bits)  # coherent: no noise, no errors


def test_soft_demapper_drops_gains_that_do_not_fit_their_blocks(capfd):
    constellation = digital.constellation_qpsk()
    msg, _ = symbol_pdu(n=20, image_id="misfit", **{keys.CHANNEL_GAIN: np.ones(3, np.complex64),
                                                    keys.COHERENCE_SYMBOLS: 5})
    good, _ = symbol_pdu(n=20, image_id="fits", **{keys.CHANNEL_GAIN: np.ones(3, np.complex64),
                                                   keys.COHERENCE_SYMBOLS: 7})
    out = run_block(soft_demapper(constellation, noise_var=0.1), "symbols", [msg, good], "soft_bits",
                    expected=1, settle=0.2)
    assert [pmt.to_python(pmt.car(m))[keys.IMAGE_ID] for m in out] == ["fits"]
    assert "image misfit: channel gain has 3 entries, 20 symbols in blocks of 5 need 4" in logged(capfd)


def test_bad_messages_are_logged_and_dropped_and_the_next_is_faded(capfd):
    nan = np.ones(4, np.complex64)
    nan[2] = np.nan
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "bytes"}), pmt.init_u8vector(2, [0, 1])),
        pdus.make({keys.IMAGE_ID: "nan"}, nan),
        pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "empty"}), pmt.init_c32vector(0, [])),
        symbol_pdu(image_id="faded_twice", **{keys.CHANNEL_GAIN: 0.5 + 0j})[0],
    ]
    good, _ = symbol_pdu(image_id="good")
    out = run_block(block_fading(coherence_symbols=4, seed=1), "symbols", bad + [good], "symbols",
                    expected=1, settle=0.2)
    assert [faded(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image bytes: symbol PDU payload must be a c32vector" in log
    assert "image nan: symbol PDU holds 1 NaN or Inf symbols of 4" in log
    assert "image empty: symbol PDU is empty" in log
    assert "image faded_twice: PDU already has metadata 'channel_gain'" in log


@pytest.mark.parametrize("value", [-1, 2.5, "10", True, None])
def test_constructor_refuses_a_bad_coherence(value):
    with pytest.raises(ValueError, match="coherence_symbols must be an integer >= 0"):
        block_fading(coherence_symbols=value)


def test_constructor_refuses_a_bad_seed():
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        block_fading(seed=-3)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        block_fading(seed=1.5)


def test_per_symbol_gains_names_what_does_not_fit():
    with pytest.raises(ValueError, match="channel gain has 2 entries, 20 symbols in blocks of 8 need 3"):
        per_symbol_gains(np.ones(2), 8, 20)
    with pytest.raises(ValueError, match="'coherence_symbols' must be an integer >= 0"):
        per_symbol_gains(np.ones(2), -4, 20)
    np.testing.assert_array_equal(per_symbol_gains(0.5j, 8, 3), [0.5j] * 3)
