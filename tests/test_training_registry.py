#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The training package's registries: importing ``semcom_train.models`` alone knows every model,
no module of the package imports itself back through another (no import cycle), and every
registered model has a way to train and to export."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from semcom_train import export, models, train  # noqa: E402

PACKAGE = pathlib.Path(models.__file__).resolve().parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
EXPECTED = {"deepjscc_cifar10_r6", "deepjscc_bsds_r16", "deepjscc_cifar10_r6_df1", "deepjscc_cifar10_r6_df2",
            "deepjscc_cifar10_r6_df3", "vscc_cifar10_r6", "cjscc_cifar10_r6", "bitsemcom_cifar10",
            "bitsemcom_cifar10_uniform", "bitsemcom_cifar10_hardste", "bitsemcom_cifar10_16qam", "bitsemcom_bsds"}


def sibling_imports(module: str) -> set[str]:
    """The modules of semcom_train that ``module`` imports, anywhere in its file."""
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == "semcom_train"):
            names = [node.module] if node.level == 1 and node.module else [alias.name for alias in node.names]
            found.update(name for name in names if name in MODULES)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("semcom_train."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("semcom_train."))
    return found


def test_the_package_imports_form_no_cycle():
    graph = {module: sibling_imports(module) for module in MODULES}
    assert graph["models"] >= {"deepjscc", "variational", "contrastive", "bitsemcom"}
    for module in ("deepjscc", "variational", "contrastive", "bitsemcom"):
        assert "models" not in graph[module], f"{module} imports the registry back"
    done, path = set(), []

    def visit(module):
        assert module not in path, f"import cycle: {' -> '.join(path[path.index(module):] + [module])}"
        if module in done:
            return
        path.append(module)
        for imported in graph[module]:
            visit(imported)
        path.pop()
        done.add(module)

    for module in MODULES:
        visit(module)


@pytest.mark.parametrize("first", ["models", "bitsemcom", "variational", "contrastive", "deepjscc", "export",
                                   "train", "dhd"])
def test_importing_models_alone_registers_every_model_in_any_order(first):
    """In a fresh interpreter: ``first`` imported first, then the registry has every model."""
    script = (f"import semcom_train.{first}\nfrom semcom_train import models\n"
              f"print(' '.join(sorted(models.REGISTRY)))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert set(result.stdout.split()) == EXPECTED


def test_every_registered_model_trains_and_exports_by_its_class():
    assert set(models.REGISTRY) == EXPECTED
    for name, config in models.REGISTRY.items():
        assert type(config) in train.FAMILIES, name
        assert type(models.build(name)) in export.EXPORTERS, name
    with pytest.raises(KeyError, match="unknown model 'nope'; registered: bitsemcom_bsds"):
        models.build("nope")
