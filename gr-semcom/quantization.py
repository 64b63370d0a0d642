#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Vector quantisation of received symbols, for quantize-and-forward relays.

A relay that cannot decode forwards what it heard as bits: the received complex
symbols, read as reals (re, im, re, im, ...), are cut into vectors of
``dimension`` = N_Q values; each vector becomes the index of its nearest centre in
a codebook of 2^(N_Q x b) centres (K-means on channel outputs, see
``semcom_train.qf_codebooks``), written as N_Q x b bits, most significant first.
The destination maps the bits back to the centres. b is bits per real value, so a
link of k complex symbols costs 2 k b bits (the paper's rates: (N_Q, b) in
{(4, 3/4), (2, 1), (4, 5/4), (2, 3/2), (2, 2)}).
"""
from __future__ import annotations

import argparse

import numpy as np

from . import bundle


class Codebook:
    """``centres``: (2^bits_per_vector, dimension) float32, K-means centres of real vectors;
    ``name``: how a bundle's codebook file calls it (``codebook_name``), "" for none.

    ``bits_per_vector`` = log2(number of centres) must be a whole number; the last
    vector of a PDU is zero-padded to ``dimension`` values (``quantize`` and
    ``dequantize`` take the real count to undo it).
    """

    def __init__(self, centres, name: str = ""):
        centres = np.asarray(centres, dtype=np.float32)
        if centres.ndim != 2 or centres.shape[0] < 2 or centres.shape[1] < 1:
            raise ValueError(f"codebook centres must be (2^n, dimension) with n >= 1, got shape {centres.shape}")
        bits = int(round(np.log2(centres.shape[0])))
        if 2 ** bits != centres.shape[0]:
            raise ValueError(f"a codebook needs a power of two of centres, got {centres.shape[0]}")
        if not np.all(np.isfinite(centres)):
            raise ValueError("codebook centres must be finite")
        self.centres, self.name = centres, name
        self.dimension = centres.shape[1]
        self.bits_per_vector = bits

    @property
    def bits_per_real(self) -> float:
        """b: bits per real value of the channel output."""
        return self.bits_per_vector / self.dimension

    def n_bits(self, n_symbols: int) -> int:
        """Bits for ``n_symbols`` complex symbols (2 n reals, the last vector padded)."""
        return -(-2 * n_symbols // self.dimension) * self.bits_per_vector

    def _vectors(self, received: np.ndarray) -> np.ndarray:
        reals = np.ascontiguousarray(received, dtype=np.complex64).view(np.float32)
        padded = np.zeros(-(-reals.size // self.dimension) * self.dimension, dtype=np.float32)
        padded[:reals.size] = reals
        return padded.reshape(-1, self.dimension)

    def indices(self, received: np.ndarray) -> np.ndarray:
        """(S,) complex -> (V,) int64 index of the nearest centre (squared Euclidean) per vector."""
        vectors = self._vectors(received)
        if not np.all(np.isfinite(vectors)):
            raise ValueError("received symbols hold NaN or Inf")
        # |v - c|^2 = |v|^2 - 2 v.c + |c|^2; |v|^2 does not change the argmin
        distance = (self.centres ** 2).sum(1)[None] - 2.0 * vectors @ self.centres.T
        return distance.argmin(axis=1)

    def quantize(self, received: np.ndarray) -> np.ndarray:
        """(S,) complex -> (n_bits(S),) uint8 0/1: each vector's centre index, MSB first."""
        index = self.indices(received)
        shifts = np.arange(self.bits_per_vector - 1, -1, -1)
        return ((index[:, None] >> shifts) & 1).astype(np.uint8).reshape(-1)

    def dequantize(self, bits: np.ndarray, n_symbols: int) -> np.ndarray:
        """(n_bits(n_symbols),) 0/1 -> (n_symbols,) complex64: the centres, padding dropped."""
        bits = np.asarray(bits).reshape(-1)
        if bits.size != self.n_bits(n_symbols):
            raise ValueError(f"{bits.size} bits, {n_symbols} symbols quantised with this codebook take "
                             f"{self.n_bits(n_symbols)}")
        if np.any((bits != 0) & (bits != 1)):
            raise ValueError("bits must be 0 or 1")
        weights = 1 << np.arange(self.bits_per_vector - 1, -1, -1)
        index = bits.reshape(-1, self.bits_per_vector).astype(np.int64) @ weights
        reals = self.centres[index].reshape(-1)[:2 * n_symbols]
        return np.ascontiguousarray(reals).view(np.complex64)


def rate(text: str) -> tuple[int, float]:
    """"N_Q:b" -> (N_Q, b), with N_Q x b a whole number of bits (argparse.ArgumentTypeError
    naming the problem otherwise: a command-line type)."""
    try:
        dimension, bits = text.split(":")
        dimension, bits = int(dimension), float(bits)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a QF rate is N_Q:b, e.g. 4:0.75, got {text!r}") from None
    total = dimension * bits
    if dimension < 1 or bits <= 0 or abs(total - round(total)) > 1e-9 or round(total) > 16:
        raise argparse.ArgumentTypeError(f"N_Q x b must be a whole number of bits from 1 to 16, got {text}")
    return dimension, bits


def codebook_name(dimension: int, bits: float) -> str:
    """The array name of rate (N_Q, b) in a bundle's codebook file, e.g. "nq4_b0.75"."""
    return f"nq{dimension}_b{bits:g}"


def load_codebook(model, dimension: int, bits: float) -> Codebook:
    """The (N_Q = ``dimension``, b = ``bits``) codebook stored in DeepJSCC bundle ``model``
    (a ``DeepJSCCBundle``, folder or shipped name) by ``semcom_train.qf_codebooks``; ModelError naming what is missing."""
    model_bundle = model if isinstance(model, bundle.DeepJSCCBundle) else bundle.DeepJSCCBundle(model)
    entry = model_bundle.card.get("qf_codebooks")
    if not entry:
        raise bundle.ModelError(f"model {model_bundle.model_id} has no quantize-and-forward codebooks "
                                f"(make them with python -m semcom_train.qf_codebooks)")
    if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)):
        raise bundle.ModelError(f"model {model_bundle.model_id}: card key qf_codebooks must be "
                                f'{{"file": "<codebooks>.npz", ...}}, got {entry!r:.80}')
    path = model_bundle.path / entry["file"]
    name = codebook_name(dimension, bits)
    if not path.is_file():
        raise bundle.ModelError(f"model {model_bundle.model_id}: codebook file {path} is missing")
    with np.load(path) as stored:
        if name not in stored.files:
            raise bundle.ModelError(f"model {model_bundle.model_id} has no codebook for N_Q = {dimension}, "
                                    f"b = {bits:g} (it has {', '.join(stored.files)})")
        centres = stored[name]
    expected = (2 ** round(dimension * bits), dimension)
    if centres.shape != expected:
        raise bundle.ModelError(f"model {model_bundle.model_id}: codebook {name} in {path} holds {centres.shape[0]} "
                                f"centres of dimension {centres.shape[1] if centres.ndim == 2 else centres.shape}, "
                                f"N_Q = {dimension}, b = {bits:g} needs {expected[0]} of dimension {dimension}")
    return Codebook(centres, name)
