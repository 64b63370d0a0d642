#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Constellations by name: the one table the runtime, the evaluation CLI and
the training side (``semcom_train.bitsemcom``) share.

Each entry is (GNU Radio expression, factory). The expression is what a model
card records and what a GRC Constellation Object takes (with ``digital``,
``qam`` and ``mod_codes`` imported from ``gnuradio.digital``); the factory
makes that ``digital.constellation``. Bit labels and unit power then come from
``demapping.Constellation.from_gnuradio``.
"""
from __future__ import annotations

from gnuradio import digital
from gnuradio.digital import mod_codes, qam

MODULATIONS = {
    "bpsk": ("digital.constellation_bpsk()", digital.constellation_bpsk),
    "qpsk": ("digital.constellation_qpsk()", digital.constellation_qpsk),
    "8psk": ("digital.constellation_8psk()", digital.constellation_8psk),
    "16qam": ("digital.constellation_16qam()", digital.constellation_16qam),
    "16qam_gray": ("qam.qam_constellation(16, differential=False, mod_code=mod_codes.GRAY_CODE)",
                   lambda: qam.qam_constellation(16, differential=False, mod_code=mod_codes.GRAY_CODE)),
    "64qam": ("qam.qam_constellation(64)", lambda: qam.qam_constellation(64)),
    "64qam_gray": ("qam.qam_constellation(64, differential=False, mod_code=mod_codes.GRAY_CODE)",
                   lambda: qam.qam_constellation(64, differential=False, mod_code=mod_codes.GRAY_CODE)),
}


def _check(name: str) -> None:
    if name not in MODULATIONS:
        raise KeyError(f"unknown modulation {name!r}; known: {', '.join(MODULATIONS)}")


def make(name: str):
    """The ``digital.constellation`` called ``name``; KeyError naming the known ones."""
    _check(name)
    return MODULATIONS[name][1]()


def expression(name: str) -> str:
    """The GNU Radio expression of ``name`` (as model cards and GRC write it)."""
    _check(name)
    return MODULATIONS[name][0]
