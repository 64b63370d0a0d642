#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""BitSemCom's digital link end to end: one trained bundle through
``flowgraphs.digital_point_to_point`` with QPSK and 16QAM over AWGN and Rayleigh
block fading, the error-free output of the torch model at very high SNR, seeds,
and the evaluation CLI sweeping modulations."""
import csv
import json
import shutil

import numpy as np
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from gnuradio import digital
from PIL import Image

from gnuradio.semcom import bundle, images
from semcom_tools import evaluate, flowgraphs, report

QPSK_USES, QAM16_USES = 1024 // 2, 1024 // 4


def decoded(folder) -> dict:
    """image id -> uint8 image of the PNGs image_sink wrote."""
    return {p.stem: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


@pytest.mark.parametrize("channel", flowgraphs.SYMBOL_CHANNELS)
@pytest.mark.parametrize("constellation,uses", [("qpsk", QPSK_USES), ("16qam", QAM16_USES)])
def test_every_image_comes_out_with_n_bits_over_bits_per_symbol_channel_uses(bitsemcom_model, photo_dir, tmp_path,
                                                                             constellation, uses, channel):
    graph = flowgraphs.digital_point_to_point(bitsemcom_model, str(photo_dir), constellation, channel, snr_db=5.0,
                                              out_dir=str(tmp_path / "out"), seed=3, threads=1)
    assert graph.channel_uses == uses and graph.bits_per_symbol == 1024 // uses
    assert (graph.channel == "rayleigh") == bool(graph.fadings)
    assert not graph.bit_mapper.deterministic  # the card's inference_bits: "sample"
    rows = graph.run_images(timeout=120)
    names = sorted(p.stem for p in photo_dir.iterdir())
    assert sorted(r["image"] for r in rows) == [f"{i:05d}_{n}" for i, n in enumerate(names)]
    assert all(r["n_symbols"] == uses and r["model_id"] == "bitsemcom_cifar10" for r in rows)
    assert all((r["height"], r["width"]) == (32, 32) and np.isfinite(r["psnr_db"]) for r in rows)
    assert len(decoded(tmp_path / "out")) == len(names)


def torch_error_free(model_path, photo_dir) -> dict:
    """image id -> the torch model's output over an error-free channel with thresholded bits,
    for the images as image_source sends them (resized to 32x32, or at their own size, padded
    by edge replication to multiples of 4 and cropped back, for a fully convolutional model)."""
    from semcom_train import channels, models
    model = models.load_bundle(model_path)
    size = model.config.image_size
    out = {}
    for i, path in enumerate(sorted(photo_dir.iterdir())):
        picture = images.load_image(path)[0]
        picture = images.fit(picture, "resize", size) if size else picture
        height, width = picture.shape[:2]
        padded = np.pad(picture, ((0, -height % 4), (0, -width % 4), (0, 0)), mode="edge")
        x = torch.tensor(padded).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            image = model(x, channels.ErrorFree(), decision="threshold")["image_hat"][0, :, :height, :width]
        out[f"{i:05d}_{path.stem}"] = torch.round(image * 255).clamp(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    return out


@pytest.mark.parametrize("constellation", ["qpsk", digital.constellation_16qam()], ids=["qpsk", "16qam"])
@pytest.mark.parametrize("model", ["bitsemcom_model", "bitsemcom_fullconv_model"], ids=["fixed", "fullconv"])
def test_very_high_snr_with_thresholded_bits_gives_the_torch_models_error_free_output(
        model, photo_dir, tmp_path, constellation, request):
    model = request.getfixturevalue(model)
    graph = flowgraphs.digital_point_to_point(model, str(photo_dir), constellation, "awgn", snr_db=60.0,
                                              out_dir=str(tmp_path / "out"), deterministic=True)
    graph.run_images(timeout=120)
    ours, reference = decoded(tmp_path / "out"), torch_error_free(model, photo_dir)
    assert sorted(ours) == sorted(reference)
    for name, image in ours.items():
        assert image.shape == reference[name].shape
        difference = np.abs(image.astype(int) - reference[name].astype(int))
        assert difference.max() <= 1, (name, difference.max())


def test_fully_convolutional_model_sends_every_image_at_its_own_size(bitsemcom_fullconv_model, photo_dir, tmp_path):
    graph = flowgraphs.digital_point_to_point(bitsemcom_fullconv_model, str(photo_dir), "16qam", "rayleigh",
                                              snr_db=5.0, out_dir=str(tmp_path / "out"), seed=2, threads=1)
    # photo_dir: 96x128, 64x80 and 100x60 (padded to 100x60: already multiples of 4)
    assert graph.channel_uses == 6 * (100 // 4) * (128 // 4) // 4  # the buffers' longest burst
    rows = graph.run_images(timeout=120)
    assert len(rows) == 3 and all(r["model_id"] == "bitsemcom_bsds_variant" for r in rows)
    for row in rows:
        bits = 6 * -(-row["height"] // 4) * -(-row["width"] // 4)
        assert row["n_symbols"] == -(-bits // 4) and np.isfinite(row["psnr_db"])
    shapes = sorted(image.shape for image in decoded(tmp_path / "out").values())
    assert shapes == [(64, 80, 3), (96, 128, 3), (100, 60, 3)]


def test_sampled_bits_are_reproducible_with_a_seed(bitsemcom_model, photo_dir, tmp_path):
    outputs = {}
    for run, seed in (("a", 4), ("b", 4), ("c", 5)):
        graph = flowgraphs.digital_point_to_point(bitsemcom_model, str(photo_dir), "16qam", "rayleigh", snr_db=8.0,
                                                  out_dir=str(tmp_path / run), seed=seed)
        graph.run_images(timeout=120)
        outputs[run] = decoded(tmp_path / run)
    assert outputs["a"].keys() == outputs["b"].keys() == outputs["c"].keys()
    for name in outputs["a"]:
        np.testing.assert_array_equal(outputs["a"][name], outputs["b"][name])
    assert any((outputs["a"][n] != outputs["c"][n]).any() for n in outputs["a"])


def test_set_snr_db_moves_the_noise_and_the_demappers_noise_variance(bitsemcom_model):
    graph = flowgraphs.digital_point_to_point(bitsemcom_model, "samples", "64qam", snr_db=10.0, score=False)
    assert graph.channel_uses == 171 and graph.demapper.noise_var == pytest.approx(0.1)
    before = graph.noise.amplitude()  # noise_source_c reports its per-component amplitude
    graph.set_snr_db(3.0)
    assert graph.demapper.noise_var == pytest.approx(10 ** -0.3)
    assert graph.noise.amplitude() / before == pytest.approx(10 ** (7 / 20), rel=1e-5)
    assert graph.metrics.snr_db == 3.0


def test_links_refuse_the_other_method_and_unknown_settings(bitsemcom_model, cifar_model):
    with pytest.raises(bundle.ModelError, match="deepjscc_cifar10_r6 is a deepjscc model.*needs a bitsemcom model"):
        flowgraphs.digital_point_to_point(cifar_model)
    with pytest.raises(bundle.ModelError, match="bitsemcom_cifar10 is a bitsemcom model.*needs a deepjscc model"):
        flowgraphs.analog_point_to_point(bitsemcom_model)
    with pytest.raises(ValueError, match=r"channel must be one of \('awgn', 'rayleigh', 'burst', .*\), got 'rician'"):
        flowgraphs.digital_point_to_point(bitsemcom_model, channel="rician")
    with pytest.raises(KeyError, match="unknown modulation '1024qam'; known: bpsk, qpsk"):
        flowgraphs.digital_point_to_point(bitsemcom_model, constellation="1024qam")


def test_evaluation_cli_sweeps_modulations_and_channels(bitsemcom_model, cifar_model, photo_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    summary = evaluate.main(["--models", str(bitsemcom_model), str(cifar_model), "webp@capacity", "--images",
                             str(photo_dir), "--modulation", "qpsk", "16qam", "--channel", "awgn", "rayleigh",
                             "--snr", "6", "--out", str(out)])
    assert "webp@capacity is a capacity reference, run over awgn only: skipped rayleigh" in capsys.readouterr().err
    links = [(s["model"], s["modulation"], s["channel"], s["n"]) for s in summary]
    assert links == [("bitsemcom_cifar10", "qpsk", "awgn", 3), ("bitsemcom_cifar10", "qpsk", "rayleigh", 3),
                     ("bitsemcom_cifar10", "16qam", "awgn", 3), ("bitsemcom_cifar10", "16qam", "rayleigh", 3),
                     ("deepjscc_cifar10_r6", "analog", "awgn", 3), ("deepjscc_cifar10_r6", "analog", "rayleigh", 3),
                     ("webp@capacity", "gaussian", "awgn", 3)]
    with open(out / "metrics.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == report.COLUMNS
        rows = list(reader)
    uses = {(r["model"], r["modulation"], r["channel"]): int(r["channel_uses"]) for r in rows}
    assert uses == {("bitsemcom_cifar10", "qpsk", "awgn"): QPSK_USES, ("bitsemcom_cifar10", "qpsk", "rayleigh"): QPSK_USES,
                    ("bitsemcom_cifar10", "16qam", "awgn"): QAM16_USES,
                    ("bitsemcom_cifar10", "16qam", "rayleigh"): QAM16_USES,
                    ("deepjscc_cifar10_r6", "analog", "awgn"): 32 * 32 * 3 // 6,
                    ("deepjscc_cifar10_r6", "analog", "rayleigh"): 32 * 32 * 3 // 6,
                    ("webp@capacity", "gaussian", "awgn"): 32 * 32 * 3 // 6}
    assert len(rows) == 21 and all(float(r["snr_db"]) == 6 and float(r["psnr_db"]) > 0 for r in rows)
    assert "| bitsemcom_cifar10 |" in (out / "summary.md").read_text()
    assert (out / "psnr_vs_snr.png").stat().st_size > 0 and (out / "ssim_vs_snr.png").stat().st_size > 0
    with pytest.raises(SystemExit):
        evaluate.main(["--models", str(bitsemcom_model), "--modulation", "1024qam", "--out", str(out)])


def test_update_card_stores_each_bundles_means_per_link(bitsemcom_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(bitsemcom_model, model)
    argv = ["--models", str(model), "jpeg@capacity", "--images", "samples", "--modulation", "qpsk", "16qam",
            "--snr", "3", "9", "--out", str(tmp_path / "eval"), "--update-card", "samples_test"]
    summary = evaluate.main(argv)
    measured = json.loads((model / "card.json").read_text())["measured"]["samples_test"]
    assert measured["command"] == "semcom-eval " + " ".join(argv)
    assert measured["images"] == ["samples"]
    assert set(measured) == {"images", "command", "qpsk/awgn", "16qam/awgn"}
    for s in summary:
        if s["model"] == "bitsemcom_cifar10":
            link = measured[f"{s['modulation']}/awgn"]
            assert link["psnr_db"][f"{s['snr_db']:g}"] == round(s["psnr_db"], 2)
            assert link["ssim"][f"{s['snr_db']:g}"] == round(s["ssim"], 4)
    assert measured["qpsk/awgn"]["channel_uses"] == QPSK_USES and measured["16qam/awgn"]["channel_uses"] == QAM16_USES


def test_merge_summarises_earlier_runs_without_running_anything(bitsemcom_model, tmp_path, capsys):
    for name, snr in (("a", "2"), ("b", "8")):
        evaluate.main(["--models", str(bitsemcom_model), "--images", "samples", "--snr", snr,
                       "--out", str(tmp_path / name)])
    summary = evaluate.main(["--merge", str(tmp_path / "a" / "metrics.csv"), str(tmp_path / "b" / "metrics.csv"),
                             "--out", str(tmp_path / "merged")])
    single = [evaluate.main(["--merge", str(tmp_path / n / "metrics.csv"), "--out", str(tmp_path / f"m{n}")])[0]
              for n in ("a", "b")]
    assert [(s["snr_db"], s["n"]) for s in summary] == [(2.0, 4), (8.0, 4)]
    assert [s["psnr_db"] for s in summary] == [s["psnr_db"] for s in single]
    assert (tmp_path / "merged" / "psnr_vs_snr.png").stat().st_size > 0
    assert evaluate.main(["--merge", str(tmp_path / "a" / "metrics.csv"), "--channel", "rayleigh",
                          "--out", str(tmp_path / "none")]) == []
    (tmp_path / "bad.csv").write_text("image,psnr\nx,1\n")
    with pytest.raises(SystemExit):
        evaluate.main(["--merge", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "m")])
    assert "is not a metrics.csv of this harness" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate.main(["--merge", str(tmp_path / "a" / "metrics.csv"), "--update-card", "x"])
