#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Where the time goes in the digital links: BitSemCom and the separation baseline, stage by stage.

    python bench/digital_link.py                      # shipped BitSemCom models, QPSK/16QAM/64QAM
    python bench/digital_link.py --models bitsemcom_cifar10 --constellations qpsk --images 2 --repeats 1
    python bench/digital_link.py --out                # also bench/results/digital_link.{md,png}

Per image, best of --repeats passes over the images, one thread (onnxruntime
intra-op threads 1; the numpy stages are single-threaded), CPU:

  BitSemCom   encode (bitsemcom_encoder's ONNX encoder), bits (bit_mapper's
              Bernoulli sampling), map (qam_mapper), demap exact and demap
              max-log (soft_demapper), decode (sigmoid + ONNX decoder); then the
              whole ``flowgraphs.digital_point_to_point`` (exact demapping,
              metrics_sink cut off) in images/s, its blocks running concurrently.
  separation  for the first model's image size and ratio (the JSCC model's channel
              uses): codec search (WebP, binary search over quality), LDPC encode
              (gr-fec), map, demap exact, LDPC decode (numpy belief propagation,
              at most 50 iterations) at --snr, codec decode.

The SNR is --snr over AWGN (the demappers' work does not depend on it; LDPC
decoding does: it stops early once every frame checks).
"""
from __future__ import annotations

import argparse
import math
import os
import pathlib
import sys
import tempfile

import numpy as np
from PIL import Image

from gnuradio.semcom import bundle, codecs, demapping, ldpc, modulations
from semcom_tools import flowgraphs
from gnuradio.semcom.bit_mapper import make_bits

import common


SHIPPED = ["bitsemcom_cifar10", "bitsemcom_bsds"]
CONSTELLATIONS = ["qpsk", "16qam_gray", "64qam_gray"]
CODEC, CODE = "webp", "n1800_r12"
COLUMNS = ("link", "image size", "constellation", "stage", "ms/image", "share")


def bitsemcom_rows(model: bundle.BitSemComBundle, pictures, constellation: str, snr_db: float,
                   repeats: int) -> list[dict]:
    """Stage rows and the flowgraph row of one model with one constellation."""
    table = demapping.Constellation.from_gnuradio(modulations.make(constellation))
    rng = np.random.default_rng(0)
    n0 = flowgraphs.noise_variance(snr_db)
    probs = [model.encode_probs(p) for p in pictures]
    bits = [make_bits(p, rng) for p in probs]
    symbols = [demapping.map_bits(b, table) for b in bits]
    received = [flowgraphs.awgn(s, snr_db, rng) for s in symbols]
    llrs = [demapping.llrs(r, table, n0)[:b.size] for r, b in zip(received, bits)]
    height, width = pictures[0].shape[:2]
    stages = {
        "encode": common.per_image(model.encode_probs, pictures, repeats),
        "bits": common.per_image(lambda p: make_bits(p, rng), probs, repeats),
        "map": common.per_image(lambda b: demapping.map_bits(b, table), bits, repeats),
        "demap exact": common.per_image(lambda r: demapping.llrs(r, table, n0), received, repeats),
        "demap max-log": common.per_image(lambda r: demapping.llrs(r, table, n0, method="maxlog"), received, repeats),
        "decode": common.per_image(lambda llr: model.decode_soft(demapping.posteriors(llr), height, width), llrs,
                            repeats),
    }
    link_total = sum(v for k, v in stages.items() if k != "demap max-log")  # the link demaps one way
    base = {"link": model.model_id, "image size": f"{width}x{height}", "constellation": constellation}
    rows = [{**base, "stage": stage, "ms/image": ms, "share": ms / link_total} for stage, ms in stages.items()]
    rows.append({**base, "stage": "sum (exact)", "ms/image": link_total, "share": 1.0})
    rate = time_flowgraph(model, pictures, constellation, snr_db, repeats)
    rows.append({**base, "stage": f"flowgraph: {rate:.3g} images/s, "
                                  f"{rate * symbols[0].size / 1e6:.3g} Msymbols/s", "ms/image": 1e3 / rate,
                 "share": float("nan")})
    return rows


def time_flowgraph(model: bundle.BitSemComBundle, pictures, constellation: str, snr_db: float,
                   repeats: int) -> float:
    """Images/s of a fresh digital_point_to_point per pass (PNG files in, nothing scored)."""
    with tempfile.TemporaryDirectory(prefix="semcom_bench_") as folder:
        for i, picture in enumerate(pictures):
            Image.fromarray(picture).save(pathlib.Path(folder) / f"{i:04d}.png", compress_level=1)

        def prepare():
            graph = flowgraphs.digital_point_to_point(model.path, folder, constellation, snr_db=snr_db,
                                                      provider="cpu", threads=1, score=False)
            graph.encoder.bundle.encode_probs(pictures[0])  # sessions warm before timing
            graph.decoder.bundle.session("decoder")
            return lambda: graph.run_images(timeout=60.0 + 10.0 * len(pictures))

        return len(pictures) / common.best_seconds(prepare, repeats)


def separation_rows(model: bundle.BitSemComBundle, pictures, constellation: str, snr_db: float,
                    repeats: int) -> list[dict]:
    """Stage rows of the separation link at the channel uses ``model`` takes with QPSK, over
    the images whose codec stream fits (none when no codeword or no stream fits)."""
    table = demapping.Constellation.from_gnuradio(modulations.make(constellation))
    code, codec = ldpc.load(CODE), codecs.get(CODEC)
    height, width = pictures[0].shape[:2]
    uses = model.channel_uses(2, height, width)  # the JSCC link's QPSK channel uses
    budget = codecs.budget_bits(uses, table.bits_per_symbol, code)
    if budget <= 0:
        return []
    rng = np.random.default_rng(0)
    n0 = flowgraphs.noise_variance(snr_db)
    def stream(picture) -> bytes | None:
        try:
            return codec.encode(picture, budget)
        except codecs.DoesNotFit:  # the codec's smallest stream exceeds the budget (a 32x32 image, a busy photo)
            return None

    fitting = [(p, data) for p in pictures if (data := stream(p)) is not None]
    if not fitting:
        return []
    pictures, streams = [p for p, _ in fitting], [data for _, data in fitting]
    info = [codecs.to_bits(s, budget).reshape(-1, code.k) for s in streams]
    words = [code.encode(i).reshape(-1) for i in info]
    received = [flowgraphs.awgn(demapping.map_bits(w, table), snr_db, rng) for w in words]
    llrs = [demapping.llrs(r, table, n0)[:w.size] for r, w in zip(received, words)]
    stages = {
        f"{CODEC} search": common.per_image(lambda p: codec.encode(p, budget), pictures, repeats),
        "LDPC encode": common.per_image(code.encode, info, repeats),
        "map": common.per_image(lambda w: demapping.map_bits(w, table), words, repeats),
        "demap exact": common.per_image(lambda r: demapping.llrs(r, table, n0), received, repeats),
        "LDPC decode": common.per_image(code.decode, llrs, repeats),
        f"{CODEC} decode": common.per_image(lambda s: codec.decode(s, pictures[0].shape), streams, repeats),
    }
    total = sum(stages.values())
    base = {"link": f"{CODEC}+{CODE}", "image size": f"{width}x{height}", "constellation": constellation}
    rows = [{**base, "stage": stage, "ms/image": ms, "share": ms / total} for stage, ms in stages.items()]
    return rows + [{**base, "stage": "sum", "ms/image": total, "share": 1.0}]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|---|---|---:|---:|"]
    for row in rows:
        share = "" if math.isnan(row["share"]) else f"{100 * row['share']:.0f}%"
        lines.append(f"| {row['link']} | {row['image size']} | {row['constellation']} | {row['stage']} "
                     f"| {row['ms/image']:.3g} | {share} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    links = list(dict.fromkeys((r["link"], r["image size"], r["constellation"]) for r in rows))
    stages = list(dict.fromkeys(r["stage"] for r in rows if not math.isnan(r["share"])
                                and not r["stage"].startswith("sum") and r["stage"] != "demap max-log"))
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * len(links)))
    left = np.zeros(len(links))
    for i, stage in enumerate(stages):
        widths = np.array([next((r["ms/image"] for r in rows if (r["link"], r["image size"], r["constellation"])
                                 == link and r["stage"] == stage), 0.0) for link in links])
        ax.barh(range(len(links)), widths, left=left, color=f"C{i % 10}", label=stage)
        left += widths
    ax.set_yticks(range(len(links)), [" ".join(link) for link in links], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("ms per image (stacked stages, log scale)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=SHIPPED, help="BitSemCom bundles (default: %(default)s)")
    parser.add_argument("--constellations", nargs="+", default=CONSTELLATIONS, choices=list(modulations.MODULATIONS))
    parser.add_argument("--images", type=int, default=8, help="images per pass (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts (default: %(default)s)")
    parser.add_argument("--snr", type=float, default=6.0, help="AWGN SNR in dB (default: %(default)s)")
    common.add_out_option(parser, "digital_link.md and .png")
    args = parser.parse_args(argv)
    if args.images < 1 or args.repeats < 1:
        parser.error("--images and --repeats must be >= 1")
    try:
        models = [bundle.BitSemComBundle(name, provider="cpu", threads=1) for name in args.models]
    except bundle.ModelError as error:
        parser.error(str(error))
    rows, notes = [], []
    for model in models:
        pictures, origin = common.bench_images(model.image_size or common.FULL_SIZE, args.images)
        notes.append(f"{model.model_id}: {origin}")
        for constellation in args.constellations:
            print(f"  {model.model_id} {constellation} ...", file=sys.stderr, flush=True)
            rows += bitsemcom_rows(model, pictures, constellation, args.snr, args.repeats)
            rows += separation_rows(model, pictures, constellation, args.snr, args.repeats)
    header = (f"Digital links stage by stage, AWGN {args.snr:g} dB, one image at a time, one thread per stage, "
              f"best of {args.repeats} pass(es) over {args.images} images ({os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f} at the end). Shares are of the stage sum; the flowgraph runs its "
              f"blocks concurrently.")
    report = "\n\n".join([header, markdown(rows), "\n".join(f"- {note}" for note in notes)])
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "digital_link.md").write_text(report + "\n")
        plot(rows, args.out / "digital_link.png")
        print(f"\nwrote {args.out}/digital_link.md, .png")
    return rows


if __name__ == "__main__":
    main()
