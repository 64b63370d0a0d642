#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Building and checking the PDUs blocks exchange (see ``keys`` for metadata).

Parsers and metadata readers raise ``ValueError`` naming what is wrong (bad input);
``guarded`` turns that into a logged, dropped message so that a bad PDU never stops a
flowgraph, and logs any other exception as a bug in gr-semcom, with its traceback.
"""
from __future__ import annotations

import functools
import math
import threading
import traceback

import numpy as np
import pmt

from . import demapping, keys

# the largest image any block takes (8192 x 8192): metadata claiming more is refused, so a
# small PDU cannot make a block allocate gigabytes
MAX_PIXELS = 1 << 26
# the most metadata keys a PDU may carry (the pipeline's own PDUs carry about 20)
MAX_METADATA_KEYS = 256


def make(meta: dict, vector: np.ndarray):
    """PDU from a Python metadata dict and a uint8, float32 or complex64 numpy vector."""
    # pybind converts a list about 4x faster than a numpy array
    if vector.dtype == np.uint8:
        data = pmt.init_u8vector(vector.size, vector.reshape(-1).tolist())
    elif vector.dtype == np.float32:
        data = pmt.init_f32vector(vector.size, vector.reshape(-1).tolist())
    elif vector.dtype == np.complex64:
        data = pmt.init_c32vector(vector.size, vector.reshape(-1).tolist())
    else:
        raise TypeError(f"PDU payload must be uint8, float32 or complex64, not {vector.dtype}")
    return pmt.cons(pmt.to_pmt(meta), data)


def split(msg) -> tuple[dict, object]:
    """(metadata dict, payload pmt) of a PDU; ValueError when ``msg`` is not one."""
    if not pmt.is_pair(msg) or pmt.is_dict(msg):
        raise ValueError(f"message is not a PDU (metadata, vector) pair: {_short(msg)}")
    meta, data = pmt.car(msg), pmt.cdr(msg)
    if not (pmt.is_dict(meta) or pmt.is_null(meta)):
        raise ValueError(f"PDU metadata is not a dict: {_short(meta)}")
    if not pmt.is_uniform_vector(data):
        raise ValueError(f"PDU payload is not a uniform vector: {_short(data)}")
    if not pmt.is_dict(meta):
        return {}, data
    # GNU Radio's conversion takes time quadratic in the number of keys (20,000 keys: over
    # 30 s), and recursion as deep as the nesting: both bounded before it runs
    if pmt.length(meta) > MAX_METADATA_KEYS:
        raise ValueError(f"PDU metadata has {pmt.length(meta)} keys, more than the {MAX_METADATA_KEYS} any block takes")
    try:
        return pmt.to_python(meta) or {}, data
    except (RecursionError, ValueError) as error:  # GNU Radio's message quotes the whole value
        raise ValueError(f"PDU metadata cannot be read ({type(error).__name__}: nested too deep, or a "
                         f"value pmt does not convert)") from None


def image_size(meta: dict, default: tuple[int, int] | None = None) -> tuple[int, int]:
    """(H, W) of the metadata's ``image_shape`` [H, W, 3] (``default`` when it is missing and
    one is given): whole numbers, at least 1 and at most MAX_PIXELS pixels, so that no PDU
    makes a block allocate what its metadata claims; ValueError naming what is wrong."""
    shape = meta.get(keys.IMAGE_SHAPE)
    if shape is None and default is not None:
        return default
    try:  # complex numbers refused, not cut to their real part
        values = None if np.iscomplexobj(shape) else [float(v) for v in shape]
    except (TypeError, ValueError):
        values = None
    if values is None or len(values) != 3 or values[2] != 3 or \
            not all(np.isfinite(v) and v.is_integer() and v >= 1 for v in values):
        shown = [int(v) if np.isfinite(v) and v.is_integer() else v for v in values] if values else shape
        raise ValueError(f"metadata {keys.IMAGE_SHAPE!r} must be [H, W, 3] with H, W >= 1, got {_clip(str(shown), 80)}")
    height, width = int(values[0]), int(values[1])
    if height * width > MAX_PIXELS:
        raise ValueError(f"metadata {keys.IMAGE_SHAPE!r} claims {height}x{width} pixels, more than the "
                         f"{MAX_PIXELS} any block takes")
    return height, width


def whole(meta: dict, key: str, default=None, low: int = 0, high: int = 1 << 32):
    """The metadata's ``key`` as an int from ``low`` to ``high`` (``default`` when it is missing):
    ValueError naming the key for anything else (a float that is not whole, NaN, Inf, a
    string, a vector), so no metadata reaches a block's arithmetic unchecked."""
    if key not in meta:
        return default
    value = meta[key]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or float(value) != int(value) or not low <= int(value) <= high:
        raise ValueError(f"metadata {key!r} must be a whole number from {low} to {high}, got {_clip(repr(value), 60)}")
    return int(value)


def real(meta: dict, key: str, default=None):
    """The metadata's ``key`` as a float, NaN and Inf included (``default`` when it is missing);
    ValueError naming the key for anything else (a string, a complex number, a vector)."""
    if key not in meta:
        return default
    value = meta[key]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"metadata {key!r} must be a real number, got {_clip(repr(value), 60)}")
    return float(value)


def text(meta: dict, key: str, default=None):
    """The metadata's ``key`` as a str (``default`` when it is missing); ValueError naming the
    key for any other type."""
    if key not in meta:
        return default
    if not isinstance(meta[key], str):
        raise ValueError(f"metadata {key!r} must be a string, got {_clip(repr(meta[key]), 60)}")
    return meta[key]


def complex_values(meta: dict, key: str, default=None):
    """The metadata's ``key`` as a complex128 array of its shape, 0-d for one number (``default``
    when it is missing); ValueError naming the key for a value that is not complex numbers
    (a string, a dict, nested lists of unequal length)."""
    if key not in meta:
        return default
    try:
        return np.asarray(meta[key], dtype=np.complex128)
    except (TypeError, ValueError):
        raise ValueError(f"metadata {key!r} must be a complex number or a vector of them, got "
                         f"{_clip(repr(meta[key]), 60)}") from None


def parse_image(msg) -> tuple[dict, np.ndarray]:
    """(metadata, uint8 (H, W, 3) image) of an image PDU."""
    meta, data = split(msg)
    if not pmt.is_u8vector(data):
        raise ValueError("image PDU payload must be a u8vector")
    height, width = image_size(meta)
    pixels = np.asarray(pmt.u8vector_elements(data), dtype=np.uint8)
    if pixels.size != height * width * 3:
        raise ValueError(f"image PDU holds {pixels.size} bytes, {keys.IMAGE_SHAPE} {height}x{width}x3 "
                         f"needs {height * width * 3}")
    return meta, pixels.reshape(height, width, 3)


def image_pdu(meta: dict, image: np.ndarray):
    """Image PDU for uint8 (H, W, 3) ``image``; sets ``image_shape``."""
    return make({**meta, keys.IMAGE_SHAPE: np.array(image.shape, dtype=np.int32)}, image)


def parse_symbols(msg) -> tuple[dict, np.ndarray]:
    """(metadata, complex64 symbols) of a symbol PDU; rejects NaN and Inf."""
    meta, data = split(msg)
    if not pmt.is_c32vector(data):
        raise ValueError("symbol PDU payload must be a c32vector")
    received = np.asarray(pmt.c32vector_elements(data), dtype=np.complex64)
    if not np.all(np.isfinite(received)):
        bad = int(np.count_nonzero(~np.isfinite(received)))
        raise ValueError(f"symbol PDU holds {bad} NaN or Inf symbols of {received.size}")
    return meta, received


def parse_bits(msg) -> tuple[dict, np.ndarray]:
    """(metadata, uint8 bits) of a bit PDU: a non-empty u8vector of 0/1 values."""
    meta, data = split(msg)
    if not pmt.is_u8vector(data):
        raise ValueError("bit PDU payload must be a u8vector of 0/1 values")
    bits = np.asarray(pmt.u8vector_elements(data), dtype=np.uint8)
    if bits.size == 0:
        raise ValueError("bit PDU is empty")
    bad = bits[bits > 1]
    if bad.size:
        raise ValueError(f"bits must be 0 or 1, got {bad.size} other values, e.g. {bad[0]}")
    return meta, bits


def parse_floats(msg, kind: str, values: str = "") -> tuple[dict, np.ndarray]:
    """(metadata, float32 values) of a probability or soft-bit PDU (``kind`` names it, and
    ``values`` what its values are, in errors); the values are checked where they are used."""
    meta, data = split(msg)
    if not pmt.is_f32vector(data):
        raise ValueError(f"{kind} PDU payload must be an f32vector{f' of {values}' if values else ''}")
    return meta, np.asarray(pmt.f32vector_elements(data), dtype=np.float32)


def guarded(handler):
    """Wrap a block's message handler ``(block, msg)`` so that no message ends the block's
    thread (a running flowgraph keeps running). Bad input is ``ValueError``, which the
    parsers raise naming the problem: logged as a dropped message with its image id. Any
    other exception is a bug in gr-semcom, not bad input: logged as an internal error with
    its traceback. Either way the message is dropped."""
    @functools.wraps(handler)
    def wrapper(block, msg):
        try:
            handler(block, msg)
        except ValueError as error:
            _log_dropped(block, msg, error)
        except Exception:  # noqa: BLE001 - a bug shows in the log, without disabling the block
            block.logger.error(f"internal error (a bug in gr-semcom, not bad input) while handling a message"
                               f"{_for_image(msg)}; the message is dropped:\n{traceback.format_exc()}")
    return wrapper


def _log_dropped(block, msg, error: ValueError) -> None:
    """Log a message dropped as bad input; a reason that cannot be described still logs the drop."""
    try:
        reason = _clip(str(error), 300)
    except Exception as failure:  # noqa: BLE001 - the error's own text failed
        reason = f"{type(error).__name__} (not described: {type(failure).__name__})"
    block.logger.error(f"dropped message{_for_image(msg)}: {reason}")


def _for_image(msg) -> str:
    """The text ' for image <id>' (the id clipped) for a message whose metadata has one, else ''."""
    try:
        if not (pmt.is_pair(msg) and pmt.is_dict(pmt.car(msg))):
            return ""
        value = pmt.dict_ref(pmt.car(msg), pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)
        if pmt.is_null(value):
            return ""
        return f" for image {_clip(pmt.symbol_to_string(value), 80) if pmt.is_symbol(value) else _short(value)}"
    except Exception:  # noqa: BLE001 - a message beyond describing is still dropped and logged
        return ""


def _short(obj) -> str:
    return _clip(pmt.write_string(obj), 80)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


class DonePort:
    """A sink's optional output port ``done``: one PDU per image taken (its image_id and no
    data), which image_source's ``done`` input counts against its window. Registered by
    ``add`` (before start), so that a block without it has no such port."""

    def __init__(self, block):
        self.block, self.added = block, False

    def add(self) -> None:
        if not self.added:
            self.block.message_port_register_out(pmt.intern("done"))
            self.added = True

    def acknowledge(self, image_id) -> None:
        if self.added:
            self.block.message_port_pub(pmt.intern("done"), pmt.cons(pmt.to_pmt({keys.IMAGE_ID: image_id}),
                                                                     pmt.init_u8vector(0, [])))


class Arrivals:
    """Counts messages a sink has handled, so a runner can wait for them."""

    def __init__(self):
        self._count = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait(self, count: int, timeout: float) -> bool:
        """Block until ``count`` messages have arrived or ``timeout`` seconds pass;
        returns whether they arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count >= count, timeout)


def noise_setting(noise_var) -> float:
    """A block's noise-variance parameter as a float: N0 > 0 for every PDU, <= 0 for
    "each PDU's metadata ``noise_var``"; ValueError for NaN or Inf."""
    value = float(noise_var)
    if not np.isfinite(value):
        raise ValueError(f"noise_var must be finite (<= 0: from metadata), got {noise_var!r}")
    return value


def noise_var_of(meta: dict, setting: float) -> float:
    """N0 for one PDU: ``setting`` when > 0, else the metadata's ``noise_var`` (checked
    finite and > 0); ValueError naming both when neither gives one."""
    if setting > 0:
        return setting
    if keys.NOISE_VAR not in meta:
        raise ValueError(f"no noise variance: set the block's noise_var or send metadata {keys.NOISE_VAR!r}")
    return demapping.check_noise_var(meta[keys.NOISE_VAR], f"metadata {keys.NOISE_VAR!r}")


def burst_buffer(n_symbols: int) -> int:
    """Items a stream buffer needs so that tagged_stream_to_pdu sees a whole burst."""
    # a circular buffer offers at most half its size to one call of work
    return 1 << max(12, math.ceil(math.log2(2 * n_symbols)))


# -- a received symbol PDU against the model that decodes it ------------------------------------
def decoded_size(model, meta: dict) -> tuple[int, int]:
    """(H, W) that ``model`` (a bundle) decodes a PDU with metadata ``meta`` to: its
    ``image_shape`` (checked and bounded by ``image_size``), or the fixed model's size when it
    has none (ValueError for a fully convolutional model)."""
    if keys.IMAGE_SHAPE not in meta and not model.image_size:
        raise ValueError(f"metadata lacks image_shape and model {model.model_id} is fully convolutional")
    return image_size(meta, tuple(model.image_size) if model.image_size else None)


def received_symbols(model, meta: dict, received: np.ndarray, hop: int, node: str):
    """(mean symbols, variance symbols or None, height, width) of a symbol PDU (``meta``,
    complex64 ``received``) that hop ``hop`` brought to ``node`` (a relay or the destination,
    named in errors), decoded by ``model`` (a DeepJSCC bundle). ValueError when the metadata
    names another model or hop, or the count does not fit its image_shape: the variance is the
    last ``variance_symbols`` of them when the metadata says so."""
    sender = text(meta, keys.MODEL_ID)
    if sender is not None and sender != model.model_id:
        raise ValueError(f"symbols come from model {sender}, {node} is {model.model_id}'s")
    sent_hop = whole(meta, keys.HOP, high=1 << 16)
    if sent_hop is not None and sent_hop != hop:
        raise ValueError(f"symbols of hop {sent_hop} reached {node}, which decodes hop {hop} of {model.model_id}")
    height, width = decoded_size(model, meta)
    expected = model.n_symbols(height, width)
    sent_variance = whole(meta, keys.VARIANCE_SYMBOLS, 0)
    if sent_variance not in (0, expected) or received.size != expected + sent_variance:
        told = f" ({keys.VARIANCE_SYMBOLS} {sent_variance})" if sent_variance else ""
        raise ValueError(f"{received.size} symbols received{told}, model {model.model_id} sends {expected} "
                         f"for a {height}x{width} image{' (and as many variances)' if model.variational else ''}")
    return received[:expected], (received[expected:] if sent_variance else None), height, width
