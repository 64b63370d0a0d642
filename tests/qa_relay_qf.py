#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""relay_qf and qf_dequantizer in running flowgraphs: the shipped CIFAR-10 model's codebooks,
bits equal to Codebook.quantize, the round trip to centres, rates, and bad input."""
import numpy as np
import pytest

from conftest import logged, run_block
from gnuradio.semcom import bundle, keys, pdus, qf_dequantizer, quantization, relay_qf

MODEL = "deepjscc_cifar10_r6"


def received_pdu(image_id="a", n=512, **extra):
    rng = np.random.default_rng(len(image_id))
    symbols = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)
    return pdus.make({keys.IMAGE_ID: image_id, keys.MODEL_ID: MODEL, **extra}, symbols), symbols


@pytest.mark.parametrize("dimension,bits", [(4, 0.75), (2, 1), (4, 1.25), (2, 1.5), (2, 2)])
def test_relay_bits_are_the_codebook_indices_and_the_dequantiser_restores_the_centres(dimension, bits):
    msg, symbols = received_pdu()
    codebook = quantization.load_codebook(MODEL, dimension, bits)
    (out,) = run_block(relay_qf(MODEL, dimension, bits), "symbols", [msg], "bits", expected=1)
    meta, sent = pdus.parse_bits(out)
    np.testing.assert_array_equal(sent, codebook.quantize(symbols))
    assert sent.size == meta[keys.N_BITS] == 2 * 512 * bits  # 1,024 reals x b bits: b bits per pixel
    assert meta[keys.QF_SYMBOLS] == 512 and meta[keys.QF_CODEBOOK] == quantization.codebook_name(dimension, bits)
    (back,) = run_block(qf_dequantizer(MODEL, dimension, bits), "bits", [out], "symbols", expected=1)
    restored_meta, restored = pdus.parse_symbols(back)
    np.testing.assert_array_equal(restored, codebook.dequantize(sent, 512))
    assert restored_meta[keys.IMAGE_ID] == "a" and keys.N_BITS not in restored_meta


def test_finer_codebooks_distort_the_channel_output_less():
    msg, symbols = received_pdu()
    errors = {}
    for rate in ((4, 0.75), (2, 1), (2, 2)):
        codebook = quantization.load_codebook(MODEL, *rate)
        errors[rate] = np.mean(np.abs(codebook.dequantize(codebook.quantize(symbols), 512) - symbols) ** 2)
    assert errors[(2, 2)] < errors[(2, 1)] < errors[(4, 0.75)]


def test_bad_input_is_logged_and_dropped_and_bad_models_refused(capfd, tmp_path):
    relay = relay_qf(MODEL, 2, 1)
    nan = pdus.make({keys.IMAGE_ID: "nan"}, np.array([np.nan, 1], np.complex64))
    other = received_pdu("other", **{keys.MODEL_ID: "deepjscc_bsds_r16"})[0]
    good = received_pdu("good")[0]
    out = run_block(relay, "symbols", [nan, other, good], "bits", expected=1, settle=0.2)
    assert [pdus.parse_bits(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "image nan: symbol PDU holds 1 NaN or Inf symbols of 2" in log
    assert "image other: symbols come from model deepjscc_bsds_r16, this relay's codebooks are deepjscc_cifar10_r6's" in log
    meta, bits = pdus.parse_bits(out[0])
    wrong_book = pdus.make({**meta, keys.IMAGE_ID: "book", keys.QF_CODEBOOK: "nq4_b0.75"}, bits)
    short = pdus.make({**meta, keys.IMAGE_ID: "short"}, bits[:-2])
    no_count = pdus.make({k: v for k, v in {**meta, keys.IMAGE_ID: "count"}.items() if k != keys.QF_SYMBOLS}, bits)
    back = run_block(qf_dequantizer(MODEL, 2, 1), "bits", [wrong_book, short, no_count, out[0]], "symbols",
                     expected=1, settle=0.2)
    assert [pdus.parse_symbols(m)[0][keys.IMAGE_ID] for m in back] == ["good"]
    log = logged(capfd)
    assert "image book: bits were quantised with codebook nq4_b0.75, this is nq2_b1" in log
    assert "image short: 1022 bits, 512 symbols quantised with this codebook take 1024" in log
    assert "image count: metadata lacks qf_symbols" in log
    with pytest.raises(bundle.ModelError, match="has no codebook for N_Q = 3, b = 1"):
        relay_qf(MODEL, 3, 1)
    with pytest.raises(bundle.ModelError, match="deepjscc_bsds_r16 has no quantize-and-forward codebooks"):
        qf_dequantizer("deepjscc_bsds_r16", 2, 1)


def test_a_codebook_of_another_dimension_is_refused(tmp_path):
    import json
    import shutil
    copy = tmp_path / "model"
    shutil.copytree(bundle.resolve(MODEL), copy)
    with np.load(copy / "qf_codebooks.npz") as stored:
        books = dict(stored)
    books["nq4_b0.75"] = books["nq2_b1.5"]  # 8 centres of 2 reals where N_Q = 4 needs 8 of 4
    np.savez(copy / "qf_codebooks.npz", **books)
    assert json.loads((copy / "card.json").read_text())["qf_codebooks"]
    with pytest.raises(bundle.ModelError, match=r"codebook nq4_b0.75 .* holds 8 centres of dimension 2, "
                                                r"N_Q = 4, b = 0.75 needs 8 of dimension 4"):
        relay_qf(str(copy), 4, 0.75)
    with pytest.raises(bundle.ModelError, match="dimension 2"):
        qf_dequantizer(str(copy), 4, 0.75)
