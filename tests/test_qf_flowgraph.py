#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The quantize-and-forward link in GNU Radio: the relay's bits over a noiseless pipeline or
a real digital link (LDPC + QAM over AWGN), against the same chain computed without
GNU Radio; the rate in bits per pixel; bad parameters."""
import pytest

from gnuradio.semcom import bundle, images, metrics, quantization
from semcom_tools import evaluate, flowgraphs, report

MODEL = "deepjscc_cifar10_r6"


def reference(photo_dir, dimension, bits):
    """PSNR per photo of encoder -> codebook -> decoder without a channel, in numpy."""
    runtime = bundle.DeepJSCCBundle(MODEL)
    codebook = quantization.load_codebook(runtime, dimension, bits)
    scores = []
    for path in sorted(photo_dir.iterdir()):
        source = images.fit(images.load_image(path)[0], "resize", (32, 32))
        sent = runtime.encode(source)
        restored = codebook.dequantize(codebook.quantize(sent), sent.size)
        scores.append(metrics.psnr_db(source, runtime.decode(restored, 32, 32)))
    return scores


@pytest.mark.parametrize("dimension,bits", [(4, 0.75), (2, 2)])
def test_noiseless_pipeline_is_the_codebook_between_encoder_and_decoder(photo_dir, dimension, bits):
    graph = flowgraphs.quantize_and_forward(MODEL, dimension, bits, str(photo_dir), snr_db=80.0)
    assert graph.bits_per_pixel == pytest.approx(bits)  # 2 x 512 reals x b bits / 1,024 pixels at ratio 1/6
    assert len(graph.hops) == 1
    rows = graph.run_images(60)
    assert [r["psnr_db"] for r in rows] == pytest.approx(reference(photo_dir, dimension, bits), abs=0.2)


def test_digital_link_above_its_threshold_delivers_the_noiseless_pipelines_images(photo_dir):
    noiseless = flowgraphs.quantize_and_forward(MODEL, 2, 1, str(photo_dir), snr_db=0.0, seed=4).run_images(60)
    graph = flowgraphs.quantize_and_forward(MODEL, 2, 1, str(photo_dir), link="digital", constellation="qpsk",
                                            code="n1800_r12", snr_db=0.0, link_snr_db=8.0, seed=4)
    assert len(graph.hops) == 2 and graph.link_symbols == 1800  # 1,024 bits: one codeword of 900, padded: 2 x 900
    digital = graph.run_images(60)
    assert [r["psnr_db"] for r in digital] == [r["psnr_db"] for r in noiseless]
    link, analog = graph.hops[1].noise.amplitude(), graph.hops[0].noise.amplitude()
    assert link / analog == pytest.approx(10 ** (-8 / 20), rel=1e-5)
    graph.set_snr_db(3.0)  # the analog hop only
    assert graph.hops[1].noise.amplitude() == link
    assert graph.hops[0].noise.amplitude() / analog == pytest.approx(10 ** (-3 / 20), rel=1e-5)


def test_digital_link_below_its_threshold_still_delivers_every_image(photo_dir):
    rows = flowgraphs.quantize_and_forward(MODEL, 2, 1, str(photo_dir), link="digital", constellation="16qam_gray",
                                           snr_db=0.0, link_snr_db=-2.0, seed=4).run_images(60)
    assert len(rows) == 3  # failed LDPC frames give wrong centres, never a lost image


def test_impossible_links_are_refused(df_model):
    with pytest.raises(ValueError, match="link must be one of"):
        flowgraphs.quantize_and_forward(MODEL, 2, 1, link="wireless")
    with pytest.raises(ValueError, match="3-hop decode-and-forward model"):
        flowgraphs.quantize_and_forward(str(df_model), 2, 1)
    with pytest.raises(bundle.ModelError, match="no codebook for N_Q = 2, b = 5"):
        flowgraphs.quantize_and_forward(MODEL, 2, 5)


def test_harness_runs_relays_with_their_rate_and_hop_count(df_model, photo_dir, tmp_path):
    summary = evaluate.main(["--models", MODEL, str(df_model), "--images", str(photo_dir), "--snr", "0",
                             "--qf", "2:1", "2:2", "--out", str(tmp_path / "eval")])
    links = {(s["model"], s["modulation"], s["relays"], s["bpp"]): s["n"] for s in summary}
    assert links == {(MODEL, "analog", 0, ""): 3, ("df2_tiny", "analog", 2, ""): 3,
                     (f"{MODEL}@qf2:1", "noiseless", 1, 1.0): 3, (f"{MODEL}@qf2:2", "noiseless", 1, 2.0): 3}
    qf = {s["model"]: s["psnr_db"] for s in summary}
    assert qf[f"{MODEL}@qf2:1"] < qf[f"{MODEL}@qf2:2"] < qf[MODEL] + 0.5  # finer codebooks approach no relay
    rows = report.read_rows(tmp_path / "eval" / "metrics.csv")
    assert {r["relays"] for r in rows} == {"0", "1", "2"}
    assert (tmp_path / "eval" / "relays.png").stat().st_size > 0  # PSNR against relays and bpp
    digital = evaluate.main(["--models", MODEL, "--images", str(photo_dir), "--snr", "0", "--qf", "2:1",
                             "--qf-link", "digital", "--modulation", "qpsk", "--qf-link-snr", "8",
                             "--out", str(tmp_path / "digital")])
    by_model = {s["model"]: s for s in digital}
    assert by_model[f"{MODEL}@qf2:1"]["modulation"] == "qpsk"
    assert by_model[f"{MODEL}@qf2:1"]["psnr_db"] == pytest.approx(qf[f"{MODEL}@qf2:1"], abs=1e-9)


def test_harness_refuses_bad_rates_and_codes(capsys):
    for args, message in ((["--qf", "4"], "a QF rate is N_Q:b"), (["--qf", "3:0.5"], "whole number of bits"),
                          (["--qf", "2:1", "--qf-code", "turbo"], "unknown LDPC code 'turbo'")):
        with pytest.raises(SystemExit):
            evaluate.main(["--models", MODEL, *args])
        assert message in capsys.readouterr().err
