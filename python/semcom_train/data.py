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
    float32 tensors (N, 3, H, W), or (that, int64 labels (N,)) when ``labels`` are given.

    A batch is drawn as a plan (``next_plan``: the images' indices and flips, from ``rng``) and
    made by ``materialize``, which a DataLoader worker can do (``Stream``). Iterating gives one
    epoch. ``shard`` (rank, world size): every rank draws the same global batch of
    ``batch_size`` and keeps its share, rows rank * n .. (rank + 1) * n of n = batch_size / world
    size. ``state``/``load_state`` hold where the draws are (checkpoints resume exactly).
    """

    def __init__(self, array: np.ndarray, batch_size: int, rng: np.random.Generator,
                 labels: np.ndarray | None = None, shard: tuple[int, int] = (0, 1)):
        self.array, self.batch_size, self.rng, self.labels = array, batch_size, rng, labels
        self.rows = shard_rows(batch_size, shard)
        self.order, self.position = None, 0

    def next_plan(self) -> tuple[np.ndarray, np.ndarray]:
        """(indices, flips) of this rank's share of the next batch; a new permutation per epoch."""
        if self.order is None or self.position + self.batch_size > len(self.order):
            self.order, self.position = self.rng.permutation(len(self.array)), 0
        chosen = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        flip = self.rng.random(len(chosen)) < 0.5
        return chosen[self.rows], flip[self.rows]

    def materialize(self, plan):
        chosen, flip = plan
        batch = self.array[chosen]
        batch[flip] = batch[flip, :, ::-1]
        return to_tensor(batch) if self.labels is None else (to_tensor(batch), torch.from_numpy(self.labels[chosen]))

    def state(self) -> dict:
        return {"rng": rng_state(self.rng), "position": self.position,
                "order": None if self.order is None else torch.from_numpy(self.order)}

    def load_state(self, state: dict) -> None:
        set_rng_state(self.rng, state["rng"])
        self.position = state["position"]
        self.order = None if state["order"] is None else state["order"].numpy()

    def __iter__(self):
        for _ in range(len(self)):
            yield self.materialize(self.next_plan())

    def __len__(self):
        return len(self.array) // self.batch_size


class RandomCrops:
    """``batches_per_epoch`` batches of random ``crop`` x ``crop`` patches (with flips)
    from a list of images of any size; plans, shards and state as ``ArrayBatches``."""

    def __init__(self, pictures: list[np.ndarray], crop: int, batch_size: int,
                 batches_per_epoch: int, rng: np.random.Generator, shard: tuple[int, int] = (0, 1)):
        small = [p.shape for p in pictures if min(p.shape[:2]) < crop]
        if small:
            raise ValueError(f"crop {crop} is larger than images of shape {small[0]}")
        self.pictures, self.crop, self.batch_size = pictures, crop, batch_size
        self.batches_per_epoch, self.rng = batches_per_epoch, rng
        self.rows = shard_rows(batch_size, shard)

    def _draw(self) -> tuple[int, int, int, bool]:
        index = int(self.rng.integers(len(self.pictures)))
        picture = self.pictures[index]
        y = int(self.rng.integers(picture.shape[0] - self.crop + 1))
        x = int(self.rng.integers(picture.shape[1] - self.crop + 1))
        return index, y, x, bool(self.rng.random() < 0.5)

    def next_plan(self) -> list[tuple[int, int, int, bool]]:
        """(picture, y, x, flip) of each patch of this rank's share of the next batch."""
        return [self._draw() for _ in range(self.batch_size)][self.rows]

    def materialize(self, plan) -> torch.Tensor:
        patches = [self.pictures[i][y:y + self.crop, x:x + self.crop] for i, y, x, _ in plan]
        return to_tensor(np.stack([p[:, ::-1] if flip else p for p, (*_, flip) in zip(patches, plan)]))

    def state(self) -> dict:
        return {"rng": rng_state(self.rng)}

    def load_state(self, state: dict) -> None:
        set_rng_state(self.rng, state["rng"])

    def __iter__(self):
        for _ in range(self.batches_per_epoch):
            yield self.materialize(self.next_plan())

    def __len__(self):
        return self.batches_per_epoch


def shard_rows(batch_size: int, shard: tuple[int, int]) -> slice:
    """Rank ``shard[0]``'s rows of a global batch split evenly over ``shard[1]`` ranks."""
    rank, world = shard
    if batch_size % world:
        raise ValueError(f"batch size {batch_size} does not split evenly over {world} processes")
    n = batch_size // world
    return slice(rank * n, (rank + 1) * n)


def rng_state(rng: np.random.Generator) -> dict:
    """A numpy Generator's state as a checkpoint can hold it (its 128-bit integers as strings)."""
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": {k: str(v) for k, v in state["state"].items()},
            "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}


def set_rng_state(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = {**state, "state": {k: int(v) for k, v in state["state"].items()}}


class Stream(torch.utils.data.Sampler):
    """The endless plans of a batch source (``ArrayBatches``, ``RandomCrops``), drawn in this
    process in order, and the source's state after each: ``state_at(step)`` is the state after
    ``step`` batches, whatever DataLoader workers have drawn ahead."""

    def __init__(self, source, step: int = 0):
        self.source, self.step, self.states = source, step, {}

    def __iter__(self):
        while True:
            plan = self.source.next_plan()
            self.step += 1
            self.states[self.step] = self.source.state()
            yield plan

    def state_at(self, step: int) -> dict:
        state = self.states[step]
        for done in [s for s in self.states if s <= step]:
            del self.states[done]
        return state


class _Materialize(torch.utils.data.Dataset):
    def __init__(self, source):
        self.source = source

    def __getitem__(self, plan):
        return self.source.materialize(plan)


def loader(stream: Stream, workers: int = 0, pin_memory: bool = False) -> torch.utils.data.DataLoader:
    """Batches of ``stream``, made by ``workers`` DataLoader processes (0: this one), in pinned
    memory for asynchronous copies to a GPU when ``pin_memory``: the same batches either way.
    The loader seeds its workers from a generator of its own: it draws nothing from torch's
    global random state (which the training's channel draws from)."""
    return torch.utils.data.DataLoader(_Materialize(stream.source), batch_size=None, sampler=stream,
                                       num_workers=workers, pin_memory=pin_memory,
                                       generator=torch.Generator().manual_seed(0))
