#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""What the benchmarks share: where results go, the images they time, timing, and the report.

Each benchmark is a script (``python bench/<name>.py``; its folder is then on sys.path, so
``import common`` finds this file) with a ``main(argv)`` that tests call in-process.
"""
from __future__ import annotations

import argparse
import itertools
import math
import pathlib
import time

import numpy as np

from gnuradio.semcom import images as imaging
from semcom_tools import datasets

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
FULL_SIZE = (512, 768)  # (H, W) for fully convolutional models: Kodak landscape


def add_out_option(parser: argparse.ArgumentParser, files: str) -> None:
    """``--out [FOLDER]``: also write ``files`` (a description) to FOLDER, bench/results when bare."""
    parser.add_argument("--out", nargs="?", const=RESULTS, type=pathlib.Path, default=None,
                        help=f"write {files} to this folder (default when given: {RESULTS})")


# -- images -------------------------------------------------------------------------
def bench_images(size: tuple[int, int], n: int) -> tuple[list[np.ndarray], str]:
    """``n`` uint8 images of ``size`` = (H, W), and a note of where they came from."""
    try:
        paths, origin = datasets.resolve_paths("kodak"), "Kodak"
    except FileNotFoundError:
        paths, origin = imaging.sample_paths(), "sample"
    pictures = []
    for path in itertools.islice(itertools.cycle(paths), n):
        picture, _ = imaging.load_image(path)
        if picture.shape[0] > picture.shape[1]:
            picture = np.ascontiguousarray(np.rot90(picture))  # portrait -> landscape
        pictures.append(imaging.fit(picture, "resize", size))
    note = f"{min(n, len(paths))} {origin} photos" + (f" cycled to {n} images" if n > len(paths) else "")
    note += " (portrait ones rotated"
    return pictures, note + (")" if (origin, size) == ("Kodak", FULL_SIZE) else f", resized to {size[1]}x{size[0]})")


# -- timing -------------------------------------------------------------------------
def best_seconds(prepare, repeats: int) -> float:
    """Shortest wall time of ``repeats`` runs; ``prepare()`` (untimed) returns the function to time."""
    best = math.inf
    for _ in range(repeats):
        run = prepare()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def per_image(stage, inputs: list, repeats: int) -> float:
    """Best-of-``repeats`` milliseconds per item of ``stage`` applied to each of ``inputs``."""
    def run():
        for item in inputs:
            stage(item)
    stage(inputs[0])  # warm up (session creation, caches)
    return 1e3 * best_seconds(lambda: run, repeats) / len(inputs)


# -- report -------------------------------------------------------------------------
def table(columns, rows: list[dict], cell) -> str:
    """A Markdown table of ``rows`` (dicts) in ``columns``, each value shown by ``cell(column, value)``;
    the benchmarks' shared report format."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(c, row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def publish(parts: list[str], out: pathlib.Path | None, name: str) -> str:
    """Print the report made of ``parts`` (paragraphs) and, when ``out`` is a folder, write it
    to ``out / name``; returns the report."""
    report = "\n\n".join(parts)
    print(report)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(report + "\n")
        print(f"\nwrote {out / name}")
    return report


# -- the machine's arithmetic peak -------------------------------------------------------------
def gemm_peak_gmacs(threads: int, size: int = 1024, repeats: int = 5, precision: str = "fp32") -> float:
    """GMAC/s of one ``size`` x ``size`` x ``size`` matrix product in onnxruntime with ``threads``
    intra-op threads (0: its default), best of ``repeats``: the peak the networks' convolutions
    (GEMMs inside onnxruntime) can approach on this machine. ``precision`` "int8": MatMulInteger
    on uint8 x int8, the kernel static int8 models run on."""
    import onnxruntime
    from onnx import TensorProto, helper
    if precision == "fp32":
        kinds = (TensorProto.FLOAT, TensorProto.FLOAT, TensorProto.FLOAT)
        node = helper.make_node("MatMul", ["a", "b"], ["c"])
        a, b = (np.random.default_rng(0).standard_normal((size, size), dtype=np.float32) for _ in range(2))
    elif precision == "int8":
        kinds = (TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32)
        node = helper.make_node("MatMulInteger", ["a", "b"], ["c"])
        rng = np.random.default_rng(0)
        a = rng.integers(0, 256, (size, size), dtype=np.uint8)
        b = rng.integers(-128, 128, (size, size), dtype=np.int8)
    else:
        raise ValueError(f"precision must be fp32 or int8, got {precision!r}")
    graph = helper.make_graph([node], "gemm", [helper.make_tensor_value_info(n, k, (size, size))
                                                for n, k in zip("ab", kinds[:2])],
                              [helper.make_tensor_value_info("c", kinds[2], (size, size))])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(), options,
        providers=["CPUExecutionProvider"])
    session.run(None, {"a": a, "b": b})  # warm up
    return size ** 3 / best_seconds(lambda: lambda: session.run(None, {"a": a, "b": b}), repeats) / 1e9
