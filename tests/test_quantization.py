#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Vector quantisation for quantize-and-forward: nearest centres against a brute-force search,
the bit layout, the round trip, the paper's rates and bad input."""
import numpy as np
import pytest

from gnuradio.semcom.quantization import Codebook


def brute_force_indices(codebook, received):
    reals = np.asarray(received, np.complex64).view(np.float32)
    reals = np.concatenate([reals, np.zeros(-reals.size % codebook.dimension, np.float32)])
    return [int(np.argmin([np.sum((v - c) ** 2) for c in codebook.centres.astype(np.float64)]))
            for v in reals.reshape(-1, codebook.dimension).astype(np.float64)]


@pytest.mark.parametrize("dimension,bits", [(4, 3), (2, 2), (4, 5), (2, 3), (2, 4)])
def test_paper_rates_quantize_to_the_nearest_centre_and_back(dimension, bits):
    rng = np.random.default_rng(dimension * 10 + bits)
    codebook = Codebook(rng.standard_normal((2 ** bits, dimension)))
    assert codebook.bits_per_real == bits / dimension  # 3/4, 1, 5/4, 3/2, 2
    received = (rng.standard_normal(101) + 1j * rng.standard_normal(101)).astype(np.complex64)  # 202 reals
    assert list(codebook.indices(received)) == brute_force_indices(codebook, received)
    out = codebook.quantize(received)
    assert out.dtype == np.uint8 and out.size == codebook.n_bits(101) == -(-202 // dimension) * bits
    first = int("".join(map(str, out[:bits])), 2)  # MSB first
    assert first == codebook.indices(received)[0]
    restored = codebook.dequantize(out, 101)
    assert restored.dtype == np.complex64 and restored.shape == (101,)
    np.testing.assert_array_equal(restored.view(np.float32)[:dimension], codebook.centres[first])
    # re-quantising the centres gives the same bits
    np.testing.assert_array_equal(codebook.quantize(restored), out)


def test_bad_codebooks_and_inputs_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        Codebook(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\(2\^n, dimension\)"):
        Codebook(np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        Codebook(np.full((4, 2), np.nan))
    codebook = Codebook(np.random.default_rng(0).standard_normal((8, 2)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        codebook.quantize(np.array([np.nan, 1], np.complex64))
    with pytest.raises(ValueError, match="10 bits, 4 symbols quantised with this codebook take 12"):
        codebook.dequantize(np.zeros(10, np.uint8), 4)
    with pytest.raises(ValueError, match="bits must be 0 or 1"):
        codebook.dequantize(np.full(12, 2, np.uint8), 4)


@pytest.mark.training
@pytest.mark.datasets
def test_codebooks_of_a_models_channel_outputs_go_into_its_bundle(cifar_model, tmp_path):
    import json
    import shutil

    from semcom_train import data, qf_codebooks
    try:
        data.load_cifar10("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    model = tmp_path / "model"
    shutil.copytree(cifar_model, model)
    path = qf_codebooks.main(["--model", str(model), "--snr", "-5", "--rates", "2:1", "2:2", "4:0.75",
                              "--images", "40"])
    stored = np.load(path)
    assert sorted(stored.files) == ["nq2_b1", "nq2_b2", "nq4_b0.75"]
    assert stored["nq2_b1"].shape == (4, 2) and stored["nq2_b2"].shape == (16, 2) and stored["nq4_b0.75"].shape == (8, 4)
    card = json.loads((model / "card.json").read_text())
    assert card["qf_codebooks"]["rates"] == [[2, 1.0], [2, 2.0], [4, 0.75]] and card["qf_codebooks"]["snr_db"] == -5
    # more bits per real value, less distortion of held-out channel outputs
    from gnuradio.semcom import bundle
    test, _, _ = data.load_cifar10("test")
    received = qf_codebooks.channel_outputs(bundle.DeepJSCCBundle(model), test[100:110], -5.0, seed=1)
    errors = {name: float(np.mean(np.abs(Codebook(stored[name]).dequantize(
        Codebook(stored[name]).quantize(received), received.size) - received) ** 2)) for name in stored.files}
    assert errors["nq2_b2"] < errors["nq2_b1"]
    with pytest.raises(SystemExit):
        qf_codebooks.main(["--model", str(model), "--snr", "0", "--rates", "3:0.5"])  # 1.5 bits per vector
