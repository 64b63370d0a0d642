#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""bit_mapper in a running flowgraph: Bernoulli sampling with a seed, thresholding, and bad input."""
import numpy as np
import pmt
import pytest

from conftest import logged, run_block
from gnuradio.semcom import bit_mapper, keys, pdus
from gnuradio.semcom.bit_mapper import make_bits


def probs_pdu(probs, image_id="a", **extra):
    return pdus.make({keys.IMAGE_ID: image_id, **extra}, np.asarray(probs, np.float32))


def bits_of(messages):
    return [pdus.parse_bits(m) for m in messages]


PROBS = [np.random.default_rng(i).random(1000).astype(np.float32) for i in range(2)]


def test_samples_bernoulli_bits_reproducibly_with_a_seed():
    messages = [probs_pdu(p, f"img{i}", **{keys.N_BITS: 1000}) for i, p in enumerate(PROBS)]
    first = bits_of(run_block(bit_mapper(seed=5), "probs", messages, "bits", expected=2))
    again = bits_of(run_block(bit_mapper(seed=5), "probs", messages, "bits", expected=2))
    other = bits_of(run_block(bit_mapper(seed=6), "probs", messages, "bits", expected=2))
    # one generator per block: the same seed and PDUs give the same bits, PDU after PDU
    rng = np.random.default_rng(5)
    for (meta, bits), (_, same), (_, different), probs, i in zip(first, again, other, PROBS, range(2)):
        assert bits.dtype == np.uint8 and bits.size == 1000 and set(np.unique(bits)) <= {0, 1}
        assert meta[keys.N_BITS] == 1000 and meta[keys.IMAGE_ID] == f"img{i}"
        np.testing.assert_array_equal(bits, same)
        np.testing.assert_array_equal(bits, make_bits(probs, rng))
        assert (bits != different).any()


def test_sampled_bits_follow_the_probabilities():
    probs = np.repeat(np.array([0.0, 0.1, 0.5, 0.9, 1.0], np.float32), 20000)
    ((_, bits),) = bits_of(run_block(bit_mapper(seed=1), "probs", [probs_pdu(probs)], "bits", expected=1))
    means = bits.reshape(5, -1).mean(axis=1)
    np.testing.assert_allclose(means, [0.0, 0.1, 0.5, 0.9, 1.0], atol=0.01)
    assert means[0] == 0 and means[-1] == 1  # p = 0 and p = 1 are certain


def test_deterministic_mode_thresholds_at_one_half():
    probs = np.array([0.0, 0.2, 0.5, 0.50001, 0.8, 1.0], np.float32)
    outputs = [bits_of(run_block(bit_mapper(seed=seed, deterministic=True), "probs", [probs_pdu(probs)], "bits",
                                 expected=1))[0][1] for seed in (0, 3)]
    for bits in outputs:
        np.testing.assert_array_equal(bits, [0, 0, 0, 1, 1, 1])


def test_bad_messages_are_logged_and_dropped_and_the_block_keeps_running(capfd):
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.make_dict(), pmt.init_u8vector(2, [0, 1])),  # bits, not probabilities
        probs_pdu([0.2, np.nan, 0.4], "nan"),
        probs_pdu([0.2, 1.5, -0.1], "outside"),
        probs_pdu([0.2, 0.3], "count", **{keys.N_BITS: 3}),
    ]
    out = run_block(bit_mapper(seed=2), "probs", bad + [probs_pdu([0.0, 1.0, 1.0], "good")], "bits",
                    expected=1, settle=0.2)
    assert [(m[keys.IMAGE_ID], b.tolist()) for m, b in bits_of(out)] == [("good", [0, 1, 1])]
    log = logged(capfd)
    assert "not a PDU" in log and "probability PDU payload must be an f32vector" in log
    assert "for image nan: probabilities must be in [0, 1]: 1 of 3 are not, e.g. nan" in log
    assert "for image outside: probabilities must be in [0, 1]: 2 of 3 are not, e.g. 1.5" in log
    assert "for image count: metadata 'n_bits' = 3, but the PDU holds 2 probabilities" in log


def test_constructor_refuses_bad_parameters():
    for seed in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            bit_mapper(seed=seed)
    with pytest.raises(ValueError, match="deterministic must be True or False"):
        bit_mapper(deterministic="yes")
