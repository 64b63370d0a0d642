#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""BitSemCom training side: torch demapper against numpy, Gumbel straight-through,
inference sampling, ablations, any constellation without retraining, two-stage
training with --init, ONNX export parity."""
import json

import numpy as np
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from PIL import Image

from gnuradio.semcom import bundle, demapping, images, modulations
from semcom_train import bitsemcom, channels, export, models, train

torch.set_num_threads(1)
FADING = (None, "per_image")


def tiny_model(kind="bitsemcom_cifar10", seed=0):
    torch.manual_seed(seed)
    return models.build(kind)


# -- modulation and soft demapping ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["bpsk", "qpsk", "16qam", "64qam"])
@pytest.mark.parametrize("fading", FADING)
@pytest.mark.parametrize("method", demapping.METHODS)
def test_torch_posteriors_equal_numpy_demapping(name, fading, method):
    table = channels.TorchConstellation(name)
    n_images, n_bits = 6, 1000  # 1000 bits do not fill the last 64QAM symbol
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (n_images, n_bits))
    symbols = channels.modulate(torch.tensor(bits, dtype=torch.float32), table)
    expected = np.stack([demapping.map_bits(b, table.table) for b in bits])
    assert symbols.shape == expected.shape == (n_images, -(-n_bits // table.bits_per_symbol))
    np.testing.assert_array_equal(symbols.numpy(), expected)  # exactly the points map_bits picks

    gains = (rng.normal(size=n_images) + 1j * rng.normal(size=n_images)) / np.sqrt(2) if fading \
        else np.ones(n_images)
    noise_var = np.array([0.05, 0.2, 0.5, 1.0, 2.0, 0.1])
    noise = (rng.normal(size=expected.shape) + 1j * rng.normal(size=expected.shape)) * np.sqrt(noise_var[:, None] / 2)
    received = (gains[:, None] * expected + noise).astype(np.complex64)
    llr = channels.soft_demap(torch.from_numpy(received), table, torch.tensor(noise_var[:, None], dtype=torch.float32),
                               torch.tensor(gains[:, None], dtype=torch.complex64), method, n_bits)
    reference = np.stack([demapping.posteriors(demapping.llrs(r, table.table, n0, h, method)[:n_bits])
                          for r, n0, h in zip(received, noise_var, gains)])
    np.testing.assert_allclose(torch.sigmoid(llr).numpy(), reference, atol=1e-5, rtol=0)


def test_constellation_tables_come_from_demapping_and_names_from_gnuradio():
    table = channels.TorchConstellation("16qam")
    ref = demapping.Constellation.from_gnuradio(modulations.MODULATIONS["16qam"][1]())
    np.testing.assert_array_equal(table.bits.numpy(), ref.bits)
    np.testing.assert_array_equal(table.ones.numpy(), ref.ones)
    np.testing.assert_allclose(table.points_re.numpy() + 1j * table.points_im.numpy(), ref.points)
    with pytest.raises(KeyError, match="unknown modulation"):
        channels.TorchConstellation("1024qam")


def test_channel_gradients_reach_the_bits_and_noise_follows_snr():
    bits = torch.randint(0, 2, (2000, 64)).float().requires_grad_()
    channel = channels.DigitalChannel("qpsk", 3.0, generator=torch.Generator().manual_seed(0))
    out = channel(bits)
    noise = out["received"] - out["symbols"]
    assert noise.abs().pow(2).mean().item() == pytest.approx(10 ** -0.3, rel=0.02)
    out["posteriors"].sum().backward()
    assert (bits.grad != 0).float().mean() > 0.9  # through the demapper and the modulator's extension

    per_batch = channels.DigitalChannel("qpsk", (-3.0, 6.0), generator=torch.Generator().manual_seed(1))
    per_image = channels.DigitalChannel("qpsk", (-3.0, 6.0), snr_per="image", generator=torch.Generator().manual_seed(1))
    assert per_batch(bits.detach()[:100])["snr_db"].unique().numel() == 1
    snrs = per_image(bits.detach()[:100])["snr_db"]
    assert snrs.unique().numel() == 100 and -3 <= snrs.min() and snrs.max() <= 6
    fading = channels.DigitalChannel("qpsk", 200.0, "rayleigh", generator=torch.Generator().manual_seed(2))
    out = fading(bits.detach())
    h = out["received"] / out["symbols"]
    assert torch.allclose(h, out["gain"].expand_as(h), atol=1e-4)  # one known h per image
    assert out["gain"].abs().pow(2).mean().item() == pytest.approx(1.0, rel=0.1)


# -- bit mapper ------------------------------------------------------------------------------------
def test_gumbel_straight_through_gives_hard_bits_and_gradients_at_the_mapper():
    model = tiny_model().train()
    model.temperature = 0.5
    channel = channels.DigitalChannel("qpsk", (-3.0, 6.0), generator=torch.Generator().manual_seed(0))
    out = model(torch.rand(4, 3, 32, 32), channel)
    assert out["bits"].shape == out["probs"].shape == out["posteriors"].shape == (4, 1024)
    assert set(out["bits"].unique().tolist()) == {0.0, 1.0}
    assert out["bits"].requires_grad
    torch.nn.functional.mse_loss(out["image_hat"], torch.rand(4, 3, 32, 32)).backward()
    for layer in (model.mapper.net[0], model.mapper.net[-1], model.encoder.net[0]):
        assert layer.weight.grad.abs().sum() > 0


def test_gumbel_bits_follow_the_probabilities():
    logits = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0]).repeat(20000, 1)
    bits = bitsemcom.gumbel_bits(logits, 1.0, torch.Generator().manual_seed(0))
    np.testing.assert_allclose(bits.mean(0).numpy(), torch.sigmoid(logits[0]).numpy(), atol=0.01)
    schedule = bitsemcom.temperature_schedule(2.0, 0.5, 100)
    assert schedule(0) == 2.0 and schedule(100) == pytest.approx(0.5) and schedule(50) == pytest.approx(1.0)


def test_inference_samples_reproducibly_and_thresholds_deterministically():
    model = tiny_model().eval()
    image = torch.rand(2, 3, 32, 32)

    def bits(decision, seed):
        with torch.no_grad():
            return model(image, channels.ErrorFree(torch.Generator().manual_seed(seed)), decision=decision)

    first, again, other = bits("sample", 7), bits("sample", 7), bits("sample", 8)
    assert torch.equal(first["bits"], again["bits"]) and torch.equal(first["image_hat"], again["image_hat"])
    assert not torch.equal(first["bits"], other["bits"])
    assert torch.equal(first["posteriors"], first["bits"])  # error-free channel
    hard = bits("threshold", 7)["bits"]
    assert torch.equal(hard, bits("threshold", 8)["bits"]) and torch.equal(hard, (first["probs"] > 0.5).float())
    assert model.decision == "sample"


# -- ablations -------------------------------------------------------------------------------------
def test_uniform_ablation_trains_on_noisy_probabilities_and_rounds_at_inference():
    model = tiny_model("bitsemcom_cifar10_uniform").train()
    assert isinstance(model.mapper, torch.nn.Identity) and model.decision == "threshold"
    out = model(torch.rand(3, 3, 32, 32), channels.DigitalChannel("16qam", 5.0))
    offset = out["bits"] - out["probs"]
    assert offset.abs().max() <= 0.5 and offset.std() > 0.2  # p + U(-1/2, 1/2)
    out["image_hat"].mean().backward()
    assert model.encoder.net[-1].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(3, 3, 32, 32), channels.ErrorFree())
    assert torch.equal(out["bits"], torch.round(out["probs"]))


def test_hard_sigmoid_ste_ablation_sends_thresholded_bits_with_sigmoid_gradients():
    model = tiny_model("bitsemcom_cifar10_hardste").train()
    out = model(torch.rand(3, 3, 32, 32), channels.DigitalChannel("qpsk", 0.0, "rayleigh"))
    assert torch.equal(out["bits"].detach(), (out["probs"] > 0.5).float())
    out["image_hat"].mean().backward()
    assert model.encoder.net[-1].weight.grad.abs().sum() > 0
    backbone = sum(p.numel() for p in models.build("deepjscc_cifar10_r6").parameters())
    assert sum(p.numel() for p in model.parameters()) == backbone  # no mapper parameters
    with pytest.raises(ValueError, match="must equal bit_channels"):
        bitsemcom.BitSemComConfig(16, 8, 48, (32, 32), bit_mapper="uniform")


# -- modulation-agnostic -------------------------------------------------------------------------------
def test_one_model_runs_with_any_constellation_without_retraining():
    config = models.REGISTRY["bitsemcom_cifar10"]
    assert config.n_bits == 1024 and config.channel_uses(2) == 512 and config.bandwidth_ratio(2) == pytest.approx(1 / 6)
    model = tiny_model().eval()
    image = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        clean = model(image, channels.ErrorFree(), decision="threshold")
        for name, uses in (("qpsk", 512), ("16qam", 256), ("64qam", 171)):
            out = model(image, channels.DigitalChannel(name, 60.0), decision="threshold")
            assert torch.equal(out["bits"], clean["bits"]) and out["symbols"].shape == (2, uses)
            assert torch.allclose(out["posteriors"], clean["bits"], atol=1e-6)  # noiseless: the bits back
            assert torch.allclose(out["image_hat"], clean["image_hat"], atol=1e-5)


# -- training and export -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """A data root with a BSDS-like layout holding scikit-image photos."""
    root = tmp_path_factory.mktemp("bits") / "data"
    for split in ("train", "val"):
        folder = root / "bsds500" / split
        folder.mkdir(parents=True)
        for path in images.sample_paths():
            picture, _ = images.load_image(path)
            Image.fromarray(images.fit(picture, "crop", (64, 64))).save(folder / f"{path.stem}.png")
    return root


@pytest.fixture(scope="module")
def two_stage_runs(tiny_data, tmp_path_factory):
    """Stage 1 (error-free) and stage 2 (QPSK over Rayleigh, from stage 1) of 3 steps each."""
    runs = tmp_path_factory.mktemp("runs")
    common = ["--model", "bitsemcom_cifar10", "--data", "bsds", "--data-root", str(tiny_data), "--crop", "32",
              "--batch-size", "4", "--val-every", "3", "--threads", "1"]
    stage2 = common + ["--out", str(runs / "s2"), "--stage", "noisy", "--init", str(runs / "s1" / "checkpoint.pt"),
                       "--channel", "rayleigh", "--snr-low", "-3", "--snr-high", "6", "--tau", "2", "--tau-end", "0.5"]
    first = train.main(common + ["--out", str(runs / "s1"), "--stage", "error_free", "--steps", "3"])
    second = train.main(stage2 + ["--steps", "3"])
    return runs, first, second, stage2


def test_two_stage_training_initialises_stage_two_from_stage_one(two_stage_runs):
    runs, first, second, stage2 = two_stage_runs
    assert first["step"] == second["step"] == 3 and np.isfinite(second["val_psnr_db"])
    s1 = torch.load(runs / "s1" / "checkpoint.pt", weights_only=False)
    s2 = torch.load(runs / "s2" / "checkpoint.pt", weights_only=False)
    assert s1["args"]["stage"] == "error_free" and s2["args"]["stage"] == "noisy"
    assert s2["args"]["init"].endswith("checkpoint.pt") and s2["args"]["tau_end"] == 0.5
    fresh = tiny_model(seed=123).state_dict()
    # three Adam steps of lr 1e-3 move each weight by about 3e-3 at most; a fresh init is far
    assert max((s2["model"][k] - s1["model"][k]).abs().max().item() for k in fresh) < 0.01
    assert max((fresh[k] - s1["model"][k]).abs().max().item() for k in fresh) > 0.05
    # running again resumes from the run's own checkpoint, not from --init
    resumed = train.main(stage2 + ["--steps", "5"])
    assert resumed["step"] == 5 and resumed["seconds"] > second["seconds"]


def test_bit_options_are_refused_for_deepjscc():
    with pytest.raises(SystemExit):
        train.parse_args(["--model", "deepjscc_cifar10_r6", "--data", "cifar10", "--out", "x", "--steps", "1",
                          "--stage", "error_free"])
    args = train.parse_args(["--model", "bitsemcom_cifar10", "--data", "cifar10", "--out", "x", "--steps", "1"])
    assert (args.stage, args.modulation, args.snr_per, args.tau, args.tau_end) == ("noisy", "qpsk", "batch", 1.0, 1.0)


def test_export_writes_a_bitsemcom_bundle_whose_onnx_matches_torch(two_stage_runs, tmp_path):
    runs = two_stage_runs[0]
    out = export.main(["--checkpoint", str(runs / "s2" / "checkpoint.pt"), "--out", str(tmp_path / "b")])
    card = json.loads((out / "card.json").read_text())
    assert card["method"] == "bitsemcom" and card["n_bits"] == 1024 and card["bit_grid"] == [16, 8, 8]
    assert card["train_modulation"] == "qpsk" and card["train_channel_uses"] == 512
    assert card["train_snr_db"] == [-3.0, 6.0] and card["channel"] == "rayleigh" and card["ablation"] is None
    assert card["inference_bits"] == "sample" and card["temperature"] == [2.0, 0.5]

    model = models.load_bundle(out)
    runtime = bundle.Bundle(out, provider="cpu")
    image = np.random.default_rng(0).random((3, 3, 32, 32), dtype=np.float32)
    posteriors = np.random.default_rng(1).random((3, 1024), dtype=np.float32)
    with torch.no_grad():
        probs = model.encode_probs(torch.from_numpy(image)).numpy()
        decoded = model.decode_posteriors(torch.from_numpy(posteriors)).numpy()
    (ort_probs,) = runtime.session("encoder").run(None, {"image": image})
    (ort_decoded,) = runtime.session("decoder").run(None, {"posteriors": posteriors})
    assert ort_probs.shape == (3, 1024) and ort_decoded.shape == (3, 3, 32, 32)
    for ours, theirs in ((ort_probs, probs), (ort_decoded, decoded)):
        assert np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)) < 1e-4


def test_ablation_cards_name_the_ablation():
    args = train.parse_args(["--model", "bitsemcom_cifar10_hardste", "--data", "cifar10", "--out", "x", "--steps", "1",
                             "--modulation", "16qam"])
    card = export.bitsemcom_fields(models.REGISTRY["bitsemcom_cifar10_hardste"], vars(args))
    assert card["ablation"] == "hard_sigmoid_ste" and card["inference_bits"] == "threshold"
    assert card["train_bits_per_symbol"] == 4 and card["train_channel_uses"] == 256 and card["temperature"] is None


def test_fully_convolutional_variant_bundle_matches_torch_at_any_size(bitsemcom_fullconv_model):
    card = json.loads((bitsemcom_fullconv_model / "card.json").read_text())
    assert card["model_id"] == "bitsemcom_bsds_variant" and card["architecture"] == "bitsemcom_bsds"
    assert card["image_size"] is None and card["fully_convolutional"] and card["n_bits"] is None
    assert card["bit_channels"] == 6 and card["bandwidth_ratio"] == pytest.approx(1 / 16)
    model = models.load_bundle(bitsemcom_fullconv_model)
    runtime = bundle.BitSemComBundle(bitsemcom_fullconv_model, provider="cpu")
    assert runtime.model_id == "bitsemcom_bsds_variant" and runtime.n_bits is None
    for role in ("encoder", "decoder"):
        meta = runtime.session(role).get_modelmeta().custom_metadata_map
        assert meta["semcom.model_id"] == "bitsemcom_bsds_variant"
    rng = np.random.default_rng(0)
    for height, width in ((32, 48), (30, 45)):  # the second is padded to 32 x 48
        picture = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        probs = runtime.encode_probs(picture)
        assert probs.shape == (runtime.bits_for(height, width),) == (6 * 8 * 12,)
        padded = np.pad(picture, ((0, 32 - height), (0, 48 - width), (0, 0)), mode="edge")
        with torch.no_grad():
            x = torch.from_numpy(padded).permute(2, 0, 1)[None].float() / 255
            expected = model.encode_probs(x)[0].numpy()
            posteriors = torch.from_numpy(rng.random(probs.size, dtype=np.float32))
            image = model.decode_posteriors(posteriors[None], (6, 8, 12))[0, :, :height, :width]
        assert np.max(np.abs(probs - expected)) < 1e-4
        reference = torch.round(image * 255).clamp(0, 255).permute(1, 2, 0).numpy().astype(int)
        ours = runtime.decode_soft(posteriors.numpy(), height, width)
        assert ours.shape == (height, width, 3) and np.abs(ours.astype(int) - reference).max() <= 1
    with pytest.raises(ValueError, match="fully convolutional: give the image's height and width"):
        runtime.decode_soft(np.zeros(576, np.float32))
    with pytest.raises(ValueError, match="575 posteriors, model bitsemcom_bsds_variant takes 576 for a 32x48 image"):
        runtime.decode_soft(np.zeros(575, np.float32), 32, 48)


def test_export_refuses_a_model_id_that_is_not_a_plain_name(two_stage_runs, tmp_path):
    with pytest.raises(SystemExit):
        export.main(["--checkpoint", str(two_stage_runs[0] / "s2" / "checkpoint.pt"), "--out", str(tmp_path / "b"),
                     "--model-id", "a/b"])
