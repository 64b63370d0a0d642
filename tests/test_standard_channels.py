#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""GNU Radio's own channel blocks between Symbols to Stream and Stream to Symbols, each
built into examples/standard_channel.grc as a .grc file, compiled with grcc and run
(bench/standard_channels.py does the building, compiling and running): every image
arrives, and with noise only the PSNR is the evaluation harness's at the same SNR."""
import math
import pathlib
import shutil

import pytest
from conftest import load_bench

ROOT = pathlib.Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("grcc") is None, reason="grcc is not installed")

# PSNR floors at 10 dB where there is no harness to compare with, 1.5 dB below what these
# images gave (`python bench/standard_channels.py`; without
# its clock-drift correction, stream_to_symbols gave 24.07 dB at epsilon 1+1e-5, 768x512)
FLOORS = {("channel_model, epsilon 1+1e-6, taps 1", "deepjscc_cifar10_r6"): 25.95 - 1.5,
          ("channel_model, epsilon 1+1e-6, taps 1", "deepjscc_bsds_r16"): 30.24 - 1.5,
          ("channel_model, epsilon 1+1e-5, taps 1", "deepjscc_cifar10_r6"): 25.95 - 1.5,
          ("channel_model, epsilon 1+1e-5, taps 1", "deepjscc_bsds_r16"): 29.14 - 1.5,
          ("fading_model (defaults) + noise", "deepjscc_cifar10_r6"): 22.85 - 1.5,
          ("fading_model (defaults) + noise", "deepjscc_bsds_r16"): 24.80 - 1.5,
          ("selective_fading_model (defaults) + noise", "deepjscc_cifar10_r6"): 21.34 - 1.5,
          ("selective_fading_model (defaults) + noise", "deepjscc_bsds_r16"): 17.52 - 1.5}


@pytest.fixture(scope="module")
def bench():
    module = load_bench("standard_channels")
    return module


@pytest.fixture(scope="module")
def photos(bench, tmp_path_factory) -> pathlib.Path:
    """The benchmark's images: two photos at Kodak's 768x512, two of odd sizes."""
    return bench.photo_set(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def rows(bench, photos, tmp_path_factory) -> list[dict]:
    return bench.measure(list(bench.CHANNELS), list(bench.MODELS), [10.0], str(photos),
                         tmp_path_factory.mktemp("standard_channels"))


def test_every_image_arrives_through_every_channel_block(rows, bench):
    assert {(row["channel"], row["model"]) for row in rows} == {(c, m) for c in bench.CHANNELS for m in bench.MODELS}
    for row in rows:
        assert (row["delivered"], row["dropped"]) == (row["sent"], 0) == (4, 0), row


def test_noise_only_psnr_is_the_harness_awgn_links(rows):
    compared = [row for row in rows if not math.isnan(row["harness_db"])]
    assert len(compared) == 12  # wire, multiply_const, channel_model x 3, noise + add; two models
    for row in compared:
        assert abs(row["psnr_db"] - row["harness_db"]) <= 0.2, row


def test_clock_offsets_and_fading_keep_their_measured_quality(rows):
    floored = [row for row in rows if (row["channel"], row["model"]) in FLOORS]
    assert len(floored) == len(FLOORS)
    for row in floored:
        assert row["psnr_db"] > FLOORS[(row["channel"], row["model"])], row
