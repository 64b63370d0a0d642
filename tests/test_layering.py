#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The direction of imports: training -> tools -> runtime, never back, and each package's
dependencies declared in pyproject.toml exactly as it imports them.

- ``gnuradio.semcom`` (gr-semcom/): the blocks and what they need. Besides the standard library
  and the system's GNU Radio (gnuradio, pmt, PyQt5 for the Qt display), it imports only the
  project's ``dependencies``; never the tools, training, torch, matplotlib or scikit-image.
- ``semcom_tools`` (python/semcom_tools/): harness, data sets, plots, relay nodes; the runtime,
  plus the ``tools`` extra; never training.
- ``semcom_train`` (python/semcom_train/): anything above, plus the ``train`` extra.
"""
from __future__ import annotations

import ast
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = {"gnuradio.semcom": ROOT / "gr-semcom", "semcom_tools": ROOT / "python" / "semcom_tools",
            "semcom_train": ROOT / "python" / "semcom_train"}
SYSTEM = {"gnuradio", "pmt", "PyQt5"}  # Debian's gnuradio and what it brings
# pip requirement name -> import name, where they differ
IMPORT_NAMES = {"Pillow": "PIL", "pyzmq": "zmq", "onnxruntime-gpu": "onnxruntime"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def declared(*groups: str) -> set[str]:
    """Import names of the runtime's dependencies and of the extras ``groups``."""
    requirements = PYPROJECT["dependencies"] + [r for g in groups for r in PYPROJECT["optional-dependencies"][g]]
    names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0) for r in requirements}
    return {IMPORT_NAMES.get(name, name) for name in names}


def imports(package: str) -> dict[str, set[str]]:
    """Top-level module -> files of ``package`` importing it (anywhere in the file, also inside
    functions), absolute imports only; relative ones stay inside the package."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGES[package].glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = "gnuradio.semcom" if name.startswith("gnuradio.semcom") else name.split(".")[0]
                found.setdefault(top, set()).add(path.name)
    return found


def third_party(package: str) -> dict[str, set[str]]:
    return {name: files for name, files in imports(package).items()
            if name not in sys.stdlib_module_names and name not in SYSTEM and name not in PACKAGES
            and name != "__future__"}


@pytest.mark.parametrize("package, allowed, extras", [
    ("gnuradio.semcom", set(), ()),
    ("semcom_tools", {"gnuradio.semcom"}, ("tools",)),
    ("semcom_train", {"gnuradio.semcom", "semcom_tools"}, ("tools", "train")),
])
def test_imports_flow_one_way_and_are_declared(package, allowed, extras):
    found = imports(package)
    backwards = {name: sorted(files) for name, files in found.items() if name in PACKAGES and name not in allowed
                 and name != package}
    assert not backwards, f"{package} imports packages it must not: {backwards}"
    undeclared = {name: sorted(files) for name, files in third_party(package).items()
                  if name not in declared(*extras)}
    assert not undeclared, f"{package} imports what pyproject.toml does not declare for it: {undeclared}"


def test_the_runtime_declares_exactly_what_it_imports():
    assert declared() == set(third_party("gnuradio.semcom"))


def test_the_runtime_refers_to_its_own_modules_relatively():
    """Inside gnuradio.semcom, siblings are imported as GNU Radio's own packages do
    (``from . import bundle``), so readers and tools see the module graph."""
    absolute = sorted(imports("gnuradio.semcom").get("gnuradio.semcom", ()))
    assert not absolute, f"import siblings relatively in: {absolute}"


def test_the_runtime_imports_without_the_tools_and_training_dependencies():
    """Every module of gnuradio.semcom imports with torch, matplotlib, scikit-image, zmq, scipy and
    the two other packages made unimportable."""
    blocked = ["torch", "matplotlib", "skimage", "zmq", "scipy", "onnx", "semcom_tools", "semcom_train"]
    modules = sorted(p.stem for p in PACKAGES["gnuradio.semcom"].glob("*.py") if p.stem != "__init__")
    script = (f"import sys\nfor name in {blocked!r}: sys.modules[name] = None\n"
              f"import importlib\nfor m in {modules!r}: importlib.import_module('gnuradio.semcom.' + m)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
