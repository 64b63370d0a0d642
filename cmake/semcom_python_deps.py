#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""gr-semcom's runtime Python dependencies for the interpreter that runs the flowgraphs.

    PYTHON cmake/semcom_python_deps.py --target DIR [--check] [--manifest FILE] REQUIREMENT...

PYTHON is the interpreter GNU Radio Companion runs flowgraphs with (on Debian
/usr/bin/python3, the one on gnuradio-companion's first line), DIR the folder
that holds the installed gnuradio/semcom. Everything is judged as that
interpreter sees it when the install is used: DIR first on its path, no
PYTHONPATH, no user site.

Without --check, the distributions that are missing or too old are
installed into DIR: pip resolves REQUIREMENT... against that environment in
a dry run, then installs exactly what the dry run lists with
`pip install --target DIR --no-deps` (Debian's Python is "externally
managed": pip refuses to install into it, but a --target folder is ours).
What the interpreter already has stays; numpy above all: when it imports a
numpy 1.x (GNU Radio's own, Debian's python3-numpy), that version is pinned,
so pip picks only releases that work with it; numpy 2 is never installed
(GNU Radio 3.10's Python bindings fail to import with it). --manifest FILE
gets every installed file, one a line (CMake adds them to
install_manifest.txt, so `make uninstall` removes them too).

--check installs nothing: it lists the REQUIREMENTs the interpreter lacks
(from the installed distributions' metadata; no network) and exits 1 when
there are any.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

# importlib.metadata and packaging (python3-packaging is a dependency of Debian's gnuradio)
# evaluated in the interpreter as it sees the install: DIR on its path
PROBE = r"""
import importlib.metadata, json, sys
from packaging.requirements import Requirement
result = {"python": sys.executable, "numpy": None, "missing": []}
try:
    import numpy
    result["numpy"] = numpy.__version__
except Exception as error:
    result["numpy_error"] = repr(error)
for text in sys.argv[1:]:
    requirement = Requirement(text)
    try:
        version = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        result["missing"].append([text, None])
        continue
    if not requirement.specifier.contains(version, prereleases=True):
        result["missing"].append([text, version])
print(json.dumps(result))
"""


def environment(target: pathlib.Path) -> dict:
    """The environment of every subprocess: DIR alone on PYTHONPATH, no user site,
    no venv or PYTHONHOME inherited from whoever runs the install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env.update(PYTHONPATH=str(target), PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def run(command: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        noise = "WARNING: Location "  # pip's note about each unreachable extra index
        stderr = "\n".join(line for line in result.stderr.splitlines() if not line.startswith(noise))
        sys.exit(f"semcom_python_deps: {what} failed ({shlex.join(command)}):\n{result.stdout}\n{stderr}")
    return result


def probe(target: pathlib.Path, requirements: list[str]) -> dict:
    result = run([sys.executable, "-c", PROBE, *requirements], environment(target),
                 f"checking the requirements in {sys.executable}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def numpy_constraint(found: str | None) -> str:
    """Keep the interpreter's numpy 1.x; never resolve to numpy 2."""
    if found and int(found.split(".")[0]) < 2:
        return f"numpy=={found}"
    return "numpy<2"


def to_install(target: pathlib.Path, requirements: list[str], constraint: str) -> list[tuple[str, str]]:
    """(name, version) of every distribution pip would add to the interpreter's environment."""
    with tempfile.TemporaryDirectory() as scratch:
        constraints = pathlib.Path(scratch) / "constraints.txt"
        constraints.write_text(constraint + "\n")
        report = pathlib.Path(scratch) / "report.json"
        run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report),
             "--constraint", str(constraints), *requirements], environment(target),
            "resolving the requirements with pip")
        resolved = json.loads(report.read_text())
    return [(item["metadata"]["name"], item["metadata"]["version"]) for item in resolved["install"]]


def normal(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_files(target: pathlib.Path, names: set[str]) -> list[pathlib.Path]:
    """Every file of the named distributions in DIR (their RECORDs) that is there."""
    import importlib.metadata
    files = []
    for dist in importlib.metadata.distributions(path=[str(target)]):
        if normal(dist.metadata["Name"]) in names:
            for file in dist.files or []:
                path = pathlib.Path(os.path.normpath(dist.locate_file(file)))
                if path.is_file():
                    files.append(path)
    return sorted(set(files))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, type=pathlib.Path)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--manifest", type=pathlib.Path)
    parser.add_argument("requirements", nargs="+")
    args = parser.parse_args(argv)
    target = args.target.resolve()

    found = probe(target, args.requirements)
    missing = [f"{text} (has {version})" if version else text for text, version in found["missing"]]
    if args.check:
        print("; ".join(missing) if missing else "none")
        return 1 if missing else 0

    if found["numpy"] and int(found["numpy"].split(".")[0]) >= 2:
        print(f"semcom_python_deps: warning: {sys.executable} imports numpy {found['numpy']} "
              f"(with {target} first on its path); GNU Radio 3.10 needs numpy 1.x", file=sys.stderr)
    constraint = numpy_constraint(found["numpy"])
    pip = run([sys.executable, "-m", "pip", "--version"], environment(target), "running pip").stdout.split()
    if tuple(int(part) for part in re.findall(r"\d+", pip[1])[:2]) < (22, 2):
        sys.exit(f"semcom_python_deps: pip {pip[1]} of {sys.executable} has no `install --dry-run --report` "
                 f"(pip 22.2 and later), which finds what is missing without touching {sys.executable}'s own "
                 f"packages. Upgrade it, or configure with -DSEMCOM_INSTALL_PYTHON_DEPS=OFF and install "
                 f"{' '.join(args.requirements)} for it yourself, keeping {constraint}.")
    wanted = to_install(target, args.requirements, constraint)
    if not wanted:
        print(f"-- Python dependencies: {sys.executable} has them all ({', '.join(args.requirements)})")
        if args.manifest:
            args.manifest.write_text("")
        return 0
    pins = [f"{name}=={version}" for name, version in wanted]
    print(f"-- Python dependencies: installing into {target} for {sys.executable} "
          f"(kept: {constraint}): {' '.join(pins)}", flush=True)
    target.mkdir(parents=True, exist_ok=True)
    scripts = target / "bin"
    scripts_before = set(scripts.iterdir()) if scripts.is_dir() else None
    run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "--no-deps", "--upgrade",
         "--no-warn-script-location", *pins], environment(target), "installing the Python dependencies with pip")

    # pip puts the distributions' console scripts into DIR/bin: nothing runs them from
    # there (they are not on PATH), so they are not left in the Python folder
    if scripts.is_dir():
        for path in set(scripts.iterdir()) - (scripts_before or set()):
            path.unlink()
        if scripts_before is None:
            scripts.rmdir()

    after = probe(target, args.requirements)
    if after["missing"]:
        sys.exit(f"semcom_python_deps: still missing after the install: {after['missing']}")
    if after["numpy"] != found["numpy"]:
        sys.exit(f"semcom_python_deps: numpy changed from {found['numpy']} to {after['numpy']}")
    if args.manifest:
        files = installed_files(target, {normal(name) for name, _ in wanted})
        args.manifest.write_text("".join(f"{path}\n" for path in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
