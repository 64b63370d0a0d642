#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Image codecs of the separation baseline (codec + LDPC + QAM), over Pillow, and
the link arithmetic that gives them their bit budget.

Codecs (``CODECS``; ``get(name)``):

==========  =====================  =========  ====================================================
name        Pillow format          quality    notes
==========  =====================  =========  ====================================================
``jpeg``    JPEG (libjpeg)         1..95      baseline JPEG, 4:2:0, optimised Huffman tables
``webp``    WEBP (libwebp, lossy)  0..100     VP8 intra coding, ``method=6`` (slowest, smallest)
``avif``    AVIF (libavif, AV1)    0..100     AV1 intra, ``speed=6``; the nearest offline relative
                                              of BPG (HEVC intra); a HEIF container of about
                                              300 bytes, so it needs larger budgets than WebP
==========  =====================  =========  ====================================================

WebP is the "stronger codec" of the baseline: measured here on Kodak at 0.186
bpp (9,132 bytes, the budget of a 768x512 image at ratio 1/16 through QPSK and the
rate-1/2 LDPC code) it is 2.2 to 3.2 dB above JPEG (kodim01: 23.2 against 21.0 dB;
kodim23: 32.5 against 29.3 dB) and 0.8 to 1.1 dB above JPEG 2000 (OpenJPEG at
the same size), and its smallest 32x32 stream is about 100 bytes against JPEG's
315, so it can send CIFAR-size images where JPEG cannot. AVIF is about 1.2 dB
better again but 3 to 5 times slower.

``encode(image, max_bits)`` returns the stream of the best quality whose size is
at most ``max_bits`` bits: a binary search over the codec's quality setting that
ends on a quality q that fits while q + 1 does not (stream size grows with q for
these encoders, up to rare one-step wiggles). When even the lowest quality does
not fit it raises ``DoesNotFit`` (a ValueError that says the smallest size).
``search`` gives the quality with the stream. ``decode(data, shape)`` returns the
uint8 (H, W, 3) image, or None for a stream that does not decode (corrupt,
truncated, another format, or a size other than ``shape``): it never raises.
Trailing zero bytes after a stream are ignored by all three decoders, so a
stream zero-padded to its slot decodes as it is.

Budget rule (``budget_bits``): a separation link gets the channel uses of the
JSCC model it is compared with (``channel_uses``: bandwidth ratio x 3 x H x W,
e.g. 512 for 32x32 at 1/6, 73,728 for 768x512 at 1/16). They carry
channel_uses x bits_per_symbol coded bits, which hold F = floor(that / n)
codewords of an (n, k) LDPC code, so the codec gets F x k bits: channel uses x
bits per symbol x code rate, less what the last, partial codeword would need.
The coded bits F x n fill ceil(F x n / bits_per_symbol) <= channel_uses symbols.
The reference "codec at capacity" gets floor(channel_uses x log2(1 + SNR)) bits
and no channel errors (``capacity_bits``).
"""
from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
from PIL import Image, features


class DoesNotFit(ValueError):
    """Even a codec's lowest quality makes a stream larger than the budget."""

    def __init__(self, codec: str, min_bits: int, max_bits: int):
        self.codec, self.min_bits, self.max_bits = codec, min_bits, max_bits
        super().__init__(f"{codec} needs at least {min_bits} bits at its lowest quality, "
                         f"the budget is {max_bits} bits")


class NoCodeword(ValueError):
    """A link whose channel uses cannot carry one codeword of its channel code."""


@dataclasses.dataclass(frozen=True)
class Encoded:
    """A codec stream and the quality setting that made it."""
    data: bytes
    quality: int

    @property
    def bits(self) -> int:
        return 8 * len(self.data)


class Codec:
    """An image codec with an integer quality setting in ``qualities`` (higher =
    better and larger). Subclasses set ``name``, ``format`` (Pillow's), ``feature``
    (``PIL.features`` name that must be present) and ``options(quality)``."""

    name = ""
    format = ""
    feature = ""
    qualities = range(0, 101)

    def options(self, quality: int) -> dict:
        return {"quality": quality}

    def available(self) -> bool:
        return features.check(self.feature)

    def encode_at(self, image: np.ndarray, quality: int) -> bytes:
        """The stream of uint8 (H, W, 3) ``image`` at ``quality``."""
        buffer = io.BytesIO()
        Image.fromarray(_check_image(image)).save(buffer, self.format, **self.options(int(quality)))
        return buffer.getvalue()

    def search(self, image: np.ndarray, max_bits: int) -> Encoded:
        """The highest quality whose stream fits ``max_bits`` (see the module doc);
        raises DoesNotFit when the lowest does not."""
        max_bytes = int(max_bits) // 8
        low, high = self.qualities[0], self.qualities[-1]
        data = self.encode_at(image, low)
        if len(data) > max_bytes:
            raise DoesNotFit(self.name, 8 * len(data), int(max_bits))
        best = Encoded(data, low)
        low += 1
        while low <= high:  # invariant: best.quality = low - 1 fits, high + 1 does not (or is the top)
            quality = (low + high) // 2
            data = self.encode_at(image, quality)
            if len(data) <= max_bytes:
                best, low = Encoded(data, quality), quality + 1
            else:
                high = quality - 1
        return best

    def encode(self, image: np.ndarray, max_bits: int) -> bytes:
        """The stream of the best quality that fits ``max_bits``; DoesNotFit when none does."""
        return self.search(image, max_bits).data

    def decode(self, data: bytes, shape=None) -> np.ndarray | None:
        """uint8 (H, W, 3) image of ``data``, or None when it does not decode as this
        codec's format or (with ``shape`` = (H, W[, 3])) has another size."""
        if not data:
            return None
        try:
            with Image.open(io.BytesIO(bytes(data)), formats=[self.format]) as picture:
                # the header's size is checked before any pixel is decoded
                if shape is not None and (picture.height, picture.width) != (int(shape[0]), int(shape[1])):
                    return None
                if picture.width * picture.height > (Image.MAX_IMAGE_PIXELS or math.inf):
                    return None  # a corrupt header claiming a huge image
                picture.load()
                image = np.asarray(picture.convert("RGB"))
        except Exception:  # any decoder error (OSError, SyntaxError, ValueError, bombs, ...) is "no image"
            return None
        return np.ascontiguousarray(image, dtype=np.uint8)


class Jpeg(Codec):
    name, format, feature = "jpeg", "JPEG", "jpg"
    qualities = range(1, 96)  # libjpeg's advice: above 95 the size grows with little gain

    def options(self, quality: int) -> dict:
        return {"quality": quality, "optimize": True}


class WebP(Codec):
    name, format, feature = "webp", "WEBP", "webp"

    def options(self, quality: int) -> dict:
        return {"quality": quality, "method": 6, "lossless": False}


class Avif(Codec):
    name, format, feature = "avif", "AVIF", "avif"

    def options(self, quality: int) -> dict:
        return {"quality": quality, "speed": 6}


CODECS: dict[str, Codec] = {codec.name: codec for codec in (Jpeg(), WebP(), Avif())}


def get(name: str) -> Codec:
    """The codec called ``name``; ValueError naming the known ones, or saying that
    this Pillow lacks its format."""
    codec = CODECS.get(name) if isinstance(name, str) else None
    if codec is None:
        raise ValueError(f"unknown codec {name!r}; known: {', '.join(CODECS)}")
    if not codec.available():
        raise ValueError(f"codec {name!r}: this Pillow ({Image.__version__}) was built without "
                         f"{codec.format} support (PIL.features.check({codec.feature!r}) is False)")
    return codec


def _check_image(image: np.ndarray) -> np.ndarray:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
        shown = (image.dtype, image.shape) if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"a codec takes uint8 (H, W, 3) RGB images, got {shown}")
    return np.ascontiguousarray(image)


# -- bits -------------------------------------------------------------------------------------
def to_bits(data: bytes, n_bits: int | None = None) -> np.ndarray:
    """uint8 0/1 bits of ``data``, most significant bit of each byte first,
    zero-filled up to ``n_bits`` (ValueError when the stream is longer)."""
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))
    if n_bits is None:
        return bits
    if bits.size > n_bits:
        raise ValueError(f"a stream of {bits.size} bits does not fit {n_bits}")
    return np.concatenate([bits, np.zeros(n_bits - bits.size, dtype=np.uint8)])


def from_bits(bits: np.ndarray) -> bytes:
    """Bytes of 0/1 ``bits`` (MSB first); a last partial byte is zero-filled."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


# -- budgets ----------------------------------------------------------------------------------
def channel_uses(bandwidth_ratio: float, height: int, width: int) -> int:
    """Complex channel symbols of an H x W x 3 image at ``bandwidth_ratio``
    (symbols per real pixel value, as the JSCC models count them)."""
    return int(math.floor(bandwidth_ratio * 3 * height * width + 1e-9))


def budget_bits(uses: int, bits_per_symbol: int, code=None) -> int:
    """Codec bits that ``uses`` channel uses carry: F x k for F whole codewords of
    ``code`` (anything with ``n`` and ``k``, e.g. an ``ldpc.Code``), or
    uses x bits_per_symbol without a code (see the module doc)."""
    coded = int(uses) * int(bits_per_symbol)
    return coded if code is None else (coded // code.n) * code.k


def capacity_bits(uses: int, snr_db: float) -> int:
    """floor(uses x log2(1 + SNR)): what ``uses`` complex AWGN channel uses carry at capacity."""
    return int(math.floor(uses * math.log2(1.0 + 10.0 ** (snr_db / 10.0))))


def information_bottleneck_bits(uses: int, snr_db: float) -> int:
    """floor(K/2 x log2(1 + SNR)) for K = ``uses`` channel symbols: the C-JSCC paper's
    information-bottleneck measure (its eq. 1, the real-channel bound 1/2 log2(1 + SNR) per
    symbol), half of ``capacity_bits``."""
    return int(math.floor(uses / 2 * math.log2(1.0 + 10.0 ** (snr_db / 10.0))))
