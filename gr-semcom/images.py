#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Image helpers: reading image files, the shipped sample photos, fitting images to a model.

Images are uint8 arrays (H, W, 3), RGB, the layout of image PDUs.
"""
from __future__ import annotations

import glob as _glob
import os
import pathlib

import numpy as np
from PIL import Image

FIT_POLICIES = ("resize", "crop", "pad", "full")
_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm", ".webp")


def to_rgb8(picture: Image.Image) -> tuple[np.ndarray, str]:
    """A Pillow image of any common mode as uint8 (H, W, 3) RGB, and a note of
    what was converted ("" when it already was 8-bit RGB).

    Grayscale is replicated to three channels, an alpha channel is composited
    onto black, 16-bit and 32-bit integer images are scaled to 8 bits.
    """
    mode = picture.mode
    if mode == "RGB":
        return np.asarray(picture), ""
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(picture).astype(np.float64)
        peak = 65535.0 if mode.startswith("I;16") or wide.max() > 255 else 255.0
        gray = np.round(wide * (255.0 / peak)).clip(0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2), f"{mode} scaled to 8-bit RGB"
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in picture.info):
        rgba = np.asarray(picture.convert("RGBA")).astype(np.float32)
        rgb = np.round(rgba[:, :, :3] * (rgba[:, :, 3:] / 255.0)).astype(np.uint8)
        return rgb, f"{mode} alpha composited onto black"
    return np.asarray(picture.convert("RGB")), f"{mode} converted to RGB"


# What Pillow raises for a file it cannot read: OSError (unknown format, truncated data),
# SyntaxError (malformed headers), DecompressionBombError (more than twice
# Image.MAX_IMAGE_PIXELS pixels, e.g. a 27 KB PNG claiming 15000x15000: an Exception, not an
# OSError) and MemoryError (a size it cannot allocate).
_UNREADABLE = (OSError, SyntaxError, Image.DecompressionBombError, MemoryError)


def load_image(path) -> tuple[np.ndarray, str]:
    """Read ``path`` as uint8 (H, W, 3) RGB; returns (array, conversion note). ValueError naming
    the file for anything Pillow cannot read, including images over its decompression-bomb limit."""
    try:
        with Image.open(path) as picture:
            picture.load()
            return to_rgb8(picture)
    except _UNREADABLE as error:
        raise ValueError(f"cannot read image {path}: {type(error).__name__}: {error}") from error


def check_header(path) -> tuple[int, int]:
    """(height, width) from the header of ``path`` without decoding its pixels; ValueError, as
    ``load_image``, for a file Pillow cannot open (unknown format, over the decompression-bomb
    limit). A file that passes can still fail to decode (truncated pixel data)."""
    try:
        with Image.open(path) as picture:
            return picture.height, picture.width
    except _UNREADABLE as error:
        raise ValueError(f"cannot read image {path}: {type(error).__name__}: {error}") from error


SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"
SAMPLE_NAMES = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")


def sample_paths() -> list[pathlib.Path]:
    """The four colour photographs shipped with the module (scikit-image's sample photos, see
    ``samples/README.md``): the image set "samples", the demo's images without data sets."""
    return [SAMPLES / name for name in SAMPLE_NAMES]


def cache_dir() -> pathlib.Path:
    """Where files made on first use are kept ($SEMCOM_CACHE, else ~/.cache/gr-semcom)."""
    path = pathlib.Path(os.environ.get("SEMCOM_CACHE", pathlib.Path.home() / ".cache" / "gr-semcom"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve_paths(images) -> list[pathlib.Path]:
    """Image files named by ``images``: "samples" (the shipped photos), a folder, a glob
    pattern, one file, or a list of those. Sorted within a folder or pattern; raises
    FileNotFoundError when nothing matches."""
    if isinstance(images, (list, tuple)):
        return [p for item in images for p in resolve_paths(item)]
    spec = str(images)
    if spec == "samples":
        return sample_paths()
    path = pathlib.Path(spec).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
    elif path.is_file():
        found = [path]
    else:
        found = sorted(pathlib.Path(p) for p in _glob.glob(spec) if p.lower().endswith(_SUFFIXES))
    if not found:
        raise FileNotFoundError(f"no images found for {spec!r}")
    return found


def fit(image: np.ndarray, policy: str, size: tuple[int, int] | None) -> np.ndarray:
    """Fit uint8 (H, W, 3) ``image`` to ``size`` = (height, width).

    policy: "resize" (bicubic, aspect not kept), "crop" (centre crop; pads first
    when the image is smaller), "pad" (zero-pad bottom/right; crops when larger),
    "full" (unchanged; ``size`` must be None, for fully convolutional models).
    """
    if policy not in FIT_POLICIES:
        raise ValueError(f"size policy {policy!r} is not one of {FIT_POLICIES}")
    if policy == "full" or size is None:
        return image
    height, width = size
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {size}")
    if policy == "resize":
        if image.shape[:2] == (height, width):
            return image
        return np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC))
    if policy == "crop":
        image = _pad_to(image, max(height, image.shape[0]), max(width, image.shape[1]))
        top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
        return image[top:top + height, left:left + width]
    return _pad_to(image, height, width)[:height, :width]


def _pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    pad_h, pad_w = max(0, height - image.shape[0]), max(0, width - image.shape[1])
    if not pad_h and not pad_w:
        return image
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)))
