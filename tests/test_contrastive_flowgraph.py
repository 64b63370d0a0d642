#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""C-JSCC through the blocks and the flowgraph: the classifier exported with the decoder, class
probabilities in the metadata, accuracy against the source labels, and what needs labels."""
import json

import numpy as np
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")

from conftest import run_block
from gnuradio.semcom import bundle, jscc_decoder, keys, pdus
from semcom_tools import flowgraphs
from semcom_train import contrastive, export, models


def test_decoder_onnx_gives_the_torch_image_and_class_probabilities(cjscc_tiny):
    card = json.loads((cjscc_tiny / "card.json").read_text())
    assert card["classes"] == list(contrastive.CIFAR10_CLASSES) and card["scl_weight"] == 0.5
    model = models.load_bundle(cjscc_tiny)
    latent = model.encoder(torch.rand(3, 3, 32, 32)).detach()
    with torch.no_grad():
        image, probs = export.ReceiverHead(model)(latent)
    import onnxruntime
    session = onnxruntime.InferenceSession(str(cjscc_tiny / "decoder.onnx"))
    onnx_image, onnx_probs = session.run(["image", "class_probs"], {"latent": latent.numpy()})
    np.testing.assert_allclose(onnx_image, image.numpy(), atol=1e-5)
    np.testing.assert_allclose(onnx_probs, probs.numpy(), atol=1e-5)


def test_decoder_block_puts_class_probabilities_in_the_metadata(cjscc_tiny):
    picture = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    model_bundle = bundle.Bundle(cjscc_tiny)
    sent = model_bundle.encode(picture)
    meta = {keys.IMAGE_ID: "c", keys.MODEL_ID: "cjscc_tiny", keys.IMAGE_SHAPE: np.array(picture.shape, np.int32)}
    (out,) = run_block(jscc_decoder(str(cjscc_tiny)), "symbols", [pdus.make(meta, sent)], "image", expected=1)
    out_meta, image = pdus.parse_image(out)
    probs = np.asarray(out_meta[keys.CLASS_PROBS])
    model = models.load_bundle(cjscc_tiny)
    with torch.no_grad():
        latent = torch.from_numpy(sent.view(np.float32).reshape(1, 16, 8, 8).copy())
        expected = torch.softmax(model.classifier(latent), 1)[0].numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-5
    assert out_meta[keys.CLASS_LABEL] == contrastive.CIFAR10_CLASSES[int(np.argmax(expected))]
    np.testing.assert_array_equal(image, model_bundle.decode(sent, 32, 32))


def test_flowgraph_scores_accuracy_on_labelled_cifar_images(cjscc_tiny):
    graph = flowgraphs.analog_point_to_point(str(cjscc_tiny), "cifar10-test:1", snr_db=10.0, accuracy=True)
    rows = graph.run_images(120)
    assert len(rows) == 10 and sorted(r["label"] for r in rows) == sorted(contrastive.CIFAR10_CLASSES)
    assert all(r["predicted"] in contrastive.CIFAR10_CLASSES and r["correct"] in (0.0, 1.0) for r in rows)
    assert graph.metrics.means()["accuracy"] == np.mean([r["correct"] for r in rows])


def test_accuracy_needs_labels_the_model_knows_and_a_classifier(cjscc_tiny, cifar_model, photo_dir):
    with pytest.raises(ValueError, match="accuracy needs labelled images"):
        flowgraphs.analog_point_to_point(str(cjscc_tiny), str(photo_dir), accuracy=True)
    with pytest.raises(ValueError, match="accuracy needs a model with a classifier"):
        flowgraphs.analog_point_to_point(str(cifar_model), "cifar10-test:1", accuracy=True)
