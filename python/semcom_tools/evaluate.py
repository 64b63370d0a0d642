#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Evaluation harness: sweep models x image sets x links x SNRs through the GNU Radio flowgraphs.

    semcom-eval --models deepjscc_bsds_r16 --images kodak \\
        --snr 0 5 10 20 --out out/eval
    semcom-eval --models bitsemcom_cifar10 --images samples \\
        --modulation qpsk 16qam 64qam --channel awgn rayleigh --snr 0 5 10
    semcom-eval --models deepjscc_bsds_r16 jpeg+ldpc12 webp+ldpc12 \\
        webp@capacity --images kodak --snr 0 5 10 20

DeepJSCC models run over ``flowgraphs.analog_point_to_point`` once per
``--channel`` (analog symbols: ``--modulation`` does not apply; over
"rayleigh" the receiver equalises with the known coefficient, zero forcing,
before the decoder). BitSemCom models run over
``flowgraphs.digital_point_to_point`` once per ``--modulation`` (names of
``modulations.MODULATIONS``) and ``--channel`` ("awgn", or "rayleigh": block
fading, one coefficient per image, known to the receiver): one trained bundle,
any constellation.

Separation schemes (the digital baseline) are named ``<codec>+<code>``: a codec
of ``codecs.CODECS`` (jpeg, webp, avif) and an LDPC code, ``ldpc12``
(n1800_r12), ``ldpc34`` (n1200_r34), ``ldpc23`` (n4440_r23), ``ldpc14``
(n512_r14) or a name of ``ldpc.CODES``; e.g. ``jpeg+ldpc12 webp+ldpc34``. They
run over ``flowgraphs.separation_point_to_point`` once per modulation and
channel. ``<codec>@capacity`` is the ideal reference: the codec gets
floor(channel uses x log2(1 + SNR)) bits and no channel errors; it is
computed without a flowgraph, for AWGN only (modulation column "gaussian").
``<codec>@ib`` is the same at the C-JSCC paper's information-bottleneck rate,
floor(channel uses / 2 x log2(1 + SNR)) bits (``codecs.information_bottleneck_bits``):
the codec at the bits per pixel that the ``ib_bpp`` column gives the JSCC rows.
Both get the channel uses of the JSCC model they are compared with:
floor(ratio x 3 x H x W) per image, ``--ratio`` (e.g. 1/16), by default the
ratio of the first DeepJSCC model in ``--models`` (else 1/16), and its image
size when it has a fixed one (``--size H W`` sets it: images resized). A link
whose channel uses hold no codeword of the code is skipped with a note. An
image that does not decode (failed LDPC frames, a corrupt stream, or a codec
that does not fit its budget even at its lowest quality) is the fallback
image (mid-grey 128): its PSNR and SSIM count in the means, and
``decode_failed`` is 1.

Variational DeepJSCC models (VSCC, VAE) run once per ``--resampling`` mode, the
model column ``<model>@<mode>`` ("transmitted": the encoder sends the variance,
twice the channel uses; "knowledge_base": the card's fixed variance), each
received image decoded ``--samples`` times. ``--accuracy`` also scores the
classifier of models that have one (C-JSCC) on labelled images (``cifar10-test:N``).

Writes ``<out>/metrics.csv`` (one row per image, link and SNR: model, images,
image, modulation ("analog" for DeepJSCC, "gaussian" for capacity), channel,
snr_db, psnr_db, ssim, lpips (with ``--lpips``, else empty), hash_cosine and
hash_hamming (with ``--hash-model``, see metrics_sink), channel_uses
(complex symbols sent per image; for
separation the coded bits of whole codewords, at most the budget's channel
uses), height, width, decode_failed (0/1; empty for JSCC models, which always
deliver an image), payload_bits (the codec stream's bits; empty for JSCC), relays, bpp (quantize-and-forward),
samples, psnr_min, psnr_max, ssim_min, ssim_max (over the draws of one image; psnr_db and
ssim are their means), accuracy (the fraction of draws classified right; empty without
--accuracy), ib_bpp (K/2 log2(1 + SNR) / (H W) for K channel uses: the analog links'
information-bottleneck rate, and the budget of the @ib rows)),
``<out>/summary.md`` (mean PSNR, SSIM and LPIPS, fallbacks included, and the failure
rate per model, image set, modulation, channel and SNR),
``<out>/psnr_vs_snr.png``, ``<out>/ssim_vs_snr.png``, and with
``--save-images`` the decoded PNGs under ``<out>/images/``. Prints the
summary table. ``--update-card KEY`` also stores each model bundle's means in
its card.json (``update_cards``). ``--merge CSV ...`` runs nothing: it writes
the summary and plots of earlier runs' metrics.csv files together, keeping
the ``--channel`` and ``--modulation`` links when given.

``--precision int8`` runs the JSCC models' int8 files (``semcom_train.quantize``), ``auto``
int8 where the card's measured loss is within 0.2 dB (``bundle.Bundle``); fp32 by default.

Image sets: "kodak", "samples" (the photos shipped with the runtime), "default" (Kodak when
``../shared/datasets/kodak`` exists, else the samples), a folder or a glob.
"""
from __future__ import annotations

import argparse
import dataclasses
import fractions
import pathlib
import re
import sys

import numpy as np
from PIL import Image

from gnuradio.semcom import bundle, card, codecs, images, ldpc, metrics, modulations, quantization
from gnuradio.semcom import lpips as perceptual
from gnuradio.semcom.codec_decoder import FALLBACKS
from gnuradio.semcom.image_source import image_source

from . import datasets, flowgraphs, report
from .report import ANALOG, COLUMNS, GAUSSIAN, SAMPLE_COLUMNS

CHANNELS = flowgraphs.CHANNELS
CODE_ALIASES = {"ldpc12": "n1800_r12", "ldpc34": "n1200_r34", "ldpc23": "n4440_r23", "ldpc14": "n512_r14"}
DEFAULT_RATIO = 1 / 16
_SCHEME = re.compile(r"(?P<codec>[a-z0-9]+)(?:\+(?P<code>[a-z0-9_]+)|@(?P<ideal>capacity|ib))")
IDEAL_BITS = {"capacity": codecs.capacity_bits, "ib": codecs.information_bottleneck_bits}


@dataclasses.dataclass(frozen=True)
class Scheme:
    """A separation scheme: ``codec`` + LDPC ``code`` through the flowgraph, or
    ``codec`` error-free at an ``ideal`` rate, "capacity" or "ib" (``code`` None)."""
    name: str
    codec: str
    code: str | None
    ideal: str | None = None

    @property
    def capacity(self) -> bool:
        """Whether the scheme runs without a flowgraph, at an ideal rate."""
        return self.code is None


def parse_scheme(spec: str) -> Scheme | None:
    """The scheme ``spec`` names (``<codec>+<code>``, ``<codec>@capacity`` or ``<codec>@ib``), or
    None when it is no scheme spec (a bundle). ValueError for an unknown codec
    or code in a scheme spec."""
    match = _SCHEME.fullmatch(str(spec))
    if match is None or pathlib.Path(str(spec)).exists():
        return None
    codecs.get(match["codec"])  # ValueError naming the known codecs
    if match["ideal"]:
        return Scheme(spec, match["codec"], None, match["ideal"])
    code = CODE_ALIASES.get(match["code"], match["code"])
    if code not in ldpc.CODES:
        raise ValueError(f"{spec}: unknown LDPC code {match['code']!r}; known: "
                         f"{', '.join([*CODE_ALIASES, *ldpc.CODES])}")
    return Scheme(spec, match["codec"], code)


@dataclasses.dataclass(frozen=True)
class QFLink:
    """A quantize-and-forward relay after a single-hop DeepJSCC model: the rate (N_Q, b) of
    its codebook and the pipeline to the destination, "noiseless" or "digital" (LDPC
    ``code`` on the run's modulations, at ``snr_db`` or the first hop's SNR when None)."""
    dimension: int
    bits_per_real: float
    pipeline: str = "noiseless"
    code: str = ldpc.DEFAULT_CODE
    snr_db: float | None = None

    def name(self, model_id: str) -> str:
        """The model column of its rows, e.g. "deepjscc_cifar10_r6@qf4:0.75"."""
        return f"{model_id}@qf{self.dimension}:{self.bits_per_real:g}"


@dataclasses.dataclass(frozen=True)
class Budget:
    """Channel uses of the separation schemes: floor(ratio x 3 x H x W) per image,
    images fitted to ``size`` (resize) or at their own size (None)."""
    ratio: float
    size: tuple[int, int] | None
    origin: str


def reference_budget(models, ratio=None, size=None) -> Budget:
    """``ratio`` and ``size`` where given; otherwise those of the first DeepJSCC
    bundle in ``models`` (its symbols per real pixel value, and its image size
    when fixed), else 1/16 at each image's own size."""
    for model in models:
        if parse_scheme(model) is not None:
            continue
        model_bundle = bundle.Bundle(model)
        if isinstance(model_bundle, bundle.DeepJSCCBundle):
            card = model_bundle.card
            model_ratio = card["latent_channels"] / 2 / (3 * card["downsampling"] ** 2)
            return Budget(model_ratio if ratio is None else ratio,
                          model_bundle.image_size if size is None else size,
                          f"{'ratio given' if ratio is not None else 'ratio'} and "
                          f"{'size given' if size is not None else 'size'} of {model_bundle.model_id}")
    return Budget(DEFAULT_RATIO if ratio is None else ratio, size,
                  "ratio given" if ratio is not None else "default ratio")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "set"


def links(model, modulation_names, channels, qf: QFLink | None = None) -> list[tuple[str, str]]:
    """(modulation, channel) pairs ``model`` (a bundle or a Scheme) runs over:
    BitSemCom and separation every modulation over every channel; DeepJSCC
    analog symbols over every channel; capacity Gaussian signalling over AWGN alone;
    a quantize-and-forward relay (``qf``) over AWGN, its bits "noiseless" or over
    every modulation."""
    if qf is not None:
        return [(m, "awgn") for m in (modulation_names if qf.pipeline == "digital" else ["noiseless"])]
    if isinstance(model, bundle.BitSemComBundle) or (isinstance(model, Scheme) and not model.capacity):
        return [(m, c) for m in modulation_names for c in channels]
    if isinstance(model, Scheme):
        return [(GAUSSIAN, "awgn")] if "awgn" in channels else []
    return [(ANALOG, c) for c in channels]


@dataclasses.dataclass(frozen=True)
class Decoding:
    """How an analog link's receiver decodes: a variational model's ``resampling`` mode and
    ``samples`` draws per image (jscc_decoder), and whether its classifier is scored (``accuracy``)."""
    resampling: str = "auto"
    samples: int = 1
    accuracy: bool = False


def make_graph(model, spec: str, modulation: str, channel: str, snr_db: float, folder: str, seed: int,
               budget: Budget | None = None, lpips: bool = False, hash_model: str = "", qf: QFLink | None = None,
               decoding: Decoding = Decoding(), precision: str = "fp32"):
    """The flowgraph of one link: quantize_and_forward with ``qf``, analog_point_to_point
    for ANALOG (decode-and-forward for a multi-hop model; ``decoding`` its receiver),
    separation_point_to_point for a Scheme, else digital_point_to_point; ``precision`` the
    JSCC blocks' (analog and digital links)."""
    if qf is not None:
        return flowgraphs.quantize_and_forward(model, qf.dimension, qf.bits_per_real, spec, qf.pipeline,
                                               modulation, qf.code, snr_db, qf.snr_db, out_dir=folder, seed=seed,
                                               lpips=lpips, hash_model=hash_model)
    if isinstance(model, Scheme):
        budget = budget or Budget(DEFAULT_RATIO, None, "default")
        return flowgraphs.separation_point_to_point(model.codec, model.code, spec, modulation, channel, snr_db,
                                                    budget.ratio, budget.size, out_dir=folder, seed=seed,
                                                    lpips=lpips, hash_model=hash_model)
    if modulation == ANALOG:
        return flowgraphs.analog_point_to_point(model, spec, snr_db=snr_db, out_dir=folder, seed=seed,
                                                channel=channel, lpips=lpips, hash_model=hash_model,
                                                resampling=decoding.resampling, samples=decoding.samples,
                                                accuracy=decoding.accuracy, precision=precision)
    return flowgraphs.digital_point_to_point(model, spec, constellation=modulation, channel=channel,
                                             snr_db=snr_db, out_dir=folder, seed=seed, lpips=lpips,
                                             hash_model=hash_model, precision=precision)


def capacity_rows(scheme: Scheme, spec: str, snrs, budget: Budget, folder=None, scorer=None) -> list[dict]:
    """``scheme`` at its ideal rate, without a flowgraph: each image (fitted as
    image_source fits it) gets ``IDEAL_BITS[scheme.ideal]`` bits (capacity: floor(channel
    uses x log2(1 + SNR)); ib: half of that), the best
    quality that fits is decoded error-free; when none fits, the fallback image
    with decode_failed 1. Rows as ``run`` makes them; ``folder(snr)`` (optional)
    is where to write the PNGs; ``scorer`` (an ``lpips.LPIPS``) adds LPIPS."""
    codec = codecs.get(scheme.codec)
    pictures = []
    for index, path in enumerate(datasets.resolve_paths(spec)):
        try:
            picture = images.load_image(path)[0]
        except ValueError as error:
            print(f"note: skipped {path}: {error}", file=sys.stderr)
            continue
        picture = images.fit(picture, "resize" if budget.size else "full", budget.size)
        pictures.append((f"{index:05d}_{path.stem}", picture))
    rows = []
    for snr_db in snrs:
        out = pathlib.Path(folder(snr_db)) if folder else None
        for image_id, picture in pictures:
            height, width = picture.shape[:2]
            uses = codecs.channel_uses(budget.ratio, height, width)
            bits = IDEAL_BITS[scheme.ideal](uses, snr_db)
            try:
                data = codec.encode(picture, bits)
            except codecs.DoesNotFit:
                data = b""
            decoded = codec.decode(data, picture.shape) if data else None
            failed = decoded is None
            if failed:
                decoded = np.full_like(picture, FALLBACKS["mean"])
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                Image.fromarray(decoded).save(out / f"{image_id}.png")
            rows.append({"model": scheme.name, "images": spec, "image": image_id, "modulation": GAUSSIAN,
                         "channel": "awgn", "snr_db": snr_db, "psnr_db": metrics.psnr_db(picture, decoded),
                         "ssim": metrics.ssim(picture, decoded), "channel_uses": uses, "height": height,
                         "lpips": (scorer.distance(picture, decoded)
                                   if scorer and min(height, width) >= perceptual.MIN_SIDE else ""),
                         "width": width, "decode_failed": int(failed), "payload_bits": 8 * len(data),
                         "ib_bpp": round(bits / (height * width), 4) if scheme.ideal == "ib" else ""})
    return rows


BURST_IDLE = 10.0  # seconds without a new image after which a burst link's missing images count as lost


def run(models, image_sets, snrs, out: pathlib.Path | None = None, save_images=False, seed=1,
        timeout=1800.0, modulation_names=("qpsk",), channels=("awgn",), ratio=None, size=None,
        lpips=False, hash_model="", qf=(), burst_stats: list | None = None, resampling=("auto",), samples=1,
        accuracy=False, precision="fp32") -> list[dict]:
    """Every (model, image set, link, SNR) through its flowgraph (see ``links``);
    returns one row per image (keys ``COLUMNS``). ``models``: bundles and
    scheme specs; ``ratio``, ``size``: the schemes' budget (``reference_budget``);
    ``lpips``, ``hash_model``: also score LPIPS (the network must be installed) and
    hash agreement (not for the capacity references, which run no flowgraph);
    ``qf``: ``QFLink`` relays each single-hop DeepJSCC bundle also runs behind.
    Over the burst channels (``flowgraphs.BURST_CHANNELS``) an image whose burst is not
    received counts as the fallback image with decode_failed 1, and ``burst_stats``
    (when given) gets one dict per link and SNR: sent, detected, header_errors, delivered.
    ``resampling``: the modes each variational DeepJSCC bundle runs with (model column
    ``<model>@<mode>``), ``samples`` draws per image; ``accuracy``: score the classifier of
    the bundles that have one (ValueError when an image set is not labelled with its classes).
    ``precision``: the JSCC bundles' ("fp32", "int8", "auto"; bundle.Bundle), for the point-to-point
    links (a QF relay's link runs fp32)."""
    scorer = perceptual.LPIPS(threads=1) if lpips else None
    for name in modulation_names:
        modulations.expression(name)  # KeyError naming the known ones
    for channel in channels:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    parsed = [parse_scheme(model) or bundle.Bundle(model, precision=precision) for model in models]
    budget = None
    if any(isinstance(model, Scheme) for model in parsed):
        budget = reference_budget(models, ratio, size)
        print(f"note: separation schemes get floor({budget.ratio:.6g} x 3 x H x W) channel uses per image "
              f"({budget.origin}), images {'resized to %dx%d' % tuple(budget.size) if budget.size else 'at full size'}",
              file=sys.stderr)
    runs = []  # (parsed model, given spec, QFLink or None, Decoding)
    for model, given in zip(parsed, models):
        analog = isinstance(model, bundle.DeepJSCCBundle)
        modes = [model.resampling(mode) for mode in resampling] if analog and model.variational else ["auto"]
        scored = accuracy and analog and bool(model.classes)
        if accuracy and analog and not scored:
            print(f"note: {model.model_id} has no classifier: no accuracy", file=sys.stderr)
        if scored:
            for image_set in image_sets:
                flowgraphs.check_labels(image_source(datasets.locate(image_set), model=str(model.path), policy="resize",
                                                     labels="file_prefix"), model)
        runs += [(model, given, None, Decoding(mode, samples if analog and model.resampling(mode) != "off" else 1,
                                               scored)) for mode in dict.fromkeys(modes)]
        if analog and model.hops == 1:
            runs += [(model, given, link, Decoding()) for link in qf]
    rows = []
    for model, given, relay, decoding in runs:
        name = model.name if isinstance(model, Scheme) else model.model_id
        if relay is not None:
            name = relay.name(name)
        if isinstance(model, bundle.DeepJSCCBundle) and model.variational:
            name = f"{name}@{decoding.resampling}"
        model_links = links(model, modulation_names, channels, relay)
        skipped = sorted(set(channels) - {channel for _, channel in model_links})
        if skipped:
            print(f"note: {name} is a capacity reference, run over awgn only: skipped {', '.join(skipped)}",
                  file=sys.stderr)
        for image_set in image_sets:
            spec = datasets.resolve_default(image_set)
            if isinstance(model, Scheme) and model.capacity:
                folder = None
                if save_images and out is not None:
                    folder = lambda snr: out.joinpath("images", _slug(name), _slug(spec), f"snr{snr:g}")  # noqa: E731
                rows += capacity_rows(model, spec, snrs, budget, folder, scorer) if model_links else []
                continue
            for modulation, channel in model_links:
                for snr_db in snrs:
                    folder = ""
                    if save_images and out is not None:
                        link = [channel] if modulation == ANALOG else [f"{modulation}_{channel}"]
                        folder = str(out.joinpath("images", _slug(name), _slug(spec), *link, f"snr{snr_db:g}"))
                    try:
                        graph = make_graph(model if isinstance(model, Scheme) else given, spec, modulation, channel,
                                           snr_db, folder, seed, budget, lpips, hash_model, relay, decoding,
                                           precision)
                    except codecs.NoCodeword as error:
                        print(f"note: {name} over {modulation}: {error}: skipped", file=sys.stderr)
                        break
                    relays = 1 if relay else len(getattr(graph, "relays", ()))
                    bursts = channel in flowgraphs.BURST_CHANNELS
                    graph_rows = graph.run_images(timeout, idle=BURST_IDLE if bursts else None)
                    if bursts and burst_stats is not None:
                        receiver = graph.hops[-1].rx.receiver
                        burst_stats.append({"model": name, "images": spec, "modulation": modulation, "channel": channel,
                                            "snr_db": snr_db, "sent": graph.source.count,
                                            "detected": receiver.detections, "header_errors": receiver.header_errors,
                                            "delivered": receiver.bursts})
                    for row in graph_rows:
                        codec_bytes = row.get("codec_bytes", "")
                        if bursts and row["decode_failed"] == "":
                            row = {**row, "decode_failed": 0}  # delivered; a lost burst has 1
                        ib_bpp = ""
                        if modulation == ANALOG and row["n_symbols"] != "":
                            ib_bpp = round(codecs.information_bottleneck_bits(int(row["n_symbols"]), snr_db)
                                           / (row["height"] * row["width"]), 4)
                        rows.append({**{k: row[k] for k in COLUMNS if k in row}, "model": name,
                                     "images": spec, "modulation": modulation, "channel": channel,
                                     "snr_db": snr_db, "channel_uses": row["n_symbols"],
                                     "payload_bits": 8 * codec_bytes if codec_bytes != "" else "",
                                     "relays": relays,
                                     "bpp": round(graph.bits_per_pixel, 4) if relay else "",
                                     "accuracy": row.get("correct", ""), "ib_bpp": ib_bpp})
    return rows


def update_cards(summary: list[dict], models, key: str, command: str) -> list[pathlib.Path]:
    """Store each bundle model's means in its card.json under ``measured.<key>`` with
    ``card.record_results`` (one link per modulation, channel and resampling mode: PSNR, SSIM,
    channel uses, and LPIPS, hash agreement, accuracy and the draws' extremes when measured);
    schemes have no card. Returns the cards written."""
    written = []
    for model in models:
        if parse_scheme(model) is not None:
            continue
        model_bundle = bundle.Bundle(model)
        entries = [s for s in summary if s["model"].split("@")[0] == model_bundle.model_id
                   and (s["model"] == model_bundle.model_id or getattr(model_bundle, "variational", False))]
        if not entries:
            continue
        rows = [{"link": "/".join([s["modulation"], s["channel"], s["model"].partition("@")[2]]).rstrip("/"),
                 "snr_db": s["snr_db"],
                 **{metric: s[metric] for metric in ("psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming",
                                                     "accuracy", *SAMPLE_COLUMNS, "channel_uses")}}
                for s in entries]
        path = model_bundle.path / "card.json"
        card.record_results(path, key, rows, command, sorted({s["images"] for s in entries}))
        written.append(path)
    return written


def _ratio(text: str) -> float:
    try:
        value = float(fractions.Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a ratio: {text!r} (e.g. 1/16 or 0.0625)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"ratio must be > 0, got {text}")
    return value


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--models", nargs="+",
                        help="bundle folders, shipped model names, or separation schemes "
                             "<codec>+<code> / <codec>@capacity (see module doc)")
    source.add_argument("--merge", nargs="+", type=pathlib.Path, metavar="CSV",
                        help="run nothing: summarise and plot the rows of metrics.csv files of earlier runs "
                             "(sweeps run separately or in parallel) into --out")
    parser.add_argument("--images", nargs="+", default=["default"], help="image sets (see module doc)")
    parser.add_argument("--snr", nargs="+", type=float, default=[0.0, 5.0, 10.0, 20.0], help="SNRs in dB")
    parser.add_argument("--out", default="out/eval", help="output folder")
    parser.add_argument("--save-images", action="store_true", help="write the decoded PNGs")
    parser.add_argument("--modulation", nargs="+", choices=list(modulations.MODULATIONS),
                        help="constellations for BitSemCom models and separation schemes, default qpsk "
                             "(DeepJSCC models send analog symbols); with --merge: keep only these")
    parser.add_argument("--channel", nargs="+", choices=CHANNELS,
                        help="awgn (default), rayleigh block fading with CSI, or bursts over a sample-level channel "
                             "(burst_tx -> channel_model -> burst_rx: burst, burst_offsets, burst_multipath; "
                             "flowgraphs.BURST_CHANNELS); with --merge: keep only these")
    parser.add_argument("--ratio", type=_ratio, default=None,
                        help="channel uses per real pixel value of the separation schemes, e.g. 1/16 "
                             "(default: the first DeepJSCC model's, else 1/16)")
    parser.add_argument("--size", nargs=2, type=int, default=None, metavar=("H", "W"),
                        help="resize images to H x W for the separation schemes "
                             "(default: the first DeepJSCC model's fixed size, else full size)")
    parser.add_argument("--seed", type=int, default=1, help="noise seed (bits and fading: seed + 1, seed + 2)")
    parser.add_argument("--lpips", action="store_true",
                        help="also score LPIPS (AlexNet; installed by make setup), column lpips")
    parser.add_argument("--hash-model", default="",
                        help="a DHD hash bundle: also score hash agreement (hash_cosine, hash_hamming)")
    relay = parser.add_argument_group("quantize-and-forward relays (single-hop DeepJSCC models with codebooks)")
    relay.add_argument("--qf", nargs="+", type=quantization.rate, default=[], metavar="N_Q:b",
                       help="also run each single-hop DeepJSCC model behind a QF relay at these rates, "
                            "e.g. 4:0.75 2:1 2:2 (model column <model>@qf<N_Q>:<b>, bpp column)")
    relay.add_argument("--qf-link", choices=flowgraphs.quantize_and_forward.LINKS, default="noiseless",
                       help="the relay's bits to the destination: noiseless (default, the paper's) or digital "
                            "(LDPC --qf-code on each --modulation over AWGN)")
    relay.add_argument("--qf-code", default="ldpc12", help="LDPC code of the digital QF link (default ldpc12)")
    relay.add_argument("--qf-link-snr", type=float, default=None,
                       help="SNR (dB) of the digital QF link (default: the first hop's, --snr)")
    receiver = parser.add_argument_group("variational and classifying DeepJSCC models (VSCC, VAE, C-JSCC)")
    receiver.add_argument("--resampling", nargs="+", choices=bundle.DeepJSCCBundle.RESAMPLING, default=["auto"],
                          help="the variance variational models resample with, one link each (model column "
                               "<model>@<mode>): transmitted (sent after the mean, twice the channel uses), "
                               "knowledge_base (the card's), off (decode the mean); default auto: knowledge_base")
    receiver.add_argument("--samples", type=int, default=1,
                          help="draws per received image of a resampling receiver (the VSCC paper: 100); "
                               "columns psnr_min, psnr_max, ssim_min, ssim_max")
    receiver.add_argument("--accuracy", action="store_true",
                          help="score the classifier of models that have one against the images' labels "
                               "(labelled sets: cifar10-test:N), column accuracy")
    parser.add_argument("--precision", choices=bundle.PRECISIONS, default="fp32",
                        help="the JSCC models' ONNX files: fp32 (default), int8 (semcom_train.quantize's) or auto "
                             "(int8 when the card's measured loss is within 0.2 dB)")
    parser.add_argument("--update-card", metavar="KEY",
                        help="also store each model bundle's means in its card.json under measured.KEY")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error(f"--samples must be >= 1, got {args.samples}")
    if args.merge and args.update_card:
        parser.error("--update-card needs --models: --merge runs nothing")
    if args.update_card and args.precision != "fp32":
        parser.error("--update-card stores the fp32 models' results; the int8 ones' go into the card's int8 "
                     "record with python -m semcom_train.quantize")
    for model in args.models or ():
        try:
            parse_scheme(model)
        except ValueError as error:
            parser.error(str(error))
    code = CODE_ALIASES.get(args.qf_code, args.qf_code)
    if code not in ldpc.CODES:
        parser.error(f"--qf-code: unknown LDPC code {args.qf_code!r}; known: {', '.join([*CODE_ALIASES, *ldpc.CODES])}")
    qf = [QFLink(dimension, bits, args.qf_link, code, args.qf_link_snr) for dimension, bits in args.qf]
    out = pathlib.Path(args.out)
    if args.merge:
        try:
            rows = [row for path in args.merge for row in report.read_rows(path)]
        except (OSError, ValueError) as error:
            parser.error(str(error))
        rows = [r for r in rows if (args.channel is None or r["channel"] in args.channel) and
                (args.modulation is None or r["modulation"] in (*args.modulation, ANALOG, GAUSSIAN))]
        summary = report.write(rows, out)
        print(report.markdown(summary), end="")
        return summary
    burst_stats: list[dict] = []
    try:
        rows = run(args.models, args.images, args.snr, out, args.save_images, args.seed,
                   modulation_names=args.modulation or ["qpsk"], channels=args.channel or ["awgn"],
                   ratio=args.ratio, size=tuple(args.size) if args.size else None, lpips=args.lpips,
                   hash_model=args.hash_model, qf=qf, burst_stats=burst_stats, resampling=args.resampling,
                   samples=args.samples, accuracy=args.accuracy, precision=args.precision)
    except bundle.ModelError as error:  # a model that cannot do what the options ask
        parser.error(str(error))
    summary = report.write(rows, out)
    if burst_stats:
        (out / "bursts.md").write_text(report.burst_markdown(burst_stats))
        print(report.burst_markdown(burst_stats), end="")
    if args.update_card:
        command = "semcom-eval " + " ".join(sys.argv[1:] if argv is None else argv)
        for path in update_cards(summary, args.models, args.update_card, command):
            print(f"updated {path}")
    print(report.markdown(summary), end="")
    print(f"wrote {out / 'metrics.csv'}, {out / 'summary.md'}, {out / 'psnr_vs_snr.png'}, {out / 'ssim_vs_snr.png'}")
    return summary


if __name__ == "__main__":
    main()
