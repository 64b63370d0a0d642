#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""What a resampling receiver costs per received image: jscc_decoder's draws of a variational
model decoded in one batch (what the block does) against one decoder run per draw, and the
metrics_sink scoring of every draw.

    python bench/resampling.py                     # the shipped VSCC model, 1, 10 and 100 draws
    python bench/resampling.py --draws 1 100 --images 20 --repeats 1
    python bench/resampling.py --out               # also bench/results/resampling.md

Per received image, best of --repeats passes over --images CIFAR-size images received over
AWGN at --snr dB, one thread (onnxruntime intra-op threads 1), knowledge-base variance. The
VSCC paper draws 100 samples of every image; this says what that costs here.
"""
from __future__ import annotations

import argparse
import os

import numpy as np

from gnuradio.semcom import bundle, metrics
from semcom_tools import flowgraphs

import common


COLUMNS = ("draws", "batched decode ms/image", "one run per draw ms/image", "batch speed-up",
           "scoring ms/image (PSNR + SSIM of every draw)")


def measure(model: bundle.DeepJSCCBundle, draws: list[int], n_images: int, repeats: int,
            snr_db: float) -> tuple[list[dict], str]:
    pictures, origin = common.bench_images(model.image_size, n_images)
    height, width = model.image_size
    rng = np.random.default_rng(0)
    received = [flowgraphs.awgn(model.encode(p), snr_db, rng) for p in pictures]
    variance = model.knowledge_base_variance()
    rows = []
    for count in draws:
        batched = common.per_image(lambda r: model.decode_samples(r, height, width, variance, count, rng), received, repeats)
        single = common.per_image(lambda r: [model.decode_samples(r, height, width, variance, 1, rng) for _ in range(count)],
                           received, repeats)
        decoded = [(p, model.decode_samples(r, height, width, variance, count, rng)[0])
                   for p, r in zip(pictures, received)]
        scoring = common.per_image(lambda pair: [(metrics.psnr_db(pair[0], d), metrics.ssim(pair[0], d)) for d in pair[1]],
                            decoded, repeats)
        rows.append({"draws": count, COLUMNS[1]: batched, COLUMNS[2]: single, COLUMNS[3]: single / batched,
                     COLUMNS[4]: scoring})
    return rows, origin


def markdown(rows: list[dict]) -> str:
    def cell(column, value):
        if column == "batch speed-up":
            return f"{value:.1f}x"
        return f"{value:.3g}" if isinstance(value, float) else str(value)
    return common.table(COLUMNS, rows, cell)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="vscc_cifar10", help="a variational bundle (default: %(default)s)")
    parser.add_argument("--draws", nargs="+", type=int, default=[1, 10, 100], help="draws per image (1 10 100)")
    parser.add_argument("--images", type=int, default=100, help="images per pass (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts (default: %(default)s)")
    parser.add_argument("--snr", type=float, default=5.0, help="AWGN SNR in dB (default: %(default)s)")
    common.add_out_option(parser, "resampling.md")
    args = parser.parse_args(argv)
    if args.images < 1 or args.repeats < 1 or min(args.draws) < 1:
        parser.error("--images, --repeats and --draws must be >= 1")
    try:
        model = bundle.DeepJSCCBundle(args.model, provider="cpu", threads=1)
        model.knowledge_base_variance()
    except bundle.ModelError as error:
        parser.error(str(error))
    if not model.image_size:
        parser.error(f"--model {model.model_id} must be a fixed-size model")
    rows, origin = measure(model, args.draws, args.images, args.repeats, args.snr)
    header = (f"Resampling receiver per image, {model.model_id}, {model.image_size[0]}x{model.image_size[1]} images, "
              f"AWGN {args.snr:g} dB, knowledge-base variance, one thread, best of {args.repeats} pass(es) over "
              f"{args.images} images ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end).")
    common.publish([header, markdown(rows), f"- {origin}"], args.out, "resampling.md")
    return rows


if __name__ == "__main__":
    main()
