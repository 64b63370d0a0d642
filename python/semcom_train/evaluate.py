#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Torch-side evaluation of a model bundle: PSNR/SSIM vs SNR without GNU Radio.

    python -m semcom_train.evaluate --model models/deepjscc_bsds_r16 --images kodak --snr 1 4 7 10 13
    python -m semcom_train.evaluate --model models/deepjscc_cifar10_r6 --images cifar10-test --snr 0 10 20

Runs the bundle's torch weights with ``semcom_train.channels.AWGN`` on the
same uint8 images, fitted and padded as the GNU Radio blocks do, and scores
them with ``gnuradio.semcom.metrics``. ``--update-card KEY`` stores the mean
PSNR/SSIM per SNR in the bundle's card.json under ``measured.KEY``, link ``LINK``
(``gnuradio.semcom.card.record_results``, the harness's shape).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from gnuradio.semcom import bundle, card, images, metrics
from semcom_tools import datasets

from . import channels, data, models

LINK = "analog/awgn"  # the GNU Radio harness's name of a DeepJSCC link over AWGN


def load_images(spec: str, runtime: bundle.Bundle, limit: int | None) -> list[np.ndarray]:
    """uint8 images for ``spec``: "cifar10-test", or anything ``datasets.resolve_paths`` takes,
    fitted to the model the way ``flowgraphs.analog_point_to_point`` does."""
    if spec == "cifar10-test":
        array, _, _ = data.load_cifar10("test")
        return list(array[:limit])
    policy = "resize" if runtime.image_size else "full"
    paths = datasets.resolve_paths(spec)[:limit]
    return [runtime.fit(images.load_image(p)[0], policy) for p in paths]


@torch.no_grad()
def evaluate(model: torch.nn.Module, runtime: bundle.Bundle, pictures: list[np.ndarray],
             snr_db: float, seed: int = 0, with_ssim: bool = True) -> dict:
    """Mean {"psnr_db", "ssim", "n"} of ``pictures`` sent at ``snr_db`` over AWGN."""
    channel = channels.AWGN(snr_db, torch.Generator().manual_seed(seed))
    psnrs, ssims = [], []
    for picture in pictures:
        height, width = picture.shape[:2]
        padded = runtime.pad(picture)
        out = model(data.to_tensor(padded[None]), channel)["image_hat"]
        decoded = np.round(out[0].permute(1, 2, 0).numpy()[:height, :width] * 255).clip(0, 255).astype(np.uint8)
        psnrs.append(metrics.psnr_db(picture, decoded))
        if with_ssim:
            ssims.append(metrics.ssim(picture, decoded))
    return {"psnr_db": float(np.mean(psnrs)), "ssim": float(np.mean(ssims)) if ssims else float("nan"),
            "n": len(pictures)}


def main(argv=None) -> dict:
    """Returns {snr_db: {"psnr_db", "ssim", "n"}}."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="bundle folder or shipped model name")
    parser.add_argument("--images", default="kodak", help='"cifar10-test", "kodak", "samples", folder or glob')
    parser.add_argument("--snr", nargs="+", type=float, default=[0.0, 5.0, 10.0, 20.0])
    parser.add_argument("--limit", type=int, help="only the first N images")
    parser.add_argument("--no-ssim", action="store_true", help="skip SSIM (faster on large sets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--update-card", metavar="KEY", help="store results in card.json under measured.KEY")
    args = parser.parse_args(argv)
    runtime = bundle.Bundle(args.model)
    model = models.load_bundle(runtime.path)
    pictures = load_images(args.images, runtime, args.limit)
    results = {snr: evaluate(model, runtime, pictures, snr, args.seed, not args.no_ssim) for snr in args.snr}
    print("| SNR (dB) | PSNR (dB) | SSIM | images |\n|---:|---:|---:|---:|")
    for snr, r in results.items():
        print(f"| {snr:g} | {r['psnr_db']:.2f} | {r['ssim']:.4f} | {r['n']} |")
    if args.update_card:
        rows = [{"link": LINK, "snr_db": snr, "psnr_db": r["psnr_db"], "ssim": r["ssim"]} for snr, r in results.items()]
        card.record_results(runtime.path / "card.json", args.update_card, rows,
                            "python -m semcom_train.evaluate " + " ".join(argv if argv is not None else sys.argv[1:]),
                            [args.images], n_images=len(pictures))
    return results


if __name__ == "__main__":
    main()
