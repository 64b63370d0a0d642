#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Throughput of the JSCC link: GNU Radio flowgraph vs. raw onnxruntime vs. torch eager.

    python bench/throughput.py                                  # the shipped models
    python bench/throughput.py --models /tmp/draft_cifar10_r6 --images 4 --repeats 1
    python bench/throughput.py --out                            # also bench/results/throughput.{md,csv,png}

For each model, the same images go encoder -> AWGN -> decoder three ways:

  flowgraph    flowgraphs.analog_point_to_point as built for the demo (image_source,
               jscc_encoder, pdu_to_tagged_stream, + noise_source_c,
               tagged_stream_to_pdu, jscc_decoder, image_sink) with its metrics_sink
               cut off, since SSIM scoring is not part of the link; timed from
               start() until image_sink has every image.
  onnxruntime  Bundle.encode + Bundle.decode per image, noise added in numpy.
  onnxruntime int8
               the same with the bundle's int8 files (precision "int8", written by
               semcom_train.quantize); skipped for a model without them.
  torch eager  the bundle's torch weights (semcom_train.models.load_bundle) under
               torch.no_grad, per image, noise from semcom_train.channels.AWGN.

All three run one image at a time on the CPU with the same number of threads
(per block in the flowgraph, whose encoder and decoder run concurrently). Each
path is warmed up first; a row is the best of --repeats timed passes over all
images. Fixed-size models get the images resized to their size; fully
convolutional ones run on 768x512 (W x H) images: Kodak, with its six portrait
photos rotated to landscape, else the sample photos resized.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import pathlib
import sys
import tempfile

import numpy as np
from PIL import Image

from gnuradio.semcom import bundle
from semcom_tools import complexity, flowgraphs

import common

SHIPPED = ["deepjscc_cifar10_r6", "deepjscc_bsds_r16"]
SNR_DB = 10.0
REAL_TIME_SYMBOL_RATE = 1e6
MIN_SYMBOLS = 250_000
COLUMNS = ("model", "image size", "path", "images/s", "Msymbols/s", "GMAC/s", "% of peak", "vs onnxruntime")


# -- images -------------------------------------------------------------------------
def default_count(n_symbols: int) -> int:
    """Images per pass when --images is not given: Kodak's 24, more for small images so that
    a pass carries MIN_SYMBOLS and the flowgraph's start-up does not dominate."""
    return max(24, math.ceil(MIN_SYMBOLS / n_symbols))


# -- timing -------------------------------------------------------------------------
def onnx_round_trip(encoder: bundle.Bundle, decoder: bundle.Bundle, image: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Bundle.encode, numpy AWGN, Bundle.decode: one image through the link without GNU Radio."""
    return decoder.decode(flowgraphs.awgn(encoder.encode(image), SNR_DB, rng), *image.shape[:2])


def time_flowgraph(model: bundle.Bundle, pictures, threads: int, repeats: int) -> float:
    """A fresh flowgraph per pass, its encoder and decoder sessions warmed before start().

    image_source reads files, so the images are written to a temporary folder as
    PNGs (lossless: the same pixels as the other paths; decoding them is image_source's cost)."""
    with tempfile.TemporaryDirectory(prefix="semcom_bench_") as folder:
        for i, picture in enumerate(pictures):
            Image.fromarray(picture).save(pathlib.Path(folder) / f"{i:04d}.png", compress_level=1)

        def prepare():
            graph = flowgraphs.analog_point_to_point(model.path, folder, snr_db=SNR_DB, provider=model.provider,
                                                   threads=threads, score=False)
            onnx_round_trip(graph.encoder.bundle, graph.decoder.bundle, pictures[0], np.random.default_rng(0))
            return lambda: graph.run_images(timeout=60.0 + 10.0 * len(pictures))

        return common.best_seconds(prepare, repeats)


def time_onnxruntime(model: bundle.Bundle, pictures, threads: int, repeats: int, precision: str = "fp32") -> float:
    onnx = bundle.Bundle(model.path, model.provider, threads, precision)
    rng = np.random.default_rng(1)
    onnx_round_trip(onnx, onnx, pictures[0], rng)

    def run():
        for picture in pictures:
            onnx_round_trip(onnx, onnx, picture, rng)

    return common.best_seconds(lambda: run, repeats)


def time_torch(model: bundle.Bundle, pictures, threads: int, repeats: int) -> float:
    import torch
    from semcom_train import channels, models

    torch.set_num_threads(threads)
    network = models.load_bundle(model.path)
    channel = channels.AWGN(SNR_DB, torch.Generator().manual_seed(1))

    def round_trip(picture):
        x = torch.from_numpy(picture.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        decoded = network(x, channel)["image_hat"][0].permute(1, 2, 0)
        return (decoded * 255.0).round().clamp(0, 255).to(torch.uint8).numpy()

    def run():
        for picture in pictures:
            round_trip(picture)

    with torch.no_grad():
        round_trip(pictures[0])
        return common.best_seconds(lambda: run, repeats)


def time_onnxruntime_int8(model: bundle.Bundle, pictures, threads: int, repeats: int) -> float:
    return time_onnxruntime(model, pictures, threads, repeats, "int8")


PATHS = {"flowgraph": time_flowgraph, "onnxruntime": time_onnxruntime, "onnxruntime int8": time_onnxruntime_int8,
         "torch eager": time_torch}


def torch_missing(model: bundle.Bundle) -> str:
    """Why the torch path cannot run for ``model`` ("" when it can)."""
    try:
        import semcom_train.models  # noqa: F401  (torch and the training package)
    except ImportError as error:
        return f"torch path skipped: {error} (pip install -e .[train])"
    if "torch" not in model.card["files"]:
        return f"torch path skipped for {model.model_id}: its card names no torch weights"
    return ""


# -- one model ------------------------------------------------------------------------
def measure(model_name: str, n_images: int | None, threads: int, repeats: int,
            peaks: dict[str, float], provider: str = "cpu") -> tuple[list[dict], list[str]]:
    """Rows of the table for one model, and notes to print; ``peaks``: the GEMM GMAC/s per
    precision ("fp32", "int8") that the rows' GMAC/s are a percentage of."""
    model = bundle.Bundle(model_name, provider)
    height, width = model.image_size or common.FULL_SIZE
    n_symbols = model.n_symbols(height, width)
    pictures, origin = common.bench_images((height, width), n_images or default_count(n_symbols))
    macs = sum(complexity.bundle_macs(model, height, width).values())
    notes = [f"{model.model_id}: {origin}; {n_symbols} symbols/image; {macs / 1e9:.3g} GMAC/image "
             f"(encoder + decoder, semcom_tools.complexity)"]
    skipped = torch_missing(model)
    rows = []
    for path, timer in PATHS.items():
        if path == "torch eager" and skipped:
            notes.append(skipped)
            continue
        if path == "onnxruntime int8" and not bundle.has_int8(model.path):
            notes.append(f"int8 path skipped for {model.model_id}: its card lists no int8 files "
                         f"({(model.card.get('int8') or {}).get('note') or 'python -m semcom_train.quantize makes them'})")
            continue
        print(f"  {model.model_id}: {path} ...", file=sys.stderr, flush=True)
        seconds = timer(model, pictures, threads, repeats)
        rate = len(pictures) / seconds
        rows.append({"model": model.model_id, "image size": f"{width}x{height}", "path": path,
                     "images/s": rate, "Msymbols/s": rate * n_symbols / 1e6, "GMAC/s": rate * macs / 1e9,
                     "% of peak": 100 * rate * macs / 1e9 / peaks["int8" if "int8" in path else "fp32"],
                     "images": len(pictures), "symbols/image": n_symbols, "GMAC/image": macs / 1e9,
                     "seconds": seconds})
    baseline = next(r["images/s"] for r in rows if r["path"] == "onnxruntime")
    for row in rows:
        row["vs onnxruntime"] = row["images/s"] / baseline
    return rows, notes


# -- output ---------------------------------------------------------------------------
def _number(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _cell(column: str, value) -> str:
    if column == "vs onnxruntime":
        return f"{value:.2f}x"
    if column == "% of peak":
        return f"{value:.0f} %"
    return _number(value) if isinstance(value, float) else str(value)


def markdown(rows: list[dict]) -> str:
    return common.table(COLUMNS, rows, _cell)


def write_results(folder: pathlib.Path, report: str, rows: list[dict]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "throughput.md").write_text(report + "\n")
    with open(folder / "throughput.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 4))
    bar = 0.8 / len(PATHS)
    for i, path in enumerate(PATHS):
        found = [(j, r) for j, m in enumerate(models) for r in rows if (r["model"], r["path"]) == (m, path)]
        if found:
            ax.bar([j + (i - (len(PATHS) - 1) / 2) * bar for j, _ in found],
                   [r["Msymbols/s"] for _, r in found], bar, color=f"C{i}", label=path)
    ax.axhline(REAL_TIME_SYMBOL_RATE / 1e6, color="k", linestyle="--", linewidth=1,
               label=f"{REAL_TIME_SYMBOL_RATE / 1e6:g} M symbols/s")
    ax.set_xticks(range(len(models)), [f"{m}\n{next(r['image size'] for r in rows if r['model'] == m)}"
                                       for m in models])
    ax.set_ylabel("M complex symbols/s")
    ax.set_title("encoder -> AWGN -> decoder, one image at a time", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "throughput.png", dpi=120)
    plt.close(fig)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=SHIPPED,
                        help="shipped model names or bundle folders (default: %(default)s)")
    parser.add_argument("--images", type=int, help=f"images per pass (default: 24, or more to reach "
                                                    f"{MIN_SYMBOLS} symbols per pass)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per path; the best counts "
                                                               "(default: %(default)s)")
    parser.add_argument("--provider", choices=list(bundle.PROVIDERS), default="cpu",
                        help="onnxruntime execution provider of the flowgraph and onnxruntime paths (default: "
                             "%(default)s, where torch runs too)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime and torch threads (default: %(default)s)")
    common.add_out_option(parser, "throughput.md, .csv and .png")
    args = parser.parse_args(argv)
    if (args.images is not None and args.images < 1) or args.repeats < 1 or args.threads < 1:
        parser.error("--images, --repeats and --threads must be >= 1")
    try:
        for name in args.models:
            bundle.resolve(name)
    except bundle.ModelError as error:
        parser.error(str(error))

    peaks = {precision: common.gemm_peak_gmacs(args.threads, precision=precision) for precision in ("fp32", "int8")}
    rows, notes = [], []
    for name in args.models:
        model_rows, model_notes = measure(name, args.images, args.threads, args.repeats, peaks, args.provider)
        rows += model_rows
        notes += model_notes
    header = (f"Throughput, encoder -> AWGN ({SNR_DB:g} dB) -> decoder, one image at a time, CPU, "
              f"{args.threads} threads per path (per block in the flowgraph), onnxruntime providers "
              f"{', '.join(bundle.choose_providers(args.provider))}, best of {args.repeats} timed pass(es) "
              f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end). Peak: a 1024^3 GEMM in "
              f"onnxruntime on the same threads, timed in this run: {peaks['fp32']:.1f} GMAC/s fp32 (MatMul), "
              f"{peaks['int8']:.1f} int8 (MatMulInteger); the int8 row's % is of the int8 peak.")
    needed = {row["model"]: REAL_TIME_SYMBOL_RATE / row["symbols/image"] for row in rows}
    real_time = (f"Real time at {REAL_TIME_SYMBOL_RATE / 1e6:g} M symbols/s needs "
                 + ", ".join(f"{_number(rate)} images/s for {model} "
                             f"({_number(rate * next(r['GMAC/image'] for r in rows if r['model'] == model))} GMAC/s)"
                             for model, rate in needed.items()) + ".")
    report = "\n\n".join([header, markdown(rows), real_time, "\n".join(f"- {note}" for note in notes)])
    print(report)
    if args.out:
        write_results(args.out, report, rows)
        print(f"\nwrote {args.out}/throughput.md, .csv, .png")
    return rows


if __name__ == "__main__":
    main()
