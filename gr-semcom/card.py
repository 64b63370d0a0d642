#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The model card: ``card.json`` of a model bundle, its schema defined once, and its reader and writers.

A card says what a model is (``method``, geometry), how it was trained (data, SNR range,
steps) and how well it did (``measured``). ``FIELDS`` lists every key a card may hold for
each method, with its type and whether it is required; ``validate`` checks a card against
it, ``write`` writes a valid card (keys in schema order, trailing newline) and
``record_results`` stores measured results, always in the one shape below (``MEASURED``).
``RUNTIME`` names the keys the blocks cannot run without (``bundle`` reads cards with only
those checked, so a hand-written card of three keys still loads).

Schema versions (``schema_version``):

1  cards written before this module: ``"version": 1``, no ``schema_version``; measured results
   in two shapes (``{"psnr_db", "ssim", "n_images", "images": str, "channel"}`` from the
   torch evaluator, ``{"<modulation>/<channel>": ...}`` from the GNU Radio harness), a DHD
   card's retrieval mAP under ``measured``, two early DeepJSCC cards without
   ``architecture``, ``hops`` and ``loss``.
2  ``schema_version`` replaces ``version``; every key is in ``FIELDS`` (unknown keys are
   refused); ``measured`` holds results in one shape (``MEASURED``); a DHD card's retrieval
   mAP is its own key ``retrieval``; every exported DeepJSCC or BitSemCom card names its
   ``architecture``, a DeepJSCC card its ``hops`` and ``loss``.
3  DeepJSCC and BitSemCom cards may hold ``int8``: the static int8 quantisation of their ONNX
   files (``semcom_train.quantize``) and its measured quality cost (``INT8``, below); otherwise
   as 2 (the cards of version 2 were moved to 3 unchanged).

The int8 record (``INT8``)::

    "int8": {
        "files": {"encoder": "encoder.int8.onnx", ...},  # role -> int8 file; absent when not shipped
        "format": "...", "calibration": "...",           # how they were made, in words
        "command": "python -m semcom_train.quantize ...",
        "psnr_loss_db": 0.05,                            # largest fp32 - int8 PSNR over "quality"
        "quality": {<a measured record>, "<link>": {"psnr_db_fp32": {...}, "psnr_db_int8": {...},
                                                    "psnr_loss_db": {...}}},
        "note": "..."}                                   # why the model stays fp32, when it does

Measured results (``MEASURED``)::

    "measured": {"<key>": {                  # e.g. "kodak", "cifar10_test_1000"
        "images": ["<image set>", ...],      # what was sent, e.g. "kodak", "cifar10-test:100"
        "command": "python -m ...",          # the command that measured them
        "n_images": 24,                      # optional: images per point
        "<link>": {                          # "<modulation>/<channel>[/<resampling>]", e.g.
                                             # "qpsk/awgn", "analog/awgn/knowledge_base"
            "<metric>": {"<SNR dB>": value}, # psnr_db, ssim, lpips, accuracy, psnr_min, ...
            "channel_uses": 512.0}}}         # optional: complex symbols per image

Pure standard library: no torch, no onnx.
"""
from __future__ import annotations

import dataclasses
import json
import math
import pathlib
from typing import Callable, Iterable

SCHEMA_VERSION = 3
METHODS = ("deepjscc", "bitsemcom", "dhd")
RECORD_KEYS = ("images", "command", "n_images")  # the keys of a measured record that are not links
# decimals of stored results: PSNR in dB to 0.01, channel uses to 0.1, the rest (SSIM, LPIPS,
# accuracy, hash agreement) to 1e-4
_DECIMALS = {"psnr_db": 2, "channel_uses": 1}
_DEFAULT_DECIMALS = 4


class CardError(ValueError):
    """A card.json that is not JSON, not an object, or not what the schema says; the message
    names the file and the key."""


# -- kinds of values -------------------------------------------------------------------------------
def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # bool is an int in Python


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


@dataclasses.dataclass(frozen=True)
class Kind:
    """What a card value is: ``name`` for "missing or not <name>", ``is_type`` its JSON type,
    and ``rule``/``obeys`` what it must be beyond that ("<key> must be <rule>, got ...")."""
    name: str
    is_type: Callable[[object], bool]
    rule: str = ""
    obeys: Callable[[object], bool] = lambda value: True


TEXT = Kind("a str", lambda v: isinstance(v, str))
FLAG = Kind("a bool", lambda v: isinstance(v, bool))
NUMBER = Kind("a number", _is_number)
# an int is a count or a size and must be > 0: a 0 would divide by zero at the first image
COUNT = Kind("an int", _is_int, "> 0", lambda v: v > 0)
WHOLE = Kind("an int", _is_int, ">= 0", lambda v: v >= 0)
HOPS = Kind("an int", _is_int, "a whole number >= 1", lambda v: v >= 1)
TABLE = Kind("a dict", lambda v: isinstance(v, dict))
TEXTS = Kind("a list", lambda v: isinstance(v, list), "a list of strings",
             lambda v: bool(v) and all(isinstance(s, str) for s in v))
NUMBERS = Kind("a list", lambda v: isinstance(v, list), "a list of numbers", lambda v: all(map(_is_number, v)))
RANGE = Kind("a list", lambda v: isinstance(v, list), "[low, high] numbers",
             lambda v: len(v) == 2 and all(map(_is_number, v)) and v[0] <= v[1])
SCHEDULE = Kind("a list", lambda v: isinstance(v, list), "[start, end] numbers > 0",
                lambda v: len(v) == 2 and all(_is_number(t) and t > 0 for t in v))
IMAGE_SIZE = Kind("a list", lambda v: isinstance(v, list), "[height, width] or null",
                  lambda v: len(v) == 2 and all(_is_int(s) and s > 0 for s in v))
BIT_GRID = Kind("a list", lambda v: isinstance(v, list), "[B, H', W'], ints > 0",
                lambda v: len(v) == 3 and all(_is_int(s) and s > 0 for s in v))
FILES = Kind("a dict", lambda v: isinstance(v, dict), "role -> file name",
             lambda v: all(isinstance(f, str) and f and "/" not in f for f in v.values()))
MEASURED = Kind("a dict", lambda v: isinstance(v, dict), "results in the shape this module's docstring shows")
INT8_KEYS = ("files", "format", "calibration", "command", "psnr_loss_db", "quality", "note")


def _int8_ok(value: dict) -> bool:
    """Whether ``value`` is an int8 record in the shape of this module's docstring."""
    if set(value) - set(INT8_KEYS) or not all(isinstance(value.get(k), str) for k in ("format", "calibration", "command")):
        return False
    if "files" in value and not (isinstance(value["files"], dict) and value["files"] and FILES.obeys(value["files"])):
        return False
    if "note" in value and not isinstance(value["note"], str):
        return False
    if ("psnr_loss_db" in value) != ("quality" in value):
        return False
    if "psnr_loss_db" in value:
        if not _is_number(value["psnr_loss_db"]):
            return False
        try:
            _check_record(value["quality"], "int8.quality")
        except CardError:
            return False
    return True


INT8 = Kind("a dict", lambda v: isinstance(v, dict),
            "the int8 record this module's docstring shows (files, format, calibration, command; psnr_loss_db "
            "with quality; note)", _int8_ok)


def one_of(*values: str) -> Kind:
    return Kind("a str", lambda v: isinstance(v, str), f"one of {values}", lambda v: v in values)


@dataclasses.dataclass(frozen=True)
class Field:
    """A card key: its kind, whether every card of the method has it, whether it may be null."""
    kind: Kind
    required: bool = True
    nullable: bool = False
    doc: str = ""


def _optional(kind: Kind, doc: str = "") -> Field:
    return Field(kind, required=False, doc=doc)


# -- the schema --------------------------------------------------------------------------------------
_IDENTITY = {
    "schema_version": Field(COUNT, doc=f"{SCHEMA_VERSION}: the version of this schema the card follows"),
    "model_id": Field(TEXT, doc='the bundle\'s name, also in each ONNX file\'s "semcom.model_id"'),
    "architecture": Field(TEXT, doc="the training registry entry that builds the network (semcom_train.models)"),
    "method": Field(one_of(*METHODS), doc="which bundle class runs it (bundle.Bundle)"),
    "files": Field(FILES, doc='role ("encoder", "decoder", "encoder_hop<k>", "hash", "torch") -> file name'),
    "image_size": Field(IMAGE_SIZE, nullable=True, doc="[H, W] the ONNX files take, or null: fully convolutional"),
}
_GEOMETRY = {
    "fully_convolutional": Field(FLAG, doc="image_size is null: any image, padded to multiples of downsampling"),
    "downsampling": Field(COUNT, doc="image side / latent side (4)"),
    "latent_channels": Field(COUNT, doc="real channels of the latent (DeepJSCC: 2 per complex symbol; "
                                        "BitSemCom: bit_channels, the bit grid's)"),
    "width": Field(COUNT, doc="backbone channels"),
    "bandwidth_ratio": Field(NUMBER, doc="channel uses / (3 H W)"),
}
_CONVENTIONS = {
    "normalization": Field(TEXT, doc="pixel scaling in and out, in words"),
    "power": Field(TEXT, doc="transmit power convention, in words"),
}
_TRAINING = {
    "channel": Field(TEXT, doc="the channel trained over"),
    "train_snr_db": Field(RANGE, doc="[low, high] training SNR in dB"),
}
_RECORD = {
    "dataset": Field(TEXT, doc="the training images, in words"),
    "crop": Field(COUNT, nullable=True, doc="crop side of the BSDS500 patches, null for CIFAR-10"),
    "batch_size": Field(COUNT),
    "steps": Field(COUNT),
    "training_seconds": Field(WHOLE),
    "training_hardware": Field(TEXT),
    "train_command": Field(TEXT, doc="the command that trained the weights"),
}
_MEASURED = {"measured": _optional(MEASURED, "measured results by key (record_results)")}
_INT8 = {"int8": _optional(INT8, "int8 files and their quality cost (semcom_train.quantize; version 3)")}

FIELDS: dict[str, dict[str, Field]] = {
    "deepjscc": {
        **_IDENTITY, **_GEOMETRY,
        "hops": Field(HOPS, doc="1, or relays + 1 for decode-and-forward: the files' roles are then "
                                "encoder_hop<k> and decoder_hop<k>, k = 0 .. hops - 1"),
        "symbol_order": Field(TEXT, doc="how latent values become complex symbols, in words"),
        **_CONVENTIONS, **_TRAINING,
        "loss": Field(TEXT, doc="the training objective, in words"),
        # variational models (semcom_train.variational)
        "objective": _optional(one_of("ae", "vae", "vscc")),
        "variance": _optional(FLAG, 'the encoder also outputs "variance" (N, C, H\', W\'), sigma^2 per real '
                                    'latent element'),
        "cmc": Field(NUMBER, required=False, nullable=True, doc="vscc's channel matching constant"),
        "kl_weight": _optional(NUMBER),
        "variance_units": _optional(TEXT),
        "knowledge_base_variance": _optional(NUMBERS, "the receiver's fixed variance per latent channel, >= 0"),
        "knowledge_base": _optional(TEXT, "what knowledge_base_variance is the mean over"),
        # contrastive models (semcom_train.contrastive)
        "classes": _optional(TEXTS, 'the decoder also outputs "class_probs" (N, len(classes)) in this order'),
        "scl_weight": _optional(NUMBER),
        "temperature": _optional(NUMBER, "tau of the supervised contrastive loss"),
        # quantize-and-forward relays (semcom_train.qf_codebooks)
        "qf_codebooks": _optional(TABLE, '{"file", "snr_db", "images", "rates": [[N_Q, b], ...]}'),
        **_RECORD, **_MEASURED, **_INT8,
    },
    "bitsemcom": {
        **_IDENTITY, **_GEOMETRY,
        "bit_channels": Field(COUNT, doc="B, bits per bit-grid position"),
        "bit_grid": Field(BIT_GRID, nullable=True, doc="[B, H/4, W/4] of the fixed size, null if fully convolutional"),
        "n_bits": Field(COUNT, nullable=True, doc="bits per image, null if fully convolutional"),
        "bit_mapper": Field(one_of("gumbel", "uniform", "hard_sigmoid_ste")),
        "ablation": Field(one_of("uniform", "hard_sigmoid_ste"), nullable=True, doc="null: the method"),
        "inference_bits": Field(one_of("sample", "threshold"), doc="how the sender makes bits of the "
                                "probabilities: b ~ Bernoulli(p) or b = p > 0.5"),
        "onnx_io": Field(TABLE, doc='{"encoder": {"input", "output"}, "decoder": {...}} tensor names'),
        "posterior_layout": Field(TEXT, doc="the decoder's input layout, in words"),
        "bit_order": Field(TEXT, doc="how bits are laid out and grouped into symbols, in words"),
        **_CONVENTIONS,
        "demapping": Field(TEXT, doc="how the receiver makes posteriors, in words"),
        "stage": Field(one_of("error_free", "noisy"), doc="the channel the weights last trained over"),
        **_TRAINING,
        "csi": Field(TEXT, nullable=True, doc="what the receiver knows of the fading, null over AWGN"),
        "train_modulation": Field(TEXT, doc="name in modulations.MODULATIONS"),
        "train_constellation": Field(TEXT, doc="the GNU Radio expression of that constellation"),
        "train_bits_per_symbol": Field(COUNT),
        "train_channel_uses": Field(COUNT, nullable=True, doc="null if fully convolutional"),
        "snr_draw": Field(one_of("batch", "image")),
        "temperature": Field(SCHEDULE, nullable=True, doc="[start, end] Gumbel-softmax temperature, null for ablations"),
        "init": Field(TEXT, nullable=True, doc="the checkpoint the run started from (stage 2: stage 1's)"),
        **_RECORD, **_MEASURED, **_INT8,
    },
    "dhd": {
        **{key: field for key, field in _IDENTITY.items() if key != "architecture"},
        "n_bits": Field(COUNT, doc="hash bits"),
        "width": Field(COUNT, doc="backbone channels of the first stage"),
        "onnx_io": Field(TABLE, doc='{"hash": {"input": "image", "output": "hash"}}'),
        "normalization": _CONVENTIONS["normalization"],
        "backbone": Field(TEXT),
        "losses": Field(TABLE, doc="the DHD loss weights"),
        "retrieval": _optional(TABLE, "mAP of Hamming ranking at export (semcom_train.dhd.evaluate_retrieval)"),
        **{key: _RECORD[key] for key in ("dataset", "batch_size", "steps", "training_seconds", "train_command")},
        **_MEASURED,
    },
}
# what the blocks cannot run without, beyond model_id, method and files (bundle.Bundle)
RUNTIME: dict[str, tuple[str, ...]] = {
    "deepjscc": ("downsampling", "latent_channels"),
    "bitsemcom": ("downsampling", "bit_channels"),
    "dhd": ("n_bits", "image_size"),
}
_RUNTIME_COMMON = {"model_id": TEXT, "method": TEXT, "files": TABLE}


# -- checks ------------------------------------------------------------------------------------------
def _check(card: dict, path, key: str, field: Field) -> None:
    """CardError unless ``card[key]`` is what ``field`` says (present when required)."""
    value = card.get(key)
    if value is None:
        if field.nullable and key in card:
            return
        if field.required:
            raise CardError(f"{path}: key {key!r} missing or not {field.kind.name}")
        if key not in card:
            return
    if not field.kind.is_type(value):
        raise CardError(f"{path}: key {key!r} missing or not {field.kind.name}"
                        f"{' or null' if field.nullable else ''}, got {value!r}")
    if not field.kind.obeys(value):
        raise CardError(f"{path}: {key} must be {field.kind.rule}, got {value!r}")


def require(card: dict, path, keys: Iterable[str], method: str | None = None) -> None:
    """CardError unless each of ``keys`` is in ``card`` with the kind the schema of
    ``method`` (default the card's) gives it: what a block needs of a card it runs."""
    fields = FIELDS[method or card["method"]]
    for key in keys:
        _check(card, path, key, dataclasses.replace(fields[key], required=True, nullable=False))


def check_present(card: dict, path, keys: Iterable[str], method: str | None = None) -> None:
    """CardError unless each of ``keys`` that ``card`` has (not null) is of its schema kind."""
    fields = FIELDS[method or card["method"]]
    for key in keys:
        if card.get(key) is not None:
            _check(card, path, key, fields[key])


def check_runtime(card: dict, path) -> None:
    """CardError unless ``card`` has what every bundle needs: model_id, method and files, an
    image_size that is [H, W] or null, and a schema_version (when given) this module reads."""
    for key, kind in _RUNTIME_COMMON.items():
        _check(card, path, key, Field(kind))
    _check(card, path, "image_size", dataclasses.replace(_IDENTITY["image_size"], required=False))
    version = card.get("schema_version")
    if version is not None and not (_is_int(version) and 1 <= version <= SCHEMA_VERSION):
        raise CardError(f"{path}: schema_version {version!r} is not one this gr-semcom reads "
                        f"(1 .. {SCHEMA_VERSION}); a newer gr-semcom wrote it")


def validate(card: dict, path) -> dict:
    """``card`` when it follows this schema (version ``SCHEMA_VERSION``) in full: every key
    known for its method and of its kind, the required ones present, ``measured`` in the one
    shape. CardError naming ``path`` and the key otherwise."""
    if not isinstance(card, dict):
        raise CardError(f"{path} is not a JSON object")
    _check(card, path, "schema_version", _IDENTITY["schema_version"])
    if card["schema_version"] != SCHEMA_VERSION:
        raise CardError(f"{path}: schema_version must be {SCHEMA_VERSION}, got {card['schema_version']!r} "
                        f"(see gnuradio.semcom.card for what changed)")
    _check(card, path, "method", _IDENTITY["method"])
    fields = FIELDS[card["method"]]
    unknown = [key for key in card if key not in fields]
    if unknown:
        raise CardError(f"{path}: key {unknown[0]!r} is not in the {card['method']} card schema "
                        f"(version {SCHEMA_VERSION})")
    for key, field in fields.items():
        _check(card, path, key, field)
    if card["method"] == "bitsemcom":
        fixed = card["image_size"] is not None
        for key in ("bit_grid", "n_bits", "train_channel_uses"):
            if (card[key] is not None) != fixed:
                raise CardError(f"{path}: {key} must be {'given' if fixed else 'null'} for "
                                f"{'a fixed-size' if fixed else 'a fully convolutional'} model")
    if card["method"] != "dhd" and card["fully_convolutional"] != (card["image_size"] is None):
        raise CardError(f"{path}: fully_convolutional must be {card['image_size'] is None} "
                        f"when image_size is {card['image_size']!r}")
    for key, record in card.get("measured", {}).items():
        _check_record(record, f"{path}: measured.{key}")
    return card


def _check_record(record, where: str) -> None:
    """CardError unless ``record`` is one measured record in the shape of ``MEASURED``."""
    if not isinstance(record, dict):
        raise CardError(f"{where} must be a dict, got {record!r}")
    images = record.get("images")
    if not (isinstance(images, list) and images and all(isinstance(s, str) for s in images)):
        raise CardError(f"{where}.images must be a list of image set names, got {images!r}")
    if not isinstance(record.get("command"), str):
        raise CardError(f"{where}.command must be the measuring command, got {record.get('command')!r}")
    if "n_images" in record and not (_is_int(record["n_images"]) and record["n_images"] > 0):
        raise CardError(f"{where}.n_images must be an int > 0, got {record['n_images']!r}")
    links = {key: value for key, value in record.items() if key not in RECORD_KEYS}
    if not links:
        raise CardError(f"{where} has no results (no '<modulation>/<channel>' key)")
    for link, metrics in links.items():
        if "/" not in link or not isinstance(metrics, dict):
            raise CardError(f"{where}: {link!r} is not a '<modulation>/<channel>' key with a dict of metrics")
        for metric, values in metrics.items():
            if metric == "channel_uses":
                if not _is_number(values):
                    raise CardError(f"{where}.{link}.channel_uses must be a number, got {values!r}")
                continue
            if not (isinstance(values, dict) and values and all(
                    _is_snr(snr) and _is_number(value) for snr, value in values.items())):
                raise CardError(f"{where}.{link}.{metric} must map SNRs in dB (\"10\") to numbers, got {values!r}")


def _is_snr(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# -- reading and writing -----------------------------------------------------------------------------
def read(path) -> dict:
    """The JSON object in ``path`` (a card.json), unchecked but for being an object:
    CardError when it is not valid JSON or not an object, OSError when it cannot be read."""
    path = pathlib.Path(path)
    try:
        card = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CardError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(card, dict):
        raise CardError(f"{path} is not a JSON object")
    return card


def ordered(card: dict) -> dict:
    """``card`` with its keys in schema order (the method's ``FIELDS``), unknown ones last."""
    fields = FIELDS.get(card.get("method"), {})
    return {**{key: card[key] for key in fields if key in card},
            **{key: value for key, value in card.items() if key not in fields}}


def write(path, card: dict) -> pathlib.Path:
    """Validate ``card`` and write it to ``path`` (a card.json): keys in schema order, two-space
    indent, a trailing newline. Returns the path."""
    path = pathlib.Path(path)
    validate(card, path)
    path.write_text(json.dumps(ordered(card), indent=2) + "\n")
    return path


def record_results(card_path, key: str, rows: Iterable[dict], command: str, images: list[str],
                   n_images: int | None = None) -> dict:
    """Store measured results in the card at ``card_path`` under ``measured.<key>`` (replacing
    what was there) in the one shape of ``MEASURED``, and return that record.

    rows: one dict per link and SNR: {"link": "<modulation>/<channel>[/<resampling>]",
    "snr_db": float, "<metric>": float or None, ..., "channel_uses": float (optional)};
    metrics that are None or NaN are left out, values are rounded (PSNR to 0.01 dB, channel
    uses to 0.1, others to 1e-4). command: the command that measured them; images: the image
    sets sent; n_images: images per point, when known."""
    card = read(card_path)
    record: dict = {"images": list(images), "command": command}
    if n_images is not None:
        record["n_images"] = n_images
    for row in rows:
        link = record.setdefault(row["link"], {})
        snr = f"{row['snr_db']:g}"
        for metric, value in row.items():
            if metric in ("link", "snr_db") or value is None or value != value:
                continue
            rounded = round(value, _DECIMALS.get(metric, _DEFAULT_DECIMALS))
            if metric == "channel_uses":
                link[metric] = rounded
            else:
                link.setdefault(metric, {})[snr] = rounded
    card.setdefault("measured", {})[key] = record
    write(card_path, card)
    return record
