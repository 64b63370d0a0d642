#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""jscc_encoder in a running flowgraph: symbols, metadata, and bad input."""
import numpy as np
import pmt
import pytest

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import bundle, images, jscc_encoder, keys, pdus


def test_encodes_image_to_unit_power_symbols_with_metadata(kodak_model, photo_dir):
    picture, _ = images.load_image(next(photo_dir.iterdir()))
    encoder = jscc_encoder(str(kodak_model))
    (out,) = run_block(encoder, "image", [image_pdu(picture, "a")], "symbols", expected=1)
    meta, sent = pdus.parse_symbols(out)
    expected = bundle.Bundle(kodak_model).encode(picture)
    assert sent.dtype == np.complex64 and sent.shape == expected.shape
    np.testing.assert_array_equal(sent, expected)
    assert abs(np.mean(np.abs(sent) ** 2) - 1.0) < 1e-4
    assert meta[keys.IMAGE_ID] == "a" and meta[keys.MODEL_ID] == "deepjscc_bsds_r16"
    assert meta[keys.N_SYMBOLS] == sent.size
    assert list(meta[keys.IMAGE_SHAPE]) == list(picture.shape)
    # odd sizes are padded up to a multiple of the downsampling
    assert list(meta[keys.PADDED_SHAPE]) == [-(-picture.shape[0] // 4) * 4, -(-picture.shape[1] // 4) * 4]


def test_bad_messages_are_logged_and_dropped_and_the_block_keeps_running(cifar_model, capfd):
    good = np.zeros((32, 32, 3), np.uint8)
    wrong_size = np.zeros((40, 32, 3), np.uint8)
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.make_dict(), pmt.init_f32vector(3, [1, 2, 3])),  # wrong payload type
        pdus.make({keys.IMAGE_ID: "short", keys.IMAGE_SHAPE: np.array([32, 32, 3], np.int32)},
                  np.zeros(100, np.uint8)),  # wrong length
        image_pdu(wrong_size, "wrong_size"),
        pdus.make({keys.IMAGE_ID: "gray", keys.IMAGE_SHAPE: np.array([32, 32, 1], np.int32)},
                  np.zeros(1024, np.uint8)),  # one channel
    ]
    encoder = jscc_encoder(str(cifar_model))
    out = run_block(encoder, "image", bad + [image_pdu(good, "good")], "symbols", expected=1, settle=0.2)
    assert [pdus.parse_symbols(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log and "u8vector" in log and "needs 3072" in log
    assert "takes 32x32 images, got 40x32" in log and "wrong_size" in log
    assert "image_shape' must be [H, W, 3] with H, W >= 1, got [32, 32, 1]" in log


def test_constructor_names_missing_and_corrupt_models(tmp_path, kodak_model):
    with pytest.raises(bundle.ModelError, match="not found"):
        jscc_encoder(str(tmp_path / "nowhere"))
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("card.json", "decoder.onnx"):
        (broken / name).write_bytes((kodak_model / name).read_bytes())
    (broken / "encoder.onnx").write_bytes(b"\x08garbage" * 100)
    with pytest.raises(bundle.ModelError, match="not a loadable ONNX model"):
        jscc_encoder(str(broken))


def test_sends_the_variance_after_the_mean_only_for_variational_models(vscc_cifar_model, cifar_model):
    picture = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    (out,) = run_block(jscc_encoder(str(vscc_cifar_model), send_variance=True), "image", [image_pdu(picture, "v")],
                       "symbols", expected=1)
    meta, sent = pdus.parse_symbols(out)
    mean, variance = bundle.Bundle(vscc_cifar_model).encode_latent(picture)
    assert meta[keys.VARIANCE_SYMBOLS] == mean.size and meta[keys.N_SYMBOLS] == sent.size == 2 * mean.size
    np.testing.assert_array_equal(sent, np.concatenate([mean, variance]))
    assert (variance.view(np.float32) > 0).all()
    with pytest.raises(bundle.ModelError, match="trained without a variance"):
        jscc_encoder(str(cifar_model), send_variance=True)


def test_a_card_that_misstates_the_onnx_outputs_is_refused(vscc_cifar_model, tmp_path):
    import json
    import shutil
    model = tmp_path / "misstated"
    shutil.copytree(vscc_cifar_model, model)
    card = json.loads((model / "card.json").read_text())
    (model / "card.json").write_text(json.dumps({**card, "variance": False}))
    with pytest.raises(bundle.ModelError, match=r"outputs \['latent', 'variance'\], the card .* expects \['latent'\]"):
        jscc_encoder(str(model))
    (model / "card.json").write_text(json.dumps({**card, "classes": ["cat", "dog"]}))
    from gnuradio.semcom import jscc_decoder
    with pytest.raises(bundle.ModelError, match=r"expects \['image', 'class_probs'\]"):
        jscc_decoder(str(model))
