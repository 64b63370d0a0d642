#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""bitsemcom_decoder in a running flowgraph: LLRs and posteriors to images, and what it refuses."""
import json
import shutil

import numpy as np
import pmt
import pytest

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import bitsemcom_decoder, bundle, demapping, keys, pdus

BITS = np.random.default_rng(0).integers(0, 2, 1024).astype(np.uint8)


def soft_pdu(values, image_id="a", **extra):
    meta = {keys.IMAGE_ID: image_id, keys.MODEL_ID: "bitsemcom_cifar10", keys.N_BITS: 1024,
            keys.IMAGE_SHAPE: np.array([32, 32, 3], np.int32), **extra}
    return pdus.make(meta, np.asarray(values, np.float32))


def test_decodes_llrs_with_the_demappers_sign_to_the_bundle_output(bitsemcom_cifar_model):
    llr = np.where(BITS == 1, 3.0, -2.0).astype(np.float32)
    llr[:4] = [np.inf, -np.inf, 40.0, -40.0]  # certain bits are fine
    (out,) = run_block(bitsemcom_decoder(str(bitsemcom_cifar_model), threads=1), "soft_bits",
                       [soft_pdu(llr, **{keys.SOFT_BITS: "llr"})], "image", expected=1)
    meta, image = pdus.parse_image(out)
    model = bundle.Bundle(bitsemcom_cifar_model)
    np.testing.assert_array_equal(image, model.decode_soft(demapping.posteriors(llr)))
    assert image.shape == (32, 32, 3)
    assert meta[keys.IMAGE_ID] == "a" and meta[keys.DECODER_MODEL] == "bitsemcom_cifar10"
    # positive means 1: very confident LLRs decode like the bits themselves
    (certain,) = run_block(bitsemcom_decoder(str(bitsemcom_cifar_model)), "soft_bits",
                           [soft_pdu(np.where(BITS == 1, 60.0, -60.0))], "image", expected=1)
    np.testing.assert_array_equal(pdus.parse_image(certain)[1], model.decode_soft(BITS.astype(np.float32)))


def test_decodes_posteriors_as_they_are(bitsemcom_cifar_model):
    posteriors = np.random.default_rng(1).random(1024).astype(np.float32)
    decoder = bitsemcom_decoder(str(bitsemcom_cifar_model), input="posterior")
    (out,) = run_block(decoder, "soft_bits", [soft_pdu(posteriors, **{keys.SOFT_BITS: "posterior"})], "image",
                       expected=1)
    np.testing.assert_array_equal(pdus.parse_image(out)[1], bundle.Bundle(bitsemcom_cifar_model).decode_soft(posteriors))


def test_refuses_other_models_counts_kinds_and_values(bitsemcom_cifar_model, capfd):
    llr = np.where(BITS == 1, 5.0, -5.0).astype(np.float32)
    nan = llr.copy()
    nan[7] = np.nan
    bad = [
        pmt.intern("not a pdu"),
        soft_pdu(llr, "other", **{keys.MODEL_ID: "bitsemcom_other"}),
        soft_pdu(llr[:-1], "short"),
        soft_pdu(nan, "nan"),
        soft_pdu(demapping.posteriors(llr), "kind", **{keys.SOFT_BITS: "posterior"}),
        pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "bytes"}), pmt.init_u8vector(1024, BITS.tolist())),
        image_pdu(np.zeros((32, 32, 3), np.uint8), "an image"),
    ]
    out = run_block(bitsemcom_decoder(str(bitsemcom_cifar_model)), "soft_bits", bad + [soft_pdu(llr, "good")], "image",
                    expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image other: soft bits come from model bitsemcom_other, this decoder is bitsemcom_cifar10" in log
    assert "image short: 1023 soft bits received, model bitsemcom_cifar10 sends 1024 for a 32x32 image" in log
    assert "image nan: soft-bit PDU holds 1 NaN values of 1024" in log
    assert "image kind: PDU holds posterior values (metadata 'soft_bits'), this decoder's input is llr" in log
    assert "image bytes: soft-bit PDU payload must be an f32vector" in log
    assert "image an image: soft-bit PDU payload must be an f32vector" in log


def test_posterior_input_refuses_values_outside_zero_one(bitsemcom_cifar_model, capfd):
    values = np.full(1024, 0.5, np.float32)
    values[:3] = [1.5, -0.2, 2.0]
    decoder = bitsemcom_decoder(str(bitsemcom_cifar_model), input="posterior")
    out = run_block(decoder, "soft_bits", [soft_pdu(values, "outside"), soft_pdu(np.full(1024, 0.5), "good")],
                    "image", expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    assert "image outside: posteriors must be probabilities in [0, 1]: 3 of 1024 are not, e.g. 1.5" in logged(capfd)


def test_constructor_refuses_bad_input_and_deepjscc_models(bitsemcom_cifar_model, cifar_model, tmp_path):
    with pytest.raises(ValueError, match=r"input must be one of \('llr', 'posterior'\), got 'probability'"):
        bitsemcom_decoder(str(bitsemcom_cifar_model), input="probability")
    with pytest.raises(bundle.ModelError, match="deepjscc_cifar10_r6 is a deepjscc model.*needs a bitsemcom model"):
        bitsemcom_decoder(str(cifar_model))
    with pytest.raises(bundle.ModelError, match="not found"):
        bitsemcom_decoder(str(tmp_path / "nowhere"))
    broken = tmp_path / "broken"
    shutil.copytree(bitsemcom_cifar_model, broken)
    card = json.loads((bitsemcom_cifar_model / "card.json").read_text())
    (broken / "card.json").write_text(json.dumps({**card, "n_bits": 512}))
    with pytest.raises(bundle.ModelError, match=r"decoder tensor 'posteriors' has shape \['batch', 1024\], "
                                                r"the card says \(N, n_bits = 512\)"):
        bitsemcom_decoder(str(broken))

def test_fully_convolutional_model_decodes_to_the_metadatas_size(bitsemcom_kodak_model, capfd):
    model = bundle.BitSemComBundle(bitsemcom_kodak_model)
    posteriors = np.random.default_rng(2).random(model.bits_for(30, 45)).astype(np.float32)
    meta = {keys.IMAGE_ID: "sized", keys.MODEL_ID: model.model_id, keys.IMAGE_SHAPE: np.array([30, 45, 3], np.int32)}
    no_shape = pdus.make({keys.IMAGE_ID: "no shape", keys.MODEL_ID: model.model_id}, posteriors)
    out = run_block(bitsemcom_decoder(str(bitsemcom_kodak_model), input="posterior"), "soft_bits",
                    [no_shape, pdus.make(meta, posteriors)], "image", expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["sized"]
    np.testing.assert_array_equal(pdus.parse_image(out[0])[1], model.decode_soft(posteriors, 30, 45))
    assert ("image no shape: metadata lacks image_shape and model bitsemcom_bsds is fully convolutional"
            in logged(capfd))
