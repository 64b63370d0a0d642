#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Compiling GNU Radio Companion flowgraphs with this source tree's block definitions (grc/),
as the tests and benchmarks do: grcc and GRC's platform see grc/ and GNU Radio's own blocks
only, so that a gr-semcom installed elsewhere (user or global block paths) cannot override them."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

from gnuradio import gr

BLOCKS_DIR = pathlib.Path(__file__).resolve().parents[2] / "grc"


def environment(hier_dir: pathlib.Path | None = None) -> dict[str, str]:
    """The environment variables that point GRC at ``BLOCKS_DIR`` and GNU Radio's own blocks
    (and at ``hier_dir`` for generated hier blocks)."""
    env = {"GRC_BLOCKS_PATH": str(BLOCKS_DIR),
           "GR_CONF_GRC_GLOBAL_BLOCKS_PATH": str(pathlib.Path(gr.prefix()) / "share" / "gnuradio" / "grc" / "blocks"),
           "GR_CONF_GRC_LOCAL_BLOCKS_PATH": ""}
    if hier_dir is not None:
        env["GRC_HIER_PATH"] = str(hier_dir)
    return env


def compile_flowgraph(grc_file: pathlib.Path, out_dir: pathlib.Path) -> subprocess.CompletedProcess:
    """grcc ``grc_file`` into ``out_dir``, run by this Python (so that the script it writes runs
    with the same packages); RuntimeError when grcc is not installed."""
    grcc = shutil.which("grcc")
    if grcc is None:
        raise RuntimeError("grcc (GNU Radio Companion's compiler) is not installed")
    with open(grcc, "rb") as script:
        command = [sys.executable, grcc] if b"python" in script.readline() else [grcc]
    return subprocess.run([*command, "-o", str(out_dir), str(grc_file)],
                          env={**os.environ, **environment(out_dir / "hier")}, capture_output=True, text=True,
                          timeout=120)
