#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""A training run's optimiser, learning-rate schedule and checkpoint, shared by the training CLIs."""
from __future__ import annotations

import math
import pathlib
import time

import torch


class Run:
    """Adam with a cosine decay to 1 % of ``lr`` over ``steps``, checkpointed to ``<out>/checkpoint.pt``.

    ``name`` is recorded in the checkpoint ("model_name") and checked on resume;
    ``args`` (a dict) is recorded for the export's card. ``step`` and ``seconds``
    count the optimiser steps and training time so far. ``scaler``: a ``torch.amp.GradScaler``
    (fp16 mixed precision), checkpointed with the rest. ``save(random_state)`` also records where
    the random draws are (data, torch); ``resume`` puts that in ``random_state`` (None in
    checkpoints written without it), so that a resumed run continues as the uninterrupted one.
    """

    def __init__(self, out, model: torch.nn.Module, name: str, lr: float, steps: int, args: dict,
                 weight_decay: float = 0.0, scaler: torch.amp.GradScaler | None = None):
        self.out = pathlib.Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.path = self.out / "checkpoint.pt"
        self.model, self.name, self.args = model, name, args
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
        self.step, self.seconds = 0, 0.0
        self.scaler, self.random_state = scaler, None

    def resume(self) -> bool:
        """Load the checkpoint when there is one (ValueError if it holds another model); True if loaded."""
        if not self.path.exists():
            return False
        state = torch.load(self.path, weights_only=True, map_location="cpu")  # a checkpoint is tensors and plain values: never run a pickle
        if state["model_name"] != self.name:
            raise ValueError(f"{self.path} holds {state['model_name']}, not {self.name}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.step, self.seconds = state["step"], state["seconds"]
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.random_state = state.get("random_state")
        return True

    def advance(self, loss: torch.Tensor, seconds: float = 0.0, started: float | None = None) -> None:
        """One optimiser step on ``loss``, which took ``seconds`` to compute; or, given ``started``
        (``time.perf_counter()`` at the step's start), the step's time up to the end of its update."""
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.schedule.step()
        self.step += 1
        self.seconds += seconds if started is None else time.perf_counter() - started

    def save(self, random_state: dict | None = None) -> None:
        """Write the checkpoint atomically (a crash leaves the previous one)."""
        state = {"model_name": self.name, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "schedule": self.schedule.state_dict(), "step": self.step, "seconds": self.seconds,
                 "args": self.args}
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        if random_state is not None:
            state["random_state"] = random_state
        torch.save(state, self.path.with_suffix(".tmp"))
        self.path.with_suffix(".tmp").replace(self.path)
