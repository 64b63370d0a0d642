#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""K-means codebooks of a DeepJSCC model's channel outputs, for quantize-and-forward relays.

    python -m semcom_train.qf_codebooks --model models/deepjscc_cifar10_r6 --snr -5 \\
        --rates 4:0.75 2:1 4:1.25 2:1.5 2:2

As in the multi-hop paper: run the (r = 0) model's encoder on validation images
(CIFAR-10 test images here), pass the symbols through AWGN at --snr, cut the
received reals into N_Q-dimensional vectors and fit 2^(N_Q b) centres with
K-means (scipy) for each rate (N_Q, b). The codebooks go into the bundle as
``qf_codebooks.npz`` (array ``nq<N_Q>_b<b>``, e.g. ``nq4_b0.75``), and the card
gets ``qf_codebooks`` {"file", "snr_db", "images", "rates": [[N_Q, b], ...]}.
``gnuradio.semcom.quantization.Codebook`` uses them.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np
from scipy.cluster import vq

from gnuradio.semcom import bundle, card, quantization
from gnuradio.semcom.quantization import Codebook
from semcom_tools import flowgraphs

from . import data

FILE = "qf_codebooks.npz"


def channel_outputs(model: bundle.DeepJSCCBundle, pictures: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Received complex symbols of every picture (N, H, W, 3) uint8 through AWGN at ``snr_db``, concatenated."""
    sent = np.concatenate([model.encode(p) for p in pictures])
    return flowgraphs.awgn(sent, snr_db, np.random.default_rng(seed))


def fit(received: np.ndarray, dimension: int, bits: float, seed: int) -> Codebook:
    """K-means (k-means++ initialisation, 20 iterations) of the received reals in ``dimension``-vectors."""
    vectors = np.ascontiguousarray(received, dtype=np.complex64).view(np.float32)
    vectors = vectors[:vectors.size // dimension * dimension].reshape(-1, dimension)
    centres, _ = vq.kmeans2(vectors.astype(np.float64), 2 ** round(dimension * bits), iter=20, minit="++",
                            seed=seed)
    return Codebook(centres)


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a fixed-size DeepJSCC bundle (folder or shipped name)")
    parser.add_argument("--snr", type=float, required=True, help="AWGN SNR (dB) of the collected channel outputs")
    parser.add_argument("--rates", nargs="+", type=quantization.rate, required=True, help="N_Q:b pairs, e.g. 4:0.75 2:2")
    parser.add_argument("--images", type=int, default=1000, help="CIFAR-10 test images to collect (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        model = bundle.DeepJSCCBundle(args.model)
    except bundle.ModelError as error:
        parser.error(str(error))
    if model.image_size != (32, 32):
        parser.error(f"model {model.model_id} is not a 32x32 CIFAR-10 model: its channel outputs are collected "
                     f"on CIFAR-10 test images")
    test, _, _ = data.load_cifar10("test")
    received = channel_outputs(model, test[:args.images], args.snr, args.seed)
    codebooks = {quantization.codebook_name(d, b): fit(received, d, b, args.seed).centres for d, b in args.rates}
    np.savez(model.path / FILE, **codebooks)
    card_path = model.path / "card.json"
    model_card = card.read(card_path)
    model_card["qf_codebooks"] = {"file": FILE, "snr_db": args.snr, "images": f"CIFAR-10 test, first {args.images}",
                                  "rates": [[d, b] for d, b in args.rates]}
    card.write(card_path, model_card)
    print(f"wrote {model.path / FILE}: {', '.join(codebooks)}")
    return model.path / FILE


if __name__ == "__main__":
    main()
