#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""relay_df in running flowgraphs: a decode-and-forward bundle's hops (ONNX against torch),
the relay's output against its hop's decoder and the next hop's encoder, the hop check,
the multi-hop link with a channel per hop, and bad input."""
import json

import numpy as np
import pytest

from conftest import logged, run_block
from gnuradio.semcom import bundle, images, keys, metrics, pdus, relay_df
from semcom_tools import flowgraphs

DF_ID = "deepjscc_cifar10_r6_df2_m5_dhd"  # the shipped decode-and-forward bundle (2 relays, 3 hops)


def photo(size=(32, 32)):
    picture, _ = images.load_image(images.sample_paths()[0])
    return images.fit(picture, "resize", size)


@pytest.mark.training
def test_export_writes_every_hop_and_its_onnx_matches_torch(df_cifar_model):
    torch = pytest.importorskip("torch")
    from semcom_train import models
    card = json.loads((df_cifar_model / "card.json").read_text())
    assert card["hops"] == 3 and card["architecture"] == "deepjscc_cifar10_r6_df2"
    assert sorted(card["files"]) == sorted(["torch", *(f"{kind}_hop{k}" for kind in ("encoder", "decoder")
                                                      for k in range(3))])
    runtime = bundle.DeepJSCCBundle(df_cifar_model)
    torch_model = models.load_bundle(df_cifar_model)
    image = photo()
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    for hop in range(3):
        with torch.no_grad():
            latent = torch_model.encoders[hop](tensor)
            decoded = torch_model.decoders[hop](latent)
        sent = runtime.encode(image, hop)
        np.testing.assert_allclose(sent.view(np.float32), latent.numpy().reshape(-1), rtol=0, atol=1e-4)
        ours = runtime.decode(sent, 32, 32, hop)
        theirs = np.round(decoded[0].permute(1, 2, 0).numpy() * 255).clip(0, 255)
        assert np.abs(ours.astype(int) - theirs).max() <= 1


def test_relay_decodes_its_hop_and_reencodes_for_the_next(df_cifar_model):
    runtime = bundle.DeepJSCCBundle(df_cifar_model)
    image = photo()
    received = runtime.encode(image, 0) + np.complex64(0.1 + 0.05j)
    msg = pdus.make({keys.IMAGE_ID: "a", keys.MODEL_ID: DF_ID, keys.HOP: 0,
                     keys.IMAGE_SHAPE: np.array([32, 32, 3], np.int32)}, received.astype(np.complex64))
    relay = relay_df(str(df_cifar_model), relay=1)
    out = run_block(relay, "symbols", [msg], "symbols", expected=1)
    meta, sent = pdus.parse_symbols(out[0])
    expected = runtime.encode(runtime.decode(received, 32, 32, hop=0), hop=1)
    np.testing.assert_array_equal(sent, expected)
    assert meta[keys.HOP] == 1 and meta[keys.N_SYMBOLS] == 512 and meta[keys.IMAGE_ID] == "a"
    (reconstruction,) = run_block(relay_df(str(df_cifar_model), relay=1), "symbols", [msg], "image", expected=1)
    np.testing.assert_array_equal(pdus.parse_image(reconstruction)[1], runtime.decode(received, 32, 32, hop=0))


def test_multi_hop_link_runs_every_hop_with_its_own_noise(df_cifar_model, photo_dir):
    graph = flowgraphs.analog_point_to_point(str(df_cifar_model), str(photo_dir), snr_db=5.0, seed=3)
    assert len(graph.relays) == 2 and len(graph.hops) == 3
    assert [relay.relay for relay in graph.relays] == [1, 2]
    rows = graph.run_images(120)
    assert len(rows) == 3 and all(r["model_id"] == DF_ID for r in rows)
    again = flowgraphs.analog_point_to_point(str(df_cifar_model), str(photo_dir), snr_db=5.0, seed=3).run_images(120)
    assert [r["psnr_db"] for r in rows] == [r["psnr_db"] for r in again]  # seeded per hop: reproducible
    noiseless = flowgraphs.analog_point_to_point(str(df_cifar_model), str(photo_dir), snr_db=80.0,
                                                 seed=3).run_images(120)
    # without noise the link is the hops' networks in a row, computed here without GNU Radio
    runtime = bundle.DeepJSCCBundle(df_cifar_model)
    for row, path in zip(noiseless, sorted(photo_dir.iterdir())):
        source = current = images.fit(images.load_image(path)[0], "resize", (32, 32))
        for hop in range(3):
            current = runtime.decode(runtime.encode(current, hop), 32, 32, hop)
        assert row["psnr_db"] == pytest.approx(metrics.psnr_db(source, current), abs=0.3)


def test_wrong_hop_other_model_and_bad_symbols_are_logged_and_dropped(df_cifar_model, capfd):
    runtime = bundle.DeepJSCCBundle(df_cifar_model)
    sent = runtime.encode(photo(), 0)
    shape = {keys.IMAGE_SHAPE: np.array([32, 32, 3], np.int32), keys.MODEL_ID: DF_ID}
    wrong_hop = pdus.make({**shape, keys.IMAGE_ID: "hop", keys.HOP: 1}, sent)
    other = pdus.make({**shape, keys.IMAGE_ID: "other", keys.MODEL_ID: "deepjscc_cifar10_r6", keys.HOP: 0}, sent)
    short = pdus.make({**shape, keys.IMAGE_ID: "short", keys.HOP: 0}, sent[:-3])
    nan = pdus.make({**shape, keys.IMAGE_ID: "nan", keys.HOP: 0}, np.full(512, np.nan, np.complex64))
    good = pdus.make({**shape, keys.IMAGE_ID: "good", keys.HOP: 0}, sent)
    out = run_block(relay_df(str(df_cifar_model), 1), "symbols", [wrong_hop, other, short, nan, good], "symbols",
                    expected=1, settle=0.2)
    assert [pdus.parse_symbols(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert f"image hop: symbols of hop 1 reached relay 1, which decodes hop 0 of {DF_ID}" in log
    assert f"image other: symbols come from model deepjscc_cifar10_r6, relay 1 is {DF_ID}'s" in log
    assert f"image short: 509 symbols received, model {DF_ID} sends 512 for a 32x32 image" in log
    assert "image nan: symbol PDU holds 512 NaN or Inf symbols of 512" in log


def test_destination_refuses_symbols_that_skipped_a_relay(df_cifar_model, capfd):
    from gnuradio.semcom import jscc_decoder
    runtime = bundle.DeepJSCCBundle(df_cifar_model)
    meta = {keys.IMAGE_SHAPE: np.array([32, 32, 3], np.int32), keys.MODEL_ID: DF_ID}
    skipped = pdus.make({**meta, keys.IMAGE_ID: "skip", keys.HOP: 1}, runtime.encode(photo(), 1))
    last = pdus.make({**meta, keys.IMAGE_ID: "last", keys.HOP: 2}, runtime.encode(photo(), 2))
    out = run_block(jscc_decoder(str(df_cifar_model)), "symbols", [skipped, last], "image", expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["last"]
    assert f"image skip: symbols of hop 1 reached this decoder, which decodes hop 2 of {DF_ID}" in logged(capfd)


def test_impossible_relays_are_refused_at_construction(df_cifar_model, cifar_model):
    with pytest.raises(ValueError, match=rf"relay must be 1 \.\. 2 for model {DF_ID} \(3 hops\), got 3"):
        relay_df(str(df_cifar_model), relay=3)
    with pytest.raises(ValueError, match="got 0"):
        relay_df(str(df_cifar_model), relay=0)
    with pytest.raises(bundle.ModelError, match="deepjscc_cifar10_r6 is single-hop: it has no relays"):
        relay_df(str(cifar_model), relay=1)
    with pytest.raises(bundle.ModelError, match="has 3 hops"):
        bundle.DeepJSCCBundle(df_cifar_model).role("encoder", 3)


def test_a_missing_hop_file_and_a_bad_hop_count_are_named(df_cifar_model, tmp_path):
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(df_cifar_model, broken)
    (broken / "encoder_hop2.onnx").unlink()
    with pytest.raises(bundle.ModelError, match="encoder_hop2 file .*encoder_hop2.onnx is missing"):
        relay_df(str(broken), relay=2)
    card = json.loads((broken / "card.json").read_text())
    card["hops"] = 0
    (broken / "card.json").write_text(json.dumps(card))
    with pytest.raises(bundle.ModelError, match="hops must be a whole number >= 1, got 0"):
        bundle.DeepJSCCBundle(broken)


def test_multi_hop_link_over_rayleigh_fades_and_equalises_every_hop(df_cifar_model, photo_dir):
    graph = flowgraphs.analog_point_to_point(str(df_cifar_model), str(photo_dir), snr_db=30.0, seed=3,
                                             channel="rayleigh")
    assert len(graph.fadings) == len(graph.equalizers) == len(graph.hops) == 3
    rows = graph.run_images(120)
    clean = flowgraphs.analog_point_to_point(str(df_cifar_model), str(photo_dir), snr_db=30.0, seed=3).run_images(120)
    # coherent zero forcing at 30 dB: close to the AWGN link's quality on every image
    assert len(rows) == 3 and all(abs(f["psnr_db"] - a["psnr_db"]) < 3.0 for f, a in zip(rows, clean))
