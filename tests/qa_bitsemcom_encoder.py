#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""bitsemcom_encoder in a running flowgraph: probabilities, metadata, bad input, and the models it refuses."""
import json
import shutil

import numpy as np
import pmt
import pytest

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import bitsemcom_encoder, bundle, images, jscc_decoder, jscc_encoder, keys, pdus


def probs_of(msg):
    return pdus.parse_floats(msg, "probability")


def test_encodes_image_to_probabilities_with_metadata(bitsemcom_cifar_model, photo_dir):
    picture = images.fit(images.load_image(next(photo_dir.iterdir()))[0], "resize", (32, 32))
    encoder = bitsemcom_encoder(str(bitsemcom_cifar_model), threads=1)
    (out,) = run_block(encoder, "image", [image_pdu(picture, "a")], "probs", expected=1)
    meta, probs = probs_of(out)
    model = bundle.Bundle(bitsemcom_cifar_model)  # the card's method picks the class
    assert isinstance(model, bundle.BitSemComBundle) and model.n_bits == 1024 and model.channel_uses(4) == 256
    expected = model.encode_probs(picture)
    assert probs.dtype == np.float32 and probs.shape == expected.shape == (1024,)
    np.testing.assert_array_equal(probs, expected)
    assert 0 <= probs.min() and probs.max() <= 1
    assert meta[keys.IMAGE_ID] == "a" and meta[keys.MODEL_ID] == "bitsemcom_cifar10"
    assert meta[keys.N_BITS] == 1024 and list(meta[keys.IMAGE_SHAPE]) == [32, 32, 3]


def test_bad_messages_are_logged_and_dropped_and_the_block_keeps_running(bitsemcom_cifar_model, capfd):
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.make_dict(), pmt.init_f32vector(3, [1, 2, 3])),  # wrong payload type
        image_pdu(np.zeros((40, 32, 3), np.uint8), "wrong_size"),
        pdus.make({keys.IMAGE_ID: "gray", keys.IMAGE_SHAPE: np.array([32, 32, 1], np.int32)},
                  np.zeros(1024, np.uint8)),  # one channel
    ]
    encoder = bitsemcom_encoder(str(bitsemcom_cifar_model))
    out = run_block(encoder, "image", bad + [image_pdu(np.zeros((32, 32, 3), np.uint8), "good")], "probs",
                    expected=1, settle=0.2)
    assert [probs_of(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log and "u8vector" in log
    assert "for image wrong_size: model bitsemcom_cifar10 takes 32x32 images, got 40x32" in log
    assert "image_shape' must be [H, W, 3] with H, W >= 1, got [32, 32, 1]" in log


def test_blocks_refuse_a_bundle_of_the_other_method(bitsemcom_cifar_model, cifar_model):
    with pytest.raises(bundle.ModelError, match="model deepjscc_cifar10_r6 is a deepjscc model, for jscc_encoder "
                                                "and jscc_decoder; this needs a bitsemcom model"):
        bitsemcom_encoder(str(cifar_model))
    for block in (jscc_encoder, jscc_decoder):
        with pytest.raises(bundle.ModelError, match="model bitsemcom_cifar10 is a bitsemcom model, for "
                                                    "bitsemcom_encoder and bitsemcom_decoder; this needs a deepjscc"):
            block(str(bitsemcom_cifar_model))


def test_constructor_names_missing_corrupt_and_inconsistent_models(bitsemcom_cifar_model, tmp_path):
    with pytest.raises(bundle.ModelError, match="not found"):
        bitsemcom_encoder(str(tmp_path / "nowhere"))
    broken = tmp_path / "broken"
    shutil.copytree(bitsemcom_cifar_model, broken)
    card = json.loads((bitsemcom_cifar_model / "card.json").read_text())

    def with_card(**changes):
        (broken / "card.json").write_text(json.dumps({**card, **changes}))
        return str(broken)

    (broken / "card.json").write_text(json.dumps({k: v for k, v in card.items() if k != "n_bits"}))
    with pytest.raises(bundle.ModelError, match="key 'n_bits' missing"):
        bitsemcom_encoder(str(broken))
    with pytest.raises(bundle.ModelError, match="takes images of fixed size .*32, 32.*the card says fully "
                                                "convolutional"):
        bitsemcom_encoder(with_card(image_size=None))
    with pytest.raises(bundle.ModelError, match="key 'bit_channels' missing"):
        bitsemcom_encoder(with_card(bit_channels=None))
    with pytest.raises(bundle.ModelError, match="inference_bits must be one of"):
        bitsemcom_encoder(with_card(inference_bits="round"))
    with pytest.raises(bundle.ModelError, match="encoder tensor 'probs' has shape .* n_bits = 2048"):
        bitsemcom_encoder(with_card(n_bits=2048))
    with pytest.raises(bundle.ModelError, match=r"has inputs \['image'\] and outputs \['probs'\], the card "
                                                r"expects 'image' -> 'latent'"):
        bitsemcom_encoder(with_card(onnx_io={**card["onnx_io"], "encoder": {"input": "image", "output": "latent"}}))
    with pytest.raises(bundle.ModelError, match="method 'vscc' is not one gr-semcom runs"):
        bitsemcom_encoder(with_card(method="vscc"))
    (broken / "card.json").write_text(json.dumps(card))
    (broken / "encoder.onnx").write_bytes(b"\x08garbage" * 100)
    with pytest.raises(bundle.ModelError, match="not a loadable ONNX model"):
        bitsemcom_encoder(str(broken))
    with pytest.raises(bundle.ModelError, match="provider 'tpu'"):
        bitsemcom_encoder(str(bitsemcom_cifar_model), provider="tpu")
