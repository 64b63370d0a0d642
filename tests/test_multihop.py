#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Decode-and-forward DeepJSCC in torch: every hop its own encoder and decoder, the channel on
every hop, initialisation from a single-hop model, and end-to-end training."""
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")

from semcom_train import models, train


class CountingChannel:
    def __init__(self):
        self.calls = 0

    def __call__(self, latent):
        self.calls += 1
        return latent


@pytest.mark.parametrize("relays", [1, 2, 3])
def test_every_hop_has_its_networks_and_its_channel(relays):
    model = models.build(f"deepjscc_cifar10_r6_df{relays}")
    channel = CountingChannel()
    out = model(torch.rand(2, 3, 32, 32), channel)
    assert channel.calls == relays + 1 and len(out["relay_images"]) == relays
    assert out["image_hat"].shape == (2, 3, 32, 32) and out["latent"].shape == (2, 16, 8, 8)
    assert len(model.encoders) == len(model.decoders) == relays + 1


def test_hops_start_from_the_single_hop_model(cifar_model):
    single = models.load_bundle(cifar_model)
    model = models.build("deepjscc_cifar10_r6_df2")
    model.load_single_hop(torch.load(cifar_model / "weights.pt", weights_only=True))
    image = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        once = single.decoder(single.encoder(image))
        twice = single.decoder(single.encoder(once))
        out = model(image, lambda latent: latent)
    torch.testing.assert_close(out["relay_images"][0], once)
    torch.testing.assert_close(out["relay_images"][1], twice)


def test_trains_end_to_end_from_the_single_hop_weights(cifar_model, tmp_path):
    from semcom_train import data
    try:
        data.load_cifar10("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    result = train.main(["--model", "deepjscc_cifar10_r6_df1", "--data", "cifar10", "--out", str(tmp_path / "run"),
                         "--init", str(cifar_model / "weights.pt"), "--snr-low", "-5", "--snr-high", "-5",
                         "--steps", "2", "--batch-size", "4", "--threads", "1", "--val-every", "2"])
    assert result["step"] == 2 and result["val_psnr_db"] > 10
