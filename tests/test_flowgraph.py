#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The point-to-point flowgraph end to end, its channel, and the evaluation harness."""
import time

import numpy as np
import pmt
import pytest
from gnuradio import analog, blocks, gr, pdu
from PIL import Image

from gnuradio.semcom import images, keys, pdus
from semcom_tools import evaluate, flowgraphs


def test_noise_source_power_is_amplitude_squared():
    """The SNR convention the flowgraph relies on: complex noise power = amplitude^2."""
    top = gr.top_block()
    noise = analog.noise_source_c(analog.GR_GAUSSIAN, flowgraphs.noise_amplitude(7.0), 3)
    head = blocks.head(gr.sizeof_gr_complex, 200_000)
    sink = blocks.vector_sink_c()
    top.connect(noise, head, sink)
    top.run()
    power = np.mean(np.abs(np.asarray(sink.data())) ** 2)
    assert power == pytest.approx(10 ** (-0.7), rel=0.02)


def test_twenty_images_of_mixed_sizes_all_come_out(kodak_model, kodak_dir, tmp_path):
    """Bursts from 1,000 up to a full Kodak image (73,728 symbols) pass, the last one too."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    kodak = sorted(kodak_dir.glob("*.png"))
    for i in range(20):
        picture, _ = images.load_image(kodak[i])
        if i % 4 == 1:  # smaller crops between full images
            picture = picture[: 40 + 10 * i, : 100 + 5 * i]
        Image.fromarray(picture).save(folder / f"{i:02d}.png")
    graph = flowgraphs.analog_point_to_point(kodak_model, str(folder), snr_db=10.0, out_dir=str(tmp_path / "out"))
    rows = graph.run_images(timeout=300)
    assert sorted(r["image"] for r in rows) == [f"{i:05d}_{i:02d}" for i in range(20)]
    assert len(list((tmp_path / "out").glob("*.png"))) == 20
    assert max(r["n_symbols"] for r in rows) == 73_728
    assert all(np.isfinite(r["psnr_db"]) and r["psnr_db"] > 15 for r in rows)


def test_channel_adds_exactly_the_requested_noise(cifar_model):
    """Symbols through pdu_to_tagged_stream -> add -> tagged_stream_to_pdu keep
    their order and length and pick up noise of power 10^(-SNR/10)."""
    top = gr.top_block()
    to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, flowgraphs.LENGTH_TAG)
    add = blocks.add_cc()
    add.set_alignment(1)
    noise = analog.noise_source_c(analog.GR_GAUSSIAN, flowgraphs.noise_amplitude(10.0), 5)
    to_pdu = pdu.tagged_stream_to_pdu(gr.types.complex_t, flowgraphs.LENGTH_TAG)
    debug = blocks.message_debug()
    for block in (to_stream, add):
        block.set_min_output_buffer(pdus.burst_buffer(100_000))
    top.connect(to_stream, (add, 0))
    top.connect(noise, (add, 1))
    top.connect(add, to_pdu)
    top.msg_connect((to_pdu, "pdus"), (debug, "store"))
    rng = np.random.default_rng(0)
    sent = [np.exp(2j * np.pi * rng.random(n)).astype(np.complex64) for n in (100_000, 7, 5_000)]
    top.start()
    for i, burst in enumerate(sent):
        to_stream.to_basic_block()._post(pmt.intern("pdus"), pdus.make({keys.IMAGE_ID: str(i)}, burst))
    deadline = time.monotonic() + 20
    while debug.num_messages() < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    top.stop()
    top.wait()
    received = [pdus.parse_symbols(debug.get_message(i)) for i in range(debug.num_messages())]
    assert [m[keys.IMAGE_ID] for m, _ in received] == ["0", "1", "2"]
    error = received[0][1] - sent[0]
    assert np.mean(np.abs(error) ** 2) == pytest.approx(0.1, rel=0.03)
    assert [r.size for _, r in received] == [s.size for s in sent]


@pytest.mark.training
def test_harness_matches_torch_side_evaluation(kodak_model, kodak_dir, tmp_path):
    """Same model, images and SNR: GNU Radio flowgraph vs torch within 0.2 dB."""
    from semcom_train import evaluate as torch_evaluate
    subset = tmp_path / "subset"
    subset.mkdir()
    for path in sorted(kodak_dir.glob("*.png"))[:4]:
        (subset / path.name).write_bytes(path.read_bytes())
    summary = evaluate.main(["--models", str(kodak_model), "--images", str(subset), "--snr", "5", "15",
                             "--out", str(tmp_path / "eval")])
    torch_results = torch_evaluate.main(["--model", str(kodak_model), "--images", str(subset),
                                         "--snr", "5", "15", "--no-ssim"])
    for row in summary:
        assert row["n"] == 4
        assert abs(row["psnr_db"] - torch_results[row["snr_db"]]["psnr_db"]) < 0.2
    for name in ("metrics.csv", "summary.md", "psnr_vs_snr.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 0


@pytest.mark.parametrize("equalization", ["zf", "mmse"])
def test_analog_link_over_rayleigh_fading_equalises_with_the_known_gain(cifar_model, photo_dir, equalization):
    """At 50 dB the coherent receiver undoes each image's fade: the decoded images score
    as over AWGN; set_snr_db moves the equaliser's N0 with the noise."""
    def scores(channel, snr_db):
        graph = flowgraphs.analog_point_to_point(cifar_model, str(photo_dir), snr_db=snr_db, seed=4,
                                                 channel=channel, equalization=equalization)
        assert bool(graph.fadings) == bool(graph.equalizers) == (channel == "rayleigh")
        return {r["image"]: r["psnr_db"] for r in graph.run_images(timeout=120)}

    awgn, faded = scores("awgn", 50.0), scores("rayleigh", 50.0)
    assert awgn.keys() == faded.keys() and len(awgn) == 3
    assert all(abs(awgn[k] - faded[k]) < 0.3 for k in awgn), (awgn, faded)
    graph = flowgraphs.analog_point_to_point(cifar_model, "samples", channel="rayleigh", equalization=equalization,
                                             snr_db=10.0, score=False)
    graph.set_snr_db(3.0)
    assert graph.equalizer.noise_var == pytest.approx(10 ** -0.3)
    with pytest.raises(ValueError, match=r"channel must be one of \('awgn', 'rayleigh', 'burst', .*\), got 'rician'"):
        flowgraphs.analog_point_to_point(cifar_model, channel="rician")


def test_numpy_awgn_has_the_noise_power_of_the_flowgraphs_channel():
    rng = np.random.default_rng(0)
    sent = np.zeros(200_000, np.complex64)
    noise = flowgraphs.awgn(sent, 7.0, rng)
    assert noise.dtype == np.complex64
    assert np.mean(np.abs(noise) ** 2) == pytest.approx(flowgraphs.noise_variance(7.0), rel=0.01)
    assert np.mean(noise.real ** 2) == pytest.approx(np.mean(noise.imag ** 2), rel=0.02)
