#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""metrics_sink matches decoded images to references by id and scores them."""
import csv
import pathlib

import numpy as np
import pytest

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import keys, metrics, metrics_sink, pdus


def test_scores_by_id_in_any_order_and_writes_csv(tmp_path):
    rng = np.random.default_rng(0)
    refs = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3)]
    decoded = [np.clip(r.astype(int) + 5 * (i + 1), 0, 255).astype(np.uint8) for i, r in enumerate(refs)]
    sink = metrics_sink(snr_db=7.0, csv_path=str(tmp_path / "m.csv"))
    # decoded image 2 arrives before its reference; image 1 carries its own SNR
    messages = [("decoded", image_pdu(decoded[2], "c")),
                ("reference", image_pdu(refs[0], "a")), ("reference", image_pdu(refs[1], "b")),
                ("reference", image_pdu(refs[2], "c")), ("decoded", image_pdu(decoded[0], "a")),
                ("decoded", pdus.image_pdu({keys.IMAGE_ID: "b", keys.SNR_DB: 3.0}, decoded[1]))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 3)
    by_id = {row["image"]: row for row in sink.rows}
    assert sorted(by_id) == ["a", "b", "c"]
    for image_id, ref, dec in zip("abc", refs, decoded):
        assert by_id[image_id]["psnr_db"] == metrics.psnr_db(ref, dec)
        assert by_id[image_id]["ssim"] == metrics.ssim(ref, dec)
    assert by_id["a"]["snr_db"] == 7.0 and by_id["b"]["snr_db"] == 3.0
    with open(tmp_path / "m.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {"image", "snr_db", "psnr_db", "ssim"} <= set(rows[0]) and len(rows) == 3
    means = sink.means()
    assert means["count"] == 3
    assert abs(means["psnr_db"] - np.mean([r["psnr_db"] for r in sink.rows])) < 1e-12


def test_set_snr_db_changes_recorded_snr():
    sink = metrics_sink()
    sink.set_snr_db(12.5)
    assert sink.snr_db == 12.5


def test_rows_record_decode_failed_and_codec_bytes_when_the_metadata_has_them(tmp_path):
    image = np.full((16, 16, 3), 128, np.uint8)
    sink = metrics_sink(csv_path=str(tmp_path / "m.csv"))
    messages = [("reference", image_pdu(image, "a")), ("reference", image_pdu(image, "b")),
                ("decoded", pdus.image_pdu({keys.IMAGE_ID: "a", keys.DECODE_FAILED: 1, keys.CODEC_BYTES: 0}, image)),
                ("decoded", image_pdu(image, "b"))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 2)
    by_id = {row["image"]: row for row in sink.rows}
    assert (by_id["a"]["decode_failed"], by_id["a"]["codec_bytes"]) == (1, 0)
    assert (by_id["b"]["decode_failed"], by_id["b"]["codec_bytes"]) == ("", "")
    with open(tmp_path / "m.csv") as handle:
        rows = {row["image"]: row for row in csv.DictReader(handle)}
    assert rows["a"]["decode_failed"] == "1" and rows["b"]["decode_failed"] == ""


def test_lpips_per_image_and_on_average_when_asked(monkeypatch, tmp_path):
    from gnuradio.semcom import lpips
    if not lpips.available():
        pytest.skip(f"LPIPS network not installed ({lpips.model_path()}): run make setup")
    rng = np.random.default_rng(1)
    refs = {"big": rng.integers(0, 256, (40, 48, 3), dtype=np.uint8),
            "small": rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)}
    decoded = {k: np.clip(v.astype(int) + rng.integers(-20, 21, v.shape), 0, 255).astype(np.uint8)
               for k, v in refs.items()}
    sink = metrics_sink(lpips=True)
    messages = [(port, image_pdu(images[k], k)) for k in refs for port, images in
                (("reference", refs), ("decoded", decoded))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 2)
    by_id = {row["image"]: row for row in sink.rows}
    expected = lpips.LPIPS().distance(refs["big"], decoded["big"])
    assert abs(by_id["big"]["lpips"] - expected) < 1e-6 and by_id["big"]["lpips"] > 0
    assert by_id["small"]["lpips"] == ""  # under AlexNet's 31x31 minimum
    assert abs(sink.means()["lpips"] - expected) < 1e-6
    assert metrics_sink().rows == [] and np.isnan(metrics_sink().means()["lpips"])
    monkeypatch.setenv(lpips.ENV_VAR, str(tmp_path / "missing.onnx"))
    with pytest.raises(ValueError, match="LPIPS network .*missing.onnx is missing; create it with make setup"):
        metrics_sink(lpips=True)


def check_hash_agreement(folder: pathlib.Path, hash_of) -> None:
    """metrics_sink with the hash bundle ``folder`` scores a noisy copy of an image with the
    hashes ``hash_of(uint8 (H, W, 3) image) -> float (n_bits,)`` make, and an image of another
    size than the hash network's with empty hash columns."""
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    dec = np.clip(ref.astype(int) + rng.integers(-60, 61, ref.shape), 0, 255).astype(np.uint8)
    other = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)  # not the hash model's size
    sink = metrics_sink(hash_model=str(folder))
    messages = [("reference", image_pdu(ref, "a")), ("decoded", image_pdu(dec, "a")),
                ("reference", image_pdu(other, "b")), ("decoded", image_pdu(other, "b"))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 2)
    by_id = {row["image"]: row for row in sink.rows}
    h_ref, h_dec = hash_of(ref), hash_of(dec)
    cosine = float(h_ref @ h_dec / (np.linalg.norm(h_ref) * np.linalg.norm(h_dec)))
    assert by_id["a"]["hash_cosine"] == pytest.approx(cosine, abs=1e-5)
    assert by_id["a"]["hash_hamming"] == int(np.sum(np.sign(h_ref) != np.sign(h_dec)))
    assert by_id["b"]["hash_cosine"] == "" and by_id["b"]["hash_hamming"] == ""
    assert sink.means()["hash_cosine"] == pytest.approx(cosine, abs=1e-5)


def test_hash_agreement_with_the_shipped_dhd_bundle():
    """The shipped hash network; the reference hashes straight from its ONNX file."""
    import onnxruntime
    from conftest import ROOT
    folder = ROOT / "models" / "dhd_cifar10"
    session = onnxruntime.InferenceSession(str(folder / "hash.onnx"), providers=["CPUExecutionProvider"])
    check_hash_agreement(folder, lambda x: session.run(
        ["hash"], {"image": (x.transpose(2, 0, 1)[None] / 255).astype(np.float32)})[0][0])


def test_a_deepjscc_bundle_is_no_hash_model():
    from gnuradio.semcom import bundle
    with pytest.raises(bundle.ModelError, match="is a deepjscc model, for jscc_encoder and jscc_decoder; this needs a "
                                                "dhd model, for metrics_sink"):
        metrics_sink(hash_model="deepjscc_cifar10_r6")


@pytest.mark.training
def test_hash_agreement_with_a_dhd_bundle(tmp_path):
    """A hash bundle exported by training; the reference hashes from its torch network."""
    torch = pytest.importorskip("torch")
    from semcom_train import dhd
    folder = tmp_path / "dhd_tiny"
    dhd.export(dhd.HashNetwork(16, 4), folder, dhd.parse_args(["--out", "x", "--steps", "1", "--width", "4",
                                                                "--n-bits", "16"]), 1, 0.0, {})
    network = dhd.load_frozen(folder)
    with torch.no_grad():
        check_hash_agreement(folder, lambda x: network(torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255)[0]
                             .numpy())


def _draw(image, image_id, sample, samples, **extra):
    return pdus.image_pdu({keys.IMAGE_ID: image_id, keys.SAMPLE: sample, keys.SAMPLES: samples, **extra}, image)


def test_draws_of_one_image_make_one_row_of_means_and_extremes(tmp_path):
    rng = np.random.default_rng(4)
    reference = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    draws = [np.clip(reference.astype(int) + rng.integers(-k, k + 1, reference.shape), 0, 255).astype(np.uint8)
             for k in (3, 20, 60)]
    sink = metrics_sink(csv_path=str(tmp_path / "m.csv"))
    messages = [("decoded", _draw(draws[1], "a", 1, 3)), ("reference", image_pdu(reference, "a")),
                ("decoded", _draw(draws[0], "a", 0, 3)), ("reference", image_pdu(reference, "b")),
                ("decoded", _draw(reference, "b", 0, 1))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 1, settle=0.2)
    assert [row["image"] for row in sink.rows] == ["b"]  # "a" waits for its third draw
    run_block(sink, "decoded", [("decoded", _draw(draws[2], "a", 2, 3))], done=lambda: sink.arrivals.count >= 2)
    row = {r["image"]: r for r in sink.rows}["a"]
    psnrs = [metrics.psnr_db(reference, d) for d in draws]
    ssims = [metrics.ssim(reference, d) for d in draws]
    assert row["samples"] == 3
    assert row["psnr_db"] == pytest.approx(np.mean(psnrs)) and row["ssim"] == pytest.approx(np.mean(ssims))
    assert (row["psnr_min"], row["psnr_max"], row["ssim_min"], row["ssim_max"]) == (
        min(psnrs), max(psnrs), min(ssims), max(ssims))
    # image "b" was decoded once: its extremes are its own PSNR
    assert sink.means()["psnr_min"] == pytest.approx((min(psnrs) + sink.rows[0]["psnr_db"]) / 2)


def test_accuracy_scores_the_class_label_against_the_source_label():
    image = np.full((16, 16, 3), 100, np.uint8)
    sink = metrics_sink(accuracy=True)
    reference = lambda image_id, label: pdus.image_pdu({keys.IMAGE_ID: image_id, keys.LABEL: label}, image)  # noqa
    messages = [("reference", reference("a", "cat")), ("reference", reference("b", "dog")),
                ("decoded", _draw(image, "a", 0, 2, **{keys.CLASS_LABEL: "cat"})),
                ("decoded", _draw(image, "a", 1, 2, **{keys.CLASS_LABEL: "dog"})),
                ("decoded", _draw(image, "b", 0, 1, **{keys.CLASS_LABEL: "cat"}))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 2)
    rows = {r["image"]: r for r in sink.rows}
    assert (rows["a"]["label"], rows["a"]["correct"]) == ("cat", 0.5)
    assert (rows["b"]["label"], rows["b"]["predicted"], rows["b"]["correct"]) == ("dog", "cat", 0.0)
    assert sink.means()["accuracy"] == 0.25


def test_accuracy_without_labels_is_logged_and_the_sink_keeps_running(capfd):
    image = np.full((16, 16, 3), 100, np.uint8)
    sink = metrics_sink(accuracy=True)
    messages = [("reference", image_pdu(image, "unlabelled")), ("decoded", image_pdu(image, "unlabelled")),
                ("reference", pdus.image_pdu({keys.IMAGE_ID: "no class", keys.LABEL: "cat"}, image)),
                ("decoded", image_pdu(image, "no class")),
                ("reference", pdus.image_pdu({keys.IMAGE_ID: "good", keys.LABEL: "cat"}, image)),
                ("decoded", pdus.image_pdu({keys.IMAGE_ID: "good", keys.CLASS_LABEL: "cat"}, image))]
    run_block(sink, "decoded", messages, done=lambda: sink.arrivals.count >= 1, settle=0.2)
    assert [r["image"] for r in sink.rows] == ["good"] and sink.rows[0]["correct"] == 1.0
    text = logged(capfd)
    assert "reference image unlabelled has no label" in text
    assert "decoded image no class has no class_label" in text
    # without accuracy the label columns stay empty
    plain = metrics_sink()
    run_block(plain, "decoded", messages[-2:], done=lambda: plain.arrivals.count >= 1)
    assert plain.rows[0]["correct"] == ""


def test_duplicates_are_logged_and_never_paired_with_a_later_reference(capfd):
    rng = np.random.default_rng(5)
    first, later, decoded = (rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3))
    sink = metrics_sink()
    # GNU Radio drains one input port's queue before the next: posted in steps, to keep their order
    steps = [[("reference", image_pdu(first, "a")), ("decoded", image_pdu(decoded, "a"))],  # scored
             [("decoded", image_pdu(decoded, "a"))],  # a duplicate of a scored image: dropped, not held
             [("reference", image_pdu(later, "a")),  # a later reference with the id must not pair with it
              ("reference", image_pdu(first, "b")), ("reference", image_pdu(later, "b")),  # replaces the first
              ("decoded", _draw(decoded, "c", 0, 2)), ("decoded", _draw(decoded, "c", 0, 2))]]  # one draw twice
    for step in steps:
        run_block(sink, "decoded", step, done=lambda: sink.arrivals.count >= 1, settle=0.2)
    assert [r["image"] for r in sink.rows] == ["a"] and sink.rows[0]["psnr_db"] == metrics.psnr_db(first, decoded)
    assert sink.waiting() == {"reference": ["a", "b"], "decoded": ["c"]}
    text = logged(capfd)
    assert "decoded image a came again after it was scored: dropped" in text
    assert "reference image b came again before its decoded image: the earlier reference is replaced" in text
    assert "decoded image c (draw 0) came twice before it was scored: the second is dropped" in text
    # the images still unmatched when the flowgraph stops are named
    assert "at stop, 2 reference images had no decoded image: a, b" in text
    assert "at stop, 1 decoded image had no reference: c" in text
    run_block(sink, "decoded", [("decoded", image_pdu(decoded, "b"))], done=lambda: sink.arrivals.count >= 2)
    assert sink.rows[-1]["psnr_db"] == metrics.psnr_db(later, decoded)  # b was scored against its second reference


def test_rows_keep_the_latest_while_means_and_csv_cover_every_row(tmp_path):
    rng = np.random.default_rng(6)
    refs = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(5)]
    decoded = [np.clip(r.astype(int) + 4 * (i + 1), 0, 255).astype(np.uint8) for i, r in enumerate(refs)]
    sink = metrics_sink(csv_path=str(tmp_path / "m.csv"), keep_rows=2, done_port=True)
    messages = [m for i in range(5) for m in (("reference", image_pdu(refs[i], f"i{i}")),
                                              ("decoded", image_pdu(decoded[i], f"i{i}")))]
    done = run_block(sink, "decoded", messages, out_port="done", expected=5)
    assert [r["image"] for r in sink.rows] == ["i3", "i4"]
    psnrs = [metrics.psnr_db(r, d) for r, d in zip(refs, decoded)]
    means = sink.means()
    assert means["count"] == 5 == sink.count and means["psnr_db"] == pytest.approx(np.mean(psnrs))
    assert means["psnr_min"] == pytest.approx(np.mean(psnrs)) and np.isnan(means["accuracy"])
    with open(tmp_path / "m.csv") as handle:
        assert [row["image"] for row in csv.DictReader(handle)] == [f"i{i}" for i in range(5)]
    # each row is acknowledged on "done" (image_source's window)
    assert [pdus.split(m)[0][keys.IMAGE_ID] for m in done] == [f"i{i}" for i in range(5)]
    sink.keep_latest(10)
    assert [r["image"] for r in sink.rows] == ["i3", "i4"] and sink.keep_rows == 10
    with pytest.raises(ValueError, match="keep_rows must be >= 0"):
        metrics_sink(keep_rows=-1)


def test_images_waiting_for_their_match_are_bounded_and_the_dropped_ones_named(capfd):
    image = np.zeros((16, 16, 3), np.uint8)  # 768 bytes: three fit in 2,500
    sink = metrics_sink(max_waiting_mb=2500 / 2 ** 20)
    run_block(sink, "reference", [image_pdu(image, f"r{i}") for i in range(5)], done=lambda: len(sink.waiting()[
        "reference"]) == 3 and "r4" in sink.waiting()["reference"], timeout=10)
    run_block(sink, "decoded", [image_pdu(image, "r4")], done=lambda: sink.arrivals.count >= 1, timeout=10)
    assert sink.waiting() == {"reference": ["r3"], "decoded": []}  # r2 made room for the decoded r4
    text = logged(capfd)
    for old in ("r0", "r1", "r2"):
        assert f"reference image {old} dropped unmatched: the images waiting for their match passed max_waiting_mb" \
            in text
    assert "r3 dropped" not in text and sink.count == 1
