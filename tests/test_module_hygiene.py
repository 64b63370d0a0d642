#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""What a GNU Radio user expects of an out-of-tree module: its licence (GPL-3.0-or-later, as
GNU Radio's) in LICENSE and on every source file, and MANIFEST.md as gr_modtool writes it."""
import pathlib
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = (".py", ".sh", ".cmake", ".cmake.in", ".yml")


def test_every_source_file_carries_the_licence():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    sources = [f for f in files if f.endswith(SOURCES) or f in ("Makefile", "CMakeLists.txt", ".ci/run")]
    assert len(sources) > 100
    missing = [f for f in sources if (ROOT / f).is_file()
               and "SPDX-License-Identifier: GPL-3.0-or-later" not in (ROOT / f).read_text()[:1000]]
    assert not missing, f"no SPDX licence header in: {missing}"
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()[:200]


def test_manifest_has_gr_modtools_fields():
    header = (ROOT / "MANIFEST.md").read_text().split("\n---", 1)[0]
    manifest = yaml.safe_load(header)
    assert manifest["title"] == "gr-semcom" and manifest["license"] == "GPL-3.0-or-later"
    assert manifest["gr_supported_version"] == "v3.10" and manifest["brief"] and manifest["tags"]
