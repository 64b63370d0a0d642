#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Variational models through the flowgraph and the evaluation CLI: both VSCC test modes, every
draw of every image scored, the information-bottleneck reference, and what the CLI refuses."""
import csv
import math

import pytest

from gnuradio.semcom import codecs
from semcom_tools import evaluate, flowgraphs


@pytest.mark.parametrize("resampling, uses", [("transmitted", 1024), ("knowledge_base", 512)])
def test_every_image_comes_out_with_its_draws(vscc_tiny, photo_dir, resampling, uses, tmp_path):
    graph = flowgraphs.analog_point_to_point(str(vscc_tiny), str(photo_dir), snr_db=5.0, seed=2,
                                             resampling=resampling, samples=3, out_dir=str(tmp_path))
    rows = graph.run_images(120)
    assert len(rows) == 3 and graph.encoder.send_variance == (resampling == "transmitted")
    for row in rows:
        assert row["samples"] == 3 and row["n_symbols"] == uses
        assert row["psnr_min"] <= row["psnr_db"] <= row["psnr_max"] and row["ssim_min"] <= row["ssim_max"]
    assert len(list(tmp_path.glob("*#2.png"))) == 3  # every draw is written


def test_information_bottleneck_is_half_the_complex_capacity():
    assert codecs.information_bottleneck_bits(512, 10.0) == math.floor(256 * math.log2(11))
    assert codecs.information_bottleneck_bits(512, 10.0) == codecs.capacity_bits(512, 10.0) // 2
    assert evaluate.parse_scheme("webp@ib") == evaluate.Scheme("webp@ib", "webp", None, "ib")


def test_cli_runs_both_modes_next_to_the_ib_reference(vscc_tiny, photo_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    evaluate.main(["--models", str(vscc_tiny), "webp@ib", "--images", str(photo_dir), "--snr", "10",
                   "--resampling", "transmitted", "knowledge_base", "--samples", "2", "--out", str(out)])
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    models = {row["model"] for row in rows}
    assert models == {"vscc_tiny@transmitted", "vscc_tiny@knowledge_base", "webp@ib"}
    jscc = [r for r in rows if r["model"] == "vscc_tiny@knowledge_base"]
    ib = [r for r in rows if r["model"] == "webp@ib"]
    assert all(r["samples"] == "2" and float(r["psnr_min"]) <= float(r["psnr_max"]) for r in jscc)
    # the codec gets exactly the information-bottleneck bits of the JSCC link
    expected = codecs.information_bottleneck_bits(512, 10.0) / (32 * 32)
    assert {float(r["ib_bpp"]) for r in jscc + ib} == {round(expected, 4)}
    summary = (out / "summary.md").read_text()
    assert "| 2 |" in summary and "PSNR min - max" in summary


def test_cli_refuses_zero_samples(vscc_tiny, photo_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["--models", str(vscc_tiny), "--samples", "0", "--images", str(photo_dir), "--out",
                       str(tmp_path)])
    assert "--samples must be >= 1" in capsys.readouterr().err


def test_cli_runs_models_without_a_variance_or_a_classifier_once_with_a_note(cifar_model, photo_dir, tmp_path,
                                                                                capsys):
    rows = evaluate.main(["--models", str(cifar_model), "--resampling", "transmitted", "knowledge_base",
                          "--samples", "5", "--accuracy", "--images", str(photo_dir), "--snr", "10",
                          "--out", str(tmp_path)])
    assert "has no classifier: no accuracy" in capsys.readouterr().err
    assert [(r["model"], r["samples"], r["accuracy"]) for r in rows] == [("deepjscc_cifar10_r6", 1, None)]


def test_cli_names_a_knowledge_base_missing_from_the_card(vscc_tiny, photo_dir, tmp_path, capsys):
    import json
    import shutil
    model = tmp_path / "no_kb"
    shutil.copytree(vscc_tiny, model)
    card = json.loads((model / "card.json").read_text())
    del card["knowledge_base_variance"]
    (model / "card.json").write_text(json.dumps(card))
    with pytest.raises(SystemExit):
        evaluate.main(["--models", str(model), "--images", str(photo_dir), "--snr", "10", "--out", str(tmp_path)])
    assert "knowledge_base_variance, which is missing" in capsys.readouterr().err
