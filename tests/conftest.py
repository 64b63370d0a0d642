#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Shared fixtures: shipped models, data sets, and running one block in a real flowgraph."""
from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr
from PIL import Image

from gnuradio.semcom import images, keys, pdus
from semcom_tools import datasets, grc

ROOT = pathlib.Path(__file__).resolve().parent.parent
KODAK_MODEL = ROOT / "models" / "deepjscc_bsds_r16"
CIFAR_MODEL = ROOT / "models" / "deepjscc_cifar10_r6"


@pytest.fixture(scope="session")
def kodak_model() -> pathlib.Path:
    return KODAK_MODEL


@pytest.fixture(scope="session")
def cifar_model() -> pathlib.Path:
    return CIFAR_MODEL


# Shipped bundles for the block QA (tests/qa_*.py), which runs without torch and without the data sets
@pytest.fixture(scope="session")
def bitsemcom_cifar_model() -> pathlib.Path:
    """The shipped fixed-size BitSemCom bundle ``bitsemcom_cifar10`` (1,024 bits per 32x32 image)."""
    return ROOT / "models" / "bitsemcom_cifar10"


@pytest.fixture(scope="session")
def bitsemcom_kodak_model() -> pathlib.Path:
    """The shipped fully convolutional BitSemCom bundle ``bitsemcom_bsds`` (6 bits per 4x4 pixels, any size)."""
    return ROOT / "models" / "bitsemcom_bsds"


@pytest.fixture(scope="session")
def df_cifar_model() -> pathlib.Path:
    """The shipped decode-and-forward bundle over 2 relays (3 hops), ``deepjscc_cifar10_r6_df2_m5_dhd``."""
    return ROOT / "models" / "deepjscc_cifar10_r6_df2_m5_dhd"


@pytest.fixture(scope="session")
def vscc_cifar_model() -> pathlib.Path:
    """The shipped variational bundle ``vscc_cifar10`` (the variance and a knowledge base of 16 variances)."""
    return ROOT / "models" / "vscc_cifar10"


# Markers (registered in pyproject.toml): `training` for tests that need torch (semcom_train),
# `datasets` for tests that need the data sets (../shared/datasets, SEMCOM_DATA).
# `pytest -m "not training and not datasets"` runs what needs the runtime alone.
TRAINING_FIXTURES = {"bitsemcom_model", "bitsemcom_fullconv_model", "df_model", "vscc_tiny", "cjscc_tiny"}
DATASET_FIXTURES = {"kodak_dir", "cjscc_tiny"}


def _uses_torch(module) -> bool:
    """Whether a test module imported torch or semcom_train at its top."""
    return any(getattr(value, "__name__", "").split(".")[0] in ("torch", "semcom_train")
               for value in vars(module).values() if isinstance(value, type(sys)))


def pytest_collection_modifyitems(config, items):
    """Tests that use a fixture that trains, or a module that imports torch, are `training`;
    tests that use a data-set fixture are `datasets` (others carry the markers themselves)."""
    torch_modules = {}
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        module = getattr(item, "module", None)
        if module is not None and module not in torch_modules:
            torch_modules[module] = _uses_torch(module)
        if used & TRAINING_FIXTURES or torch_modules.get(module):
            item.add_marker(pytest.mark.training)
        if used & DATASET_FIXTURES:
            item.add_marker(pytest.mark.datasets)


def tiny_bundle(base: pathlib.Path, model: str, *export_args: str, train_args=()) -> pathlib.Path:
    """Registered ``model`` trained for 2 steps (bit-level ones: QPSK over AWGN) on 32x32
    crops of three photos with ``train_args``, then exported to ``base / "bundle"`` with ``export_args``."""
    from semcom_train import export, train
    for split in ("train", "val"):
        folder = base / "data" / "bsds500" / split
        folder.mkdir(parents=True)
        for path in images.sample_paths()[:3]:
            picture, _ = images.load_image(path)
            Image.fromarray(images.fit(picture, "crop", (64, 64))).save(folder / f"{path.stem}.png")
    train.main(["--model", model, "--data", "bsds", "--data-root", str(base / "data"),
                "--out", str(base / "run"), "--crop", "32", "--batch-size", "2", "--steps", "2",
                "--threads", "1", *train_args])
    return export.main(["--checkpoint", str(base / "run" / "checkpoint.pt"), "--out", str(base / "bundle"),
                        *export_args])


@pytest.fixture(scope="session")
def bitsemcom_model(tmp_path_factory) -> pathlib.Path:
    """A tiny fixed-size BitSemCom bundle, ``bitsemcom_cifar10`` (1,024 bits per 32x32 image)."""
    return tiny_bundle(tmp_path_factory.mktemp("bitsemcom"), "bitsemcom_cifar10")


@pytest.fixture(scope="session")
def bitsemcom_fullconv_model(tmp_path_factory) -> pathlib.Path:
    """A tiny fully convolutional BitSemCom bundle: architecture ``bitsemcom_bsds`` (6 bits per
    4x4 pixels, any image size), exported as the variant model id ``bitsemcom_bsds_variant``."""
    return tiny_bundle(tmp_path_factory.mktemp("bitsemcom_fullconv"), "bitsemcom_bsds",
                          "--model-id", "bitsemcom_bsds_variant")


@pytest.fixture(scope="session")
def df_model(tmp_path_factory) -> pathlib.Path:
    """A tiny decode-and-forward bundle over 2 relays (3 hops), ``deepjscc_cifar10_r6_df2``
    exported as ``df2_tiny``."""
    return tiny_bundle(tmp_path_factory.mktemp("df2"), "deepjscc_cifar10_r6_df2", "--model-id", "df2_tiny")


@pytest.fixture(scope="session")
def vscc_tiny(tmp_path_factory) -> pathlib.Path:
    """A tiny VSCC bundle (``vscc_cifar10_r6`` trained 2 steps at 5 dB) exported as ``vscc_tiny``."""
    return tiny_bundle(tmp_path_factory.mktemp("vscc"), "vscc_cifar10_r6", "--model-id", "vscc_tiny",
                       train_args=("--objective", "vscc", "--snr-low", "5", "--snr-high", "5"))


@pytest.fixture(scope="session")
def cjscc_tiny(tmp_path_factory) -> pathlib.Path:
    """A tiny C-JSCC bundle (``cjscc_cifar10_r6`` trained 2 steps on CIFAR-10, lambda 0.5) exported
    as ``cjscc_tiny``; skipped without the CIFAR-10 zip."""
    from semcom_train import export, train
    if not (datasets.dataset_root() / "cifar10-jpeg.zip").is_file():
        pytest.skip("CIFAR-10 not found (set SEMCOM_DATA)")
    base = tmp_path_factory.mktemp("cjscc")
    train.main(["--model", "cjscc_cifar10_r6", "--data", "cifar10", "--out", str(base / "run"), "--batch-size", "4",
                "--steps", "2", "--threads", "1", "--scl-weight", "0.5", "--temperature", "0.1",
                "--snr-low", "10", "--snr-high", "10"])
    return export.main(["--checkpoint", str(base / "run" / "checkpoint.pt"), "--out", str(base / "bundle"),
                        "--model-id", "cjscc_tiny"])


@pytest.fixture(scope="session")
def kodak_dir() -> pathlib.Path:
    folder = datasets.dataset_root() / "kodak"
    if not folder.is_dir():
        pytest.skip(f"Kodak not found at {folder} (set SEMCOM_DATA)")
    return folder


@pytest.fixture
def photo_dir(tmp_path) -> pathlib.Path:
    """Three real photos of different sizes (the sample photos) as PNG files."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for path, size in zip(images.sample_paths(), ((96, 128), (64, 80), (100, 60))):
        picture, _ = images.load_image(path)
        Image.fromarray(images.fit(picture, "resize", size)).save(folder / f"{path.stem}.png")
    return folder


@pytest.fixture(scope="session")
def qapp():
    """The process's QApplication, which Qt widgets (image_display) need; offscreen when this
    makes it."""
    from PyQt5 import QtWidgets
    app = QtWidgets.QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QtWidgets.QApplication(["gr-semcom tests"])
    return app


def logged(capfd) -> str:
    """What GNU Radio's loggers printed (they write to stdout or stderr)."""
    captured = capfd.readouterr()
    return captured.out + captured.err


def image_pdu(image: np.ndarray, image_id: str = "img0"):
    return pdus.image_pdu({keys.IMAGE_ID: image_id}, image)


class Idle(gr.basic_block):
    """A message source that never sends: it only puts a sink into the flowgraph."""

    def __init__(self):
        gr.basic_block.__init__(self, name="idle", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))


def run_block(block, in_port: str, messages, out_port: str | None = None, expected: int = 0,
              done=None, timeout: float = 30.0, settle: float = 0.0):
    """Post ``messages`` to ``block``'s ``in_port`` inside a running flowgraph
    (an item may also be a (port, message) pair for blocks with several inputs);
    return what ``out_port`` emitted once ``expected`` messages came out (or
    ``done()`` is true, for sinks, or ``timeout`` passed), after ``settle``
    more seconds for stragglers."""
    top = gr.top_block()
    idle = Idle()
    posts = [item if isinstance(item, tuple) else (in_port, item) for item in messages]
    for port in {port for port, _ in posts}:
        top.msg_connect((idle, "out"), (block, port))
    debug = blocks.message_debug()
    if out_port is not None:
        top.msg_connect((block, out_port), (debug, "store"))
    top.start()
    try:
        for port, msg in posts:
            block.to_basic_block()._post(pmt.intern(port), msg)
        deadline = time.monotonic() + timeout
        finished = done or (lambda: debug.num_messages() >= expected)
        while not finished() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(settle)
    finally:
        top.stop()
        top.wait()
    return [debug.get_message(i) for i in range(debug.num_messages())]


def grcc(grc_file: pathlib.Path, out_dir: pathlib.Path) -> subprocess.CompletedProcess:
    """grcc ``grc_file`` into ``out_dir`` with the source tree's blocks (``semcom_tools.grc``),
    checking that grcc searched them."""
    result = grc.compile_flowgraph(grc_file, out_dir)
    if "Block paths:" in result.stdout:
        paths = result.stdout.split("Block paths:", 1)[1].split(">>>", 1)[0].split()
        assert str(grc.BLOCKS_DIR) in paths, result.stdout
    return result


def load_bench(name: str):
    """The benchmark ``bench/<name>.py`` as a module, its folder on sys.path as when it runs as a
    script (the benchmarks import their shared ``common``)."""
    folder = str(ROOT / "bench")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return load_module(ROOT / "bench" / f"{name}.py")


def load_module(script: pathlib.Path):
    """The Python module of a script (a grcc-generated flowgraph, a benchmark)."""
    spec = importlib.util.spec_from_file_location(f"script_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
