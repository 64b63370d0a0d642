#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""codec_encoder in a running flowgraph: the stream of the best quality that fits,
zero-filled to the budget; the budget from bits, channel uses or bandwidth
ratio and the LDPC code; an empty slot when nothing fits; bad input dropped."""
import numpy as np
import pmt
import pytest

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import codec_encoder, codecs, images, keys, pdus


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return images.fit(images.load_image(images.sample_paths()[1])[0], "resize", (64, 96))


def sent(msg):
    meta, bits = pdus.parse_bits(msg)
    return meta, bits


@pytest.mark.parametrize("name", ["jpeg", "webp"])
def test_the_stream_of_the_best_quality_that_fits_then_zero_fill(name, photo):
    (out,) = run_block(codec_encoder(name, max_bits=8 * 1500 + 5), "image", [image_pdu(photo, "a")], "bits",
                       expected=1)
    meta, bits = sent(out)
    expected = codecs.get(name).search(photo, 8 * 1500 + 5)
    assert bits.size == meta[keys.N_BITS] == 8 * 1500 + 5
    assert codecs.from_bits(bits[:8 * len(expected.data)]) == expected.data
    assert not bits[8 * len(expected.data):].any()
    assert (meta[keys.CODEC], meta[keys.CODEC_QUALITY], meta[keys.CODEC_BYTES]) == \
        (name, expected.quality, len(expected.data))
    assert meta[keys.IMAGE_ID] == "a" and list(meta[keys.IMAGE_SHAPE]) == [64, 96, 3]


def test_budget_from_channel_uses_bits_per_symbol_and_code(photo):
    # 64x96 at 1/6: 3,072 channel uses; QPSK: 6,144 coded bits = 3 codewords of n1800_r12 = 2,706 bits
    by_ratio = codec_encoder("webp", bandwidth_ratio=1 / 6, bits_per_symbol=2, code="n1800_r12")
    assert by_ratio.uses(64, 96) == 3072 and by_ratio.budget(64, 96) == 3 * 902
    by_uses = codec_encoder("jpeg", channel_uses=3072, bandwidth_ratio=0, bits_per_symbol=2, code="n1800_r12")
    assert by_uses.budget(64, 96) == by_uses.budget(10, 10) == 3 * 902
    assert codec_encoder("jpeg", bandwidth_ratio=1 / 6, bits_per_symbol=4, code="n1200_r34").budget(64, 96) == 10 * 902
    assert codec_encoder("jpeg", bandwidth_ratio=1 / 6, code="").budget(64, 96) == 6144
    assert codec_encoder("jpeg", max_bits=999, channel_uses=5).budget(64, 96) == 999  # max_bits first
    (out,) = run_block(by_ratio, "image", [image_pdu(photo)], "bits", expected=1)
    meta, bits = sent(out)
    assert bits.size == meta[keys.N_BITS] == 2706 and meta[keys.CODEC_QUALITY] >= 0 and meta[keys.CODEC_BYTES] > 0


def test_an_image_that_does_not_fit_is_sent_as_an_empty_slot(photo, capfd):
    block = codec_encoder("jpeg", max_bits=800)
    out = run_block(block, "image", [image_pdu(photo, "a"), image_pdu(photo, "b")], "bits", expected=2)
    for msg in out:
        meta, bits = sent(msg)
        assert bits.size == 800 and not bits.any()
        assert (meta[keys.CODEC_QUALITY], meta[keys.CODEC_BYTES]) == (-1, 0)
    assert block.did_not_fit == 2
    log = logged(capfd)
    warnings = [line for line in log.splitlines() if ":warning:" in line]
    assert len(warnings) == 1  # the second at debug level
    assert "image a: jpeg needs at least" in log and "the budget is 800 bits: sending no image" in log


def test_bad_messages_are_logged_and_dropped_and_the_next_is_encoded(photo, capfd):
    block = codec_encoder("jpeg", bandwidth_ratio=1 / 6, bits_per_symbol=2, code="n1800_r12")
    small = images.fit(photo, "resize", (32, 32))  # 512 channel uses: 1,024 coded bits, no codeword
    bad = [pmt.intern("not a pdu"),
           pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "noshape"}), pmt.init_u8vector(12, [0] * 12)),
           pdus.make({keys.IMAGE_ID: "floats", keys.IMAGE_SHAPE: np.array([2, 2, 3], np.int32)},
                     np.zeros(12, np.float32)),
           image_pdu(small, "small")]
    out = run_block(block, "image", bad + [image_pdu(photo, "good")], "bits", expected=1, settle=0.2)
    assert [sent(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image noshape: metadata 'image_shape' must be [H, W, 3] with H, W >= 1, got None" in log
    assert "image floats: image PDU payload must be a u8vector" in log
    assert ("image small: no budget for a 32x32 image: 512 channel uses x 2 bits = 1024 coded bits hold no "
            "n1800_r12 codeword of 1800 bits") in log


def test_constructor_refuses_bad_parameters():
    with pytest.raises(ValueError, match="unknown codec 'gif'; known: jpeg, webp, avif"):
        codec_encoder("gif")
    with pytest.raises(ValueError, match="no budget: set max_bits, channel_uses or bandwidth_ratio > 0"):
        codec_encoder("jpeg", bandwidth_ratio=0)
    for kwargs, message in (({"max_bits": -1}, "max_bits must be an integer >= 0"),
                            ({"channel_uses": 2.5}, "channel_uses must be an integer >= 0"),
                            ({"bandwidth_ratio": float("nan")}, "bandwidth_ratio must be a finite number >= 0"),
                            ({"bits_per_symbol": 0}, "bits_per_symbol must be >= 1"),
                            ({"code": "wifi"}, "unknown LDPC code 'wifi'")):
        with pytest.raises(ValueError, match=message):
            codec_encoder("jpeg", **kwargs)
