#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Each benchmark runs and reports every path or stage (no timing is asserted)."""
import pytest

from gnuradio.semcom import bundle

from conftest import load_bench


def test_throughput_benchmark_reports_all_three_paths(tmp_path):
    throughput = load_bench("throughput")
    rows = throughput.main(["--models", "deepjscc_cifar10_r6", "--images", "2", "--repeats", "1",
                            "--out", str(tmp_path)])
    int8 = ["onnxruntime int8"] if bundle.has_int8("deepjscc_cifar10_r6") else []  # skipped without int8 files
    assert [row["path"] for row in rows] == ["flowgraph", "onnxruntime", *int8, "torch eager"]
    # the arithmetic rate of every path, against this machine's GEMM peak (0.0287 GMAC per 32x32 image)
    assert all(row["GMAC/image"] == pytest.approx(0.0287, abs=5e-4) for row in rows)
    assert all(row["GMAC/s"] == pytest.approx(row["images/s"] * row["GMAC/image"]) and row["% of peak"] > 0
               for row in rows)
    assert "GMAC/s fp32 (MatMul)" in (tmp_path / "throughput.md").read_text()
    assert all(row["images/s"] > 0 for row in rows)
    assert (tmp_path / "throughput.md").read_text().count("deepjscc_cifar10_r6") >= 3


def test_digital_link_benchmark_reports_every_stage(tmp_path):
    digital_link = load_bench("digital_link")
    rows = digital_link.main(["--models", "bitsemcom_cifar10", "--constellations", "16qam_gray", "--images", "2",
                              "--repeats", "1", "--out", str(tmp_path)])
    stages = [(row["link"], row["stage"].split(":")[0]) for row in rows]
    assert stages == [("bitsemcom_cifar10", s) for s in ("encode", "bits", "map", "demap exact", "demap max-log",
                                                          "decode", "sum (exact)", "flowgraph")] + \
        [("webp+n1800_r12", s) for s in ("webp search", "LDPC encode", "map", "demap exact", "LDPC decode",
                                         "webp decode", "sum")]
    assert all(row["ms/image"] > 0 for row in rows)
    assert (tmp_path / "digital_link.md").is_file() and (tmp_path / "digital_link.png").stat().st_size > 0


def test_relay_benchmark_times_df_and_every_qf_rate(df_model, tmp_path):
    relays = load_bench("relays")
    rows = relays.main(["--df-model", str(df_model), "--images", "2", "--repeats", "1", "--out", str(tmp_path)])
    assert [row["relay"].split(" ")[0] for row in rows] == ["DF"] + ["QF"] * 5  # the shipped model's five rates
    assert [row["bits per pixel"] for row in rows[1:]] == ["0.75", "1", "1.25", "1.5", "2"]
    assert all(row["ms/image"] > 0 for row in rows) and rows[0]["vs DF"] == 1.0
    assert (tmp_path / "relays.md").read_text().count("QF (deepjscc_cifar10_r6)") == 5


def test_burst_benchmark_times_framing_receiving_and_the_search_rate(tmp_path):
    bursts = load_bench("bursts")
    result = bursts.main(["--repeats", "1", "--noise-samples", "200000", "--out", str(tmp_path)])
    assert [(row["payload symbols"], row["stage"]) for row in result["rows"]] == [
        (512, "frame"), (512, "receive"), (73728, "frame"), (73728, "receive")]
    assert all(row["ms"] > 0 for row in result["rows"]) and result["search_rate"] > 0
    assert "Msamples/s" in (tmp_path / "bursts.md").read_text()


def test_resampling_benchmark_times_every_draw_count(vscc_tiny, tmp_path):
    resampling = load_bench("resampling")
    rows = resampling.main(["--model", str(vscc_tiny), "--draws", "1", "4", "--images", "2", "--repeats", "1",
                            "--out", str(tmp_path)])
    assert [row["draws"] for row in rows] == [1, 4]
    assert all(row["batched decode ms/image"] > 0 and row["batch speed-up"] > 0 for row in rows)
    assert "vscc_tiny" in (tmp_path / "resampling.md").read_text()


def test_soak_benchmark_scores_every_image_over_both_links(tmp_path):
    soak = load_bench("soak")
    for link in ("stream", "burst"):
        rows = soak.main(["--link", link, "--images", "40", "--samples", "2", "--out", str(tmp_path)])
        assert [row["images"] >= target for row, target in zip(rows, (20, 40))] == [True, True]
        assert all(row["RSS (MiB)"] > 0 for row in rows)
        assert "MiB per 10,000 images" in (tmp_path / f"soak_{link}.md").read_text()
