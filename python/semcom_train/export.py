#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Export a training checkpoint to a model bundle (ONNX files, weights.pt, card.json).

    python -m semcom_train.export --checkpoint runs/cifar10_r6/checkpoint.pt --out models/deepjscc_cifar10_r6

Each network class has an exporter (``EXPORTERS``, by model class): it writes the
bundle's ONNX files with ``to_onnx`` (ONNX plus the ``semcom.model_id`` and
``semcom.role`` metadata every bundle file carries) and gives the card's
method-specific keys; ``card_for`` adds the identity and the training record, and
``gnuradio.semcom.card`` checks the whole against the card schema (where every key is
described) as it writes it. Measured quality is added later by
``semcom_train.evaluate --update-card`` or the GNU Radio harness.

- DeepJSCC: encoder.onnx ``image`` (N, 3, H, W) float32 in [0, 1] -> ``latent``
  (N, C, H/4, W/4); decoder.onnx ``latent`` -> ``image``. A decode-and-forward model
  (``deepjscc_cifar10_r6_df<r>``) exports every hop's pair as ``encoder_hop<k>.onnx`` /
  ``decoder_hop<k>.onnx`` (roles "encoder_hop<k>", "decoder_hop<k>"), k = 0 .. r, and
  the card's ``hops`` = r + 1: jscc_encoder runs hop 0's encoder, relay_df k hop k - 1's
  decoder and hop k's encoder, jscc_decoder hop r's decoder.
- variational (vae, vscc): the encoder also gives ``variance``; the card gets the
  knowledge-base variance per latent channel over training images.
- contrastive: decoder.onnx also gives ``class_probs`` (N, classes) (``ReceiverHead``).
- BitSemCom: encoder.onnx ``image`` -> ``probs`` (N, n_bits) float32 P(b=1);
  decoder.onnx ``posteriors`` P(b=1|r) -> ``image``, (N, n_bits) for fixed-size
  models, the (N, B, H/4, W/4) grid for fully convolutional ones. Any constellation
  works at run time: n_symbols = ceil(n_bits / bits_per_symbol).

The card's ``model_id`` names the bundle (``--model-id``, default the registry name) and
``architecture`` the registry entry that builds its network (``models.load_bundle``), so
one architecture trained two ways ships as two models.
"""
from __future__ import annotations

import argparse
import pathlib

import numpy as np
import onnx
import torch
from torch import nn

from gnuradio.semcom import card, modulations
from semcom_tools import datasets

from . import bitsemcom, channels, contrastive, data, deepjscc, models, variational

_DATASETS = {"cifar10": "CIFAR-10 train (JPEG q75 re-encoding), 50,000 images, random flips",
             "bsds": "BSDS500 train, 200 photos, random crops with flips"}
KNOWLEDGE_BASE_IMAGES = 10_000  # training images the knowledge-base variance is the mean over


def to_onnx(module: nn.Module, example: torch.Tensor, path: pathlib.Path, input_name: str, output_name,
            model_id: str, role: str, dynamic: dict | None = None) -> None:
    """Export ``module`` run on ``example`` to ONNX file ``path`` (opset 17) with the metadata
    ``semcom.model_id`` and ``semcom.role`` the runtime checks. ``output_name``: a tensor name,
    or a tuple of names for a module with several outputs. ``dynamic``: dynamic axes by tensor
    name; by default image-shaped tensors ("image", "latent", "variance") get the batch, height
    and width axes, others the batch axis only."""
    outputs = [output_name] if isinstance(output_name, str) else list(output_name)
    axes = {0: "batch", 2: "height", 3: "width"}
    dynamic = dynamic or {input_name: axes, **{name: axes if name in ("image", "latent", "variance") else {0: "batch"}
                                               for name in outputs}}
    torch.onnx.export(module, (example,), str(path), input_names=[input_name], output_names=outputs,
                      dynamic_axes=dynamic, opset_version=17, dynamo=False)
    proto = onnx.load(str(path))
    for key, value in (("semcom.model_id", model_id), ("semcom.role", role)):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


# -- what the ONNX files run, where it is not a network's own module ----------------------------------
class MeanEncoder(nn.Module):
    """encoder.onnx of a variational model trained as an AE: the mean only ("latent")."""

    def __init__(self, encoder: variational.VariationalEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, image):
        return self.encoder(image)[0]


class ReceiverHead(nn.Module):
    """decoder.onnx of a contrastive model: received latent -> (image, class probabilities)."""

    def __init__(self, model: contrastive.ContrastiveDeepJSCC):
        super().__init__()
        self.decoder, self.classifier = model.decoder, model.classifier

    def forward(self, latent):
        return self.decoder(latent), torch.softmax(self.classifier(latent), dim=1)


class ProbsEncoder(nn.Module):
    """encoder.onnx of BitSemCom: image (N, 3, H, W) float32 in [0, 1] -> probs (N, n_bits) float32."""

    def __init__(self, model: bitsemcom.BitSemCom):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.encode_probs(image)


class PosteriorDecoder(nn.Module):
    """decoder.onnx of BitSemCom: posteriors float32 P(b=1|r) -> image (N, 3, H, W) in [0, 1]; the
    posteriors are (N, n_bits) for fixed-size models, the (N, B, H/4, W/4) grid for fully
    convolutional ones (a flat vector does not say the image's size)."""

    def __init__(self, model: bitsemcom.BitSemCom):
        super().__init__()
        self.model = model

    def forward(self, posteriors):
        if self.model.config.image_size is None:
            return self.model.decoder(2.0 * posteriors - 1.0)
        return self.model.decode_posteriors(posteriors)


# -- exporters: (model, model_id, out folder, training options) -> the card's method keys ----------
def _export_pairs(pairs: dict, image_size, out: pathlib.Path, model_id: str, encoder_outputs="latent",
                  decoder_outputs="image") -> dict:
    """Write encoder and decoder ONNX files of each hop of ``pairs`` ({"": (encoder, decoder)}
    for one hop, {"hop<k>": ...} for several); returns the card's files {role: file name}."""
    image = torch.rand(1, 3, *(image_size or (64, 64)))
    files = {}
    for hop, (encoder, decoder) in pairs.items():
        roles = {kind: f"{kind}_{hop}" if hop else kind for kind in ("encoder", "decoder")}
        with torch.no_grad():
            latent = encoder(image)
        latent = latent[0] if isinstance(latent, tuple) else latent  # a variational encoder's mean
        to_onnx(encoder, image, out / f"{roles['encoder']}.onnx", "image", encoder_outputs, model_id, roles["encoder"])
        to_onnx(decoder, latent, out / f"{roles['decoder']}.onnx", "latent", decoder_outputs, model_id,
                roles["decoder"])
        files.update({role: f"{role}.onnx" for role in roles.values()})
    return files


def deepjscc_fields(hop: deepjscc.ModelConfig, hops: int, train_args: dict) -> dict:
    """The card keys of a DeepJSCC model of ``hops`` hops of shape ``hop``."""
    return {
        "method": "deepjscc",
        "hops": hops,
        "image_size": list(hop.image_size) if hop.image_size else None,
        "fully_convolutional": hop.image_size is None,
        "downsampling": deepjscc.DOWNSAMPLING,
        "latent_channels": hop.latent_channels,
        "width": hop.width,
        "bandwidth_ratio": hop.bandwidth_ratio,
        "symbol_order": "latent (C, H/4, W/4) flattened in C order; symbol k = x[2k] + j x[2k+1]",
        "normalization": "input RGB uint8 / 255 in [0, 1]; output sigmoid in [0, 1]",
        "power": "unit average power per complex symbol, per image",
        "channel": train_args["channel"] + (f", on each of the {hops} hops" if hops > 1 else ""),
        "train_snr_db": [train_args["snr_low"], train_args["snr_high"]],
        "loss": ("mse" if not train_args.get("hash_model") else
                 f"mse + {train_args['hash_weight']:g} x (1 - cos(H(S), H(S_hat))), H = {train_args['hash_model']} frozen"),
    }


def export_deepjscc(model: deepjscc.DeepJSCC, model_id: str, out: pathlib.Path, train_args: dict) -> dict:
    files = _export_pairs({"": (model.encoder, model.decoder)}, model.config.image_size, out, model_id)
    return {**deepjscc_fields(model.config, 1, train_args), "files": files}


def export_multihop(model: deepjscc.MultiHopDeepJSCC, model_id: str, out: pathlib.Path, train_args: dict) -> dict:
    """Every hop's pair, its role named by its hop."""
    pairs = {f"hop{hop}": pair for hop, pair in enumerate(zip(model.encoders, model.decoders))}
    files = _export_pairs(pairs, model.config.image_size, out, model_id)
    return {**deepjscc_fields(model.config.hop, model.config.relays + 1, train_args), "files": files}


def export_variational(model: variational.VariationalDeepJSCC, model_id: str, out: pathlib.Path,
                       train_args: dict) -> dict:
    """Card keys of a variational model: objective, whether the encoder gives a variance, and
    for vae / vscc the knowledge-base variance (per latent channel, over training images)."""
    objective = train_args["objective"]
    fields = {**deepjscc_fields(model.config.hop, 1, train_args),
              "objective": objective, "variance": objective != "ae", "cmc": train_args.get("cmc"),
              "kl_weight": train_args["kl_weight"],
              "loss": {"ae": "mse", "vae": "mse + kl_weight x KL(N(mu, s1^2) || N(0, 1))",
                       "vscc": "mse + kl_weight x KL(N(mu, s1^2 + s2^2) || N(0, s2^2 + cmc))"}[objective],
              "variance_units": "per real latent element, signal power 0.5 per real element (unit per complex symbol)"}
    if fields["variance"]:
        pictures, described = _training_images(train_args)
        fields["knowledge_base_variance"] = variational.knowledge_base_variance(model, pictures)
        fields["knowledge_base"] = f"mean encoder variance per latent channel over {described}"
        pair, outputs = (model.encoder, model.decoder), ("latent", "variance")
    else:
        pair, outputs = (MeanEncoder(model.encoder), model.decoder), "latent"
    fields["files"] = _export_pairs({"": pair}, model.config.image_size, out, model_id, encoder_outputs=outputs)
    return fields


def _training_images(train_args: dict) -> tuple[torch.Tensor, str]:
    """(up to KNOWLEDGE_BASE_IMAGES images of the run's training set (N, 3, H, W), what they are)."""
    root = pathlib.Path(train_args["data_root"]) if train_args.get("data_root") else None
    if train_args["data"] == "cifar10":
        train, _, _ = data.load_cifar10("train", root)
        return data.to_tensor(train[:KNOWLEDGE_BASE_IMAGES]), \
            f"the first {KNOWLEDGE_BASE_IMAGES} CIFAR-10 training images"
    crop = train_args["crop"]
    pictures = data.load_folder((root or datasets.dataset_root()) / "bsds500" / "train")[:KNOWLEDGE_BASE_IMAGES]
    return data.to_tensor(np.stack([p[:crop, :crop] for p in pictures])), \
        f"the top-left {crop}x{crop} crops of {len(pictures)} BSDS500 training photos"


def export_contrastive(model: contrastive.ContrastiveDeepJSCC, model_id: str, out: pathlib.Path,
                       train_args: dict) -> dict:
    """Card keys of a contrastive model: its classes (the decoder's class_probs order) and loss."""
    _, _, classes = data.load_cifar10("test")
    if tuple(classes) != model.config.classes:
        raise ValueError(f"the data set's classes {classes} are not the model's {model.config.classes}")
    weight, tau = train_args["scl_weight"], train_args["temperature"]
    files = _export_pairs({"": (model.encoder, ReceiverHead(model))}, model.config.image_size, out, model_id,
                          decoder_outputs=("image", "class_probs"))
    return {**deepjscc_fields(model.config.hop, 1, train_args), "files": files,
            "classes": list(model.config.classes), "scl_weight": weight, "temperature": tau,
            "loss": f"(1 - {weight:g}) x squared error per image + {weight:g} x supervised contrastive (tau {tau:g}) "
                    f"+ classifier cross-entropy (on the received latent, detached)" if weight else
                    "squared error per image + classifier cross-entropy (on the received latent, detached): D-JSCC"}


def export_bitsemcom(model: bitsemcom.BitSemCom, model_id: str, out: pathlib.Path, train_args: dict) -> dict:
    """encoder.onnx (image -> probs), decoder.onnx (posteriors -> image)."""
    config = model.config
    image = torch.rand(1, 3, *(config.image_size or (64, 64)))
    with torch.no_grad():
        probs = model.encode_probs(image)
    if config.image_size:
        posteriors, image_axes, bit_axes = probs, {0: "batch"}, {0: "batch"}
    else:
        posteriors = probs.reshape(1, *config.grid_for(*image.shape[2:]))
        image_axes, bit_axes = {0: "batch", 2: "height", 3: "width"}, {0: "batch", 2: "grid_height", 3: "grid_width"}
    to_onnx(ProbsEncoder(model), image, out / "encoder.onnx", "image", "probs", model_id, "encoder",
            {"image": image_axes, "probs": {0: "batch", 1: "n_bits"}})
    to_onnx(PosteriorDecoder(model), posteriors, out / "decoder.onnx", "posteriors", "image", model_id,
            "decoder", {"posteriors": bit_axes, "image": image_axes})
    return {**bitsemcom_fields(config, train_args), "files": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"}}


def bitsemcom_fields(config: bitsemcom.BitSemComConfig, train_args: dict) -> dict:
    """The card keys of a bit-level model of ``config`` trained with ``train_args`` (the
    options of ``semcom_train.train``)."""
    modulation, stage = train_args["modulation"], train_args["stage"]
    k = channels.constellation(modulation).bits_per_symbol
    fixed = config.image_size is not None
    return {
        "method": "bitsemcom",
        "image_size": list(config.image_size) if fixed else None,
        "fully_convolutional": not fixed,
        "downsampling": deepjscc.DOWNSAMPLING,
        "latent_channels": config.bit_channels,  # channels of the bit grid, for bundle geometry
        "bit_channels": config.bit_channels,
        "bit_grid": list(config.grid) if fixed else None,
        "n_bits": config.n_bits if fixed else None,
        "width": config.width,
        "bit_mapper": config.bit_mapper,
        "ablation": None if config.bit_mapper == "gumbel" else config.bit_mapper,
        "inference_bits": config.decision,
        "onnx_io": {"encoder": {"input": "image", "output": "probs"},
                    "decoder": {"input": "posteriors", "output": "image"}},
        "posterior_layout": "(N, n_bits)" if fixed else "(N, B, H/4, W/4) grid, image padded to multiples of 4",
        "bit_order": "bit i = (b, y, x) of the (B, H/4, W/4) grid flattened in C order; symbols take "
                     "bits_per_symbol consecutive bits MSB first, the last zero-padded (demapping.map_bits)",
        "normalization": "input RGB uint8 / 255 in [0, 1]; output sigmoid in [0, 1]",
        "power": "constellation points scaled to unit average power (demapping.Constellation)",
        "demapping": "exact (log-sum-exp) posteriors P(b=1|r) = sigmoid(demapping.llrs)",
        "stage": stage,
        "channel": "error_free" if stage == "error_free" else train_args["channel"],
        "csi": "coherent: h known at the receiver" if train_args["channel"] == "rayleigh" else None,
        "train_modulation": modulation,
        "train_constellation": modulations.MODULATIONS[modulation][0],
        "train_bits_per_symbol": k,
        "train_channel_uses": config.channel_uses(k),
        "bandwidth_ratio": config.bandwidth_ratio(k),
        "train_snr_db": [train_args["snr_low"], train_args["snr_high"]],
        "snr_draw": train_args["snr_per"],
        "temperature": [train_args["tau"], train_args["tau_end"]] if config.bit_mapper == "gumbel" else None,
        "init": train_args["init"],
    }


# model class -> its exporter
EXPORTERS = {
    deepjscc.DeepJSCC: export_deepjscc,
    deepjscc.MultiHopDeepJSCC: export_multihop,
    variational.VariationalDeepJSCC: export_variational,
    contrastive.ContrastiveDeepJSCC: export_contrastive,
    bitsemcom.BitSemCom: export_bitsemcom,
}


# -- the card -------------------------------------------------------------------------------------------
def card_for(name: str, model_id: str, fields: dict, state: dict) -> dict:
    """The card of architecture ``name`` exported as ``model_id``: the exporter's ``fields``
    (method keys and ONNX files), the torch weights and the training record of checkpoint
    ``state``."""
    train_args = state["args"]
    return {
        "schema_version": card.SCHEMA_VERSION,
        "model_id": model_id,
        "architecture": name,
        **fields,
        "files": {**fields["files"], "torch": "weights.pt"},
        "dataset": _DATASETS[train_args["data"]],
        "crop": train_args["crop"] if train_args["data"] == "bsds" else None,
        "batch_size": train_args["batch_size"],
        "steps": state["step"],
        "training_seconds": round(state["seconds"]),
        "training_hardware": "2 CPU cores, torch threads 1",
        "train_command": "python -m semcom_train.train " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in train_args.items()
            if v is not None and k not in ("data_root", "threads")),
    }


def _write_card(out: pathlib.Path, bundle_card: dict) -> None:
    card_path = out / "card.json"
    if card_path.exists():  # keep measured results of an earlier export of the same run
        earlier = card.read(card_path)
        if "measured" in earlier:
            bundle_card["measured"] = earlier["measured"]
    card.write(card_path, bundle_card)


def main(argv=None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--out", required=True, help="bundle folder to write")
    parser.add_argument("--model-id", help="the bundle's model id (default: the architecture's registry name); "
                        "names a variant, e.g. the same network trained over another channel")
    args = parser.parse_args(argv)
    state = torch.load(args.checkpoint, weights_only=True, map_location="cpu")  # never run a pickle
    name = state["model_name"]
    model_id = args.model_id or name
    if not model_id or "/" in model_id or model_id != model_id.strip():
        parser.error(f"--model-id must be a plain name, got {model_id!r}")
    model = models.build(name)
    model.load_state_dict(state["model"])
    model.eval()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fields = EXPORTERS[type(model)](model, model_id, out, state["args"])
    torch.save(model.state_dict(), out / "weights.pt")
    _write_card(out, card_for(name, model_id, fields, state))
    return out


if __name__ == "__main__":
    main()
