#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""VSCC, VAE and AE in torch: the KL terms against torch.distributions, the network's
resampling, initialisation from DeepJSCC, the training options, and the export (card,
knowledge-base variance, ONNX against torch)."""
import json

import numpy as np
import onnxruntime
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from torch.distributions import Normal, kl_divergence

from semcom_train import models, train, variational


def test_kl_terms_are_the_closed_forms_of_the_papers_distributions():
    mean, variance = torch.randn(2, 16, 8, 8) * 0.7, torch.rand(2, 16, 8, 8) * 0.3 + 1e-3
    noise, cmc = 0.158, 0.05
    vae = kl_divergence(Normal(mean, variance.sqrt()), Normal(0.0, 1.0)).mean()
    vscc = kl_divergence(Normal(mean, (variance + noise).sqrt()), Normal(0.0, (noise + cmc) ** 0.5)).mean()
    torch.testing.assert_close(variational.kl_divergence("vae", mean, variance, noise, cmc), vae)
    torch.testing.assert_close(variational.kl_divergence("vscc", mean, variance, noise, cmc), vscc)
    assert variational.kl_divergence("ae", mean, variance, noise, cmc) == 0
    with pytest.raises(ValueError, match="objective must be one of"):
        variational.kl_divergence("beta", mean, variance, noise, cmc)


def test_vscc_term_pulls_the_variance_to_the_channel_matching_constant():
    # d/d(s1^2) of KL(N(mu, s1^2 + s2^2) || N(0, s2^2 + d)) is zero at s1^2 = d
    variance = torch.tensor([0.01, 0.05, 0.2], requires_grad=True)
    kl = variational.kl_divergence("vscc", torch.zeros(3), variance, 0.1, 0.05)
    kl.backward()
    assert variance.grad[0] < 0 and abs(variance.grad[1]) < 1e-6 and variance.grad[2] > 0


def test_the_receiver_resamples_with_the_encoders_variance_except_for_the_ae():
    model = models.build("vscc_cifar10_r6").eval()
    image = torch.rand(2, 3, 32, 32)
    identity = lambda latent: latent  # noqa: E731
    torch.manual_seed(0)
    out = model(image, identity)
    assert out["latent"].shape == out["variance"].shape == out["sampled"].shape == (2, 16, 8, 8)
    assert (out["variance"] > 0).all() and not torch.equal(out["sampled"], out["received"])
    power = 2 * out["latent"].flatten(1).pow(2).mean(1)  # unit average power per complex symbol
    torch.testing.assert_close(power, torch.ones(2))
    model.objective = "ae"
    out = model(image, identity)
    assert torch.equal(out["sampled"], out["received"])


def test_mean_starts_as_the_deepjscc_encoder(cifar_model):
    deepjscc = models.load_bundle(cifar_model)
    model = models.build("vscc_cifar10_r6")
    train.initialise(model, cifar_model / "weights.pt", "vscc_cifar10_r6")
    image = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(image)[0], deepjscc.encoder(image))


def test_knowledge_base_variance_is_the_mean_per_channel():
    model = models.build("vscc_cifar10_r6")
    pictures = torch.rand(7, 3, 32, 32)
    with torch.no_grad():
        _, variance = model.encoder(pictures)
    expected = variance.double().mean(dim=(0, 2, 3)).numpy()
    np.testing.assert_allclose(variational.knowledge_base_variance(model, pictures, chunk=3), expected, rtol=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["--model", "deepjscc_cifar10_r6", "--objective", "vae"], "not options of deepjscc_cifar10_r6"),
    (["--model", "vscc_cifar10_r6", "--snr-low", "0", "--snr-high", "10"], "at one SNR"),
    (["--model", "vscc_cifar10_r6", "--snr-low", "5", "--snr-high", "5", "--channel", "rayleigh"], "over awgn"),
    (["--model", "vscc_cifar10_r6", "--snr-low", "5", "--snr-high", "5", "--objective", "ae", "--cmc", "1"],
     "--cmc is vscc's constant"),
    (["--model", "vscc_cifar10_r6", "--snr-low", "3", "--snr-high", "3"], "no default --cmc for 3 dB"),
    (["--model", "vscc_cifar10_r6", "--snr-low", "5", "--snr-high", "5", "--cmc", "-1"], "must be >= 0"),
])
def test_impossible_training_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        train.parse_args([*argv, "--data", "cifar10", "--out", "unused", "--steps", "1"])
    assert message in capsys.readouterr().err


def test_cmc_defaults_by_training_snr():
    args = train.parse_args(["--model", "vscc_cifar10_r6", "--snr-low", "-5", "--snr-high", "-5", "--data",
                             "cifar10", "--out", "unused", "--steps", "1"])
    assert (args.objective, args.cmc, args.kl_weight) == ("vscc", variational.DEFAULT_CMC[-5.0],
                                                         variational.DEFAULT_KL_WEIGHT)


def test_export_writes_mean_variance_and_the_knowledge_base(vscc_tiny):
    card = json.loads((vscc_tiny / "card.json").read_text())
    assert card["objective"] == "vscc" and card["variance"] is True and card["cmc"] == variational.DEFAULT_CMC[5.0]
    assert len(card["knowledge_base_variance"]) == card["latent_channels"] == 16
    model = models.load_bundle(vscc_tiny)
    image = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        mean, variance = model.encoder(image)
        decoded = model.decoder(mean)
    encoder = onnxruntime.InferenceSession(str(vscc_tiny / "encoder.onnx"))
    decoder = onnxruntime.InferenceSession(str(vscc_tiny / "decoder.onnx"))
    onnx_mean, onnx_variance = encoder.run(["latent", "variance"], {"image": image.numpy()})
    np.testing.assert_allclose(onnx_mean, mean.numpy(), atol=1e-5)
    np.testing.assert_allclose(onnx_variance, variance.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(decoder.run(None, {"latent": mean.numpy()})[0], decoded.numpy(), atol=1e-5)
    # the knowledge base is the mean encoder variance of the run's training images
    assert min(card["knowledge_base_variance"]) > 0
