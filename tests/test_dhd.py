#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Deep hash distillation: losses against their formulas, retrieval mAP against a brute-force
computation, augmentations, training with resume, and the ONNX export against torch."""
import json

import numpy as np
import onnxruntime
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from torch.nn import functional as F

from semcom_tools import datasets
from semcom_train import dhd


def brute_force_map(query, query_labels, database, database_labels):
    scores = []
    for code, label in zip(query, query_labels):
        distance = [int(np.sum(code != other)) for other in database]
        order = sorted(range(len(database)), key=lambda i: (distance[i], i))
        hits, precisions = 0, []
        for rank, index in enumerate(order, 1):
            if database_labels[index] == label:
                hits += 1
                precisions.append(hits / rank)
        scores.append(np.mean(precisions) if precisions else 0.0)
    return float(np.mean(scores))


def test_retrieval_map_matches_a_brute_force_ranking():
    rng = np.random.default_rng(0)
    query = dhd.binary(rng.standard_normal((7, 16)))
    database = dhd.binary(rng.standard_normal((60, 16)))
    query_labels, database_labels = rng.integers(0, 3, 7), rng.integers(0, 3, 60)
    assert dhd.retrieval_map(query, query_labels, database, database_labels) == pytest.approx(
        brute_force_map(query, query_labels, database, database_labels), abs=1e-12)
    # identical codes within a class and far codes across classes retrieve perfectly
    perfect = np.repeat(dhd.binary(rng.standard_normal((3, 32))), 5, axis=0)
    labels = np.repeat(np.arange(3), 5)
    assert dhd.retrieval_map(perfect, labels, perfect, labels) == pytest.approx(1.0)


def test_losses_follow_their_formulas():
    torch.manual_seed(0)
    hashes = torch.tanh(torch.randn(5, 8))
    other = torch.tanh(torch.randn(5, 8))
    proxies = torch.randn(3, 8)
    labels = torch.tensor([0, 2, 1, 1, 0])
    cos = torch.stack([torch.stack([torch.dot(h, p) / (h.norm() * p.norm()) for p in proxies]) for h in hashes])
    expected = -torch.stack([torch.log_softmax(cos[i] / 0.2, 0)[labels[i]] for i in range(5)]).mean()
    assert dhd.hash_proxy_loss(hashes, proxies, labels, 0.2).item() == pytest.approx(expected.item(), rel=1e-5)
    sdh = np.mean([1 - float(torch.dot(a, b) / (a.norm() * b.norm())) for a, b in zip(other, hashes)])
    assert dhd.self_distillation_loss(other, hashes).item() == pytest.approx(sdh, rel=1e-5)
    h = hashes.double().numpy()
    plus, minus = np.exp(-0.5 * ((h - 1) / 0.5) ** 2), np.exp(-0.5 * ((h + 1) / 0.5) ** 2)
    b = (np.sign(h) + 1) / 2
    bce = lambda u, v: -(u * np.log(v) + (1 - u) * np.log(1 - v))  # noqa: E731
    assert dhd.bce_quantization_loss(hashes, 0.5).item() == pytest.approx(
        np.mean(bce(b, plus)) + np.mean(bce(1 - b, minus)), rel=1e-4)
    teacher, student = hashes.clone().requires_grad_(), other.clone().requires_grad_()
    dhd.self_distillation_loss(student, teacher).backward()
    assert student.grad.abs().sum() > 0
    assert teacher.grad is None or not teacher.grad.any()  # the teacher gets no gradient


def test_augmentations_keep_shape_and_range_and_weak_views_only_crop_and_flip():
    generator = torch.Generator().manual_seed(1)
    batch = torch.rand(6, 3, 32, 32)
    strong = dhd.augment(batch, 1.0, generator)
    assert strong.shape == batch.shape and strong.min() >= 0 and strong.max() <= 1
    weak = dhd.augment(batch, 0.0, generator)
    padded = F.pad(batch, (1,) * 4, mode="reflect")
    for image, out in zip(padded, weak):
        crops = [image[:, y:y + 32, x:x + 32] for y in range(3) for x in range(3)]
        # the jitter at strength 0 multiplies by exactly 1 but recentres: equal to rounding
        assert any(torch.allclose(out, c, atol=1e-6) or torch.allclose(out, c.flip(2), atol=1e-6) for c in crops)


def test_training_resumes_and_the_export_matches_torch(tmp_path):
    try:
        datasets.dataset_root()
        from semcom_train import data
        data.load_cifar10("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    run = tmp_path / "run"
    first = dhd.main(["--out", str(run), "--steps", "2", "--batch-size", "8", "--width", "4", "--threads", "1"])
    again = dhd.main(["--out", str(run), "--steps", "3", "--batch-size", "8", "--width", "4", "--threads", "1"])
    assert (first["step"], again["step"]) == (2, 3) and again["seconds"] > first["seconds"]
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    network = dhd.HashNetwork(64, 4)
    network.load_state_dict(state["model"])
    dhd.export(network, tmp_path / "dhd_test", dhd.parse_args(["--out", str(run), "--steps", "3", "--width", "4"]),
               3, 1.0, {"map_dhd": 0.5})
    card = json.loads((tmp_path / "dhd_test" / "card.json").read_text())
    assert card["method"] == "dhd" and card["n_bits"] == 64 and "from scratch" in card["backbone"]
    session = onnxruntime.InferenceSession(str(tmp_path / "dhd_test" / "hash.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["semcom.role"] == "hash"
    x = np.random.default_rng(2).random((3, 3, 32, 32), dtype=np.float32)
    with torch.no_grad():
        expected = network.eval()(torch.from_numpy(x)).numpy()
    (ours,) = session.run(None, {"image": x})
    assert ours.shape == (3, 64) and np.abs(ours - expected).max() < 1e-5


def test_bad_arguments_are_refused():
    for bad in (["--steps", "0"], ["--steps", "5", "--temperature", "0"], ["--steps", "5", "--n-bits", "-1"]):
        with pytest.raises(SystemExit):
            dhd.parse_args(["--out", "x", *bad])


def test_frozen_hash_network_passes_gradients_to_its_input_only(tmp_path):
    network = dhd.HashNetwork(64, 4)
    dhd.export(network, tmp_path / "h", dhd.parse_args(["--out", "x", "--steps", "1", "--width", "4"]), 1, 0.0, {})
    frozen = dhd.load_frozen(tmp_path / "h")
    assert not frozen.training and not any(p.requires_grad for p in frozen.parameters())
    image = torch.rand(2, 3, 32, 32, requires_grad=True)
    dhd.self_distillation_loss(frozen(image), frozen(torch.rand(2, 3, 32, 32))).backward()
    assert image.grad.abs().sum() > 0
    (tmp_path / "h" / "card.json").write_text(json.dumps({"method": "deepjscc"}))
    with pytest.raises(ValueError, match="is not a DHD hash bundle"):
        dhd.load_frozen(tmp_path / "h")


def test_deepjscc_dhd_trains_with_the_hash_term_and_its_card_says_so(tmp_path):
    from semcom_train import data, export, train
    try:
        data.load_cifar10("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    dhd.export(dhd.HashNetwork(64, 4), tmp_path / "h", dhd.parse_args(["--out", "x", "--steps", "1", "--width", "4"]),
               1, 0.0, {})
    result = train.main(["--model", "deepjscc_cifar10_r6", "--data", "cifar10", "--out", str(tmp_path / "run"),
                         "--steps", "2", "--batch-size", "4", "--threads", "1", "--val-every", "2",
                         "--hash-model", str(tmp_path / "h"), "--hash-weight", "0.5"])
    assert result["step"] == 2
    card = json.loads((export.main(["--checkpoint", str(tmp_path / "run" / "checkpoint.pt"),
                                    "--out", str(tmp_path / "b")]) / "card.json").read_text())
    assert card["loss"].startswith("mse + 0.5 x (1 - cos(H(S), H(S_hat)))")
    with pytest.raises(SystemExit):
        train.parse_args(["--model", "deepjscc_cifar10_r6", "--data", "cifar10", "--out", "x", "--steps", "1",
                          "--hash-weight", "-1"])


def test_shipped_hash_network_retrieves_by_class_far_above_random_projection():
    """dhd_cifar10 through onnxruntime (the runtime's HashBundle): 200 CIFAR-10 test queries
    (20 per class) against 5,000 training images (500 per class). Measured: mAP 0.767 vs
    0.135 for the random-projection hash of the pixels; the full test (1,000 queries
    against all 50,000) is in the card: 0.737 vs 0.133."""
    from gnuradio.semcom import bundle
    from semcom_train import data
    try:
        train, train_labels, _ = data.load_cifar10("train")
        test, test_labels, _ = data.load_cifar10("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    pick = lambda labels, n: np.concatenate([np.flatnonzero(labels == c)[:n] for c in range(10)])  # noqa: E731
    query, database = pick(test_labels, 20), pick(train_labels, 500)
    hasher = bundle.HashBundle("dhd_cifar10")
    codes = lambda pictures: dhd.binary(np.stack([hasher.hash(p) for p in pictures]))  # noqa: E731
    ours = dhd.retrieval_map(codes(test[query]), test_labels[query], codes(train[database]), train_labels[database])
    baseline = dhd.retrieval_map(dhd.random_projection_hash(test[query], 64), test_labels[query],
                                 dhd.random_projection_hash(train[database], 64), train_labels[database])
    assert ours > 0.65 and baseline < 0.2
