#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Image quality metrics on uint8 (H, W, 3) images: PSNR and SSIM.

SSIM follows Wang et al. (2004): 11-tap Gaussian window, sigma 1.5, K1 = 0.01,
K2 = 0.03, computed per channel over the valid region and averaged, which is
what ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=2)`` gives.
"""
from __future__ import annotations

import numpy as np

_SIGMA = 1.5
_RADIUS = 5  # int(3.5 * sigma + 0.5), scipy's truncation at 3.5 sigma
_TAPS = np.exp(-0.5 * (np.arange(-_RADIUS, _RADIUS + 1) / _SIGMA) ** 2)
_TAPS /= _TAPS.sum()


def _check(reference: np.ndarray, estimate: np.ndarray) -> None:
    if reference.shape != estimate.shape:
        raise ValueError(f"images differ in shape: {reference.shape} vs {estimate.shape}")


def psnr_db(reference: np.ndarray, estimate: np.ndarray, peak: float = 255.0) -> float:
    """PSNR in dB of ``estimate`` against ``reference`` (same shape); inf when equal."""
    _check(reference, estimate)
    mse = np.mean((reference.astype(np.float64) - estimate.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak ** 2 / mse))


def _blur(plane: np.ndarray) -> np.ndarray:
    """Separable Gaussian over axes 0 and 1, 'valid' region only."""
    rows = sum(w * plane[i:plane.shape[0] - 2 * _RADIUS + i] for i, w in enumerate(_TAPS))
    return sum(w * rows[:, i:rows.shape[1] - 2 * _RADIUS + i] for i, w in enumerate(_TAPS))


def ssim(reference: np.ndarray, estimate: np.ndarray, peak: float = 255.0) -> float:
    """Mean SSIM of two (H, W[, C]) images; H and W must be at least 11."""
    _check(reference, estimate)
    if min(reference.shape[:2]) < 2 * _RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {reference.shape[:2]}")
    x = reference.astype(np.float64)
    y = estimate.astype(np.float64)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mu_x, mu_y = _blur(x), _blur(y)
    var_x = _blur(x * x) - mu_x ** 2
    var_y = _blur(y * y) - mu_y ** 2
    cov = _blur(x * y) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return float(index.mean())
