#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Devices, mixed precision and data-parallel training for the training CLIs.

``--device`` cpu, cuda or auto (cuda when there is one); ``--precision`` fp32 (default), bf16 or
fp16: mixed precision with ``torch.autocast`` (fp16 on CUDA only, with a ``GradScaler``; bf16 needs
no scaler: it has fp32's exponent range).

Data-parallel training uses ``torch.distributed`` and ``DistributedDataParallel``: started by
``torchrun --nproc_per_node N -m semcom_train.train ...`` (which sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``), each rank trains on its share of the same global batch (``--batch-size`` is the
global batch, split evenly), NCCL on CUDA (one GPU per rank, ``cuda:LOCAL_RANK``) and gloo on CPU.
Without those variables (a plain ``python -m``) nothing is distributed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16", "fp16")
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def add_arguments(parser, workers: bool = True) -> None:
    """--device, --precision and (``workers``) --workers."""
    group = parser.add_argument_group("devices and precision (semcom_train.parallel)")
    group.add_argument("--device", choices=DEVICES, default="auto",
                       help="auto (default): cuda when available, else cpu")
    group.add_argument("--precision", choices=PRECISIONS, default="fp32",
                       help="fp32 (default); bf16 or fp16 mixed precision (torch.autocast; fp16 on cuda only, "
                            "with a GradScaler)")
    if workers:
        group.add_argument("--workers", type=int, default=0,
                           help="DataLoader worker processes preparing batches (0: in the training process; the "
                                "batches are the same either way)")


def check_arguments(parser, args) -> None:
    if getattr(args, "workers", 0) < 0:
        parser.error("--workers must be >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device available")
    if args.precision == "fp16" and resolve_device(args.device).type != "cuda":
        parser.error("--precision fp16 needs --device cuda (bf16 also runs on cpu)")


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The torch device of ``--device`` (auto: cuda when available); cuda: ``cuda:local_rank``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(f"cuda:{local_rank}") if name == "cuda" else torch.device("cpu")


@dataclasses.dataclass
class Context:
    """Where and how one process trains: device, precision, rank among world_size processes."""
    device: torch.device
    precision: str = "fp32"
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, logs and exports."""
        return self.rank == 0

    def autocast(self):
        """The forward pass's mixed-precision context (none at fp32)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=AUTOCAST_DTYPES[self.precision])

    def scaler(self) -> torch.amp.GradScaler | None:
        """A GradScaler for fp16 (None otherwise)."""
        return torch.amp.GradScaler(self.device.type) if self.precision == "fp16" else None

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` under DistributedDataParallel when distributed (its attributes reachable
        through the wrapper), else itself."""
        if not self.distributed:
            return model
        return _DataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean of a scalar over the ranks (itself when not distributed)."""
        if not self.distributed:
            return value.detach()
        value = value.detach().clone()
        dist.all_reduce(value)
        return value / self.world_size

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


class _DataParallel(DistributedDataParallel):
    """DDP whose wrapped module's own attributes (encoder, temperature, ...) read through it."""

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def setup(device: str = "auto", precision: str = "fp32") -> Context:
    """The process's Context: joins the process group when started by torchrun (WORLD_SIZE > 1),
    NCCL on cuda, gloo on cpu."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank if world_size > 1 else 0)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
    return Context(resolved, precision, rank, world_size, local_rank)


def teardown(context: Context) -> None:
    """Leave the process group (when this process joined one)."""
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def rng_state(device: torch.device) -> dict:
    """torch's global random state (CPU, and the device's on CUDA), for a checkpoint."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
