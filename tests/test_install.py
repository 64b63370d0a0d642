"""The CMake build: configure, build and install into a temporary prefix, then
use only what was installed.

Every check of the installed package runs in a subprocess of this venv's
Python started with -I (no PYTHONPATH, no user site, no script folder on
sys.path) from an empty working folder, with only the installed Python folder
added to sys.path and the source tree's editable-install finder removed, so
that ``gnuradio.semcom`` can only come from the prefix; the subprocess also
asserts that it did. grcc gets GRC_BLOCKS_PATH set to the installed blocks
folder alone.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "awgn_point_to_point.grc"
BLOCKS = ("image_source", "jscc_encoder", "jscc_decoder", "image_sink", "metrics_sink",
          "qam_mapper", "soft_demapper", "block_fading", "ldpc_encoder", "ldpc_decoder",
          "bitsemcom_encoder", "bit_mapper", "bitsemcom_decoder", "codec_encoder", "codec_decoder")
CMAKE = shutil.which("cmake")
GRCC = shutil.which("grcc")
SHIPPED = sorted(p.parent.name for p in (ROOT / "models").glob("*/card.json"))

pytestmark = pytest.mark.skipif(CMAKE is None, reason="cmake is not installed")
needs_grcc = pytest.mark.skipif(GRCC is None, reason="grcc (GNU Radio Companion compiler) is not installed")

# Run first in every isolated subprocess: argv[1] is the installed Python folder.
ISOLATE = textwrap.dedent("""
    import pathlib, sys
    PYDIR = pathlib.Path(sys.argv[1]).resolve()
    # this venv has the source tree installed in editable mode: drop its finder,
    # so that a missing or broken install fails instead of importing the sources
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
    sys.path.insert(0, str(PYDIR))
    from gnuradio import semcom
    assert pathlib.Path(semcom.__file__).resolve().is_relative_to(PYDIR), semcom.__file__
""")

INSPECT = ISOLATE + textwrap.dedent("""
    import inspect, json, re
    import yaml
    from gnuradio import gr
    from gnuradio.semcom import bundle
    blocks_dir = pathlib.Path(sys.argv[2])
    problems = []
    for path in sorted(blocks_dir.glob("semcom_*.block.yml")):
        data = yaml.safe_load(path.read_text())
        if data.get("id") != path.name[:-len(".block.yml")]:
            problems.append(f"{path.name}: id {data.get('id')}")
        match = re.fullmatch(r"semcom\\.(\\w+)\\((.*)\\)", data["templates"]["make"].strip(), re.S)
        cls = getattr(semcom, match.group(1), None) if match else None
        if not (inspect.isclass(cls) and issubclass(cls, (gr.basic_block, gr.hier_block2))):
            problems.append(f"{path.name}: make {data['templates']['make']!r} names no block of gnuradio.semcom")
            continue
        for callback in data["templates"].get("callbacks", []):
            method = re.match(r"(?:self\\.\\w+\\.)?(\\w+)\\(", callback).group(1)
            if not callable(getattr(cls, method, None)):
                problems.append(f"{path.name}: callback {method} is not a method of {cls.__name__}")
    semcom_modules = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
                      if name == "gnuradio.semcom" or name.startswith("gnuradio.semcom.")}
    print(json.dumps({
        "file": semcom.__file__,
        "blocks": sorted(n for n in dir(semcom)
                         if inspect.isclass(getattr(semcom, n)) and issubclass(getattr(semcom, n), gr.basic_block)),
        "modules": semcom_modules,
        "models_dir": str(bundle.models_dir()),
        "shipped": bundle.shipped_models(),
        "problems": problems,
    }))
""")

RUN_SCRIPT = ISOLATE + textwrap.dedent("""
    import runpy
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
""")


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _isolated(code: str, *args, cwd: pathlib.Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return _run([sys.executable, "-I", "-c", code, *args], cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Configure, build and install into a fresh prefix; returns the folders."""
    base = tmp_path_factory.mktemp("cmake")
    build, prefix = base / "build", base / "prefix"
    configure = _run([CMAKE, "-S", ROOT, "-B", build, f"-DCMAKE_INSTALL_PREFIX={prefix}"], timeout=120)
    _run([CMAKE, "--build", build], timeout=120)
    _run([CMAKE, "--install", build], timeout=120)
    packages = list(prefix.rglob("gnuradio/semcom/__init__.py"))
    assert len(packages) == 1, f"installed gnuradio.semcom packages: {packages}"
    package = packages[0].parent
    reported = re.search(r"Python package dir: *(\S+)", configure.stdout)
    assert reported and pathlib.Path(reported.group(1)) == package, configure.stdout
    blocks_dir = prefix / "share" / "gnuradio" / "grc" / "blocks"
    work = base / "work"  # an empty working folder for the subprocesses
    work.mkdir()
    return {"prefix": prefix, "package": package, "pydir": package.parent.parent, "blocks": blocks_dir,
            "work": work}


def test_installs_the_package_blocks_and_models(installed):
    package, blocks_dir = installed["package"], installed["blocks"]
    assert package.is_relative_to(installed["prefix"])
    for source in (ROOT / "gr-semcom").glob("*.py"):
        assert (package / source.name).read_bytes() == source.read_bytes(), source.name
    expected_yaml = sorted(p.name for p in (ROOT / "grc").glob("*.yml"))
    assert sorted(p.name for p in blocks_dir.glob("*.yml")) == expected_yaml
    assert {f"semcom_{b}.block.yml" for b in BLOCKS} | {"semcom.tree.yml"} <= set(expected_yaml)
    installed_models = sorted(p.parent.name for p in (package / "models").glob("*/card.json"))
    assert installed_models == SHIPPED
    for name in SHIPPED:
        source = ROOT / "models" / name
        wanted = sorted(p.name for p in source.iterdir()
                        if p.name == "card.json" or p.name.endswith((".onnx", ".onnx.data", ".pt", ".npz")))
        assert sorted(p.name for p in (package / "models" / name).iterdir()) == wanted


def test_installed_package_imports_from_the_prefix_alone(installed):
    result = _isolated(INSPECT, installed["pydir"], installed["blocks"], cwd=installed["work"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    package = installed["package"].resolve()
    assert pathlib.Path(report["file"]).resolve() == package / "__init__.py"
    for name, file in report["modules"].items():
        assert file and pathlib.Path(file).resolve().is_relative_to(package), (name, file)
    assert set(BLOCKS) <= set(report["blocks"])
    # bundle.models_dir() finds the models installed inside the package
    assert pathlib.Path(report["models_dir"]).resolve() == package / "models"
    assert report["shipped"] == SHIPPED
    assert report["problems"] == []


def _grcc_installed(installed, out_dir: pathlib.Path) -> subprocess.CompletedProcess:
    """grcc (as a user runs it) with GRC_BLOCKS_PATH = the installed blocks folder;
    GNU Radio's own blocks come from its prefix, and the user's preferences and
    hier block library are left out (another gr-semcom install there would mask this one)."""
    from gnuradio import gr
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(GRC_BLOCKS_PATH=str(installed["blocks"]), PYTHONPATH=str(installed["pydir"]),
               GR_CONF_GRC_GLOBAL_BLOCKS_PATH=str(pathlib.Path(gr.prefix()) / "share" / "gnuradio" / "grc" / "blocks"),
               GR_CONF_GRC_LOCAL_BLOCKS_PATH="", GRC_HIER_PATH=str(out_dir / "hier"))
    result = _run([GRCC, "-o", out_dir, EXAMPLE], cwd=installed["work"], env=env, timeout=120)
    paths = result.stdout.split("Block paths:", 1)[1].split(">>>", 1)[0].split()
    with_semcom = [p for p in paths if list(pathlib.Path(p).rglob("semcom_*.block.yml"))]
    assert with_semcom == [str(installed["blocks"])], f"gr-semcom blocks found in {with_semcom}"
    return result


@needs_grcc
def test_grcc_compiles_the_example_with_the_installed_blocks_only(installed, tmp_path):
    _grcc_installed(installed, tmp_path)
    assert (tmp_path / "awgn_point_to_point.py").is_file()


@needs_grcc
@pytest.mark.skipif("deepjscc_bsds_r16" not in SHIPPED, reason="models/deepjscc_bsds_r16 is not in the tree yet")
def test_installed_example_runs_with_the_shipped_model_by_name(installed, tmp_path):
    _grcc_installed(installed, tmp_path)
    images = []
    for name, (height, width) in {"a": (60, 92), "b": (36, 44)}.items():
        y, x = np.mgrid[0:height, 0:width]
        images.append(tmp_path / f"{name}.png")
        Image.fromarray(np.stack([x * 2, y * 3, x + y], -1).astype(np.uint8)).save(images[-1])
    out_dir = tmp_path / "out"
    # the default model, deepjscc_bsds_r16, is found by name among the installed models
    result = _isolated(RUN_SCRIPT, installed["pydir"], tmp_path / "awgn_point_to_point.py",
                       "--images", ",".join(map(str, images)), "--out-dir", out_dir,
                       cwd=installed["work"], timeout=120)
    assert "2 of 2 images: mean PSNR" in result.stdout, result.stdout + result.stderr
    assert len(list(out_dir.glob("*.png"))) == 2
