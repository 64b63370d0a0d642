#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""codecs: the best quality within a bit budget, the lowest quality that does
not fit, decoding that returns None instead of raising, bits MSB first, and
the budget rule of the separation baseline."""
import io
import math

import numpy as np
import pytest
from PIL import Image

from gnuradio.semcom import codecs, images, ldpc

# the codecs this Pillow was built with (the venv's Pillow 13 has all three)
AVAILABLE = [name for name, codec in codecs.CODECS.items() if codec.available()]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A real photo (scikit-image's astronaut) at 64x96."""
    return images.fit(images.load_image(images.sample_paths()[0])[0], "resize", (64, 96))


@pytest.mark.parametrize("name", AVAILABLE)
def test_the_best_quality_that_fits_the_budget_is_chosen(name, photo):
    codec = codecs.get(name)
    low = 8 * len(codec.encode_at(photo, codec.qualities[0]))
    top = 8 * len(codec.encode_at(photo, codec.qualities[-1]))
    for max_bits in (low, (low + top) // 2 + 3, top - 1):  # + 3: budgets need not be whole bytes
        found = codec.search(photo, max_bits)
        assert found.bits == 8 * len(found.data) <= max_bits
        assert found.data == codec.encode_at(photo, found.quality) == codec.encode(photo, max_bits)
        # the next quality up does not fit
        assert found.quality < codec.qualities[-1]
        assert 8 * len(codec.encode_at(photo, found.quality + 1)) > max_bits
    assert codec.search(photo, top).quality == codec.qualities[-1]


def test_jpeg_binary_search_finds_what_trying_every_quality_finds(photo):
    codec = codecs.get("jpeg")
    sizes = {q: 8 * len(codec.encode_at(photo, q)) for q in codec.qualities}
    for max_bits in (sizes[5] + 50, sizes[40], sizes[80] - 1):
        best = max(q for q, bits in sizes.items() if bits <= max_bits)
        assert codec.search(photo, max_bits).quality == best


@pytest.mark.parametrize("name", AVAILABLE)
def test_a_budget_below_the_lowest_quality_does_not_fit(name, photo):
    codec = codecs.get(name)
    low = 8 * len(codec.encode_at(photo, codec.qualities[0]))
    with pytest.raises(codecs.DoesNotFit, match=f"{name} needs at least {low} bits at its lowest quality, "
                                               f"the budget is {low - 8} bits") as caught:
        codec.encode(photo, low - 8)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.min_bits, caught.value.max_bits) == (low, low - 8)


@pytest.mark.parametrize("name", AVAILABLE)
def test_decode_gives_the_image_and_ignores_zero_fill(name, photo):
    codec = codecs.get(name)
    data = codec.encode(photo, 8 * 3000)
    image = codec.decode(data)
    assert image.shape == photo.shape and image.dtype == np.uint8
    np.testing.assert_array_equal(codec.decode(data + bytes(500), photo.shape), image)
    assert codec.decode(data, (64, 95, 3)) is None  # another size than the sender's


@pytest.mark.parametrize("name", AVAILABLE)
def test_corrupt_streams_decode_to_none_and_never_raise(name, photo):
    codec = codecs.get(name)
    data = codec.encode(photo, 8 * 3000)
    png = io.BytesIO()
    Image.fromarray(photo).save(png, "PNG")
    other = codecs.get("webp" if name == "jpeg" else "jpeg").encode(photo, 8 * 3000)
    rng = np.random.default_rng(0)
    broken = [b"", bytes(len(data)), data[:len(data) // 2], bytes(16) + data[16:], png.getvalue(), other,
              rng.integers(0, 256, len(data), dtype=np.uint8).tobytes()]
    for stream in broken:
        assert codec.decode(stream, photo.shape) is None
    for _ in range(40):  # random damage: None or some image, never an exception
        damaged = bytearray(data)
        for index in rng.integers(0, len(data), 5):
            damaged[index] ^= 1 << int(rng.integers(0, 8))
        image = codec.decode(bytes(damaged), photo.shape)
        assert image is None or image.shape == photo.shape


def test_a_header_claiming_a_huge_image_is_refused_before_decoding(photo):
    codec = codecs.get("jpeg")
    data = bytearray(codec.encode(photo, 8 * 3000))
    sof = data.index(b"\xff\xc0")  # baseline start of frame: length, precision, height, width
    data[sof + 5:sof + 9] = (60000).to_bytes(2, "big") * 2
    assert codec.decode(bytes(data), photo.shape) is None
    assert codec.decode(bytes(data)) is None  # Pillow's decompression-bomb check, caught


def test_registry_and_bad_images():
    assert set(codecs.CODECS) == {"jpeg", "webp", "avif"}
    with pytest.raises(ValueError, match="unknown codec 'bpg'; known: jpeg, webp, avif"):
        codecs.get("bpg")
    with pytest.raises(ValueError, match=r"a codec takes uint8 \(H, W, 3\) RGB images"):
        codecs.get("jpeg").encode(np.zeros((8, 8), np.uint8), 8000)


def test_bits_are_msb_first_and_zero_filled():
    np.testing.assert_array_equal(codecs.to_bits(b"\x80\x01"), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    bits = codecs.to_bits(b"\xa5", 12)
    np.testing.assert_array_equal(bits, [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0])
    assert codecs.from_bits(bits) == b"\xa5\x00"
    with pytest.raises(ValueError, match="a stream of 16 bits does not fit 15"):
        codecs.to_bits(b"ab", 15)


def test_budget_rule():
    # channel uses of the JSCC models: 512 for 32x32 at 1/6, 73,728 for 768x512 (either way up) at 1/16
    assert codecs.channel_uses(1 / 6, 32, 32) == 512
    assert codecs.channel_uses(1 / 16, 512, 768) == codecs.channel_uses(1 / 16, 768, 512) == 73728
    r12, r34 = ldpc.load("n1800_r12"), ldpc.load("n1200_r34")
    # Kodak at 1/16 through QPSK and the rate-1/2 code: 147,456 coded bits hold 81 codewords
    assert codecs.budget_bits(73728, 2, r12) == 81 * 902 == 73062
    # CIFAR at 1/6: QPSK carries 1,024 coded bits, not one 1,800-bit codeword; 16QAM one; 64QAM two of n1200
    assert codecs.budget_bits(512, 2, r12) == 0
    assert codecs.budget_bits(512, 4, r12) == 902
    assert codecs.budget_bits(512, 6, r34) == 2 * 902
    assert codecs.budget_bits(512, 2) == 1024  # no channel code
    assert codecs.capacity_bits(512, 0.0) == 512
    assert codecs.capacity_bits(100, 20.0) == math.floor(100 * math.log2(101))
