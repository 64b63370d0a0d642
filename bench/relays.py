#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""What a relay costs per image: decode-and-forward (its hop's decoder, then the next hop's
encoder) against quantize-and-forward (nearest codebook centre of every vector) at each rate.

    python bench/relays.py                                     # shipped models
    python bench/relays.py --df-model out/models/deepjscc_cifar10_r6_df1_m5_mse --images 2 --repeats 1
    python bench/relays.py --out                               # also bench/results/relays.md

Per image, best of --repeats passes over --images CIFAR-size (32x32) images, one thread
(onnxruntime intra-op threads 1; numpy single-threaded), CPU: the work of relay_df's and
relay_qf's message handlers on received symbols (AWGN at --snr dB), without the
flowgraph around them. The paper's case for QF relays is that quantising is cheaper than
decoding; this measures by how much here.
"""
from __future__ import annotations

import argparse
import os

import numpy as np

from gnuradio.semcom import bundle, quantization
from semcom_tools import flowgraphs

import common


COLUMNS = ("relay", "rate", "bits per pixel", "ms/image", "vs DF")


def measure(df_model: bundle.DeepJSCCBundle, qf_model: bundle.DeepJSCCBundle, n_images: int, repeats: int,
            snr_db: float) -> tuple[list[dict], str]:
    pictures, origin = common.bench_images(df_model.image_size, n_images)
    rng = np.random.default_rng(0)
    height, width = df_model.image_size
    received = [flowgraphs.awgn(df_model.encode(p), snr_db, rng) for p in pictures]
    df_ms = common.per_image(lambda r: df_model.encode(df_model.decode(r, height, width, hop=0), hop=1), received, repeats)
    rows = [{"relay": f"DF ({df_model.model_id}, relay 1)", "rate": "-", "bits per pixel": "-", "ms/image": df_ms}]
    qf_received = [flowgraphs.awgn(qf_model.encode(p), snr_db, rng) for p in pictures]
    for dimension, bits in qf_model.card["qf_codebooks"]["rates"]:
        codebook = quantization.load_codebook(qf_model, dimension, bits)
        ms = common.per_image(codebook.quantize, qf_received, repeats)
        rows.append({"relay": f"QF ({qf_model.model_id})", "rate": f"N_Q={dimension}, b={bits:g}",
                     "bits per pixel": f"{codebook.n_bits(qf_received[0].size) / (height * width):g}",
                     "ms/image": ms})
    for row in rows:
        row["vs DF"] = row["ms/image"] / df_ms
    return rows, origin


def markdown(rows: list[dict]) -> str:
    def cell(column, value):
        if column == "vs DF":
            return f"{value:.3f}x"
        return f"{value:.3g}" if isinstance(value, float) else str(value)
    return common.table(COLUMNS, rows, cell)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--df-model", default="deepjscc_cifar10_r6_df2_m5_dhd",
                        help="a decode-and-forward bundle (default: %(default)s)")
    parser.add_argument("--qf-model", default="deepjscc_cifar10_r6",
                        help="a single-hop bundle with QF codebooks (default: %(default)s)")
    parser.add_argument("--images", type=int, default=200, help="images per pass (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts (default: %(default)s)")
    parser.add_argument("--snr", type=float, default=-5.0, help="AWGN SNR in dB (default: %(default)s)")
    common.add_out_option(parser, "relays.md")
    args = parser.parse_args(argv)
    if args.images < 1 or args.repeats < 1:
        parser.error("--images and --repeats must be >= 1")
    try:
        df_model = bundle.DeepJSCCBundle(args.df_model, provider="cpu", threads=1)
        qf_model = bundle.DeepJSCCBundle(args.qf_model, provider="cpu", threads=1)
    except bundle.ModelError as error:
        parser.error(str(error))
    if df_model.hops < 2 or not df_model.image_size:
        parser.error(f"--df-model {df_model.model_id} must be a fixed-size decode-and-forward model")
    if not qf_model.card.get("qf_codebooks"):
        parser.error(f"--qf-model {qf_model.model_id} has no QF codebooks")
    rows, origin = measure(df_model, qf_model, args.images, args.repeats, args.snr)
    header = (f"Relay work per image, {df_model.image_size[0]}x{df_model.image_size[1]} images, AWGN {args.snr:g} dB "
              f"before the relay, one thread, best of {args.repeats} pass(es) over {args.images} images "
              f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end).")
    common.publish([header, markdown(rows), f"- {origin}"], args.out, "relays.md")
    return rows


if __name__ == "__main__":
    main()
