#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Quality of the shipped models, run through onnxruntime, against floors measured here.

Floors are about 0.3 dB under what the shipped bundles measured on these
machines (card.json, ``measured``): a retrained or re-exported model that is
worse fails. AWGN with numpy noise of GNU Radio's convention, fixed seed.
"""
import numpy as np
import pytest

from gnuradio.semcom import bundle, images, metrics
from semcom_tools import flowgraphs

# measured on 2026-11-22: Kodak 1-6 at 1 / 10 dB: 25.62 / 28.36 dB;
# CIFAR-10 test 1-1000 at 0 / 10 / 20 dB: 24.14 / 30.19 / 32.20 dB
KODAK_FLOOR_1, KODAK_FLOOR_10 = 25.3, 28.0
CIFAR_FLOOR_0, CIFAR_FLOOR_10, CIFAR_FLOOR_20 = 23.8, 29.9, 31.9


def _mean_psnr(model: bundle.Bundle, pictures, snr_db: float) -> float:
    rng = np.random.default_rng(0)
    scores = []
    for picture in pictures:
        sent = model.encode(picture)
        noise = (rng.standard_normal(sent.size) + 1j * rng.standard_normal(sent.size)) / np.sqrt(2)
        received = (sent + noise * flowgraphs.noise_amplitude(snr_db)).astype(np.complex64)
        scores.append(metrics.psnr_db(picture, model.decode(received, *picture.shape[:2])))
    return float(np.mean(scores))


@pytest.mark.parametrize("snr_db,floor", [(1.0, KODAK_FLOOR_1), (10.0, KODAK_FLOOR_10)])
def test_kodak_model_on_kodak(kodak_model, kodak_dir, snr_db, floor):
    pictures = [images.load_image(p)[0] for p in sorted(kodak_dir.glob("*.png"))[:6]]
    assert _mean_psnr(bundle.Bundle(kodak_model), pictures, snr_db) > floor


@pytest.mark.training
@pytest.mark.datasets
@pytest.mark.parametrize("snr_db,floor", [(0.0, CIFAR_FLOOR_0), (10.0, CIFAR_FLOOR_10), (20.0, CIFAR_FLOOR_20)])
def test_cifar_model_on_cifar10_test(cifar_model, snr_db, floor):
    from semcom_train import data
    try:
        test_images, _, _ = data.load_cifar10("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    assert _mean_psnr(bundle.Bundle(cifar_model), list(test_images[:1000]), snr_db) > floor


def test_cards_state_data_snr_range_steps_time_and_measured_psnr(kodak_model, cifar_model):
    expected = ((kodak_model, "kodak", {"1", "4", "7", "10", "13"}),
                (cifar_model, "cifar10_test", {"0", "10", "20"}))
    for model, key, snrs in expected:
        card = bundle.Bundle(model).card
        assert card["train_snr_db"] == [0.0, 20.0] and card["channel"] == "awgn"
        assert card["steps"] == 30000 and card["training_seconds"] > 0 and card["dataset"]
        assert set(card["measured"][key]["analog/awgn"]["psnr_db"]) >= snrs


# measured on 2026-12-01 through the flowgraph, seed 1, 20 CIFAR-10 test images (2 per class),
# -5 dB on every hop: PSNR 17.25 dB, LPIPS 0.143
DF_FLOOR_PSNR, DF_CEILING_LPIPS = 16.9, 0.16


@pytest.mark.datasets
def test_decode_and_forward_model_over_its_three_hops():
    model = "deepjscc_cifar10_r6_df2_m5_dhd"
    try:
        graph = flowgraphs.analog_point_to_point(model, "cifar10-test:2", snr_db=-5.0, seed=1, lpips=True)
    except (FileNotFoundError, OSError) as error:  # the data set or the LPIPS network is missing
        pytest.skip(str(error))
    rows = graph.run_images(300)
    assert len(rows) == 20 and len(graph.relays) == 2
    assert np.mean([r["psnr_db"] for r in rows]) > DF_FLOOR_PSNR
    assert np.mean([r["lpips"] for r in rows]) < DF_CEILING_LPIPS
    card = bundle.Bundle(model).card
    assert card["hops"] == 3 and card["train_snr_db"] == [-5.0, -5.0] and "cos(H(S), H(S_hat))" in card["loss"]
    assert set(card["measured"]["cifar10_test_1000"]["analog/awgn"]["lpips"]) == {"-10", "-5", "0"}
