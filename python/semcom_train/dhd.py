#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Deep hash distillation (DHD, Jang et al., ECCV 2022) on CIFAR-10, trained from scratch.

    python -m semcom_train.dhd --out runs/dhd_cifar10 --steps 20000     # resumes from its checkpoint
    python -m semcom_train.dhd --out runs/dhd_cifar10 --steps 20000 --export models/dhd_cifar10

The hash network H = hash layer o backbone maps an image (N, 3, H, W) float32 in
[0, 1] to a continuous hash (N, n_bits) in (-1, 1); sign() gives the binary hash.
No ImageNet weights can be had offline, so the backbone is a small CNN trained
from scratch on CIFAR-10's labels (the paper fine-tunes a pre-trained ResNet50).

Training (DHD's losses, its default weights):

- hash proxy loss: cross-entropy between the label and softmax(cos(h_T, p_c) / tau)
  over trainable class proxies p_c (tau = 0.2);
- self-distillation: 1 - cos(h_S, h_T), h_T of a weakly transformed view (the
  teacher, no gradient) and h_S of a strongly transformed one (weight 0.1);
- bce-Q quantisation: binary cross-entropy of Gaussian likelihoods (std 0.5)
  around +-1 against the sign of h_T (weight 0.1).

``retrieval_map`` measures the semantics: mean average precision of Hamming
ranking, CIFAR-10 test images as queries against the training set, relevant =
same class; ``random_projection_hash`` is the baseline (sign of a random
Gaussian projection of the raw pixels).

``--device`` and ``--precision`` as ``semcom_train.train``'s (``semcom_train.parallel``); one
process (no torchrun).
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from gnuradio.semcom import card
from semcom_tools import datasets

from . import data, parallel, runs
from .export import to_onnx  # ONNX plus the semcom.* metadata, as every bundle

N_CLASSES = 10


class HashNetwork(nn.Module):
    """Backbone (four conv stages, 32 -> 256 channels, global average pool) and hash layer
    (linear, LayerNorm, tanh, as in DHD); ``proxies`` (n_classes, n_bits) train with it.

    forward: (N, 3, H, W) float32 in [0, 1] -> (N, n_bits) float32 in (-1, 1).
    """

    def __init__(self, n_bits: int = 64, width: int = 32, n_classes: int = N_CLASSES):
        super().__init__()
        layers, channels = [], 3
        for stage, out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
                       nn.Conv2d(out, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            if stage < 3:
                layers.append(nn.MaxPool2d(2))
            channels = out
        self.backbone = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.hash = nn.Sequential(nn.Linear(channels, n_bits, bias=False), nn.LayerNorm(n_bits))
        self.proxies = nn.Parameter(torch.empty(n_classes, n_bits))
        nn.init.xavier_uniform_(self.proxies, gain=nn.init.calculate_gain("tanh"))
        self.n_bits = n_bits

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        # the same input scaling as the DeepJSCC encoders: [0, 1] centred
        return torch.tanh(self.hash(self.backbone(image - 0.5)))


# -- augmentations (batched, torch only: no torchvision here) ---------------------------------
def augment(batch: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Random crop of the image reflect-padded by max(1, 4 x strength) pixels, horizontal flip
    and, scaled by ``strength`` in [0, 1], brightness, contrast and saturation jitter (+-40 %)
    and grayscale (probability 0.2).

    batch: (N, 3, H, W) float32 in [0, 1]. Returns the same shape."""
    n, _, height, width = batch.shape
    pad = max(1, round(4 * strength))
    padded = F.pad(batch, (pad,) * 4, mode="reflect")
    rows = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator) + torch.arange(height)
    cols = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator) + torch.arange(width)
    out = padded[torch.arange(n)[:, None, None, None], torch.arange(3)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
    flip = (torch.rand(n, generator=generator) < 0.5).to(batch.device)
    out = torch.where(flip[:, None, None, None], out.flip(3), out)

    def factor() -> torch.Tensor:
        return (1 + 0.4 * strength * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)).to(batch.device)

    out = out * factor()  # brightness
    mean = out.mean((1, 2, 3), keepdim=True)
    out = (out - mean) * factor() + mean  # contrast
    gray = (0.299 * out[:, :1] + 0.587 * out[:, 1:2] + 0.114 * out[:, 2:])
    out = gray + (out - gray) * factor()  # saturation
    to_gray = (torch.rand(n, generator=generator) < 0.2 * strength).to(batch.device)
    out = torch.where(to_gray[:, None, None, None], gray.expand_as(out), out)
    return out.clamp(0, 1)


# -- losses ---------------------------------------------------------------------------------
def hash_proxy_loss(hashes: torch.Tensor, proxies: torch.Tensor, labels: torch.Tensor,
                    temperature: float = 0.2) -> torch.Tensor:
    """Cross-entropy of softmax(cos(h, p_c) / temperature) against the labels (N,) int64."""
    logits = F.normalize(hashes, dim=1) @ F.normalize(proxies, dim=1).T / temperature
    return F.cross_entropy(logits, labels)


def self_distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cos(h_S, h_T), the teacher's hashes held fixed."""
    return (1 - F.cosine_similarity(student, teacher.detach(), dim=1)).mean()


def bce_quantization_loss(hashes: torch.Tensor, std: float = 0.5) -> torch.Tensor:
    """Binary cross-entropy of the Gaussian likelihoods of each element around +1 and -1
    against its sign (b+ = (sign + 1) / 2, b- = 1 - b+), summed over the two, mean over elements."""
    near_plus = torch.exp(-0.5 * ((hashes - 1) / std) ** 2)
    near_minus = torch.exp(-0.5 * ((hashes + 1) / std) ** 2)
    target = (hashes.sign().detach() + 1) / 2
    return F.binary_cross_entropy(near_plus, target) + F.binary_cross_entropy(near_minus, 1 - target)


# -- retrieval --------------------------------------------------------------------------------
def binary(hashes: np.ndarray) -> np.ndarray:
    """(N, n_bits) continuous hashes -> (N, n_bits) int8 in {-1, +1} (sign, 0 -> +1)."""
    return np.where(np.asarray(hashes) >= 0, 1, -1).astype(np.int8)


def retrieval_map(query: np.ndarray, query_labels: np.ndarray, database: np.ndarray,
                  database_labels: np.ndarray, top: int | None = None) -> float:
    """Mean average precision of Hamming ranking (ties broken by database order).

    query (Q, B), database (D, B): {-1, +1} codes; labels (Q,), (D,) ints; ``top``:
    mAP@top (None: the whole database)."""
    query = query.astype(np.float32)
    database = database.astype(np.float32)
    bits = query.shape[1]
    scores = []
    for start in range(0, len(query), 256):
        distance = 0.5 * (bits - query[start:start + 256] @ database.T)  # Hamming distances
        order = np.argsort(distance, axis=1, kind="stable")[:, :top]
        relevant = database_labels[order] == query_labels[start:start + 256, None]
        hits = np.cumsum(relevant, axis=1)
        ranks = np.arange(1, relevant.shape[1] + 1)
        precision_at_hits = np.where(relevant, hits / ranks, 0).sum(axis=1)
        scores.append(np.divide(precision_at_hits, hits[:, -1], out=np.zeros(len(order)), where=hits[:, -1] > 0))
    return float(np.concatenate(scores).mean())


def random_projection_hash(pictures: np.ndarray, n_bits: int, seed: int = 0) -> np.ndarray:
    """The baseline: sign of a fixed random Gaussian projection of the centred pixels.
    pictures: (N, H, W, 3) uint8 -> (N, n_bits) int8 {-1, +1}."""
    flat = pictures.reshape(len(pictures), -1).astype(np.float32) / 255.0 - 0.5
    projection = np.random.default_rng(seed).standard_normal((flat.shape[1], n_bits)).astype(np.float32)
    return binary(flat @ projection)


@torch.no_grad()
def hashes_of(network: HashNetwork, pictures: np.ndarray, batch: int = 500) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, n_bits) float32 continuous hashes (eval mode)."""
    network.eval()
    out = [network(data.to_tensor(pictures[i:i + batch])).numpy() for i in range(0, len(pictures), batch)]
    return np.concatenate(out)


# -- training -------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="run folder for checkpoint.pt and log.csv")
    parser.add_argument("--data-root", help="data set folder (default ../shared/datasets or $SEMCOM_DATA)")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--width", type=int, default=16, help="backbone channels of the first stage")
    parser.add_argument("--temperature", type=float, default=0.2, help="hash proxy loss temperature")
    parser.add_argument("--lambda-sdh", type=float, default=0.1, help="self-distillation weight")
    parser.add_argument("--lambda-bceq", type=float, default=0.1, help="bce-Q quantisation weight")
    parser.add_argument("--std", type=float, default=0.5, help="bce-Q Gaussian standard deviation")
    parser.add_argument("--teacher-strength", type=float, default=0.5, help="augmentation of the teacher view")
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--seed", type=int, default=0)
    parallel.add_arguments(parser, workers=False)
    parser.add_argument("--export", help="after training, write the bundle (hash.onnx, weights.pt, card.json) here")
    args = parser.parse_args(argv)
    if min(args.steps, args.batch_size, args.n_bits, args.width) <= 0 or args.temperature <= 0 or args.std <= 0:
        parser.error("--steps, --batch-size, --n-bits, --width, --temperature and --std must be positive")
    parallel.check_arguments(parser, args)
    return args


def losses(network: HashNetwork, batch: torch.Tensor, labels: torch.Tensor, args, generator) -> dict:
    """DHD's three losses on one batch and their weighted sum ("total")."""
    teacher = network(augment(batch, args.teacher_strength, generator))
    student = network(augment(batch, 1.0, generator))
    out = {"proxy": hash_proxy_loss(teacher, network.proxies, labels, args.temperature),
           "sdh": self_distillation_loss(student, teacher),
           "bceq": bce_quantization_loss(teacher, args.std)}
    out["total"] = out["proxy"] + args.lambda_sdh * out["sdh"] + args.lambda_bceq * out["bceq"]
    return out


def evaluate_retrieval(network: HashNetwork, root, n_query: int = 1000) -> dict:
    """mAP of the network's and of the random-projection hashes: the first ``n_query`` CIFAR-10
    test images (100 per class when 1,000) against the 50,000 training images."""
    train, train_labels, _ = data.load_cifar10("train", root)
    test, test_labels, _ = data.load_cifar10("test", root)
    query = np.concatenate([np.flatnonzero(test_labels == c)[:n_query // N_CLASSES] for c in range(N_CLASSES)])
    ours = retrieval_map(binary(hashes_of(network, test[query])), test_labels[query],
                         binary(hashes_of(network, train)), train_labels)
    baseline = retrieval_map(random_projection_hash(test[query], network.n_bits), test_labels[query],
                             random_projection_hash(train, network.n_bits), train_labels)
    return {"queries": int(len(query)), "database": int(len(train)), "map_dhd": round(ours, 4),
            "map_random_projection": round(baseline, 4)}


def main(argv=None) -> dict:
    """Train (resuming); returns {"step", "seconds"} and, with --export, the retrieval result."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = pathlib.Path(args.out)
    torch.manual_seed(args.seed)
    context = parallel.Context(parallel.resolve_device(args.device), args.precision)
    network = HashNetwork(args.n_bits, args.width).to(context.device)
    run = runs.Run(out, network, "dhd", args.lr, args.steps, vars(args), weight_decay=1e-5, scaler=context.scaler())
    run.resume()
    root = pathlib.Path(args.data_root) if args.data_root else datasets.dataset_root()
    train, labels, _ = data.load_cifar10("train", root)
    rng = np.random.default_rng([args.seed, run.step])
    generator = torch.Generator().manual_seed(args.seed + run.step)
    network.train()
    with open(out / "log.csv", "a", newline="") as log_file, tqdm(total=args.steps, initial=run.step) as bar:
        log = csv.writer(log_file)
        while run.step < args.steps:
            started = time.perf_counter()
            pick = rng.integers(0, len(train), args.batch_size)
            batch = data.to_tensor(train[pick]).to(context.device, non_blocking=True)
            with context.autocast():
                parts = losses(network, batch, torch.from_numpy(labels[pick]).long().to(context.device), args,
                               generator)
            run.advance(parts["total"], started=started)
            bar.update(1)
            bar.set_postfix({k: f"{v.item():.3f}" for k, v in parts.items()})
            if run.step % args.checkpoint_every == 0 or run.step == args.steps:
                log.writerow([run.step, f"{run.seconds:.1f}", *(f"{v.item():.5f}" for v in parts.values())])
                log_file.flush()
                run.save()
    result = {"step": run.step, "seconds": run.seconds}
    network.cpu()
    if args.export:
        result["retrieval"] = evaluate_retrieval(network, root)
        export(network, pathlib.Path(args.export), args, run.step, run.seconds, result["retrieval"])
    return result


def load_frozen(folder) -> HashNetwork:
    """The hash network of a bundle written by ``export`` (card method "dhd"), in eval mode
    with every parameter frozen: gradients flow through it to its input, never into it."""
    folder = pathlib.Path(folder)
    hash_card = card.read(folder / "card.json")
    if hash_card.get("method") != "dhd":
        raise ValueError(f"{folder} is not a DHD hash bundle (card method {hash_card.get('method')!r})")
    network = HashNetwork(hash_card["n_bits"], hash_card["width"])
    network.load_state_dict(torch.load(folder / hash_card["files"]["torch"], map_location="cpu", weights_only=True))
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network.eval()


class _Hashes(nn.Module):
    """hash.onnx: image (N, 3, H, W) float32 in [0, 1] -> hash (N, n_bits) float32 in (-1, 1)."""

    def __init__(self, network: HashNetwork):
        super().__init__()
        self.network = network

    def forward(self, image):
        return self.network(image)


def export(network: HashNetwork, folder: pathlib.Path, args, step: int, seconds: float, retrieval: dict) -> None:
    """hash.onnx, weights.pt and card.json (method "dhd") into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    network.eval()
    model_id = folder.name
    to_onnx(_Hashes(network), torch.rand(1, 3, 32, 32), folder / "hash.onnx", "image", "hash", model_id, "hash",
            {"image": {0: "batch"}, "hash": {0: "batch"}})
    torch.save(network.state_dict(), folder / "weights.pt")
    hash_card = {
        "schema_version": card.SCHEMA_VERSION, "model_id": model_id, "method": "dhd",
        "files": {"hash": "hash.onnx", "torch": "weights.pt"},
        "image_size": [32, 32], "n_bits": network.n_bits, "width": args.width,
        "onnx_io": {"hash": {"input": "image", "output": "hash"}},
        "normalization": "input RGB uint8 / 255 in [0, 1]; output tanh in (-1, 1); binary hash = sign",
        "backbone": "four-stage CNN trained from scratch on CIFAR-10 train: no pretrained ImageNet "
                    "weights can be had offline (the paper fine-tunes a pretrained ResNet50)",
        "losses": {"proxy_temperature": args.temperature, "lambda_sdh": args.lambda_sdh,
                   "lambda_bceq": args.lambda_bceq, "bceq_std": args.std,
                   "teacher_strength": args.teacher_strength},
        "dataset": "CIFAR-10 train (JPEG q75 re-encoding), 50,000 images with labels",
        "batch_size": args.batch_size, "steps": step, "training_seconds": round(seconds),
        "train_command": "python -m semcom_train.dhd " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if v is not None and k not in ("data_root", "threads", "export")),
        "retrieval": {**retrieval, "metric": "mAP of Hamming ranking, relevant = same class"}}
    card.write(folder / "card.json", hash_card)


if __name__ == "__main__":
    main()
