#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""LPIPS, the learned perceptual image distance (Zhang et al., CVPR 2018), with onnxruntime only.

The network is LPIPS v0.1 on AlexNet (the ``lpips`` package's default, ``net="alex"``):
ImageNet AlexNet features at its five ReLUs, unit-normalised per position over
channels, squared differences weighted by LPIPS's learned linear layers, averaged
over positions and summed over the layers. 0 means identical; lower is closer.
For orientation, on a 256x192 photo: 0.01 for Gaussian noise of sigma 4 (of 255),
0.41 for sigma 32, 0.33 for a Gaussian blur of radius 1.5, 0.68 to another photo.

The ONNX file is made once, offline, by ``python -m semcom_train.lpips_setup``
(part of ``make setup``); this module never downloads anything. It is looked
for at the path given, else ``$SEMCOM_LPIPS``, else ``default_path()``.

The file's contract: inputs ``reference`` and ``distorted``, float32
(N, 3, H, W) RGB in [0, 1]; output ``lpips``, float32 (N,); metadata
``semcom.role`` = "lpips" and ``semcom.lpips_net`` = "alex".
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

from . import bundle, images
from .bundle import ModelError

ENV_VAR = "SEMCOM_LPIPS"
SETUP_COMMAND = "make setup (or: python -m semcom_train.lpips_setup)"
ROLE = "lpips"
NET = "alex"
INPUTS = ("reference", "distorted")
OUTPUT = "lpips"
# AlexNet's second max-pool needs a 3x3 map: conv 11/4 pad 2 then pool 3/2 leave 3 rows from 31.
MIN_SIDE = 31


def default_path() -> pathlib.Path:
    """Where ``lpips_setup`` puts the network: ``<cache_dir()>/lpips/lpips_alex.onnx``."""
    return images.cache_dir() / "lpips" / "lpips_alex.onnx"


def model_path(path=None) -> pathlib.Path:
    """The LPIPS ONNX file to use: ``path``, else ``$SEMCOM_LPIPS``, else ``default_path()``."""
    if path is not None:
        return pathlib.Path(path).expanduser()
    if os.environ.get(ENV_VAR):
        return pathlib.Path(os.environ[ENV_VAR]).expanduser()
    return default_path()


def available() -> bool:
    """True when the LPIPS ONNX file exists where ``LPIPS()`` looks (it is not loaded here)."""
    return model_path().is_file()


def _check_image(name: str, image) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        described = (f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray)
                     else type(image).__name__)
        raise ValueError(f"LPIPS {name} image must be a uint8 (H, W, 3) RGB array, got a {described}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(f"LPIPS needs images of at least {MIN_SIDE}x{MIN_SIDE} pixels (AlexNet's pooling), "
                         f"got {name} of {image.shape[0]}x{image.shape[1]}")


def _network_input(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, 1]."""
    return (image.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


class LPIPS:
    """The LPIPS (AlexNet) distance between two images.

    ``path``: the ONNX file (default: ``$SEMCOM_LPIPS``, else ``default_path()``).
    ``provider``: "auto", "cpu", "cuda" or "tensorrt", as for model bundles. ``threads``:
    onnxruntime intra-op threads, 0 for its default. Raises ``ModelError`` (a
    ValueError) naming the file when it is missing, unloadable or not the LPIPS
    network, and saying how to make it.
    """

    def __init__(self, path=None, provider: str = "auto", threads: int = 0):
        import onnxruntime
        self.path = model_path(path)
        if not self.path.is_file():
            raise ModelError(f"LPIPS network {self.path} is missing; create it with {SETUP_COMMAND}"
                             f" (or point ${ENV_VAR} at an existing copy)")
        if threads < 0:
            raise ModelError(f"threads must be >= 0, got {threads}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        providers = bundle.choose_providers(provider)
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=providers)
        except Exception as error:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelError(f"LPIPS network {self.path} is not a loadable ONNX model ({error}); "
                             f"recreate it with {SETUP_COMMAND}") from error
        meta = self.session.get_modelmeta().custom_metadata_map
        names = (tuple(i.name for i in self.session.get_inputs()), tuple(o.name for o in self.session.get_outputs()))
        if meta.get("semcom.role") != ROLE or meta.get("semcom.lpips_net") != NET or names != (INPUTS, (OUTPUT,)):
            raise ModelError(f"{self.path} is not the LPIPS {NET} network (role {meta.get('semcom.role')!r}, "
                             f"net {meta.get('semcom.lpips_net')!r}, inputs/outputs {names}); "
                             f"recreate it with {SETUP_COMMAND}")

    def distance(self, reference: np.ndarray, distorted: np.ndarray) -> float:
        """LPIPS between two uint8 (H, W, 3) RGB images of the same shape, H and W at
        least ``MIN_SIDE``; 0.0 when they are equal, symmetric in its arguments.
        Raises ValueError naming the problem for any other input."""
        _check_image("reference", reference)
        _check_image("distorted", distorted)
        if reference.shape != distorted.shape:
            raise ValueError(f"LPIPS images differ in shape: reference {reference.shape} "
                             f"vs distorted {distorted.shape}")
        (values,) = self.session.run([OUTPUT], {INPUTS[0]: _network_input(reference),
                                                 INPUTS[1]: _network_input(distorted)})
        return float(values[0])
