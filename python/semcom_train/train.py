"""Train a registered model (DeepJSCC or BitSemCom); resumes from its checkpoint.

    python -m semcom_train.train --model deepjscc_cifar10_r6 --data cifar10 \\
        --steps 60000 --out runs/cifar10_r6

BitSemCom trains in two stages: ``--stage error_free`` (the decoder gets the
bits), then ``--stage noisy --init <stage 1>/checkpoint.pt`` over ``--channel``
with ``--modulation`` at SNRs in [--snr-low, --snr-high] (the paper: -3..6 dB).

The checkpoint ``<out>/checkpoint.pt`` is written every ``--checkpoint-every``
steps and at the end; running the same command again continues from it.
``<out>/log.csv`` records step, elapsed seconds, training loss and validation
PSNR at ``--val-snr`` dB.

``--hash-model <DHD bundle>`` trains DeepJSCC-DHD: MSE + ``--hash-weight`` x
(1 - cos(H(S), H(S_hat))) with the hash network H frozen (``semcom_train.dhd``).
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import time

import numpy as np
import torch
from tqdm import tqdm

from gnuradio.semcom import images
from semcom_train import bitsemcom, channels, data, dhd, models, runs

# options of bit-level models only, and their defaults
BIT_DEFAULTS = {"stage": "noisy", "modulation": "qpsk", "snr_per": "batch", "tau": 1.0, "tau_end": None}


def make_batches(args, rng: np.random.Generator):
    """(training batch iterable, validation tensor) for ``args.data``."""
    root = pathlib.Path(args.data_root) if args.data_root else images.dataset_root()
    if args.data == "cifar10":
        train, _, _ = data.load_cifar10("train", root)
        test, _, _ = data.load_cifar10("test", root)
        return data.ArrayBatches(train, args.batch_size, rng), data.to_tensor(test[:1000])
    if args.data == "bsds":
        pictures = data.load_folder(root / "bsds500" / "train")
        val = [p[:args.crop * 2, :args.crop * 2] for p in data.load_folder(root / "bsds500" / "val")[:16]]
        batches = data.RandomCrops(pictures, args.crop, args.batch_size, 500, rng)
        return batches, data.to_tensor(np.stack(val))
    raise ValueError(f"unknown data set {args.data!r}")


def psnr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """Mean over images of the PSNR of 8-bit quantised images in [0, 1]."""
    ref = torch.round(reference * 255)
    est = torch.round(estimate.clamp(0, 1) * 255)
    mse = (ref - est).pow(2).flatten(1).mean(1)
    return float((10 * torch.log10(255.0 ** 2 / mse.clamp_min(1e-10))).mean())


def make_channel(args, model: torch.nn.Module, snr_db, generator: torch.Generator | None = None):
    """The channel ``model`` trains and validates over: on latents (DeepJSCC) or on bits (BitSemCom)."""
    if isinstance(model, bitsemcom.BitSemCom):
        return bitsemcom.make_channel(args.channel, snr_db, args.stage, args.modulation, args.snr_per, generator)
    return channels.make_channel(args.channel, snr_db, generator)


def initialise(model: torch.nn.Module, path, name: str) -> None:
    """Load ``path`` (a checkpoint.pt, or a bundle's weights.pt) into ``model``: all of it when
    it holds the same model ``name``, else every tensor whose name and shape match."""
    state = torch.load(path, weights_only=False, map_location="cpu")
    weights, source = (state["model"], state["model_name"]) if "model_name" in state else (state, None)
    if source == name:
        model.load_state_dict(weights)
        return
    if isinstance(model, models.MultiHopDeepJSCC):  # every hop starts from a single-hop model
        model.load_single_hop(weights)
        print(f"initialised every hop of {name} from {path} ({source or 'weights'})")
        return
    own = model.state_dict()
    matching = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    if not matching:
        raise ValueError(f"{path} ({source or 'weights'}) has no tensor that fits {name}")
    model.load_state_dict(matching, strict=False)
    print(f"initialised {len(matching)} of {len(own)} tensors of {name} from {path} ({source or 'weights'})")


@torch.no_grad()
def validate(model: torch.nn.Module, val: torch.Tensor, channel) -> float:
    model.eval()
    out = torch.cat([model(chunk, channel)["image_hat"] for chunk in val.split(250)])
    model.train()
    return psnr_db(val, out)


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
    parser.add_argument("--init", help="start from the weights of a checkpoint.pt or weights.pt (e.g. BitSemCom "
                        "stage 1's) when --out holds no checkpoint yet")
    parser.add_argument("--hash-model", help="a frozen DHD hash bundle (semcom_train.dhd): the loss adds "
                        "--hash-weight x (1 - cos(H(S), H(S_hat))), DeepJSCC-DHD")
    parser.add_argument("--hash-weight", type=float, default=0.06, help="lambda of the hash term (0.06)")
    bits = parser.add_argument_group("bit-level models (bitsemcom_*)")
    bits.add_argument("--stage", choices=bitsemcom.STAGES,
                      help="error_free: the decoder gets the bits (stage 1); noisy (default): --modulation over "
                           "--channel (stage 2)")
    bits.add_argument("--modulation", choices=sorted(bitsemcom.MODULATIONS), help="training constellation (qpsk)")
    bits.add_argument("--snr-per", choices=bitsemcom.SNR_DRAWS, help="draw the SNR per batch (default) or per image")
    bits.add_argument("--tau", type=float, help="Gumbel-softmax temperature (1)")
    bits.add_argument("--tau-end", type=float, help="anneal the temperature exponentially to this by --steps "
                      "(default: constant --tau)")
    args = parser.parse_args(argv)
    if args.steps <= 0 or args.batch_size <= 0:
        parser.error("--steps and --batch-size must be positive")
    if args.hash_weight < 0:
        parser.error("--hash-weight must be >= 0")
    if isinstance(models.REGISTRY[args.model], bitsemcom.BitSemComConfig):
        for key, value in BIT_DEFAULTS.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        args.tau_end = args.tau if args.tau_end is None else args.tau_end
        if args.tau <= 0 or args.tau_end <= 0:
            parser.error("--tau and --tau-end must be positive")
    else:
        given = [f"--{key.replace('_', '-')}" for key in BIT_DEFAULTS if getattr(args, key) is not None]
        if given:
            parser.error(f"{', '.join(given)}: options of bit-level models, not of {args.model}")
    return args


def main(argv=None) -> dict:
    """Train; returns {"step", "val_psnr_db", "seconds"} of the final state."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = pathlib.Path(args.out)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = models.build(args.model)
    run = runs.Run(out, model, args.model, args.lr, args.steps, vars(args))
    if run.resume():
        rng = np.random.default_rng([args.seed, run.step])
        torch.manual_seed(args.seed + run.step)
    elif args.init:
        initialise(model, args.init, args.model)
    hasher = dhd.load_frozen(args.hash_model) if args.hash_model else None
    batches, val = make_batches(args, rng)
    channel = make_channel(args, model, (args.snr_low, args.snr_high))
    temperature = (bitsemcom.temperature_schedule(args.tau, args.tau_end, args.steps)
                   if isinstance(model, bitsemcom.BitSemCom) else None)

    log_new = not (out / "log.csv").exists()
    val_psnr = float("nan")
    with open(out / "log.csv", "a", newline="") as log_file, tqdm(total=args.steps, initial=run.step) as bar:
        log = csv.writer(log_file)
        if log_new:
            log.writerow(["step", "seconds", "loss", "val_psnr_db"])
        while run.step < args.steps:
            for batch in batches:
                started = time.perf_counter()
                if temperature:
                    model.temperature = temperature(run.step)
                decoded = model(batch, channel)["image_hat"]
                loss = torch.nn.functional.mse_loss(decoded, batch)
                if hasher is not None:  # semantic alignment with the frozen hash network
                    loss = loss + args.hash_weight * dhd.self_distillation_loss(hasher(decoded), hasher(batch))
                run.advance(loss, time.perf_counter() - started)
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.5f}", val_psnr=f"{val_psnr:.2f}")
                if run.step % args.val_every == 0 or run.step == args.steps:
                    val_psnr = validate(model, val, make_channel(args, model, args.val_snr,
                                                                 torch.Generator().manual_seed(args.seed)))
                    log.writerow([run.step, f"{run.seconds:.1f}", f"{loss.item():.6f}", f"{val_psnr:.3f}"])
                    log_file.flush()
                if run.step % args.checkpoint_every == 0 or run.step == args.steps:
                    run.save()
                if run.step >= args.steps:
                    break
    return {"step": run.step, "val_psnr_db": val_psnr, "seconds": run.seconds}


if __name__ == "__main__":
    main()
