#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The map between a model's real latent and complex channel symbols.

A latent (C, H, W) float32, C even, flattened in C order, gives complex symbol
k = x[2k] + j x[2k+1]. Both directions are zero-copy numpy views.
"""
from __future__ import annotations

import numpy as np


def latent_to_symbols(latent: np.ndarray) -> np.ndarray:
    """(C, H, W) float32 -> (C*H*W/2,) complex64."""
    return np.ascontiguousarray(latent, dtype=np.float32).reshape(-1).view(np.complex64)


def symbols_to_latent(symbols: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(K,) complex64 -> latent ``shape`` = (C, H, W) float32; K must be C*H*W/2."""
    expected = shape[0] * shape[1] * shape[2] // 2
    if symbols.size != expected:
        raise ValueError(f"{symbols.size} symbols do not fill a latent of shape {tuple(shape)} "
                         f"({expected} symbols)")
    return np.ascontiguousarray(symbols, dtype=np.complex64).view(np.float32).reshape(shape)
