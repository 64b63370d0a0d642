#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""equalizer in a running flowgraph: zero forcing and MMSE against their formulas with
the gains block_fading records (per PDU and per block), the metadata hand-over, and bad input."""
import numpy as np
import pmt
import pytest

from conftest import logged, run_block
from gnuradio.semcom import block_fading, equalizer, keys, pdus


def symbol_pdu(n=50, image_id="a", **extra):
    rng = np.random.default_rng(len(image_id))
    symbols = ((rng.normal(size=n) + 1j * rng.normal(size=n)) / np.sqrt(2)).astype(np.complex64)
    return pdus.make({keys.IMAGE_ID: image_id, **extra}, symbols), symbols


def test_zero_forcing_undoes_block_fadings_gains_per_pdu_and_per_block():
    for coherence in (0, 7):
        msg, sent = symbol_pdu()
        (faded,) = run_block(block_fading(coherence, seed=3), "symbols", [msg], "symbols", expected=1)
        (out,) = run_block(equalizer("zf"), "symbols", [faded], "symbols", expected=1)
        meta, equalized = pdus.parse_symbols(out)
        np.testing.assert_allclose(equalized, sent, rtol=1e-5, atol=1e-6)
        assert keys.CHANNEL_GAIN not in meta and keys.COHERENCE_SYMBOLS not in meta
        recorded = pdus.parse_symbols(faded)[0][keys.CHANNEL_GAIN]
        np.testing.assert_array_equal(meta[keys.EQUALIZED_GAIN], recorded)
        assert meta.get(keys.EQUALIZED_COHERENCE_SYMBOLS) == (coherence or None)


def test_mmse_is_conj_h_r_over_h_squared_plus_n0_from_the_parameter_or_metadata():
    gain = 0.3 - 0.4j
    msg, received = symbol_pdu(**{keys.CHANNEL_GAIN: gain, keys.NOISE_VAR: 0.5})
    expected = np.conj(gain) * received.astype(np.complex128) / (abs(gain) ** 2 + 0.5)
    (from_meta,) = run_block(equalizer("mmse"), "symbols", [msg], "symbols", expected=1)
    np.testing.assert_allclose(pdus.parse_symbols(from_meta)[1], expected, rtol=1e-6)
    block = equalizer("mmse", noise_var=2.0)
    (from_param,) = run_block(block, "symbols", [msg], "symbols", expected=1)
    np.testing.assert_allclose(pdus.parse_symbols(from_param)[1],
                               np.conj(gain) * received.astype(np.complex128) / (abs(gain) ** 2 + 2.0), rtol=1e-6)
    block.set_noise_var(-1)  # back to the metadata's
    (again,) = run_block(block, "symbols", [msg], "symbols", expected=1)
    np.testing.assert_allclose(pdus.parse_symbols(again)[1], expected, rtol=1e-6)


def test_bad_messages_are_logged_and_dropped_and_the_block_keeps_running(capfd):
    bad = [
        pmt.intern("not a pdu"),
        symbol_pdu(image_id="no gain")[0],
        symbol_pdu(image_id="zero", **{keys.CHANNEL_GAIN: 0j})[0],
        symbol_pdu(image_id="blocks", **{keys.CHANNEL_GAIN: np.ones(3, np.complex64), keys.COHERENCE_SYMBOLS: 7})[0],
        pdus.make({keys.IMAGE_ID: "nan", keys.CHANNEL_GAIN: 1j}, np.array([np.nan, 1], np.complex64)),
    ]
    good = symbol_pdu(image_id="good", **{keys.CHANNEL_GAIN: 2j})[0]
    out = run_block(equalizer("zf"), "symbols", bad + [good], "symbols", expected=1, settle=0.2)
    assert [pdus.parse_symbols(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image no gain: no metadata 'channel_gain': nothing to equalise" in log
    assert "image zero: channel gain is zero: zero forcing cannot invert it (use mmse)" in log
    assert "image blocks: channel gain has 3 entries, 50 symbols in blocks of 7 need 8" in log
    assert "image nan:" in log and "NaN" in log
    out = run_block(equalizer("mmse"), "symbols", [symbol_pdu(image_id="no n0", **{keys.CHANNEL_GAIN: 1j})[0]],
                    "symbols", expected=0, settle=0.2)
    assert out == [] and "image no n0: no noise variance" in logged(capfd)


def test_constructor_refuses_bad_parameters():
    with pytest.raises(ValueError, match=r"method must be one of \('zf', 'mmse'\), got 'lms'"):
        equalizer("lms")
    with pytest.raises(ValueError, match="noise_var must be finite"):
        equalizer("mmse", float("nan"))
