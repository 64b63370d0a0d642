#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The model registry: every trainable model by name, as CompressAI's zoo has them.

``REGISTRY`` maps a name (``--model`` of ``semcom_train.train``, the ``architecture`` of a
card) to the frozen config that fixes the network; ``config.build()`` makes it. The model
modules define their configs (``CONFIGS``) and import nothing of this one; this module is
the one place that imports them all, so importing it alone knows every model.

    deepjscc      DeepJSCC, single hop and decode-and-forward (deepjscc_*)
    variational   VSCC and its AE and VAE baselines (vscc_*)
    contrastive   C-JSCC (cjscc_*)
    bitsemcom     BitSemCom and its ablations (bitsemcom_*)
"""
from __future__ import annotations

import pathlib

import torch
from torch import nn

from gnuradio.semcom import card

from . import bitsemcom, contrastive, deepjscc, variational

REGISTRY: dict = {**deepjscc.CONFIGS, **variational.CONFIGS, **contrastive.CONFIGS, **bitsemcom.CONFIGS}


def build(name: str) -> nn.Module:
    """Instantiate the registered model ``name``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name].build()


def load_bundle(path) -> nn.Module:
    """The torch model of a bundle folder written by ``semcom_train.export`` (eval mode)."""
    folder = pathlib.Path(path)
    bundle_card = card.read(folder / "card.json")
    model = build(bundle_card["architecture"])  # model_id may name a variant
    model.load_state_dict(torch.load(folder / bundle_card["files"]["torch"], map_location="cpu", weights_only=True))
    return model.eval()
