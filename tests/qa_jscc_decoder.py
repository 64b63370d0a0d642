#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""jscc_decoder in a running flowgraph: images back, and what it refuses."""
import numpy as np
import pmt

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import bundle, jscc_decoder, keys, metrics, pdus


def _symbols_pdu(model, picture, image_id="a"):
    sent = bundle.Bundle(model).encode(picture)
    meta = {keys.IMAGE_ID: image_id, keys.MODEL_ID: bundle.Bundle(model).model_id,
            keys.IMAGE_SHAPE: np.array(picture.shape, np.int32), keys.N_SYMBOLS: sent.size}
    return meta, sent


def test_decodes_noiseless_symbols_to_the_bundle_output(cifar_model):
    picture = (np.arange(32 * 32 * 3) % 251).astype(np.uint8).reshape(32, 32, 3)
    meta, sent = _symbols_pdu(cifar_model, picture)
    decoder = jscc_decoder(str(cifar_model))
    (out,) = run_block(decoder, "symbols", [pdus.make(meta, sent)], "image", expected=1)
    out_meta, image = pdus.parse_image(out)
    np.testing.assert_array_equal(image, bundle.Bundle(cifar_model).decode(sent, 32, 32))
    assert out_meta[keys.IMAGE_ID] == "a" and out_meta[keys.DECODER_MODEL] == "deepjscc_cifar10_r6"


def test_full_size_image_round_trip_keeps_odd_shape(kodak_model):
    picture = np.random.default_rng(0).integers(0, 256, (61, 83, 3), dtype=np.uint8)
    meta, sent = _symbols_pdu(kodak_model, picture)
    (out,) = run_block(jscc_decoder(str(kodak_model)), "symbols", [pdus.make(meta, sent)], "image", expected=1)
    assert pdus.parse_image(out)[1].shape == (61, 83, 3)


def test_refuses_mismatched_model_wrong_length_nan_and_wrong_type(cifar_model, capfd):
    picture = np.full((32, 32, 3), 128, np.uint8)
    meta, sent = _symbols_pdu(cifar_model, picture, "good")
    nan = sent.copy()
    nan[3] = np.nan
    inf = sent.copy()
    inf[0] = np.inf
    bad = [
        pdus.make({**meta, keys.IMAGE_ID: "other", keys.MODEL_ID: "deepjscc_bsds_r16"}, sent),
        pdus.make({**meta, keys.IMAGE_ID: "short"}, sent[:-1]),
        pdus.make({**meta, keys.IMAGE_ID: "nan"}, nan),
        pdus.make({**meta, keys.IMAGE_ID: "inf"}, inf),
        pmt.cons(pmt.to_pmt(meta), pmt.init_u8vector(4, [1, 2, 3, 4])),
        image_pdu(picture, "an image"),
    ]
    out = run_block(jscc_decoder(str(cifar_model)), "symbols", bad + [pdus.make(meta, sent)], "image",
                    expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "symbols come from model deepjscc_bsds_r16, this decoder is deepjscc_cifar10_r6" in log
    assert "511 symbols received" in log and "sends 512" in log
    assert log.count("NaN or Inf") == 2 and "c32vector" in log


def test_decoded_quality_at_20_db_is_close_to_noiseless(cifar_model):
    picture = np.asarray(np.random.default_rng(1).integers(60, 200, (32, 32, 3)), np.uint8)
    meta, sent = _symbols_pdu(cifar_model, picture)
    rng = np.random.default_rng(2)
    noisy = sent + ((rng.normal(size=sent.size) + 1j * rng.normal(size=sent.size)) * 0.1 / np.sqrt(2)).astype(np.complex64)
    model = bundle.Bundle(cifar_model)
    clean_psnr = metrics.psnr_db(picture, model.decode(sent, 32, 32))
    noisy_psnr = metrics.psnr_db(picture, model.decode(noisy, 32, 32))
    assert noisy_psnr > clean_psnr - 3.0


# -- variational models: resampling with the transmitted or the knowledge-base variance ------------
def _variance_pdu(model, picture, image_id="v", send_variance=False):
    model_bundle = bundle.Bundle(model)
    mean, variance = model_bundle.encode_latent(picture)
    sent = np.concatenate([mean, variance]) if send_variance else mean
    meta = {keys.IMAGE_ID: image_id, keys.MODEL_ID: model_bundle.model_id,
            keys.IMAGE_SHAPE: np.array(picture.shape, np.int32), keys.N_SYMBOLS: sent.size}
    if send_variance:
        meta[keys.VARIANCE_SYMBOLS] = variance.size
    return meta, sent, mean, variance


def _reference_draws(model, mean, variance_latent, samples, seed, image_id):
    """The draws computed here: the ONNX decoder on mean + sqrt(variance) x eps, eps from the
    generator the block documents."""
    import zlib
    import onnxruntime
    model_bundle = bundle.Bundle(model)
    latent = mean.view(np.float32).reshape(model_bundle.latent_shape(32, 32))
    rng = np.random.default_rng([seed, zlib.crc32(image_id.encode())])
    eps = rng.standard_normal((samples, *latent.shape), dtype=np.float32)
    batch = latent[None] + np.sqrt(np.maximum(variance_latent, 0)).astype(np.float32) * eps
    session = onnxruntime.InferenceSession(str(model_bundle.path / "decoder.onnx"))
    decoded = session.run(["image"], {"latent": batch})[0]
    return [np.round(image.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8) for image in decoded]


def test_knowledge_base_draws_are_the_documented_computation(vscc_cifar_model):
    picture = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    meta, sent, mean, _ = _variance_pdu(vscc_cifar_model, picture)
    out = run_block(jscc_decoder(str(vscc_cifar_model), resampling="knowledge_base", samples=4, seed=7), "symbols",
                    [pdus.make(meta, sent)], "image", expected=4)
    assert len(out) == 4
    metas, images = zip(*(pdus.parse_image(m) for m in out))
    assert [m[keys.SAMPLE] for m in metas] == [0, 1, 2, 3] and {m[keys.SAMPLES] for m in metas} == {4}
    assert {m[keys.RESAMPLING] for m in metas} == {"knowledge_base"}
    kb = np.asarray(bundle.Bundle(vscc_cifar_model).card["knowledge_base_variance"], np.float32)[:, None, None]
    for image, expected in zip(images, _reference_draws(vscc_cifar_model, mean, kb, 4, 7, "v")):
        np.testing.assert_allclose(image.astype(int), expected.astype(int), atol=1)  # ORT batch rounding


def test_transmitted_variance_is_split_off_and_used(vscc_cifar_model):
    picture = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    meta, sent, mean, variance = _variance_pdu(vscc_cifar_model, picture, send_variance=True)
    assert sent.size == 2 * bundle.Bundle(vscc_cifar_model).n_symbols(32, 32)
    out = run_block(jscc_decoder(str(vscc_cifar_model), resampling="transmitted", samples=2, seed=5), "symbols",
                    [pdus.make(meta, sent)], "image", expected=2)
    variance_latent = variance.view(np.float32).reshape(16, 8, 8)
    for msg, expected in zip(out, _reference_draws(vscc_cifar_model, mean, variance_latent, 2, 5, "v")):
        meta_out, image = pdus.parse_image(msg)
        assert keys.VARIANCE_SYMBOLS not in meta_out
        np.testing.assert_allclose(image.astype(int), expected.astype(int), atol=1)


def test_draws_repeat_with_the_seed_and_differ_without(vscc_cifar_model):
    picture = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    meta, sent, _, _ = _variance_pdu(vscc_cifar_model, picture)

    def draws(seed):
        out = run_block(jscc_decoder(str(vscc_cifar_model), samples=3, seed=seed), "symbols", [pdus.make(meta, sent)],
                        "image", expected=3)
        return [pdus.parse_image(m)[1] for m in out]
    first, again, other = draws(11), draws(11), draws(12)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    assert not np.array_equal(first[0], first[1])


def test_resampling_the_model_cannot_do_fails_at_construction(cifar_model, vscc_cifar_model, tmp_path):
    import json
    import shutil
    import pytest
    with pytest.raises(bundle.ModelError, match="trained without a variance"):
        jscc_decoder(str(cifar_model), resampling="transmitted")
    with pytest.raises(bundle.ModelError, match="trained without a variance"):
        jscc_decoder(str(cifar_model), resampling="knowledge_base")
    no_kb = tmp_path / "no_kb"
    shutil.copytree(vscc_cifar_model, no_kb)
    card = json.loads((no_kb / "card.json").read_text())
    del card["knowledge_base_variance"]
    (no_kb / "card.json").write_text(json.dumps(card))
    with pytest.raises(bundle.ModelError, match="knowledge_base_variance, which is missing"):
        jscc_decoder(str(no_kb))
    jscc_decoder(str(no_kb), resampling="transmitted")  # the transmitted variance needs no knowledge base
    card["knowledge_base_variance"] = [0.1, -1.0]
    (no_kb / "card.json").write_text(json.dumps(card))
    with pytest.raises(bundle.ModelError, match="16 variances >= 0"):
        jscc_decoder(str(no_kb))
    for samples in (0, -2, 1.5):
        with pytest.raises(ValueError, match="samples must be a whole number >= 1"):
            jscc_decoder(str(vscc_cifar_model), samples=samples)
    with pytest.raises(ValueError, match="needs resampling"):
        jscc_decoder(str(cifar_model), samples=3)
    with pytest.raises(bundle.ModelError, match="resampling must be one of"):
        jscc_decoder(str(vscc_cifar_model), resampling="sometimes")


def test_a_pdu_without_the_variance_it_needs_is_logged_and_dropped(vscc_cifar_model, capfd):
    picture = np.full((32, 32, 3), 90, np.uint8)
    meta, sent, _, _ = _variance_pdu(vscc_cifar_model, picture, "mean only")
    good_meta, good, _, _ = _variance_pdu(vscc_cifar_model, picture, "both", send_variance=True)
    out = run_block(jscc_decoder(str(vscc_cifar_model), resampling="transmitted", seed=1), "symbols",
                    [pdus.make(meta, sent), pdus.make({**good_meta, keys.IMAGE_ID: "cut"}, good[:-3]),
                     pdus.make(good_meta, good)], "image", expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["both"]
    text = logged(capfd)
    assert "needs the variance in the PDU" in text and "variance_symbols" in text
