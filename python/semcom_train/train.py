#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Train a registered model (DeepJSCC or BitSemCom); resumes from its checkpoint.

    python -m semcom_train.train --model deepjscc_cifar10_r6 --data cifar10 \\
        --steps 60000 --out runs/cifar10_r6

BitSemCom trains in two stages: ``--stage error_free`` (the decoder gets the
bits), then ``--stage noisy --init <stage 1>/checkpoint.pt`` over ``--channel``
with ``--modulation`` at SNRs in [--snr-low, --snr-high] (the paper: -3..6 dB).

The checkpoint ``<out>/checkpoint.pt`` is written every ``--checkpoint-every``
steps and at the end; running the same command again continues from it.
``<out>/log.csv`` records step, elapsed seconds, training loss, validation
PSNR at ``--val-snr`` dB and (contrastive models; else nan) the classifier's validation accuracy.

``--hash-model <DHD bundle>`` trains DeepJSCC-DHD: MSE + ``--hash-weight`` x
(1 - cos(H(S), H(S_hat))) with the hash network H frozen (``semcom_train.dhd``).

Variational models (``vscc_*``, ``semcom_train.variational``) train with ``--objective``
ae, vae or vscc at one SNR (``--snr-low`` = ``--snr-high``, over AWGN), vscc with the channel
matching constant ``--cmc`` (default per SNR, ``variational.DEFAULT_CMC``) and all with
``--kl-weight``. Contrastive models (``cjscc_*``, ``semcom_train.contrastive``) train with
``--scl-weight`` lambda and ``--temperature`` tau (lambda 0: the D-JSCC baseline); the log adds
the classifier's validation accuracy.

Devices, precision and many processes (``semcom_train.parallel``): ``--device`` cpu, cuda or
auto, ``--precision`` fp32, bf16 or fp16 (autocast), ``--workers`` DataLoader processes making
the batches. Started by ``torchrun --nproc_per_node N -m semcom_train.train ...`` it trains data
parallel (DistributedDataParallel, NCCL on GPUs, gloo on CPU): ``--batch-size`` is the global
batch, each rank takes its share of the same batch, and only rank 0 validates, logs and writes
the checkpoint. Checkpoints hold the random state (data draws, torch), so a resumed run goes on
exactly as the uninterrupted one.

How each kind of model trains (its own options, channel, loss and per-step state) is its
``Family`` in ``FAMILIES``, by config class; the models themselves are ``models.REGISTRY``'s.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import pathlib
import time
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from gnuradio.semcom import modulations
from semcom_tools import datasets

from . import bitsemcom, channels, contrastive, data, deepjscc, dhd, models, parallel, runs, variational


# -- channels: (args, snr_db, generator) -> what a batch is sent over ---------------------------------
def latent_channel(args, snr_db, generator: torch.Generator | None = None) -> channels.Channel:
    """``--channel`` on latents (DeepJSCC and the models built on it)."""
    return channels.make_channel(args.channel, snr_db, generator)


def bit_channel(args, snr_db, generator: torch.Generator | None = None):
    """The bit channel of ``--stage`` (BitSemCom): error-free, or ``--modulation`` over ``--channel``."""
    return channels.make_bit_channel(args.channel, snr_db, args.stage, args.modulation, args.snr_per, generator)


# -- losses: (args, model, batch, channel, hasher, generator) -> the loss of one batch ------------------
def reconstruction_loss(args, model: torch.nn.Module, batch: torch.Tensor, channel, hasher, generator) -> torch.Tensor:
    """MSE of the decoded images; with a hash network (``--hash-model``), plus ``--hash-weight`` x
    (1 - cos) of the decoded and sent images' hashes (semantic alignment, DeepJSCC-DHD)."""
    out = model(batch, channel)
    loss = torch.nn.functional.mse_loss(out["image_hat"], batch)
    if hasher is not None:
        loss = loss + args.hash_weight * dhd.self_distillation_loss(hasher(out["image_hat"]), hasher(batch))
    return loss


def variational_loss(args, model, batch: torch.Tensor, channel, hasher, generator) -> torch.Tensor:
    """MSE + ``--kl-weight`` x the KL term of ``--objective`` (``variational.loss``)."""
    out = model(batch, channel)
    return variational.loss(out, batch, args.objective, noise_variance(args.snr_low), args.cmc, args.kl_weight)["loss"]


def contrastive_loss(args, model, batch: tuple, channel, hasher, generator) -> torch.Tensor:
    """``contrastive.loss`` of a batch of (images, labels)."""
    images, labels = batch
    out = model(images, channel)
    return contrastive.loss(model, out, images, labels, args.scl_weight, args.temperature, generator)["loss"]


# -- starting from another model's weights (--init): (model, weights, origin, name) ----------------------
def load_matching(model: torch.nn.Module, weights: dict, origin: str, name: str) -> None:
    """Every tensor whose name and shape match (ValueError when none does)."""
    own = model.state_dict()
    matching = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise ValueError(f"{origin} has no tensor that fits {name}")
    model.load_state_dict(matching, strict=False)
    print(f"initialised {len(matching)} of {len(own)} tensors of {name} from {origin}")


def load_every_hop(model: deepjscc.MultiHopDeepJSCC, weights: dict, origin: str, name: str) -> None:
    """Every hop from one single-hop model."""
    model.load_single_hop(weights)
    print(f"initialised every hop of {name} from {origin}")


# -- each family's own options: (parser, args), refusing or completing them -------------------------------
def no_options(parser, args) -> None:
    """A family without options of its own."""


def check_bit_options(parser, args) -> None:
    args.tau_end = args.tau if args.tau_end is None else args.tau_end
    if args.tau <= 0 or args.tau_end <= 0:
        parser.error("--tau and --tau-end must be positive")


def check_variational_options(parser, args) -> None:
    if args.snr_low != args.snr_high or args.channel != "awgn":
        parser.error("variational models train over awgn at one SNR: give --snr-low = --snr-high")
    if args.objective != "vscc" and args.cmc is not None:
        parser.error(f"--cmc is vscc's constant, not {args.objective}'s")
    if args.objective == "vscc" and args.cmc is None:
        if args.snr_low not in variational.DEFAULT_CMC:
            parser.error(f"no default --cmc for {args.snr_low:g} dB (defaults at "
                         f"{', '.join(f'{k:g}' for k in variational.DEFAULT_CMC)} dB): give --cmc")
        args.cmc = variational.DEFAULT_CMC[args.snr_low]
    if (args.cmc or 0) < 0 or args.kl_weight < 0:
        parser.error("--cmc and --kl-weight must be >= 0")


def check_contrastive_options(parser, args) -> None:
    if args.data != "cifar10":
        parser.error(f"{args.model} needs labelled images: --data cifar10")
    if not 0 <= args.scl_weight <= 1 or args.temperature <= 0:
        parser.error("--scl-weight must be in [0, 1] and --temperature > 0")


# -- per-step state: (model, args, step) before each batch ------------------------------------------------
def no_state(model, args, step: int) -> None:
    """A family whose models keep no training state of their own."""


def set_objective(model: variational.VariationalDeepJSCC, args, step: int) -> None:
    """The receiver resamples or not as ``--objective`` says."""
    model.objective = args.objective


def anneal_temperature(model: bitsemcom.BitSemCom, args, step: int) -> None:
    """The Gumbel-softmax temperature of ``step``: from ``--tau`` to ``--tau-end`` over ``--steps``."""
    model.temperature = bitsemcom.temperature_schedule(args.tau, args.tau_end, args.steps)(step)


@dataclasses.dataclass(frozen=True)
class Family:
    """How the models of one config class train.

    loss: the loss of one batch; channel: what batches are sent over; options: the family's
    own command-line options and their defaults (None: ``check`` sets it), refused for other
    models; check: refuses or completes them; before_step: sets the model's training state
    before each batch; initialise_from: loads another model's weights (``--init``);
    labelled: batches are (images, labels).
    """
    loss: Callable
    channel: Callable = latent_channel
    options: dict = dataclasses.field(default_factory=dict)
    check: Callable = no_options
    before_step: Callable = no_state
    initialise_from: Callable = load_matching
    labelled: bool = False


# config class -> how its models train
FAMILIES = {
    deepjscc.ModelConfig: Family(reconstruction_loss),
    deepjscc.MultiHopConfig: Family(reconstruction_loss, initialise_from=load_every_hop),
    variational.VariationalConfig: Family(
        variational_loss, options={"objective": "vscc", "cmc": None, "kl_weight": variational.DEFAULT_KL_WEIGHT},
        check=check_variational_options, before_step=set_objective),
    contrastive.ContrastiveConfig: Family(
        contrastive_loss, options={"scl_weight": 0.01, "temperature": 0.01}, check=check_contrastive_options,
        labelled=True),
    bitsemcom.BitSemComConfig: Family(
        reconstruction_loss, channel=bit_channel,
        options={"stage": "noisy", "modulation": "qpsk", "snr_per": "batch", "tau": 1.0, "tau_end": None},
        check=check_bit_options, before_step=anneal_temperature),
}


def family(model_name: str) -> Family:
    """How the registered model ``model_name`` trains."""
    return FAMILIES[type(models.REGISTRY[model_name])]


def make_batches(args, rng: np.random.Generator, shard: tuple[int, int] = (0, 1)):
    """(training batch source, validation tensor) for ``args.data``; ``shard`` (rank, world size):
    each batch is that rank's share of the global ``--batch-size``."""
    root = pathlib.Path(args.data_root) if args.data_root else datasets.dataset_root()
    if args.data == "cifar10":
        train, train_labels, _ = data.load_cifar10("train", root)
        test, test_labels, _ = data.load_cifar10("test", root)
        if family(args.model).labelled:
            # every tenth test image: 100 of each class (the zip's order is by class)
            return (data.ArrayBatches(train, args.batch_size, rng, train_labels, shard),
                    (data.to_tensor(test[::10]), torch.from_numpy(test_labels[::10])))
        return data.ArrayBatches(train, args.batch_size, rng, shard=shard), data.to_tensor(test[:1000])
    if args.data == "bsds":
        pictures = data.load_folder(root / "bsds500" / "train")
        val = [p[:args.crop * 2, :args.crop * 2] for p in data.load_folder(root / "bsds500" / "val")[:16]]
        batches = data.RandomCrops(pictures, args.crop, args.batch_size, 500, rng, shard)
        return batches, data.to_tensor(np.stack(val))
    raise ValueError(f"unknown data set {args.data!r}")


def psnr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """Mean over images of the PSNR of 8-bit quantised images in [0, 1]."""
    ref = torch.round(reference * 255)
    est = torch.round(estimate.clamp(0, 1) * 255)
    mse = (ref - est).pow(2).flatten(1).mean(1)
    return float((10 * torch.log10(255.0 ** 2 / mse.clamp_min(1e-10))).mean())


def noise_variance(snr_db: float) -> float:
    """sigma2^2: the channel noise variance per real latent element at unit power per complex symbol."""
    return 10 ** (-snr_db / 10) / 2


def initialise(model: torch.nn.Module, path, name: str) -> None:
    """Load ``path`` (a checkpoint.pt, or a bundle's weights.pt) into ``model``: all of it when
    it holds the same model ``name``, else every tensor whose name and shape match."""
    state = torch.load(path, weights_only=True, map_location="cpu")  # never run a pickle from --init
    weights, source = (state["model"], state["model_name"]) if "model_name" in state else (state, None)
    if source == name:
        model.load_state_dict(weights)
        return
    family(name).initialise_from(model, weights, f"{path} ({source or 'weights'})", name)


@torch.no_grad()
def validate(model: torch.nn.Module, val, channel) -> dict:
    """{"psnr_db"} of the validation images, and "accuracy" when ``val`` is (images, labels)."""
    images, labels = val if isinstance(val, tuple) else (val, None)
    model.eval()
    outs = [model(chunk, channel) for chunk in images.split(250)]
    model.train()
    result = {"psnr_db": psnr_db(images, torch.cat([out["image_hat"].float() for out in outs]))}
    if labels is not None:
        result["accuracy"] = float((torch.cat([out["logits"] for out in outs]).argmax(1) == labels).float().mean())
    return result


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(models.REGISTRY))
    parser.add_argument("--data", required=True, choices=("cifar10", "bsds"))
    parser.add_argument("--data-root", help="data set folder (default ../shared/datasets or $SEMCOM_DATA)")
    parser.add_argument("--out", required=True, help="run folder for checkpoint and log")
    parser.add_argument("--channel", default="awgn", choices=sorted(channels.CHANNELS),
                        help="rayleigh: block fading, one h per image (bit-level models: known to the receiver)")
    parser.add_argument("--snr-low", type=float, default=0.0)
    parser.add_argument("--snr-high", type=float, default=20.0)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--crop", type=int, default=64, help="crop size for --data bsds")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--val-snr", type=float, default=10.0)
    parser.add_argument("--val-every", type=int, default=1000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--seed", type=int, default=0)
    parallel.add_arguments(parser)
    parser.add_argument("--init", help="start from the weights of a checkpoint.pt or weights.pt (e.g. BitSemCom "
                        "stage 1's) when --out holds no checkpoint yet")
    parser.add_argument("--hash-model", help="a frozen DHD hash bundle (semcom_train.dhd): the loss adds "
                        "--hash-weight x (1 - cos(H(S), H(S_hat))), DeepJSCC-DHD")
    parser.add_argument("--hash-weight", type=float, default=0.06, help="lambda of the hash term (0.06)")
    vscc = parser.add_argument_group("variational models (vscc_*)")
    vscc.add_argument("--objective", choices=variational.OBJECTIVES, help="ae (MSE), vae (standard-normal KL) "
                      "or vscc (channel-matching KL), default vscc")
    vscc.add_argument("--cmc", type=float, help="vscc's channel matching constant d, a variance per real latent "
                      "element (signal power 0.5); default by training SNR: " +
                      ", ".join(f"{v:g} at {k:g} dB" for k, v in variational.DEFAULT_CMC.items()))
    vscc.add_argument("--kl-weight", type=float, help=f"weight of the KL term ({variational.DEFAULT_KL_WEIGHT:g})")
    scl = parser.add_argument_group("contrastive models (cjscc_*)")
    scl.add_argument("--scl-weight", type=float, help="lambda of (1 - lambda) MSE + lambda SCL (0.01; 0: D-JSCC)")
    scl.add_argument("--temperature", type=float, help="tau of the supervised contrastive loss (0.01)")
    bits = parser.add_argument_group("bit-level models (bitsemcom_*)")
    bits.add_argument("--stage", choices=channels.STAGES,
                      help="error_free: the decoder gets the bits (stage 1); noisy (default): --modulation over "
                           "--channel (stage 2)")
    bits.add_argument("--modulation", choices=sorted(modulations.MODULATIONS), help="training constellation (qpsk)")
    bits.add_argument("--snr-per", choices=channels.SNR_DRAWS, help="draw the SNR per batch (default) or per image")
    bits.add_argument("--tau", type=float, help="Gumbel-softmax temperature (1)")
    bits.add_argument("--tau-end", type=float, help="anneal the temperature exponentially to this by --steps "
                      "(default: constant --tau)")
    args = parser.parse_args(argv)
    if args.steps <= 0 or args.batch_size <= 0:
        parser.error("--steps and --batch-size must be positive")
    if args.hash_weight < 0:
        parser.error("--hash-weight must be >= 0")
    parallel.check_arguments(parser, args)
    own = family(args.model)
    foreign = [f"--{key.replace('_', '-')}" for other in FAMILIES.values() if other is not own
               for key in other.options if key not in own.options and getattr(args, key) is not None]
    if foreign:
        parser.error(f"{', '.join(foreign)}: not options of {args.model}")
    for key, value in own.options.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    own.check(parser, args)
    return args


def to_device(batch, device: torch.device):
    """A batch (a tensor or a tuple of them) on ``device``; asynchronous from pinned memory."""
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(part, device) for part in batch)
    return batch.to(device, non_blocking=True)


def forget_logged_after(path: pathlib.Path, step: int) -> None:
    """Drop the rows of log ``path`` past ``step``: what an interrupted run logged after its last
    checkpoint, which the resumed run computes again."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) <= step]
    if len(kept) < len(lines):
        path.write_text("".join(kept))


def main(argv=None) -> dict:
    """Train; returns {"step", "loss" (the last step's, over every rank), "val_psnr_db",
    "val_accuracy" (NaN but for contrastive models), "seconds"} of the final state (the
    validation: rank 0's; NaN on the other ranks)."""
    args = parse_args(argv)
    context = parallel.setup(args.device, args.precision)
    try:
        return train(args, context)
    finally:
        parallel.teardown(context)


def train(args, context: parallel.Context) -> dict:
    """The training of ``args`` in the process ``context`` (one rank of many, or the only one)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.batch_size % context.world_size:
        raise SystemExit(f"--batch-size {args.batch_size} does not split over {context.world_size} processes")
    device, shard = context.device, (context.rank, context.world_size)
    out = pathlib.Path(args.out)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = models.build(args.model).to(device)  # the same weights on every rank: the same seed
    run = runs.Run(out, model, args.model, args.lr, args.steps, vars(args), scaler=context.scaler())
    if run.resume():
        if run.random_state is None:  # a checkpoint without its random state: reseeded by step
            rng = np.random.default_rng([args.seed, run.step])
            torch.manual_seed(args.seed + run.step)
    elif args.init:
        initialise(model, args.init, args.model)
    hasher = dhd.load_frozen(args.hash_model).to(device) if args.hash_model else None
    batches, val = make_batches(args, rng, shard)
    val = to_device(val, device)
    own = family(args.model)
    channel = own.channel(args, (args.snr_low, args.snr_high))
    channel.shard = shard
    generator = torch.Generator().manual_seed(args.seed + run.step)
    if run.random_state is not None:
        batches.load_state(run.random_state["data"])
        generator.set_state(run.random_state["generator"])
        parallel.set_rng_state(run.random_state["torch"], device)
    stream = data.Stream(batches, run.step)
    loader = data.loader(stream, args.workers, pin_memory=device.type == "cuda") if run.step < args.steps else ()
    trained = context.wrap(model)

    if context.is_main:
        forget_logged_after(out / "log.csv", run.step)
    log_new = not (out / "log.csv").exists()
    val_psnr, val_accuracy, mean_loss = float("nan"), float("nan"), float("nan")
    with contextlib.ExitStack() as stack:
        log_file = stack.enter_context(open(out / "log.csv", "a", newline="")) if context.is_main else None
        bar = stack.enter_context(tqdm(total=args.steps, initial=run.step, disable=not context.is_main))
        log = csv.writer(log_file) if log_file else None
        if log and log_new:
            log.writerow(["step", "seconds", "loss", "val_psnr_db", "val_accuracy"])
        for batch in loader:
            started = time.perf_counter()
            batch = to_device(batch, device)
            own.before_step(model, args, run.step)
            with context.autocast():
                loss = own.loss(args, trained, batch, channel, hasher, generator)
            run.advance(loss, started=started)  # the time of forward, backward and update
            data_state = stream.state_at(run.step)
            if context.is_main:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.5f}", val_psnr=f"{val_psnr:.2f}")
            if run.step % args.val_every == 0 or run.step == args.steps:
                mean_loss = float(context.mean(loss))  # every rank: a collective
                if context.is_main:
                    scores = validate(model, val, own.channel(args, args.val_snr,
                                                              torch.Generator(device).manual_seed(args.seed)))
                    val_psnr, val_accuracy = scores["psnr_db"], scores.get("accuracy", float("nan"))
                    log.writerow([run.step, f"{run.seconds:.1f}", f"{mean_loss:.6f}", f"{val_psnr:.3f}",
                                  f"{val_accuracy:.4f}"])
                    log_file.flush()
            if context.is_main and (run.step % args.checkpoint_every == 0 or run.step == args.steps):
                run.save({"data": data_state, "generator": generator.get_state(),
                          "torch": parallel.rng_state(device)})
            if run.step >= args.steps:
                break
    return {"step": run.step, "loss": mean_loss, "val_psnr_db": val_psnr, "val_accuracy": val_accuracy,
            "seconds": run.seconds}


if __name__ == "__main__":
    main()
