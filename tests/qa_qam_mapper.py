#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""qam_mapper in a running flowgraph: symbols, metadata, and bad input."""
import numpy as np
import pmt
import pytest
from gnuradio import digital
from gnuradio.digital import qam

from conftest import logged, run_block
from gnuradio.semcom import demapping, keys, pdus, qam_mapper


def bits_pdu(bits, image_id="a"):
    return pdus.make({keys.IMAGE_ID: image_id}, np.asarray(bits, np.uint8))


def test_maps_bits_to_unit_power_symbols_with_metadata():
    constellation = qam.qam_constellation(64)
    bits = np.random.default_rng(0).integers(0, 2, 6 * 500 + 4).astype(np.uint8)  # last symbol padded
    (out,) = run_block(qam_mapper(constellation), "bits", [bits_pdu(bits)], "symbols", expected=1)
    meta, symbols = pdus.parse_symbols(out)
    expected = demapping.map_bits(bits, demapping.Constellation.from_gnuradio(constellation))
    np.testing.assert_array_equal(symbols, expected)
    assert symbols.size == 501 and abs(np.mean(np.abs(symbols) ** 2) - 1) < 0.1
    assert meta == {keys.IMAGE_ID: "a", keys.N_BITS: bits.size, keys.BITS_PER_SYMBOL: 6, keys.N_SYMBOLS: 501}


def test_takes_the_constellation_object_grc_makes():
    """GRC's Constellation Object variable is ``digital.constellation_<type>().base()``."""
    (out,) = run_block(qam_mapper(digital.constellation_qpsk().base()), "bits", [bits_pdu([0, 0, 1, 1])],
                       "symbols", expected=1)
    np.testing.assert_allclose(pdus.parse_symbols(out)[1], np.array([-1 - 1j, 1 + 1j]) / np.sqrt(2), atol=1e-6)


def test_bad_messages_are_logged_and_dropped_and_the_block_keeps_running(capfd):
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.make_dict(), pmt.init_f32vector(2, [0, 1])),  # wrong payload type
        bits_pdu([0, 1, 2, 1], "two"),
    ]
    out = run_block(qam_mapper(digital.constellation_16qam()), "bits", bad + [bits_pdu([1, 0, 1], "good")],
                    "symbols", expected=1, settle=0.2)
    assert [pdus.parse_symbols(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log and "u8vector of 0/1" in log
    assert "for image two: bits must be 0 or 1, got 1 other values, e.g. 2" in log


def test_constructor_refuses_unusable_constellations():
    with pytest.raises(ValueError, match="empty"):
        qam_mapper(digital.constellation_calcdist([], [], 1, 1))
    with pytest.raises(ValueError, match="3 points"):
        qam_mapper(digital.constellation_calcdist([1, 1j, -1], [], 1, 1))
