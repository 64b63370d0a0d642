#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""C-JSCC in torch: the supervised contrastive loss against a loop over the paper's eq. 4,
the augmentation, the classifier as a detached probe, the loss and the training options."""
import math

import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")

from semcom_train import contrastive, models, train


def reference_supcon(features, labels, tau):
    """Eq. 4 of the paper, one anchor at a time, averaged over anchors."""
    total, anchors = 0.0, 0
    for i in range(len(features)):
        others = [a for a in range(len(features)) if a != i]
        positives = [q for q in others if labels[q] == labels[i]]
        if not positives:
            continue
        denominator = sum(math.exp(float(features[i] @ features[a]) / tau) for a in others)
        total += -sum(math.log(math.exp(float(features[i] @ features[q]) / tau) / denominator)
                      for q in positives) / len(positives)
        anchors += 1
    return total / anchors


@pytest.mark.parametrize("tau", [0.07, 0.5, 1.0])
def test_supervised_contrastive_loss_is_the_papers_sum(tau):
    generator = torch.Generator().manual_seed(3)
    features = torch.nn.functional.normalize(torch.randn(12, 5, generator=generator, dtype=torch.float64), dim=1)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 3, 0, 1, 2])  # class 3 has no positive: left out
    loss = contrastive.supervised_contrastive(features, labels, tau)
    assert loss.item() == pytest.approx(reference_supcon(features, labels.tolist(), tau), rel=1e-9)


def test_aligned_classes_have_a_lower_loss():
    labels = torch.tensor([0, 0, 1, 1])
    aligned = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert contrastive.supervised_contrastive(aligned, labels, 0.1) < contrastive.supervised_contrastive(
        mixed, labels, 0.1)


def test_augmentation_keeps_shape_and_range_and_is_seeded():
    images = torch.rand(6, 3, 32, 32)
    first = contrastive.augment(images, torch.Generator().manual_seed(1))
    again = contrastive.augment(images, torch.Generator().manual_seed(1))
    assert first.shape == images.shape and first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again) and not torch.equal(first, images)


def test_classifier_is_a_detached_probe_of_the_received_latent():
    model = models.build("cjscc_cifar10_r6")
    images, labels = torch.rand(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    out = model(images, lambda latent: latent)
    assert out["logits"].shape == (4, 10)
    torch.nn.functional.cross_entropy(out["logits"], labels).backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert all(p.grad is not None for p in model.classifier.parameters())


def test_lambda_zero_is_djscc_plus_the_probe():
    model = models.build("cjscc_cifar10_r6")
    images, labels = torch.rand(4, 3, 32, 32), torch.tensor([0, 1, 0, 1])
    out = model(images, lambda latent: latent)
    terms = contrastive.loss(model, out, images, labels, 0.0, 0.1)
    # the paper's eq. 3: squared error summed over an image's pixels, averaged over images
    squared_error = 3 * 32 * 32 * torch.nn.functional.mse_loss(out["image_hat"], images)
    torch.testing.assert_close(terms["loss"], squared_error + torch.nn.functional.cross_entropy(out["logits"], labels))
    weighted = contrastive.loss(model, out, images, labels, 0.3, 0.1, torch.Generator().manual_seed(0))
    torch.testing.assert_close(weighted["loss"],
                               0.7 * weighted["squared_error"] + 0.3 * weighted["scl"] + weighted["ce"])
    assert weighted["scl"] > 0


@pytest.mark.parametrize("argv, message", [
    (["--model", "cjscc_cifar10_r6", "--data", "bsds"], "needs labelled images"),
    (["--model", "cjscc_cifar10_r6", "--data", "cifar10", "--scl-weight", "1.5"], "--scl-weight must be in [0, 1]"),
    (["--model", "cjscc_cifar10_r6", "--data", "cifar10", "--temperature", "0"], "--temperature > 0"),
    (["--model", "deepjscc_cifar10_r6", "--data", "cifar10", "--temperature", "0.1"], "not options of"),
])
def test_impossible_training_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        train.parse_args([*argv, "--out", "unused", "--steps", "1"])
    assert message in capsys.readouterr().err
