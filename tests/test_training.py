#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Training side: channels, networks, a training run that resumes, ONNX export parity, the
torch-side evaluation's card record."""
import json
import shutil

import numpy as np
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from PIL import Image

from gnuradio.semcom import bundle, card, images
from semcom_train import channels, deepjscc, evaluate, export, models, train


def test_awgn_noise_power_follows_snr_per_image():
    latent = torch.zeros(2, 8, 16, 16)
    channel = channels.AWGN(10.0, torch.Generator().manual_seed(0))
    noise = torch.view_as_complex(channel(latent).reshape(2, -1, 2))
    assert noise.abs().pow(2).mean().item() == pytest.approx(0.1, rel=0.03)
    spread = channels.AWGN((0.0, 20.0), torch.Generator().manual_seed(1))
    snrs = spread.draw_snr_db(1000, "cpu")
    assert 0.0 <= snrs.min() and snrs.max() <= 20.0 and snrs.std() > 5
    with pytest.raises(ValueError, match="above high"):
        channels.AWGN((5.0, 1.0))
    with pytest.raises(KeyError, match="unknown channel"):
        channels.make_channel("rician", 3.0)


def test_rayleigh_block_fading_has_one_unit_power_coefficient_per_image():
    latent = deepjscc.normalize_power(torch.randn(4000, 2, 2, 2))
    out = channels.RayleighBlockFading(200.0, torch.Generator().manual_seed(0))(latent)
    x = torch.view_as_complex(latent.reshape(4000, -1, 2))
    y = torch.view_as_complex(out.reshape(4000, -1, 2))
    h = y / x
    assert torch.allclose(h, h[:, :1].expand_as(h), atol=1e-3)  # one coefficient per image
    assert h[:, 0].abs().pow(2).mean().item() == pytest.approx(1.0, rel=0.08)


def test_registered_models_have_the_papers_bandwidth_ratios_and_shapes():
    assert models.REGISTRY["deepjscc_cifar10_r6"].bandwidth_ratio == pytest.approx(1 / 6)
    assert models.REGISTRY["deepjscc_bsds_r16"].bandwidth_ratio == pytest.approx(1 / 16)
    model = models.build("deepjscc_bsds_r16")
    out = model(torch.rand(2, 3, 64, 96), channels.AWGN(10.0))
    assert out["latent"].shape == (2, 6, 16, 24) and out["image_hat"].shape == (2, 3, 64, 96)
    power = 2 * out["latent"].pow(2).flatten(1).mean(1)
    assert torch.allclose(power, torch.ones(2), atol=1e-5)
    assert 0 <= out["image_hat"].min() and out["image_hat"].max() <= 1
    with pytest.raises(KeyError, match="unknown model"):
        models.build("nope")


@pytest.fixture
def tiny_data(tmp_path):
    """A data root with a BSDS-like layout holding scikit-image photos."""
    for split in ("train", "val"):
        folder = tmp_path / "data" / "bsds500" / split
        folder.mkdir(parents=True)
        for path in images.sample_paths():
            picture, _ = images.load_image(path)
            Image.fromarray(images.fit(picture, "crop", (96, 96))).save(folder / f"{path.stem}.png")
    return tmp_path / "data"


def test_training_runs_checkpoints_and_resumes(tiny_data, tmp_path):
    args = ["--model", "deepjscc_bsds_r16", "--data", "bsds", "--data-root", str(tiny_data), "--out",
            str(tmp_path / "run"), "--crop", "32", "--batch-size", "4", "--val-every", "2",
            "--checkpoint-every", "2", "--threads", "1"]
    first = train.main(args + ["--steps", "3"])
    assert first["step"] == 3 and np.isfinite(first["val_psnr_db"])
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert state["step"] == 3
    second = train.main(args + ["--steps", "5"])
    assert second["step"] == 5 and second["seconds"] > first["seconds"]
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert log[0] == "step,seconds,loss,val_psnr_db,val_accuracy" and [l.split(",")[0] for l in log[1:]] == ["2", "3", "4", "5"]


def _parity(folder, size):
    """Max relative difference between torch and onnxruntime, encoder and decoder."""
    model = models.load_bundle(folder)
    runtime = bundle.Bundle(folder)
    image = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
    with torch.no_grad():
        latent = model.encoder(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255)
        decoded = model.decoder(latent)
    ort_latent = runtime.session("encoder").run(None, {"image": (image.astype(np.float32) / 255)
                                                       .transpose(2, 0, 1)[None]})[0]
    ort_decoded = runtime.session("decoder").run(None, {"latent": latent.numpy()})[0]

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
    return rel(ort_latent, latent.numpy()), rel(ort_decoded, decoded.numpy())


def test_export_writes_a_bundle_whose_onnx_matches_torch(tiny_data, tmp_path):
    train.main(["--model", "deepjscc_cifar10_r6", "--data", "bsds", "--data-root", str(tiny_data), "--out",
                str(tmp_path / "run"), "--crop", "32", "--batch-size", "2", "--steps", "2", "--threads", "1"])
    out = export.main(["--checkpoint", str(tmp_path / "run" / "checkpoint.pt"), "--out", str(tmp_path / "b")])
    card = json.loads((out / "card.json").read_text())
    assert card["model_id"] == "deepjscc_cifar10_r6" and card["steps"] == 2 and card["image_size"] == [32, 32]
    assert max(_parity(out, (32, 32))) < 1e-4


def test_torch_evaluation_records_its_results_in_the_card(photo_dir, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(bundle.resolve("deepjscc_cifar10_r6"), model)
    argv = ["--model", str(model), "--images", str(photo_dir), "--snr", "5", "15", "--update-card", "photos"]
    results = evaluate.main(argv)
    written = card.validate(card.read(model / "card.json"), model / "card.json")
    record = written["measured"]["photos"]
    assert record["command"] == "python -m semcom_train.evaluate " + " ".join(argv)
    assert record["images"] == [str(photo_dir)] and record["n_images"] == 3
    assert set(record) == {"images", "command", "n_images", evaluate.LINK}
    assert record[evaluate.LINK]["psnr_db"] == {f"{snr:g}": round(r["psnr_db"], 2) for snr, r in results.items()}
    assert set(record[evaluate.LINK]["ssim"]) == {"5", "15"}
    assert written["measured"]["cifar10_test"] == bundle.Bundle("deepjscc_cifar10_r6").card["measured"]["cifar10_test"]


@pytest.mark.parametrize("name,size", [("deepjscc_cifar10_r6", (32, 32)), ("deepjscc_bsds_r16", (128, 192))])
def test_shipped_onnx_matches_shipped_torch_weights(name, size):
    assert max(_parity(bundle.resolve(name), size)) < 1e-4
