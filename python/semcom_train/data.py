#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Training and evaluation data: CIFAR-10 from its zip, random crops of BSDS500.

Images are handled as uint8 arrays (N, H, W, 3) and turned into float32
tensors (N, 3, H, W) in [0, 1] per batch. Nothing is downloaded: the data sets
live in ``../shared/datasets`` (or ``$SEMCOM_DATA``).
"""
from __future__ import annotations

import io
import pathlib
import zipfile

import numpy as np
import torch
from PIL import Image

from gnuradio.semcom import images
from semcom_tools import datasets


def load_cifar10(split: str, root: pathlib.Path | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """CIFAR-10 ``split`` ("train" or "test") as (images uint8 (N, 32, 32, 3),
    labels int64 (N,), class names). Decoded once, then read from the cache."""
    if split not in ("train", "test"):
        raise ValueError(f"CIFAR-10 split must be 'train' or 'test', not {split!r}")
    zip_path = (root or datasets.dataset_root()) / "cifar10-jpeg.zip"
    cached = images.cache_dir() / f"cifar10-{split}.npz"
    if cached.exists():
        with np.load(cached) as npz:
            return npz["images"], npz["labels"], list(npz["classes"])
    if not zip_path.exists():
        raise FileNotFoundError(f"CIFAR-10 zip not found at {zip_path} (set SEMCOM_DATA)")
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith(f"{split}/") and n.endswith(".jpg"))
        classes = sorted({n.split("/")[1] for n in names})
        arrays = [np.asarray(Image.open(io.BytesIO(archive.read(n))).convert("RGB")) for n in names]
    labels = np.array([classes.index(n.split("/")[1]) for n in names], dtype=np.int64)
    stack = np.stack(arrays)
    np.savez(cached, images=stack, labels=labels, classes=np.array(classes))
    return stack, labels, classes


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.require(batch, requirements="W")).permute(0, 3, 1, 2).float().div_(255.0)


def load_folder(folder: pathlib.Path) -> list[np.ndarray]:
    """Every JPEG/PNG in ``folder`` as uint8 RGB arrays, sorted by name."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not paths:
        raise FileNotFoundError(f"no images in {folder}")
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


class ArrayBatches:
    """Shuffled batches of a fixed-size uint8 image array, with random horizontal flips:
    float32 tensors (N, 3, H, W), or (that, int64 labels (N,)) when ``labels`` are given."""

    def __init__(self, array: np.ndarray, batch_size: int, rng: np.random.Generator,
                 labels: np.ndarray | None = None):
        self.array, self.batch_size, self.rng, self.labels = array, batch_size, rng, labels

    def __iter__(self):
        order = self.rng.permutation(len(self.array))
        for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
            chosen = order[start:start + self.batch_size]
            batch = self.array[chosen]
            flip = self.rng.random(len(batch)) < 0.5
            batch[flip] = batch[flip, :, ::-1]
            yield to_tensor(batch) if self.labels is None else (to_tensor(batch), torch.from_numpy(self.labels[chosen]))

    def __len__(self):
        return len(self.array) // self.batch_size


class RandomCrops:
    """``batches_per_epoch`` batches of random ``crop`` x ``crop`` patches (with flips)
    from a list of images of any size."""

    def __init__(self, pictures: list[np.ndarray], crop: int, batch_size: int,
                 batches_per_epoch: int, rng: np.random.Generator):
        small = [p.shape for p in pictures if min(p.shape[:2]) < crop]
        if small:
            raise ValueError(f"crop {crop} is larger than images of shape {small[0]}")
        self.pictures, self.crop, self.batch_size = pictures, crop, batch_size
        self.batches_per_epoch, self.rng = batches_per_epoch, rng

    def _patch(self) -> np.ndarray:
        picture = self.pictures[self.rng.integers(len(self.pictures))]
        y = self.rng.integers(picture.shape[0] - self.crop + 1)
        x = self.rng.integers(picture.shape[1] - self.crop + 1)
        patch = picture[y:y + self.crop, x:x + self.crop]
        return patch[:, ::-1] if self.rng.random() < 0.5 else patch

    def __iter__(self):
        for _ in range(self.batches_per_epoch):
            yield to_tensor(np.stack([self._patch() for _ in range(self.batch_size)]))

    def __len__(self):
        return self.batches_per_epoch
