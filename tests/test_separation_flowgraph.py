#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The separation baseline end to end: image codec + LDPC + QPSK through
``flowgraphs.separation_point_to_point``: the codec's own image at high SNR,
the fallback for every image at very low SNR, the capacity reference growing
with SNR, and the evaluation CLI running schemes next to a JSCC bundle."""
import csv

import numpy as np
import pytest
from PIL import Image

from gnuradio.semcom import codecs, images, ldpc, metrics
from semcom_tools import evaluate, flowgraphs, report

SIZE = (96, 128)  # at ratio 1/6: 6,144 channel uses; QPSK: 6 codewords of n1800_r12 = 5,412 codec bits
USES, BUDGET = 6144, 6 * 902


def decoded(folder) -> dict:
    return {p.stem: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def sources(photo_dir) -> dict:
    """image id -> the image as image_source sends it (resized to SIZE)."""
    return {f"{i:05d}_{p.stem}": images.fit(images.load_image(p)[0], "resize", SIZE)
            for i, p in enumerate(sorted(photo_dir.iterdir()))}


def test_high_snr_delivers_exactly_the_codecs_image(photo_dir, tmp_path):
    graph = flowgraphs.separation_point_to_point("jpeg", "n1800_r12", str(photo_dir), "qpsk", "awgn", snr_db=12.0,
                                                 bandwidth_ratio=1 / 6, size=SIZE, out_dir=str(tmp_path / "out"))
    assert graph.encoder.uses(*SIZE) == USES and graph.encoder.budget(*SIZE) == BUDGET
    assert graph.symbols(*SIZE) == 6 * 1800 // 2
    rows = {row["image"]: row for row in graph.run_images(timeout=60)}
    ours, codec = decoded(tmp_path / "out"), codecs.get("jpeg")
    assert sorted(ours) == sorted(rows) == sorted(sources(photo_dir))
    for image_id, picture in sources(photo_dir).items():
        data = codec.encode(picture, BUDGET)
        reference = codec.decode(data)
        np.testing.assert_array_equal(ours[image_id], reference)
        row = rows[image_id]
        assert row["psnr_db"] == metrics.psnr_db(picture, reference)
        assert (row["decode_failed"], row["codec_bytes"], row["n_symbols"]) == (0, len(data), 5400)


@pytest.mark.parametrize("channel", flowgraphs.SYMBOL_CHANNELS)
def test_very_low_snr_every_image_fails_and_gets_the_fallback(photo_dir, tmp_path, channel):
    graph = flowgraphs.separation_point_to_point("jpeg", "n1800_r12", str(photo_dir), "qpsk", channel, snr_db=-10.0,
                                                 bandwidth_ratio=1 / 6, size=SIZE, out_dir=str(tmp_path / "out"),
                                                 max_iterations=20)
    rows = graph.run_images(timeout=60)
    grey = np.full(SIZE + (3,), 128, np.uint8)
    assert len(rows) == 3 and all(row["decode_failed"] == 1 for row in rows)
    for row, (image_id, picture) in zip(sorted(rows, key=lambda r: r["image"]), sorted(sources(photo_dir).items())):
        assert row["image"] == image_id and row["psnr_db"] == metrics.psnr_db(picture, grey)
    assert all((image == 128).all() for image in decoded(tmp_path / "out").values())


def test_capacity_reference_grows_with_snr(photo_dir):
    snrs = [-5.0, 0.0, 5.0, 10.0, 20.0]
    budget = evaluate.Budget(1 / 6, SIZE, "test")
    rows = evaluate.capacity_rows(evaluate.parse_scheme("webp@capacity"), str(photo_dir), snrs, budget)
    assert len(rows) == 3 * len(snrs)
    assert all(r["channel_uses"] == USES and r["modulation"] == "gaussian" for r in rows)
    # an image fails exactly when WebP's smallest stream is larger than capacity (at -5 dB, 2,435 bits, some are)
    webp, pictures = codecs.get("webp"), sources(photo_dir)
    smallest = {image_id: 8 * len(webp.encode_at(p, 0)) for image_id, p in pictures.items()}
    for r in rows:
        assert r["decode_failed"] == int(smallest[r["image"]] > codecs.capacity_bits(USES, r["snr_db"]))
    assert all(r["decode_failed"] == 0 for r in rows if r["snr_db"] >= 5)
    for image_id in sources(photo_dir):
        mine = [r for r in rows if r["image"] == image_id]
        payload = [r["payload_bits"] for r in mine]
        assert payload == sorted(payload) and payload[-1] > payload[0]
        assert all(bits <= codecs.capacity_bits(USES, snr) for bits, snr in zip(payload, snrs))
    means = [np.mean([r["psnr_db"] for r in rows if r["snr_db"] == snr]) for snr in snrs]
    assert means == sorted(means) and means[-1] > means[0] + 5
    # at -10 dB capacity (844 bits) is below JPEG's smallest stream: every image is the fallback
    low = evaluate.capacity_rows(evaluate.parse_scheme("jpeg@capacity"), str(photo_dir), [-10.0], budget)
    assert all(r["decode_failed"] == 1 and r["payload_bits"] == 0 for r in low)


def test_snr_setting_and_impossible_links(photo_dir):
    graph = flowgraphs.separation_point_to_point("webp", "n1200_r34", str(photo_dir), "16qam_gray", snr_db=10.0,
                                                 bandwidth_ratio=1 / 6, size=SIZE, score=False)
    assert graph.bits_per_symbol == 4 and graph.code is ldpc.load("n1200_r34")
    graph.set_snr_db(3.0)
    assert graph.demapper.noise_var == pytest.approx(10 ** -0.3) and graph.metrics.snr_db == 3.0
    with pytest.raises(codecs.NoCodeword, match="a 32x32 image gets 512 channel uses at ratio 0.166667: "
                                                "1024 coded bits hold no n1800_r12 codeword of 1800 bits"):
        flowgraphs.separation_point_to_point("jpeg", "n1800_r12", str(photo_dir), "qpsk", size=(32, 32),
                                             bandwidth_ratio=1 / 6)
    with pytest.raises(ValueError, match="unknown LDPC code 'ldpc12'"):
        flowgraphs.separation_point_to_point("jpeg", "ldpc12", str(photo_dir))
    with pytest.raises(ValueError, match="unknown codec 'bpg'"):
        flowgraphs.separation_point_to_point("bpg", "n1800_r12", str(photo_dir))
    with pytest.raises(ValueError, match="channel must be one of"):
        flowgraphs.separation_point_to_point("jpeg", "n1800_r12", str(photo_dir), channel="rician")


def test_evaluation_cli_runs_schemes_next_to_a_jscc_model(cifar_model, photo_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    summary = evaluate.main(["--models", str(cifar_model), "jpeg+ldpc12", "webp@capacity", "--images", str(photo_dir),
                             "--modulation", "qpsk", "16qam_gray", "--snr", "15", "--out", str(out)])
    err = capsys.readouterr().err
    # the schemes take the CIFAR model's ratio (1/6) and size (32x32): 512 channel uses
    assert "floor(0.166667 x 3 x H x W) channel uses per image (ratio and size of deepjscc_cifar10_r6)" in err
    assert "images resized to 32x32" in err
    assert "jpeg+ldpc12 over qpsk: a 32x32 image gets 512 channel uses" in err and ": skipped" in err
    links = [(s["model"], s["modulation"], s["channel"], s["n"]) for s in summary]
    assert links == [("deepjscc_cifar10_r6", "analog", "awgn", 3), ("jpeg+ldpc12", "16qam_gray", "awgn", 3),
                     ("webp@capacity", "gaussian", "awgn", 3)]
    failed = {s["model"]: s["decode_failed"] for s in summary}
    # 902 codec bits (one codeword through 16QAM) are below JPEG's smallest 32x32 stream
    assert failed == {"deepjscc_cifar10_r6": None, "jpeg+ldpc12": 1.0, "webp@capacity": 0.0}
    with open(out / "metrics.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == report.COLUMNS
        rows = list(reader)
    uses = {r["model"]: int(r["channel_uses"]) for r in rows}
    assert uses == {"deepjscc_cifar10_r6": 512, "jpeg+ldpc12": 1800 // 4, "webp@capacity": 512}
    for row in rows:
        expected = {"deepjscc_cifar10_r6": ("", ""), "jpeg+ldpc12": ("1", "0")}.get(row["model"])
        if expected:
            assert (row["decode_failed"], row["payload_bits"]) == expected
        else:
            assert row["decode_failed"] == "0" and 0 < int(row["payload_bits"]) <= codecs.capacity_bits(512, 15)
    # the fallback (mid-grey) counts in the mean
    grey = np.full((32, 32, 3), 128, np.uint8)
    fallback = np.mean([metrics.psnr_db(images.fit(images.load_image(p)[0], "resize", (32, 32)), grey)
                        for p in sorted(photo_dir.iterdir())])
    assert next(s for s in summary if s["model"] == "jpeg+ldpc12")["psnr_db"] == pytest.approx(fallback, abs=1e-9)
    table = (out / "summary.md").read_text()
    assert "| failed |" in table and "| jpeg+ldpc12 |" in table and "| 1.00 |" in table
    for bad in ("gif+ldpc12", "jpeg+ldpc99"):
        with pytest.raises(SystemExit):
            evaluate.main(["--models", bad, "--out", str(out)])
