#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Static int8 quantisation of a bundle's ONNX encoders and decoders, measured through the flowgraph.

    python -m semcom_train.quantize --model models/deepjscc_bsds_r16 \\
        --images kodak --snr 1 4 7 10 13
    python -m semcom_train.quantize --model models/deepjscc_cifar10_r6 \\
        --images cifar10-test:100 --snr 0 5 10 15 20

Each encoder and decoder file of the card (``encoder.onnx``, ``decoder_hop1.onnx``, ...) is
quantised with onnxruntime's ``quantize_static``: QDQ format, int8 weights per output
channel, uint8 activations, the convolutions only (the encoder's power normalisation, the
activations between layers and the output sigmoid stay float) but for three that cost most
in int8 and little in time: the encoder's first (pixels in) and the decoder's first (the
noisy latent in) and last (pixels out), float unless ``--quantize-all``. Measured on 6 Kodak
images, ``deepjscc_bsds_r16``: all convolutions in int8 cost 0.4 to 0.8 dB, all but the pixel
ones 0.01 to 0.03 dB; 200 CIFAR-10 test images, ``deepjscc_cifar10_r6`` at 20 dB: the
encoder's first alone 5 dB, the decoder's first 0.31 dB, each other one about 0.03 dB. Calibrated
(``--calibration``, percentile (99.999 %) by default) on training images, never on an evaluation set: random ``--crop`` crops
of BSDS500 train for fully convolutional models, CIFAR-10 train images for the 32x32 ones
(``--calibration-images`` of them, seed ``--seed``). A DeepJSCC decoder is calibrated on what
it receives: the fp32 encoder's symbols of those images through AWGN at SNRs drawn over the
card's training range; a BitSemCom decoder on bit posteriors of the encoder's sampled bits
through QPSK over AWGN at those SNRs. The int8 files are written beside the fp32 ones
(``encoder.int8.onnx``), with the fp32 file's ``semcom.*`` metadata and ``semcom.precision``
"int8".

Then (unless ``--no-measure``) the bundle runs through the GNU Radio flowgraph
(``semcom_tools.evaluate.run``) in fp32 and in int8 on ``--images`` at ``--snr`` (the
evaluation set: Kodak, CIFAR-10 test), and the card's ``int8`` record gets the files, how
they were made, both PSNR curves and the largest loss ``psnr_loss_db`` (``card.FIELDS``).
When that loss is above ``--max-loss`` (0.2 dB) the int8 files are deleted, the card keeps
the measurement and a ``note`` of why, and the model stays fp32. The blocks' precision
"auto" runs int8 only for a card whose ``psnr_loss_db`` is within 0.2 dB
(``bundle.INT8_AUTO_MAX_LOSS_DB``).
"""
from __future__ import annotations

import argparse
import io
import pathlib
import sys
import tempfile
import time
import zipfile

import numpy as np
from PIL import Image

from gnuradio.semcom import bundle, card, demapping, symbols

SUFFIX = ".int8.onnx"
CALIBRATIONS = ("minmax", "entropy", "percentile")
DEFAULT_MAX_LOSS_DB = bundle.INT8_AUTO_MAX_LOSS_DB


# -- calibration images (training sets only) ----------------------------------------------------------
def _dataset_root() -> pathlib.Path:
    from semcom_tools import datasets
    return datasets.dataset_root()


def bsds_crops(count: int, crop: int, seed: int) -> list[np.ndarray]:
    """``count`` random ``crop`` x ``crop`` crops (uint8 (crop, crop, 3)) of BSDS500 train photos,
    one photo after another in a seeded random order."""
    folder = _dataset_root() / "bsds500" / "train"
    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        raise FileNotFoundError(f"no BSDS500 train photos in {folder} (set SEMCOM_DATA)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(paths))
    crops = []
    for k in range(count):
        picture = np.asarray(Image.open(paths[order[k % len(paths)]]).convert("RGB"))
        top = rng.integers(0, picture.shape[0] - crop + 1)
        left = rng.integers(0, picture.shape[1] - crop + 1)
        crops.append(np.ascontiguousarray(picture[top:top + crop, left:left + crop]))
    return crops


def cifar10_train(count: int, seed: int) -> list[np.ndarray]:
    """``count`` CIFAR-10 train images (uint8 (32, 32, 3)) drawn at random (seeded) from the zip."""
    zip_path = _dataset_root() / "cifar10-jpeg.zip"
    if not zip_path.is_file():
        raise FileNotFoundError(f"CIFAR-10 zip not found at {zip_path} (set SEMCOM_DATA)")
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("train/") and n.endswith(".jpg"))
        chosen = np.random.default_rng(seed).choice(len(names), size=count, replace=False)
        return [np.asarray(Image.open(io.BytesIO(archive.read(names[k]))).convert("RGB")) for k in sorted(chosen)]


def calibration_images(model: bundle.Bundle, count: int, crop: int, seed: int) -> tuple[list[np.ndarray], str]:
    """Training images for ``model``'s calibration and their description for the card."""
    if model.image_size is None:
        return bsds_crops(count, crop, seed), f"BSDS500 train, {count} random {crop}x{crop} crops (seed {seed})"
    if tuple(model.image_size) != (32, 32):
        raise ValueError(f"model {model.model_id}: no calibration set for {model.image_size} images")
    return cifar10_train(count, seed), f"CIFAR-10 train, {count} random images (seed {seed})"


# -- what each file sees -------------------------------------------------------------------------------
def _snrs(model: bundle.Bundle, count: int, rng: np.random.Generator) -> np.ndarray:
    low, high = model.card.get("train_snr_db", [0.0, 20.0])
    return rng.uniform(low, high, count)


def _batches(arrays: list[np.ndarray], batch: int) -> list[np.ndarray]:
    return [np.concatenate(arrays[k:k + batch]) for k in range(0, len(arrays), batch)]


def feeds(model: bundle.Bundle, role: str, pictures: list[np.ndarray], seed: int, batch: int) -> list[dict]:
    """The fp32 inputs of file ``role`` for calibration: images for an encoder; for a decoder
    what it receives of those images (see the module doc). Batches of ``batch``."""
    rng = np.random.default_rng(seed + 1)
    inputs = [bundle._image_input(model.pad(p)) for p in pictures]
    kind, _, hop = role.partition("_hop")
    hop = int(hop or 0)
    if isinstance(model, bundle.BitSemComBundle):
        io_names = model.card.get("onnx_io", model._IO)
        if kind == "encoder":
            return [{io_names["encoder"]["input"]: x} for x in _batches(inputs, batch)]
        constellation = demapping.Constellation.from_gnuradio("qpsk")
        posteriors = []
        for picture, snr in zip(pictures, _snrs(model, len(pictures), rng)):
            probs = model.encode_probs(picture)
            bits = (rng.random(probs.size) < probs).astype(np.uint8)
            sent = demapping.map_bits(bits, constellation)
            noise_var = 10 ** (-snr / 10)
            received = sent + np.sqrt(noise_var / 2) * (rng.standard_normal(sent.size)
                                                          + 1j * rng.standard_normal(sent.size)).astype(np.complex64)
            llr = demapping.llrs(received, constellation, noise_var)[:probs.size]
            shape = (1, -1) if model.image_size else (1, *model.bit_grid(*picture.shape[:2]))  # as decode_soft
            posteriors.append(demapping.posteriors(llr).astype(np.float32).reshape(shape))
        return [{io_names["decoder"]["input"]: x} for x in _batches(posteriors, batch)]
    if kind == "encoder":
        if hop == 0:
            return [{"image": x} for x in _batches(inputs, batch)]
        # a relay's encoder re-encodes what the previous hop decoded: the fp32 chain's images
        pictures = [_through(model, p, hop, rng) for p in pictures]
        return [{"image": x} for x in _batches([bundle._image_input(model.pad(p)) for p in pictures], batch)]
    latents = []
    for picture, snr in zip(pictures, _snrs(model, len(pictures), rng)):
        if hop:
            picture = _through(model, picture, hop, rng)
        sent = model.encode(picture, hop)
        noise = np.sqrt(10 ** (-snr / 10) / 2) * (rng.standard_normal(sent.size) + 1j * rng.standard_normal(sent.size))
        received = (sent + noise).astype(np.complex64)
        latents.append(symbols.symbols_to_latent(received, model.latent_shape(*picture.shape[:2]))[None])
    return [{"latent": x} for x in _batches(latents, batch)]


def _through(model: bundle.DeepJSCCBundle, picture: np.ndarray, hops: int, rng: np.random.Generator) -> np.ndarray:
    """``picture`` after hops 0 .. hops - 1 of the fp32 model, AWGN at a training SNR on each."""
    for hop in range(hops):
        sent = model.encode(picture, hop)
        snr = _snrs(model, 1, rng)[0]
        received = sent + np.sqrt(10 ** (-snr / 10) / 2) * (rng.standard_normal(sent.size)
                                                             + 1j * rng.standard_normal(sent.size))
        picture = model.decode(received.astype(np.complex64), *picture.shape[:2], hop)
    return picture


# -- quantisation ----------------------------------------------------------------------------------------
class _Reader:
    """onnxruntime's CalibrationDataReader over a list of feeds."""

    def __init__(self, items: list[dict]):
        self.items = iter(items)

    def get_next(self):
        return next(self.items, None)

    def rewind(self):  # pragma: no cover - called by some calibrators
        pass


def roles(model: bundle.Bundle) -> list[str]:
    """The card's encoder and decoder roles (not the torch weights, not a hash network)."""
    return [role for role in model.card["files"] if role.partition("_hop")[0] in ("encoder", "decoder")]


def int8_name(fp32_name: str) -> str:
    """encoder.onnx -> encoder.int8.onnx."""
    return fp32_name[:-len(".onnx")] + SUFFIX if fp32_name.endswith(".onnx") else fp32_name + SUFFIX


def float_convs(model, role: str, float_latent: bool = False) -> list[str]:
    """The Conv nodes of ONNX ``model`` of file ``role`` kept in float: an encoder's first, a
    decoder's first and last; with ``float_latent`` also those next to the channel, the
    encoder's last (which makes the latent) and the decoder's second."""
    convs = [node.name for node in model.graph.node if node.op_type == "Conv"]
    if not convs:
        return []
    if role.startswith("encoder"):
        return list(dict.fromkeys([convs[0], convs[-1]] if float_latent else [convs[0]]))
    return list(dict.fromkeys([convs[0], *convs[1:2] * float_latent, convs[-1]]))


def quantize_file(source: pathlib.Path, target: pathlib.Path, items: list[dict], calibration: str,
                  role: str = "encoder", quantize_all: bool = False, float_latent: bool = False) -> list[str]:
    """``source`` quantised into ``target`` (see the module doc), its metadata kept; returns
    the Conv nodes kept in float."""
    import onnx
    from onnxruntime import quantization as q
    methods = {"minmax": q.CalibrationMethod.MinMax, "entropy": q.CalibrationMethod.Entropy,
               "percentile": q.CalibrationMethod.Percentile}
    with tempfile.TemporaryDirectory() as scratch:
        prepared = pathlib.Path(scratch) / "prepared.onnx"
        q.shape_inference.quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        kept = [] if quantize_all else float_convs(onnx.load(str(prepared)), role, float_latent)
        q.quantize_static(str(prepared), str(target), _Reader(items), quant_format=q.QuantFormat.QDQ,
                          op_types_to_quantize=["Conv"], nodes_to_exclude=kept, per_channel=True, reduce_range=False,
                          activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8,
                          calibrate_method=methods[calibration],
                          extra_options={"CalibTensorRangeSymmetric": False})
    original = onnx.load(str(source))
    model = onnx.load(str(target))
    meta = {p.key: p.value for p in original.metadata_props}
    meta["semcom.precision"] = "int8"
    del model.metadata_props[:]
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(target))
    return kept


FORMAT = ("onnxruntime {version} quantize_static: QDQ, int8 weights per output channel (symmetric), uint8 "
          "activations, {calibration} calibration; the convolutions in int8 {kept} (normalisation, PReLU, "
          "sigmoid in float)")


def quantize(model_path, count: int, crop: int, seed: int, calibration: str = "percentile",
             batch: int = 16, quantize_all: bool = False, float_latent: bool = False) -> dict:
    """Write the int8 file of every encoder and decoder of bundle ``model_path``; returns the
    card's int8 record without its measurement (files, format, calibration)."""
    import onnxruntime
    model = bundle.Bundle(model_path, provider="cpu")
    pictures, described = calibration_images(model, count, crop, seed)
    files = {}
    for role in roles(model):
        source = model.path / model.card["files"][role]
        target = model.path / int8_name(source.name)
        started = time.monotonic()
        quantize_file(source, target, feeds(model, role, pictures, seed, batch), calibration, role, quantize_all,
                      float_latent)
        print(f"{model.model_id}: {source.name} -> {target.name} ({target.stat().st_size / 1e6:.2f} MB, "
              f"{time.monotonic() - started:.1f} s)", file=sys.stderr)
        files[role] = target.name
    what = "their symbols through AWGN" if isinstance(model, bundle.DeepJSCCBundle) else \
        "bit posteriors of their sampled bits through QPSK over AWGN"
    return {"files": files,
            "format": FORMAT.format(version=onnxruntime.__version__, calibration=calibration,
                                    kept="all of them" if quantize_all else
                                    f"but the encoders' first{' and last' * float_latent} and the decoders' "
                                    f"first{', second' * float_latent} and last, in float"),
            "calibration": f"{described}; the decoders: {what} at SNRs uniform over the training range"}


# -- measurement -------------------------------------------------------------------------------------------
def measure(model_path, image_sets: list[str], snrs: list[float], seed: int = 1, modulations=("qpsk",),
            channels=("awgn",)) -> dict:
    """Mean PSNR per link and SNR through the flowgraph, fp32 and int8: {"fp32": {link: {snr: psnr}},
    "int8": ..., "n_images": n}; ``modulations`` (BitSemCom) and ``channels`` as semcom-eval's."""
    from semcom_tools import evaluate, report
    result = {}
    for precision in ("fp32", "int8"):
        rows = evaluate.run([str(model_path)], image_sets, snrs, seed=seed, precision=precision,
                            modulation_names=list(modulations), channels=list(channels))
        summary = report.summarize(rows)
        curves: dict = {}
        for entry in summary:
            link = "/".join([entry["modulation"], entry["channel"], entry["model"].partition("@")[2]]).rstrip("/")
            curves.setdefault(link, {})[f"{entry['snr_db']:g}"] = entry["psnr_db"]
            result["n_images"] = entry["n"]
        result[precision] = curves
    return result


def record(quantized: dict, measured: dict | None, image_sets, command: str, max_loss: float) -> dict:
    """The card's int8 record: ``quantized`` plus the measured curves and the largest PSNR loss."""
    entry = {**quantized, "command": command}
    if measured is None:
        return entry
    quality: dict = {"images": list(image_sets), "command": command, "n_images": measured["n_images"]}
    losses = []
    for link, fp32 in measured["fp32"].items():
        int8 = measured["int8"][link]
        loss = {snr: round(fp32[snr] - int8[snr], 3) for snr in fp32}
        losses += loss.values()
        quality[link] = {"psnr_db_fp32": {s: round(v, 2) for s, v in fp32.items()},
                         "psnr_db_int8": {s: round(v, 2) for s, v in int8.items()},
                         "psnr_loss_db": loss}
    entry["quality"] = quality
    entry["psnr_loss_db"] = round(max(losses), 3)
    if entry["psnr_loss_db"] > max_loss:
        entry["note"] = (f"int8 costs up to {entry['psnr_loss_db']:.2f} dB PSNR through the flowgraph, more than "
                         f"{max_loss:g} dB: the model stays fp32 (int8 files not shipped)")
        entry.pop("files")
    return entry


def _write_record(card_path: pathlib.Path, entry: dict) -> None:
    """Store ``entry`` as the card's int8 record (the card moved to this schema version)."""
    bundle_card = card.read(card_path)
    bundle_card["schema_version"] = card.SCHEMA_VERSION
    bundle_card["int8"] = entry
    card.write(card_path, bundle_card)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m semcom_train.quantize", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="bundle folder or shipped model name")
    parser.add_argument("--images", nargs="+", default=None,
                        help="evaluation image sets for the quality cost (default: kodak for fully "
                             "convolutional models, cifar10-test:100 for 32x32 ones)")
    parser.add_argument("--snr", nargs="+", type=float, default=None,
                        help="SNRs in dB (default: 1 4 7 10 13 for Kodak, 0 5 10 15 20 for CIFAR-10)")
    parser.add_argument("--modulation", nargs="+", default=["qpsk"],
                        help="BitSemCom models' constellations for the measurement (semcom-eval's, default qpsk)")
    parser.add_argument("--channel", nargs="+", default=["awgn"], help="channels for the measurement (default awgn)")
    parser.add_argument("--calibration", choices=CALIBRATIONS, default="percentile", help="calibration method")
    parser.add_argument("--quantize-all", action="store_true",
                        help="also the encoders' first and the decoders' first and last convolution (costs quality)")
    parser.add_argument("--calibration-images", type=int, default=None,
                        help="training images for calibration (default 64 crops, 512 CIFAR-10 images)")
    parser.add_argument("--crop", type=int, default=256, help="BSDS500 crop side (fully convolutional models)")
    parser.add_argument("--float-latent", action="store_true",
                        help="also keep the convolutions next to the channel in float: the encoders' last "
                             "(the latent's) and the decoders' second")
    parser.add_argument("--seed", type=int, default=0, help="calibration seed")
    parser.add_argument("--max-loss", type=float, default=DEFAULT_MAX_LOSS_DB,
                        help="largest PSNR loss in dB for int8 files to ship (default 0.2)")
    parser.add_argument("--no-measure", action="store_true",
                        help="only write the int8 files and the card's record of how they were made")
    args = parser.parse_args(argv)
    try:
        model = bundle.Bundle(args.model, provider="cpu")
    except bundle.ModelError as error:
        parser.error(str(error))
    fixed = model.image_size is not None
    image_sets = args.images or (["cifar10-test:100"] if fixed else ["kodak"])
    snrs = args.snr or ([0.0, 5.0, 10.0, 15.0, 20.0] if fixed else [1.0, 4.0, 7.0, 10.0, 13.0])
    count = args.calibration_images or (512 if fixed else 64)
    command = "python -m semcom_train.quantize " + " ".join(sys.argv[1:] if argv is None else argv)
    quantized = quantize(model.path, count, args.crop, args.seed, args.calibration, quantize_all=args.quantize_all,
                         float_latent=args.float_latent)
    card_path = model.path / "card.json"
    _write_record(card_path, record(quantized, None, image_sets, command, args.max_loss))  # the blocks find the files
    measured = None if args.no_measure else measure(model.path, image_sets, snrs, modulations=args.modulation,
                                                    channels=args.channel)
    entry = record(quantized, measured, image_sets, command, args.max_loss)
    if "files" not in entry:
        for name in quantized["files"].values():
            (model.path / name).unlink(missing_ok=True)
    _write_record(card_path, entry)
    print(f"updated {card_path}: int8 {'shipped' if 'files' in entry else 'not shipped'}"
          + (f", largest PSNR loss {entry['psnr_loss_db']:.3f} dB" if "psnr_loss_db" in entry else ""))
    if "quality" in entry:
        for link, curves in entry["quality"].items():
            if isinstance(curves, dict) and "psnr_loss_db" in curves:
                print(f"| {link} | " + " | ".join(f"{s} dB: {curves['psnr_db_fp32'][s]:.2f} -> "
                                                   f"{curves['psnr_db_int8'][s]:.2f}" for s in curves["psnr_loss_db"])
                      + " |")
    return entry


if __name__ == "__main__":
    main()
