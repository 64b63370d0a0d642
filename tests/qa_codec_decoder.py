#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""codec_decoder in a running flowgraph: the codec's decoded image; the fallback
image with decode_failed when the LDPC decoder reported failed frames or the
stream does not decode; bad input dropped."""
import numpy as np
import pmt
import pytest

from conftest import logged, run_block
from gnuradio.semcom import codec_decoder, codecs, images, keys, pdus

SHAPE = (64, 96, 3)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return images.fit(images.load_image(images.sample_paths()[2])[0], "resize", SHAPE[:2])


def bit_pdu(data: bytes, n_bits: int, image_id="a", codec="jpeg", **extra):
    """A bit PDU as ldpc_decoder passes on what codec_encoder sent."""
    meta = {keys.IMAGE_ID: image_id, keys.IMAGE_SHAPE: np.array(SHAPE, np.int32), keys.CODEC: codec,
            keys.N_BITS: n_bits, keys.LDPC_FAILED_FRAMES: 0, **extra}
    return pdus.make(meta, codecs.to_bits(data, n_bits))


def received(msg):
    return pdus.parse_image(msg)


@pytest.mark.parametrize("name", ["jpeg", "webp"])
def test_a_clean_stream_gives_the_codecs_image(name, photo):
    data = codecs.get(name).encode(photo, 12000)
    (out,) = run_block(codec_decoder(name), "bits", [bit_pdu(data, 12000, codec=name)], "image", expected=1)
    meta, image = received(out)
    np.testing.assert_array_equal(image, codecs.get(name).decode(data))
    assert meta[keys.DECODE_FAILED] == 0 and meta[keys.IMAGE_ID] == "a"


def test_failed_ldpc_frames_or_an_undecodable_stream_give_the_fallback(photo):
    data = codecs.get("jpeg").encode(photo, 12000)
    messages = [bit_pdu(data, 12000, "ldpc", **{keys.LDPC_FAILED_FRAMES: 1}),  # a good stream, but LDPC says no
                bit_pdu(data[:len(data) // 2], 12000, "truncated"),
                bit_pdu(b"", 12000, "empty_slot"),  # what codec_encoder sends when nothing fits
                bit_pdu(data, 12000, "other_size", **{keys.IMAGE_SHAPE: np.array([64, 90, 3], np.int32)}),
                bit_pdu(data, 12000, "good")]
    out = run_block(codec_decoder("jpeg"), "bits", messages, "image", expected=5)
    results = {received(m)[0][keys.IMAGE_ID]: received(m) for m in out}
    for image_id in ("ldpc", "truncated", "empty_slot", "other_size"):
        meta, image = results[image_id]
        assert meta[keys.DECODE_FAILED] == 1, image_id
        assert image.shape == tuple(meta[keys.IMAGE_SHAPE]) and (image == 128).all()
    assert results["good"][0][keys.DECODE_FAILED] == 0


def test_fallback_grey_level(photo):
    msg = bit_pdu(b"", 800, codec="webp", **{keys.LDPC_FAILED_FRAMES: 2})
    (out,) = run_block(codec_decoder("webp", fallback=0), "bits", [msg], "image", expected=1)
    assert not received(out)[1].any()
    for fallback in ("median", 256, -1, True, 1.5):
        with pytest.raises(ValueError, match="fallback must be one of"):
            codec_decoder("jpeg", fallback=fallback)
    with pytest.raises(ValueError, match="unknown codec 'bpg'"):
        codec_decoder("bpg")


def test_bad_messages_are_logged_and_dropped_and_the_next_is_decoded(photo, capfd):
    data = codecs.get("jpeg").encode(photo, 12000)
    good = bit_pdu(data, 12000, "good")
    meta = pmt.to_python(pmt.car(good))
    no_shape = {k: v for k, v in meta.items() if k != keys.IMAGE_SHAPE}
    bad = [pmt.intern("not a pdu"),
           pdus.make({**meta, keys.IMAGE_ID: "floats"}, np.zeros(8, np.float32)),
           pdus.make({**meta, keys.IMAGE_ID: "twos"}, np.full(8, 2, np.uint8)),
           pdus.make({**meta, keys.IMAGE_ID: "empty"}, np.zeros(0, np.uint8)),
           pdus.make({**no_shape, keys.IMAGE_ID: "noshape"}, np.zeros(8, np.uint8)),
           pdus.make({**meta, keys.IMAGE_ID: "webp", keys.CODEC: "webp"}, np.zeros(8, np.uint8))]
    out = run_block(codec_decoder("jpeg"), "bits", bad + [good], "image", expected=1, settle=0.2)
    assert [received(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image floats: bit PDU payload must be a u8vector of 0/1 values" in log
    assert "image twos: bits must be 0 or 1, got 8 other values, e.g. 2" in log
    assert "image empty: bit PDU is empty" in log
    assert "image noshape: metadata 'image_shape' must be [H, W, 3] with H, W >= 1, got None" in log
    assert "image webp: bits carry a webp stream, this decoder's codec is jpeg" in log
