#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The shipped VSCC and C-JSCC models: torch against ONNX, their cards, and their quality through
the flowgraph against floors measured here (a retrained or re-exported model that is worse fails)."""
import numpy as np
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")

from gnuradio.semcom import bundle
from semcom_tools import flowgraphs
from semcom_train import models

# measured on 2026-12-01 through the flowgraph, seed 1, 20 CIFAR-10 test images (2 per class),
# 5 dB, 10 draws each: PSNR 24.13 (transmitted) / 26.26 (knowledge base) dB
VSCC_FLOORS = {"transmitted": 23.8, "knowledge_base": 25.9}
# measured on 2026-12-01, seed 1, 100 CIFAR-10 test images (10 per class), 10 dB: PSNR 29.49 dB, accuracy 0.53
CJSCC_FLOOR_PSNR, CJSCC_FLOOR_ACCURACY = 29.1, 0.46


def _cifar_or_skip(make):
    try:
        return make()
    except (FileNotFoundError, OSError) as error:
        pytest.skip(str(error))


def test_vscc_onnx_is_its_torch_model():
    model_bundle = bundle.DeepJSCCBundle("vscc_cifar10")
    model = models.load_bundle(model_bundle.path)
    picture = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mean, variance = model_bundle.encode_latent(picture)
    with torch.no_grad():
        torch_mean, torch_variance = model.encoder(torch.from_numpy(picture).permute(2, 0, 1)[None].float() / 255)
    np.testing.assert_allclose(mean.view(np.float32), torch_mean.numpy().reshape(-1), atol=1e-5)
    np.testing.assert_allclose(variance.view(np.float32), torch_variance.numpy().reshape(-1), rtol=1e-3, atol=1e-7)
    card = model_bundle.card
    assert card["objective"] == "vscc" and card["train_snr_db"] == [5.0, 5.0] and card["cmc"] == 0.05
    assert len(card["knowledge_base_variance"]) == 16 and card["measured"]["cifar10_test_100"]


@pytest.mark.parametrize("resampling", ["transmitted", "knowledge_base"])
def test_vscc_model_in_both_test_modes(resampling):
    graph = _cifar_or_skip(lambda: flowgraphs.analog_point_to_point("vscc_cifar10", "cifar10-test:2", snr_db=5.0,
                                                                    seed=1, resampling=resampling, samples=10))
    rows = graph.run_images(300)
    assert len(rows) == 20 and all(r["samples"] == 10 for r in rows)
    assert np.mean([r["psnr_db"] for r in rows]) > VSCC_FLOORS[resampling]
    assert all(r["psnr_min"] < r["psnr_max"] for r in rows)


def test_cjscc_classifies_and_reconstructs():
    graph = _cifar_or_skip(lambda: flowgraphs.analog_point_to_point("cjscc_cifar10", "cifar10-test:10", snr_db=10.0,
                                                                    seed=1, accuracy=True))
    rows = graph.run_images(300)
    assert len(rows) == 100
    means = graph.metrics.means()
    assert means["psnr_db"] > CJSCC_FLOOR_PSNR and means["accuracy"] > CJSCC_FLOOR_ACCURACY
    card = bundle.Bundle("cjscc_cifar10").card
    assert card["classes"][0] == "airplane" and card["scl_weight"] == 0.01 and card["temperature"] == 0.01
    assert card["measured"]["cifar10_test_1000"]["analog/awgn"]["accuracy"]
