#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Runtime core: metrics against scikit-image, image helpers, symbol map, bundles."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from gnuradio.semcom import bundle, images, metrics, symbols
from semcom_tools import datasets


def test_psnr_matches_definition_and_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)
    b = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
    mse = np.mean((a.astype(float) - b) ** 2)
    assert metrics.psnr_db(a, b) == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-12)
    assert metrics.psnr_db(a, a) == float("inf")
    reference = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                      data_range=255, channel_axis=2)
    assert metrics.ssim(a, b) == pytest.approx(reference, abs=1e-10)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.psnr_db(a, b[:-1])
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(a[:8], b[:8])


def test_symbols_round_trip_is_exact_and_checks_length():
    latent = np.random.default_rng(1).normal(size=(6, 5, 7)).astype(np.float32)
    sent = symbols.latent_to_symbols(latent)
    assert sent.dtype == np.complex64 and sent.size == 6 * 5 * 7 // 2
    assert sent[0] == latent[0, 0, 0] + 1j * latent[0, 0, 1]
    np.testing.assert_array_equal(symbols.symbols_to_latent(sent, (6, 5, 7)), latent)
    with pytest.raises(ValueError, match="do not fill a latent"):
        symbols.symbols_to_latent(sent[:-1], (6, 5, 7))


def test_fit_policies():
    image = np.arange(10 * 20 * 3, dtype=np.uint8).reshape(10, 20, 3)
    assert images.fit(image, "resize", (8, 8)).shape == (8, 8, 3)
    np.testing.assert_array_equal(images.fit(image, "crop", (6, 10)), image[2:8, 5:15])
    padded = images.fit(image, "pad", (12, 16))
    np.testing.assert_array_equal(padded[:10], image[:, :16])
    assert padded.shape == (12, 16, 3) and not padded[10:].any()
    assert images.fit(image, "crop", (12, 24)).shape == (12, 24, 3)
    assert images.fit(image, "full", None) is image
    with pytest.raises(ValueError, match="not one of"):
        images.fit(image, "zoom", (4, 4))


def test_resolve_paths_and_unreadable_files(tmp_path):
    assert len(images.resolve_paths("samples")) == 4
    with pytest.raises(FileNotFoundError, match="no images found"):
        images.resolve_paths(str(tmp_path / "*.png"))
    (tmp_path / "bad.png").write_text("text")
    with pytest.raises(ValueError, match="cannot read image"):
        images.load_image(tmp_path / "bad.png")


def test_sixteen_bit_rgb_and_palette_conversion(tmp_path):
    wide = np.full((4, 4), 65535, np.uint16)
    rgb, note = images.to_rgb8(Image.fromarray(wide))
    assert rgb.shape == (4, 4, 3) and (rgb == 255).all() and "8-bit" in note
    palette = Image.fromarray(np.zeros((4, 4, 3), np.uint8)).convert("P")
    assert images.to_rgb8(palette)[0].shape == (4, 4, 3)


def test_shipped_bundles_load_and_describe_themselves(kodak_model, cifar_model):
    kodak = bundle.Bundle(kodak_model.name)  # by shipped name
    assert kodak.path == kodak_model and kodak.image_size is None
    assert kodak.n_symbols(512, 768) == 768 * 512 * 3 // 16
    cifar = bundle.Bundle(cifar_model)
    assert cifar.image_size == (32, 32) and cifar.n_symbols(32, 32) == 32 * 32 * 3 // 6
    assert set(bundle.shipped_models()) >= {"deepjscc_bsds_r16", "deepjscc_cifar10_r6"}
    assert bundle.Bundle(cifar_model, provider="cpu").providers == ["CPUExecutionProvider"]


def _copy(model, tmp_path):
    target = tmp_path / model.name
    shutil.copytree(model, target)
    return target


def test_bundle_errors_name_the_problem(tmp_path, kodak_model, cifar_model):
    with pytest.raises(bundle.ModelError, match="card.json is missing"):
        bundle.Bundle(tmp_path)
    broken = _copy(cifar_model, tmp_path)
    (broken / "card.json").write_text("{not json")
    with pytest.raises(bundle.ModelError, match="not valid JSON"):
        bundle.Bundle(broken)
    card = json.loads((cifar_model / "card.json").read_text())
    (broken / "card.json").write_text(json.dumps({k: v for k, v in card.items() if k != "latent_channels"}))
    with pytest.raises(bundle.ModelError, match="latent_channels"):
        bundle.Bundle(broken)
    (broken / "card.json").write_text(json.dumps({**card, "files": {"encoder": "decoder.onnx"}}))
    with pytest.raises(bundle.ModelError, match="is the decoder of model deepjscc_cifar10_r6, but the card "
                                                "expects the encoder"):
        bundle.Bundle(broken).session("encoder")
    (broken / "card.json").write_text(json.dumps(card))
    (broken / "decoder.onnx").unlink()
    with pytest.raises(bundle.ModelError, match="decoder file .* is missing"):
        bundle.Bundle(broken).session("decoder")
    with pytest.raises(bundle.ModelError, match="provider 'tpu'"):
        bundle.Bundle(cifar_model, provider="tpu")
    with pytest.raises(bundle.ModelError, match="encoder model deepjscc_bsds_r16 and decoder model "
                                                "deepjscc_cifar10_r6 differ"):
        bundle.check_pair(bundle.Bundle(kodak_model), bundle.Bundle(cifar_model))


def test_fixed_size_model_refuses_other_sizes_and_modes(cifar_model):
    model = bundle.Bundle(cifar_model)
    with pytest.raises(ValueError, match="takes 32x32 images, got 64x32"):
        model.encode(np.zeros((64, 32, 3), np.uint8))
    with pytest.raises(ValueError, match=r"uint8 \(H, W, 3\)"):
        model.encode(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ValueError, match=r"uint8 \(H, W, 3\)"):
        model.encode(np.zeros((32, 32, 3), np.uint16))
    with pytest.raises(ValueError, match="needs a fully convolutional model"):
        model.fit(np.zeros((40, 40, 3), np.uint8), "full")


@pytest.mark.datasets
def test_cifar10_test_images_are_extracted_per_class(tmp_path, monkeypatch):
    if not (datasets.dataset_root() / "cifar10-jpeg.zip").is_file():
        pytest.skip("CIFAR-10 zip not found (set SEMCOM_DATA)")
    monkeypatch.setenv("SEMCOM_CACHE", str(tmp_path))
    paths = datasets.resolve_paths("cifar10-test:1")
    assert len(paths) == 10 and len({p.name.split("_")[0] for p in paths}) == 10
    assert all(images.load_image(p)[0].shape == (32, 32, 3) for p in paths)
    assert datasets.resolve_paths("cifar10-test:1") == paths  # second call reads the cache
    with pytest.raises(ValueError, match="must be positive"):
        datasets.resolve_paths("cifar10-test:0")
