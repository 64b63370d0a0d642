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
