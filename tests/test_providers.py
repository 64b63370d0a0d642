#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Execution providers and IO binding: every bundle runs its sessions through ``Bundle.run``
(onnxruntime's IO binding), which on the CPU gives exactly what ``session.run`` gives; the GPU
providers are checked where onnxruntime has them and skipped elsewhere."""
import numpy as np
import onnxruntime
import pytest

from gnuradio.semcom import bundle, images

AVAILABLE = onnxruntime.get_available_providers()
needs_cuda = pytest.mark.skipif("CUDAExecutionProvider" not in AVAILABLE,
                                reason="onnxruntime has no CUDA here (pip install .[gpu] on a machine with a GPU)")
needs_tensorrt = pytest.mark.skipif("TensorrtExecutionProvider" not in AVAILABLE,
                                    reason="onnxruntime has no TensorRT here")


def photo(size) -> np.ndarray:
    return images.fit(images.load_image(images.sample_paths()[0])[0], "resize", size)


@pytest.mark.parametrize("model", ["deepjscc_cifar10_r6", "deepjscc_bsds_r16"])
def test_io_binding_gives_what_session_run_gives(model):
    model_bundle = bundle.Bundle(model, "cpu")
    picture = photo(model_bundle.image_size or (64, 96))
    feeds = {"image": (picture.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)}
    (bound,) = model_bundle.run("encoder", ["latent"], feeds)
    (plain,) = model_bundle.session("encoder").run(["latent"], feeds)
    np.testing.assert_array_equal(bound, plain)
    outputs = model_bundle.run("decoder", None, {"latent": plain})  # None: every output
    np.testing.assert_array_equal(outputs[0], model_bundle.session("decoder").run(None, {"latent": plain})[0])


def test_provider_choices_and_refusals():
    assert bundle.choose_providers("cpu") == ["CPUExecutionProvider"]
    assert bundle.choose_providers("auto")[-1] == "CPUExecutionProvider"
    assert set(bundle.choose_providers("auto")) <= set(AVAILABLE)
    with pytest.raises(bundle.ModelError, match="provider 'opencl' is not one of auto, cpu, cuda, tensorrt"):
        bundle.choose_providers("opencl")
    for provider, name in (("cuda", "CUDAExecutionProvider"), ("tensorrt", "TensorrtExecutionProvider")):
        if name not in AVAILABLE:
            with pytest.raises(bundle.ModelError, match=f"{name} is not available here .*onnxruntime-gpu"):
                bundle.choose_providers(provider)


def gpu_matches_cpu(provider: str) -> None:
    """The shipped Kodak model on ``provider``: the same symbols and image as on the CPU, within
    the GPU's float rounding."""
    cpu, gpu = bundle.Bundle("deepjscc_bsds_r16", "cpu"), bundle.Bundle("deepjscc_bsds_r16", provider)
    assert gpu.session("encoder").get_providers()[0] == bundle.PROVIDERS[provider]
    picture = photo((128, 192))
    np.testing.assert_allclose(gpu.encode(picture), cpu.encode(picture), atol=1e-3)
    received = cpu.encode(picture)
    assert np.abs(gpu.decode(received, 128, 192).astype(int) - cpu.decode(received, 128, 192)).max() <= 1


@needs_cuda
def test_cuda_gives_what_the_cpu_gives():
    gpu_matches_cpu("cuda")


@needs_tensorrt
def test_tensorrt_gives_what_the_cpu_gives():
    gpu_matches_cpu("tensorrt")
