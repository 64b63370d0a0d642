#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Soak: a link that runs for hours must hold its memory flat. Images loop through
encoder -> channel -> decoder -> metrics sink, paced by the source's window of
acknowledgements, and the process's resident memory is sampled as they pass.

    python bench/soak.py                              # 100,000 CIFAR-size images over Channel Model
    python bench/soak.py --link burst --images 20000  # over the air blocks: burst_tx -> channel_model -> burst_rx
    python bench/soak.py --images 2000 --out          # also bench/results/soak.md

Links: "stream" is symbols_to_stream -> channels.channel_model (AWGN, --snr) ->
stream_to_symbols; "burst" is burst_tx (4 samples per symbol) -> channels.channel_model ->
burst_rx. The table gives images scored, seconds, images/s and RSS at each sample; the
slope is the least-squares RSS growth per 10,000 images over the second half of the run
(the first half warms caches and allocators up).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from gnuradio import channels, gr

from gnuradio.semcom import (burst_rx, burst_tx, image_source, jscc_decoder, jscc_encoder, metrics_sink,
                             stream_to_symbols, symbols_to_stream)

import common


COLUMNS = ("images", "seconds", "images/s", "RSS (MiB)")
SAMPLE_PAGE = 4096


def rss_mib() -> float:
    """This process's resident memory now (not its peak), MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * SAMPLE_PAGE / 2 ** 20


class soak_link(gr.top_block):
    """Looping sample photos through the model and ``link``, scored; the sink acknowledges
    each row to the source, which keeps at most ``window`` images in flight."""

    def __init__(self, model: str, link: str, snr_db: float, window: int = 32):
        gr.top_block.__init__(self, "semcom soak")
        self.source = image_source("samples", model=model, policy="resize", loop=True, window=window)
        self.encoder, self.decoder = jscc_encoder(model, threads=1), jscc_decoder(model, threads=1)
        self.metrics = metrics_sink(snr_db, keep_rows=100, done_port=True)
        noise = 10 ** (-snr_db / 20)
        # Python blocks must outlive the constructor: each is kept on self
        if link == "stream":
            self.sender, self.receiver = symbols_to_stream(), stream_to_symbols()
            self.channel = channels.channel_model(noise, 0.0, 1.0, [1.0], 1)
        else:  # the burst waveform has 1/4 of its power per sample at 4 samples per symbol
            self.sender, self.receiver = burst_tx(), burst_rx(model=model)
            self.channel = channels.channel_model(noise / 2, 0.0, 1.0, [1.0], 1)
        self.connect(self.sender, self.channel, self.receiver)
        self.msg_connect((self.source, "image"), (self.encoder, "image"))
        self.msg_connect((self.encoder, "symbols"), (self.sender, "symbols"))
        self.msg_connect((self.receiver, "symbols"), (self.decoder, "symbols"))
        self.msg_connect((self.decoder, "image"), (self.metrics, "decoded"))
        self.msg_connect((self.source, "image"), (self.metrics, "reference"))
        self.msg_connect((self.metrics, "done"), (self.source, "done"))


def soak(model: str, link: str, images: int, samples: int, snr_db: float) -> list[dict]:
    """Run until ``images`` are scored, sampling RSS ``samples`` times; the rows."""
    top = soak_link(model, link, snr_db)
    rows, started = [], time.monotonic()
    top.start()
    try:
        for target in np.linspace(images / samples, images, samples).round().astype(int):
            while top.metrics.count < target:
                time.sleep(0.05)
            seconds = time.monotonic() - started
            rows.append({"images": top.metrics.count, "seconds": seconds, "images/s": top.metrics.count / seconds,
                         "RSS (MiB)": rss_mib()})
    finally:
        top.stop()
        top.wait()
    return rows


def slope_per_10k(rows: list[dict]) -> float:
    """RSS growth, MiB per 10,000 images, fitted over the second half of the rows."""
    half = rows[len(rows) // 2:]
    if len(half) < 2:
        return float("nan")
    return float(np.polyfit([r["images"] for r in half], [r["RSS (MiB)"] for r in half], 1)[0] * 10_000)


def _cell(column: str, value) -> str:
    return f"{value:.0f}" if column in ("images", "seconds") else f"{value:.1f}"


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="deepjscc_cifar10_r6", help="a fixed-size DeepJSCC model (default: %(default)s)")
    parser.add_argument("--link", choices=("stream", "burst"), default="stream")
    parser.add_argument("--images", type=int, default=100_000, help="images to score (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=20, help="RSS samples over the run (default: %(default)s)")
    parser.add_argument("--snr", type=float, default=10.0, help="channel SNR in dB (default: %(default)s)")
    common.add_out_option(parser, "soak.md")
    args = parser.parse_args(argv)
    if args.images < 1 or args.samples < 2:
        parser.error("--images must be >= 1 and --samples >= 2")
    rows = soak(args.model, args.link, args.images, args.samples, args.snr)
    header = (f"Soak: {args.images} images of {args.model} over the {args.link} link at {args.snr:g} dB, "
              f"sample photos looped, window 32; RSS growth over the second half: "
              f"{slope_per_10k(rows):+.2f} MiB per 10,000 images.")
    common.publish([header, common.table(COLUMNS, rows, _cell)], args.out, f"soak_{args.link}.md")
    return rows


if __name__ == "__main__":
    main()
