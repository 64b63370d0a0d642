"""Export a training checkpoint to a model bundle (encoder.onnx, decoder.onnx, weights.pt, card.json).

    python -m semcom_train.export --checkpoint runs/cifar10_r6/checkpoint.pt --out models/deepjscc_cifar10_r6

A decode-and-forward model (``deepjscc_cifar10_r6_df<r>``) exports every hop's
encoder and decoder as ``encoder_hop<k>.onnx`` / ``decoder_hop<k>.onnx`` (roles
"encoder_hop<k>", "decoder_hop<k>"), k = 0 .. r, and the card's ``hops`` = r + 1:
jscc_encoder runs hop 0's encoder, relay_df k hop k - 1's decoder and hop k's
encoder, jscc_decoder hop r's decoder.

The card's ``model_id`` names the bundle (``--model-id``, default the
registry name) and ``architecture`` the registry entry that builds its network
(``models.load_bundle``), so one architecture trained two ways ships as two
models. The card records the model's geometry (what the blocks need), the training
settings from the checkpoint, and whatever ``--card-extra`` JSON adds (measured
quality is added by ``semcom_train.evaluate --update-card``).

Bit-level models (``method`` "bitsemcom") export encoder.onnx: ``image`` (N, 3, H, W)
float32 in [0, 1] -> ``probs`` (N, n_bits) float32 P(b=1), and decoder.onnx:
``posteriors`` (N, n_bits) float32 P(b=1|r) -> ``image``. Their card keys, beside
model_id, version, files and the training record (dataset ... train_command)::

    method             "bitsemcom"
    image_size         [H, W] (fixed size) or null (fully_convolutional true: the
                       decoder takes the (N, B, H/4, W/4) grid, see posterior_layout)
    downsampling       4; latent_channels = bit_channels (the bit grid's, for bundle geometry)
    bit_channels       B, bits per latent position
    bit_grid           [B, H/4, W/4]: posteriors reshape to it for the decoder (C order)
    n_bits             bits per image = B * H/4 * W/4 (1024 for CIFAR-10); null if fully convolutional
    bit_order          how bits are laid out and grouped into symbols (MSB first, zero padding)
    bit_mapper         "gumbel" | "uniform" | "hard_sigmoid_ste"; ablation: null or the latter two
    inference_bits     "sample" (b ~ Bernoulli(probs), the method) | "threshold" (b = probs > 0.5)
    onnx_io            {"encoder": {"input", "output"}, "decoder": {...}} tensor names
    stage              "error_free" | "noisy": the channel the weights last trained over
    channel            "error_free" | "awgn" | "rayleigh" (block fading, coherent: csi)
    train_modulation   name in gnuradio.semcom.modulations.MODULATIONS, e.g. "qpsk"
    train_constellation  the GNU Radio expression of that constellation
    train_bits_per_symbol, train_channel_uses, bandwidth_ratio (channel uses / 3HW)
    train_snr_db       [low, high] dB; snr_draw "batch" | "image"
    temperature        [start, end] of the Gumbel-softmax temperature
    init               checkpoint the run started from (stage 2: stage 1's), or null
    power, demapping, normalization: conventions, in words

Any constellation works at run time: n_symbols = ceil(n_bits / bits_per_symbol).
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np
import onnx
import torch

from semcom_tools import datasets

from semcom_train import bitsemcom, contrastive, data, models, variational

CARD_VERSION = 1
_DATASETS = {"cifar10": "CIFAR-10 train (JPEG q75 re-encoding), 50,000 images, random flips",
             "bsds": "BSDS500 train, 200 photos, random crops with flips"}


def _export(module: torch.nn.Module, example: torch.Tensor, path: pathlib.Path, input_name: str,
            output_name, model_id: str, role: str, dynamic: dict | None = None) -> None:
    """``output_name``: a tensor name, or a tuple of names for a module with several outputs
    (image-shaped ones get the height and width axes, others only the batch axis)."""
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


def card_for(name: str, model_id: str, train_args: dict, step: int, seconds: float) -> dict:
    config = models.REGISTRY[name]
    hops = config.relays + 1 if isinstance(config, models.MultiHopConfig) else 1
    config = config.hop if isinstance(config, models.HopConfig) else config  # the DeepJSCC geometry
    return {
        "model_id": model_id,
        "architecture": name,
        "method": "deepjscc",
        "version": CARD_VERSION,
        "files": {"torch": "weights.pt"},  # the ONNX files are added as they are written
        "hops": hops,
        "image_size": list(config.image_size) if config.image_size else None,
        "fully_convolutional": config.image_size is None,
        "downsampling": models.DOWNSAMPLING,
        "latent_channels": config.latent_channels,
        "width": config.width,
        "bandwidth_ratio": config.bandwidth_ratio,
        "symbol_order": "latent (C, H/4, W/4) flattened in C order; symbol k = x[2k] + j x[2k+1]",
        "normalization": "input RGB uint8 / 255 in [0, 1]; output sigmoid in [0, 1]",
        "power": "unit average power per complex symbol, per image",
        "channel": train_args["channel"] + (f", on each of the {hops} hops" if hops > 1 else ""),
        "train_snr_db": [train_args["snr_low"], train_args["snr_high"]],
        "loss": ("mse" if not train_args.get("hash_model") else
                 f"mse + {train_args['hash_weight']:g} x (1 - cos(H(S), H(S_hat))), H = {train_args['hash_model']} frozen"),
        **_training_fields(train_args, step, seconds),
    }


def _training_fields(train_args: dict, step: int, seconds: float) -> dict:
    return {
        "dataset": _DATASETS[train_args["data"]],
        "crop": train_args["crop"] if train_args["data"] == "bsds" else None,
        "batch_size": train_args["batch_size"],
        "steps": step,
        "training_seconds": round(seconds),
        "training_hardware": "2 CPU cores, torch threads 1",
        "train_command": "python -m semcom_train.train " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in train_args.items()
            if v is not None and k not in ("data_root", "threads")),
    }


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
    if isinstance(model, bitsemcom.BitSemCom):
        _write_card(out, _export_bitsemcom(model, name, model_id, out, state))
        return out
    image = torch.rand(1, 3, *(model.config.image_size or (64, 64)))
    card = card_for(name, model_id, state["args"], state["step"], state["seconds"])
    encoder_outputs, decoder_outputs = "latent", "image"
    if isinstance(model, models.MultiHopDeepJSCC):  # every hop's pair, its role named by its hop
        pairs = {f"hop{hop}": pair for hop, pair in enumerate(zip(model.encoders, model.decoders))}
    elif isinstance(model, variational.VariationalDeepJSCC):
        card.update(_variational_fields(model, state["args"]))
        encoder = model.encoder if card["variance"] else variational.MeanEncoder(model.encoder)
        encoder_outputs = ("latent", "variance") if card["variance"] else "latent"
        pairs = {"": (encoder, model.decoder)}
    elif isinstance(model, contrastive.ContrastiveDeepJSCC):
        card.update(_contrastive_fields(model, state["args"]))
        pairs, decoder_outputs = {"": (model.encoder, contrastive.ReceiverHead(model))}, ("image", "class_probs")
    else:
        pairs = {"": (model.encoder, model.decoder)}
    for hop, (encoder, decoder) in pairs.items():
        roles = {kind: f"{kind}_{hop}" if hop else kind for kind in ("encoder", "decoder")}
        with torch.no_grad():
            latent = encoder(image)
        latent = latent[0] if isinstance(latent, tuple) else latent
        _export(encoder, image, out / f"{roles['encoder']}.onnx", "image", encoder_outputs, model_id, roles["encoder"])
        _export(decoder, latent, out / f"{roles['decoder']}.onnx", "latent", decoder_outputs, model_id,
                roles["decoder"])
        card["files"].update({role: f"{role}.onnx" for role in roles.values()})
    torch.save(model.state_dict(), out / "weights.pt")
    _write_card(out, card)
    return out


KNOWLEDGE_BASE_IMAGES = 10_000  # training images the knowledge-base variance is the mean over


def _variational_fields(model: "variational.VariationalDeepJSCC", train_args: dict) -> dict:
    """Card keys of a variational model: objective, whether the encoder gives a variance, and
    for vae / vscc the knowledge-base variance (per latent channel, over training images)."""
    objective = train_args["objective"]
    fields = {"objective": objective, "variance": objective != "ae", "cmc": train_args.get("cmc"),
              "kl_weight": train_args["kl_weight"],
              "loss": {"ae": "mse", "vae": "mse + kl_weight x KL(N(mu, s1^2) || N(0, 1))",
                       "vscc": "mse + kl_weight x KL(N(mu, s1^2 + s2^2) || N(0, s2^2 + cmc))"}[objective],
              "variance_units": "per real latent element, signal power 0.5 per real element (unit per complex symbol)"}
    if fields["variance"]:
        pictures, described = _training_images(train_args)
        fields["knowledge_base_variance"] = variational.knowledge_base_variance(model, pictures)
        fields["knowledge_base"] = f"mean encoder variance per latent channel over {described}"
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


def _contrastive_fields(model: "contrastive.ContrastiveDeepJSCC", train_args: dict) -> dict:
    """Card keys of a contrastive model: its classes (the decoder's class_probs order) and loss."""
    _, _, classes = data.load_cifar10("test")
    if tuple(classes) != model.config.classes:
        raise ValueError(f"the data set's classes {classes} are not the model's {model.config.classes}")
    weight, tau = train_args["scl_weight"], train_args["temperature"]
    return {"classes": list(model.config.classes), "scl_weight": weight, "temperature": tau,
            "loss": f"(1 - {weight:g}) x squared error per image + {weight:g} x supervised contrastive (tau {tau:g}) "
                    f"+ classifier cross-entropy (on the received latent, detached)" if weight else
                    "squared error per image + classifier cross-entropy (on the received latent, detached): D-JSCC"}


def _write_card(out: pathlib.Path, card: dict) -> None:
    card_path = out / "card.json"
    if card_path.exists():  # keep measured results of an earlier export of the same run
        old = json.loads(card_path.read_text())
        card.update({k: v for k, v in old.items() if k.startswith("measured")})
    card_path.write_text(json.dumps(card, indent=2) + "\n")


def _export_bitsemcom(model: "bitsemcom.BitSemCom", name: str, model_id: str, out: pathlib.Path,
                      state: dict) -> dict:
    """encoder.onnx (image -> probs), decoder.onnx (posteriors -> image), weights.pt; returns the card."""
    config = model.config
    image = torch.rand(1, 3, *(config.image_size or (64, 64)))
    with torch.no_grad():
        probs = model.encode_probs(image)
    if config.image_size:
        posteriors, image_axes, bit_axes = probs, {0: "batch"}, {0: "batch"}
    else:
        posteriors = probs.reshape(1, *config.grid_for(*image.shape[2:]))
        image_axes, bit_axes = {0: "batch", 2: "height", 3: "width"}, {0: "batch", 2: "grid_height", 3: "grid_width"}
    _export(bitsemcom.ProbsEncoder(model), image, out / "encoder.onnx", "image", "probs", model_id, "encoder",
            {"image": image_axes, "probs": {0: "batch", 1: "n_bits"}})
    _export(bitsemcom.PosteriorDecoder(model), posteriors, out / "decoder.onnx", "posteriors", "image", model_id,
            "decoder", {"posteriors": bit_axes, "image": image_axes})
    torch.save(model.state_dict(), out / "weights.pt")
    return {"model_id": model_id, "architecture": name, "version": CARD_VERSION,
            "files": {"encoder": "encoder.onnx", "decoder": "decoder.onnx", "torch": "weights.pt"},
            **bitsemcom.card_fields(model.config, state["args"]),
            **_training_fields(state["args"], state["step"], state["seconds"])}


if __name__ == "__main__":
    main()
