#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Metadata a block allocates from is checked and bounded in one place (pdus.image_size):
a small PDU claiming a huge image is refused with a log line, not allocated."""
import resource
import time

import numpy as np
import pmt
import pytest
from conftest import logged, run_block

from gnuradio.semcom import codec_decoder, keys, pdus


@pytest.mark.parametrize("shape, message", [
    (None, "got None"),
    ([], "got []"),
    ([32, 32], "got [32, 32]"),
    ([32, 32, 1], "got [32, 32, 1]"),
    ([0, 0, 3], "got [0, 0, 3]"),
    ([-4, 32, 3], "got [-4, 32, 3]"),
    ([float("inf"), 32, 3], "got [inf, 32, 3]"),
    ([float("nan"), 32, 3], "got [nan, 32, 3]"),
    ([2.5, 32, 3], "got [2.5, 32, 3]"),
    ("abc", "got abc"),
])
def test_malformed_image_shapes_are_refused(shape, message):
    with pytest.raises(ValueError, match=r"metadata 'image_shape' must be \[H, W, 3\] with H, W >= 1, " +
                       message.replace("[", r"\[").replace("]", r"\]")):
        pdus.image_size({} if shape is None else {keys.IMAGE_SHAPE: shape})


def test_sizes_are_bounded_and_a_default_stands_in_for_a_missing_shape():
    assert pdus.image_size({keys.IMAGE_SHAPE: np.array([512, 768, 3], np.int32)}) == (512, 768)
    assert pdus.image_size({}, (32, 32)) == (32, 32)
    assert pdus.image_size({keys.IMAGE_SHAPE: [8192, 8192, 3]}) == (8192, 8192)
    with pytest.raises(ValueError, match="claims 8193x8192 pixels, more than the 67108864 any block takes"):
        pdus.image_size({keys.IMAGE_SHAPE: [8193, 8192, 3]})


def test_a_small_pdu_claiming_a_huge_image_costs_nothing(capfd):
    """Issue 15: a 71-byte PDU claiming 8000x8000 cost codec_decoder 2 GiB for its fallback."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    huge = pdus.make({keys.IMAGE_ID: "huge", keys.IMAGE_SHAPE: np.array([100000, 100000, 3], np.int32),
                      keys.LDPC_FAILED_FRAMES: 1}, np.zeros(8, np.uint8))
    fine = pdus.make({keys.IMAGE_ID: "fine", keys.IMAGE_SHAPE: np.array([8, 8, 3], np.int32),
                      keys.LDPC_FAILED_FRAMES: 1}, np.zeros(8, np.uint8))
    out = run_block(codec_decoder("jpeg"), "bits", [huge, fine], "image", expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["fine"]
    assert "image huge: metadata 'image_shape' claims 100000x100000 pixels" in logged(capfd)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_metadata_with_too_many_keys_or_too_deep_is_refused_at_once(capfd):
    """Issue 15: a 20,000-key dict held a block for over 30 s in GNU Radio's conversion, which
    is quadratic in the keys (2,000 take 50 ms)."""
    meta = pmt.make_dict()
    for i in range(2000):
        meta = pmt.dict_add(meta, pmt.intern(f"k{i}"), pmt.from_long(i))
    many = pmt.cons(meta, pmt.init_c32vector(4, [0j] * 4))
    started = time.monotonic()
    with pytest.raises(ValueError, match="PDU metadata has 2000 keys, more than the 256 any block takes"):
        pdus.split(many)
    assert time.monotonic() - started < 0.01
    deep = pmt.from_long(1)
    for _ in range(5000):
        deep = pmt.list1(deep)
    nested = pmt.cons(pmt.dict_add(pmt.make_dict(), pmt.intern("x"), deep), pmt.init_c32vector(4, [0j] * 4))
    with pytest.raises(ValueError, match="PDU metadata cannot be read"):
        pdus.split(nested)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 2.5, -1, 1 << 40, "3", [3], np.array([3]), True])
def test_whole_number_keys_refuse_anything_else(value):
    with pytest.raises(ValueError, match=r"metadata 'hop' must be a whole number from 0 to 4294967296, got"):
        pdus.whole({keys.HOP: value}, keys.HOP)


def test_whole_numbers_and_strings_read_from_metadata():
    assert pdus.whole({keys.HOP: np.int32(2)}, keys.HOP) == 2 and pdus.whole({keys.HOP: 2.0}, keys.HOP) == 2
    assert pdus.whole({}, keys.HOP, 7) == 7 and pdus.whole({}, keys.HOP) is None
    assert pdus.text({keys.MODEL_ID: "m"}, keys.MODEL_ID) == "m" and pdus.text({}, keys.MODEL_ID, "") == ""
    with pytest.raises(ValueError, match=r"metadata 'model_id' must be a string, got array"):
        pdus.text({keys.MODEL_ID: np.zeros(0)}, keys.MODEL_ID)
