#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""What the over-the-air blocks cost: burst_tx's framing and burst_rx's receiver per burst,
and how many samples per second burst_rx searches when the air is empty.

    python bench/bursts.py                  # CIFAR-10 and Kodak bursts, 10 dB
    python bench/bursts.py --out            # also bench/results/bursts.md
    python bench/bursts.py --repeats 1 --noise-samples 200000

Per burst, best of --repeats, one thread (numpy), CPU, at ``sps`` 4 and 10 dB Es/N0 through
numpy AWGN: frame (``framing.frame``: header LDPC encoding, pilots; burst_tx then pulse-shapes
in GNU Radio's FIR filter), receive (detection, header LDPC decoding, timing drift, pilot
tracking: ``burst_receiver``'s work on a stream holding the burst). Then the stream rate of
``burst_rx`` (matched filter and search) in a flowgraph fed with noise alone, against a
radio's 1 Msample/s.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from gnuradio import analog, blocks, gr

from gnuradio.semcom import framing
from gnuradio.semcom.burst_rx import burst_receiver, burst_rx

import common


SPS, SPACING, SNR_DB = 4, 32, 10.0
PAYLOADS = {"CIFAR-10 32x32, ratio 1/6": 512, "Kodak 768x512, ratio 1/16": 73728}
COLUMNS = ("burst", "payload symbols", "stage", "ms", "share")


def burst_samples(n_symbols: int, rng: np.random.Generator):
    """(frame symbols, received matched-filtered samples) of one burst of Gaussian payload."""
    payload = ((rng.standard_normal(n_symbols) + 1j * rng.standard_normal(n_symbols)) / np.sqrt(2)).astype(np.complex64)
    header = framing.Header(0, n_symbols, 0, 32, 32, framing.model_hash("bench"), "00000_bench")
    symbols = framing.frame(payload, header, SPACING)
    taps = framing.rrc_taps(SPS)
    upsampled = np.zeros(symbols.size * SPS, np.complex64)
    upsampled[::SPS] = symbols
    sent = np.concatenate([np.zeros(300, np.complex64), np.convolve(upsampled, taps), np.zeros(3000, np.complex64)])
    noise = (rng.standard_normal(sent.size) + 1j * rng.standard_normal(sent.size)) * np.sqrt(10 ** (-SNR_DB / 10) / 2)
    return payload, header, np.convolve(sent + noise.astype(np.complex64), taps).astype(np.complex64)


def receive(samples: np.ndarray) -> int:
    """Run burst_receiver's stages on a stream holding one burst; returns the bursts it took."""
    receiver = burst_receiver(SPS, SPACING)
    receiver.message_port_pub = lambda port, msg: None  # outside a flowgraph: nothing to publish to
    receiver.work([samples], [])
    return receiver.bursts


def burst_rows(repeats: int) -> list[dict]:
    rows = []
    for name, n_symbols in PAYLOADS.items():
        payload, header, received = burst_samples(n_symbols, np.random.default_rng(0))
        if receive(received) != 1:
            raise RuntimeError(f"{name}: the benchmark's burst was not received")
        stages = {"frame": lambda: lambda: framing.frame(payload, header, SPACING),
                  "receive": lambda: lambda: receive(received)}
        times = {stage: 1e3 * common.best_seconds(prepare, repeats) for stage, prepare in stages.items()}
        total = sum(times.values())
        rows += [{"burst": name, "payload symbols": n_symbols, "stage": stage, "ms": ms, "share": ms / total}
                 for stage, ms in times.items()]
    return rows


def search_rate(n_samples: int) -> float:
    """Samples per second burst_rx takes in a flowgraph of noise alone."""
    top = gr.top_block()
    source = analog.noise_source_c(analog.GR_GAUSSIAN, 1.0, 3)
    head = blocks.head(gr.sizeof_gr_complex, n_samples)
    receiver = burst_rx(SPS)
    top.connect(source, head, receiver)
    started = time.perf_counter()
    top.run()
    return n_samples / (time.perf_counter() - started)


def markdown(rows: list[dict]) -> str:
    def cell(column, value):
        if column == "share":
            return f"{100 * value:.0f} %"
        return f"{value:.3g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
    return common.table(COLUMNS, rows, cell)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best counts (default: %(default)s)")
    parser.add_argument("--noise-samples", type=int, default=4_000_000,
                        help="samples of noise for the search rate (default: %(default)s)")
    common.add_out_option(parser, "bursts.md")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.noise_samples < 100_000:
        parser.error("--repeats must be >= 1 and --noise-samples >= 100000")
    rows = burst_rows(args.repeats)
    rate = search_rate(args.noise_samples)
    header = (f"Bursts at {SPS} samples per symbol, {SNR_DB:g} dB, one burst at a time, best of {args.repeats} "
              f"run(s), numpy on one thread ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end).")
    common.publish([header, markdown(rows),
             f"burst_rx on noise alone (matched filter and preamble search): {rate / 1e6:.2f} Msamples/s "
             f"({rate / 1e6:.2f}x a radio at 1 Msample/s), {args.noise_samples:,} samples."], args.out, "bursts.md")
    return {"rows": rows, "search_rate": rate}


if __name__ == "__main__":
    main()
