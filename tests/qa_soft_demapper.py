#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""soft_demapper in a running flowgraph: LLRs and posteriors, noise variance and
channel gain from parameter or metadata, padding trimmed, and bad input."""
import math

import numpy as np
import pmt
import pytest
from gnuradio import digital

from conftest import logged, run_block
from gnuradio.semcom import demapping, keys, pdus, qam_mapper, soft_demapper

GAIN = 0.8 * np.exp(-0.7j)


def received_pdu(constellation, n_bits=1001, noise_var=0.05, gain=GAIN, image_id="a", **extra):
    """Bits through qam_mapper (a running flowgraph), then r = h x + n here;
    returns (pdu, bits, r)."""
    bits = np.random.default_rng(0).integers(0, 2, n_bits).astype(np.uint8)
    (sent,) = run_block(qam_mapper(constellation), "bits", [pdus.make({keys.IMAGE_ID: image_id}, bits)],
                        "symbols", expected=1)
    meta, symbols = pdus.parse_symbols(sent)
    rng = np.random.default_rng(1)
    noise = (rng.normal(size=symbols.size) + 1j * rng.normal(size=symbols.size)) * math.sqrt(noise_var / 2)
    received = (gain * symbols + noise).astype(np.complex64)
    meta.update({keys.NOISE_VAR: noise_var, keys.CHANNEL_GAIN: complex(gain), **extra})
    return pdus.make(meta, received), bits, received


def soft_bits(msg):
    return pmt.to_python(pmt.car(msg)), np.array(pmt.f32vector_elements(pmt.cdr(msg)), np.float32)


def test_llrs_use_metadata_noise_and_gain_and_drop_the_padding():
    constellation = digital.constellation_16qam()
    msg, _, received = received_pdu(constellation)
    (out,) = run_block(soft_demapper(constellation), "symbols", [msg], "soft_bits", expected=1)
    meta, llr = soft_bits(out)
    table = demapping.Constellation.from_gnuradio(constellation)
    np.testing.assert_array_equal(llr, demapping.llrs(received, table, 0.05, GAIN)[:1001])
    assert meta[keys.N_BITS] == 1001 and meta[keys.IMAGE_ID] == "a"
    assert meta[keys.SOFT_BITS] == "llr"


def test_posteriors_with_maxlog_and_the_parameter_noise_variance():
    constellation = digital.constellation_qpsk()
    msg, bits, received = received_pdu(constellation, n_bits=999)
    block = soft_demapper(constellation, noise_var=0.2, method="maxlog", output="posterior")
    (out,) = run_block(block, "symbols", [msg], "soft_bits", expected=1)
    meta, prob = soft_bits(out)
    assert meta[keys.SOFT_BITS] == "posterior"
    table = demapping.Constellation.from_gnuradio(constellation)
    # the parameter (> 0) wins over the metadata's 0.05
    expected = demapping.posteriors(demapping.llrs(received, table, 0.2, GAIN, "maxlog")[:999])
    np.testing.assert_array_equal(prob, expected)
    assert prob.min() >= 0 and prob.max() <= 1
    np.testing.assert_array_equal((prob > 0.5).astype(np.uint8), bits)


def test_set_noise_var_changes_the_next_pdus():
    constellation = digital.constellation_8psk()
    msg, _, received = received_pdu(constellation, n_bits=300)
    table = demapping.Constellation.from_gnuradio(constellation)
    block = soft_demapper(constellation, noise_var=0.5)
    outputs = []
    for noise_var in (None, 0.1, -1):  # constructor's, then set to 0.1, then back to the metadata's
        if noise_var is not None:
            block.set_noise_var(noise_var)
        outputs.append(soft_bits(run_block(block, "symbols", [msg], "soft_bits", expected=1)[0])[1])
    for llr, used in zip(outputs, (0.5, 0.1, 0.05)):
        np.testing.assert_array_equal(llr, demapping.llrs(received, table, used, GAIN))
    with pytest.raises(ValueError, match="finite"):
        block.set_noise_var(float("nan"))
    assert block.noise_var == -1


def test_without_metadata_keys_it_uses_gain_one_and_all_bits():
    constellation = digital.constellation_bpsk()
    msg = pdus.make({keys.IMAGE_ID: "plain"}, np.array([1, -0.5, 0.25j], np.complex64))
    (out,) = run_block(soft_demapper(constellation, noise_var=2.0), "symbols", [msg], "soft_bits", expected=1)
    meta, llr = soft_bits(out)
    np.testing.assert_allclose(llr, [2.0, -1.0, 0.0], atol=1e-6)  # 4 Re(r) / N0
    assert meta[keys.N_BITS] == 3


def test_bad_messages_are_logged_and_dropped_and_the_block_keeps_running(capfd):
    constellation = digital.constellation_qpsk()
    good, _, received = received_pdu(constellation, n_bits=100, image_id="good")
    meta = pmt.to_python(pmt.car(good))
    nan = received.copy()
    nan[5] = np.nan

    def pdu(image_id, symbols=received, **changes):
        return pdus.make({**meta, keys.IMAGE_ID: image_id, **changes}, symbols)

    no_noise = {key: value for key, value in meta.items() if key != keys.NOISE_VAR}
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.to_pmt(meta), pmt.init_u8vector(2, [0, 1])),
        pdu("nan", nan),
        pdus.make({**no_noise, keys.IMAGE_ID: "no_noise"}, received),
        pdu("zero_noise", **{keys.NOISE_VAR: 0.0}),
        pdu("nan_noise", **{keys.NOISE_VAR: float("nan")}),
        pdu("text_noise", **{keys.NOISE_VAR: "loud"}),
        pdu("nan_gain", **{keys.CHANNEL_GAIN: complex("nan+1j")}),
        pdu("16qam", **{keys.BITS_PER_SYMBOL: 4}),
        pdu("too_many", **{keys.N_BITS: 101}),
    ]
    out = run_block(soft_demapper(constellation), "symbols", bad + [good], "soft_bits", expected=1, settle=0.2)
    assert [soft_bits(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log and "c32vector" in log
    assert "image nan: symbol PDU holds 1 NaN or Inf symbols of 50" in log
    assert "image no_noise: no noise variance: set the block's noise_var or send metadata 'noise_var'" in log
    assert log.count("metadata 'noise_var' must be a finite number > 0") == 2
    assert "image text_noise: metadata 'noise_var' must be a number, got 'loud'" in log
    assert "image nan_gain: channel gain must be finite" in log
    assert "image 16qam: symbols carry 4 bits each, this demapper's constellation 2" in log
    assert "image too_many: metadata 'n_bits' = 101, but 50 symbols carry 100 bits" in log


def test_constructor_refuses_bad_parameters():
    qpsk = digital.constellation_qpsk()
    with pytest.raises(ValueError, match="noise_var must be finite"):
        soft_demapper(qpsk, noise_var=float("nan"))
    with pytest.raises(ValueError, match="method must be one of"):
        soft_demapper(qpsk, method="approx")
    with pytest.raises(ValueError, match="output must be one of"):
        soft_demapper(qpsk, output="probability")
    with pytest.raises(ValueError, match="empty"):
        soft_demapper(digital.constellation_calcdist([], [], 1, 1))
