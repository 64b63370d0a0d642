#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The CMake build: configure, build and install into a temporary prefix, then
use only what was installed.

Every check of the installed package runs in a subprocess of this venv's
Python started with -I (no PYTHONPATH, no user site, no script folder on
sys.path) from an empty working folder, with only the installed Python folder
added to sys.path and the source tree's editable-install finder removed, so
that ``gnuradio.semcom`` can only come from the prefix; the subprocess also
asserts that it did. grcc gets GRC_BLOCKS_PATH set to the installed blocks
folder alone.

The install also pip-installs the Python dependencies that the system's
Python (the one GNU Radio Companion runs flowgraphs with) lacks, next to
gnuradio/semcom (SEMCOM_INSTALL_PYTHON_DEPS). So the examples are also run as
a user runs them from that install: compiled by the system's grcc and run by
/usr/bin/python3 with only the prefix on PYTHONPATH (no venv, no user site),
and through the system's gnuradio-companion under Xvfb (Run, F6; the helpers
and the Xvfb server are test_grc_gui.py's).
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
import tomllib
from PIL import Image
from packaging.requirements import Requirement

from test_grc_gui import (GRC_EXECUTABLE, Grc, check_summary, copy_examples, exercise, grc_environment,
                          needs_display_tools, standalone_examples, xvfb)  # noqa: F401 (xvfb: a fixture)

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
    from gnuradio.gr import gateway
    from gnuradio.semcom import bundle
    # a Python block: gr.basic_block, or a gateway block (gr.sync_block, ...), or a hier block
    BLOCK_CLASSES = (gr.basic_block, gateway.gateway_block, gr.hier_block2)
    blocks_dir = pathlib.Path(sys.argv[2])
    problems = []
    for path in sorted(blocks_dir.glob("semcom_*.block.yml")):
        data = yaml.safe_load(path.read_text())
        if data.get("id") != path.name[:-len(".block.yml")]:
            problems.append(f"{path.name}: id {data.get('id')}")
        # semcom.<block>(...), for a Qt GUI block inside its <% %> preamble and widget lines
        match = re.search(r"\\bsemcom\\.(\\w+)\\(", data["templates"]["make"])
        cls = getattr(semcom, match.group(1), None) if match else None
        if not (inspect.isclass(cls) and issubclass(cls, BLOCK_CLASSES)):
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
                         if inspect.isclass(getattr(semcom, n)) and issubclass(getattr(semcom, n), BLOCK_CLASSES)),
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
            "work": work, "build": build, "configure": configure.stdout}


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


# -- the install as the system's Python and GNU Radio Companion use it ---------------------
SYSTEM_PYTHON = pathlib.Path("/usr/bin/python3")
needs_system_python = pytest.mark.skipif(not SYSTEM_PYTHON.is_file(), reason="no /usr/bin/python3")


def system_environment(installed) -> dict:
    """What a user's shell gives the system's Python and GRC for this install: the prefix's
    Python folder on PYTHONPATH and its blocks on GRC_BLOCKS_PATH; nothing of the venv (PATH
    of the system alone, no VIRTUAL_ENV), no user site; GRC's own blocks from GNU Radio's prefix
    (another gr-semcom installed there would mask this one)."""
    from gnuradio import gr
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "GRC_", "GR_CONF_")) and k != "VIRTUAL_ENV"}
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", PYTHONPATH=str(installed["pydir"]), PYTHONNOUSERSITE="1",
               GRC_BLOCKS_PATH=str(installed["blocks"]),
               GR_CONF_GRC_GLOBAL_BLOCKS_PATH=str(pathlib.Path(gr.prefix()) / "share" / "gnuradio" / "grc" / "blocks"),
               GR_CONF_GRC_LOCAL_BLOCKS_PATH="")
    return env


# Run by /usr/bin/python3 in system_environment: where everything comes from, and every
# module of the installed gnuradio.semcom imports
SYSTEM_PROBE = textwrap.dedent("""
    import importlib, importlib.metadata, json, pathlib, pkgutil, sys
    from gnuradio import gr
    import numpy, onnxruntime, PIL, PIL.features
    from gnuradio import semcom
    from gnuradio.semcom import images
    modules = sorted(m.name for m in pkgutil.iter_modules(semcom.__path__))
    failed = {}
    for name in modules:
        try:
            importlib.import_module("gnuradio.semcom." + name)
        except Exception as error:
            failed[name] = repr(error)
    print(json.dumps({
        "executable": sys.executable, "gr": gr.version(), "semcom": semcom.__file__,
        "numpy": [numpy.__version__, numpy.__file__], "onnxruntime": onnxruntime.__file__,
        "pil": [PIL.__version__, PIL.__file__], "webp": PIL.features.check("webp"),
        "avif": PIL.features.check("avif"),
        "samples": [str(p) for p in images.sample_paths() if p.is_file()],
        "modules": modules, "failed": failed}))
""")


def test_configure_names_the_flowgraph_python_and_what_it_lacks(installed):
    match = re.search(r"Flowgraph Python: *(\S+) \(GNU Radio Companion's\), lacks: (.*)", installed["configure"])
    assert match, installed["configure"]
    if GRC_EXECUTABLE.is_file():
        with open(GRC_EXECUTABLE) as script:
            shebang = script.readline()
        if shebang.startswith("#!/") and "/env " not in shebang:
            assert match.group(1) == shebang[2:].split()[0]  # the interpreter gnuradio-companion runs under
    assert "cmake --install pip-installs them" in installed["configure"] or match.group(2) == "none"


def test_python_dependencies_cover_the_package_requirements(installed):
    cache = (installed["build"] / "CMakeCache.txt").read_text()
    deps = re.search(r"^SEMCOM_PYTHON_DEPS:STRING=(.*)$", cache, re.M).group(1).split(";")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {Requirement(r).name.lower() for r in project["dependencies"]}
    assert wanted == {Requirement(r).name.lower() for r in deps}
    assert "numpy<2" in deps  # GNU Radio 3.10 is built against numpy 1.x


@needs_system_python
def test_system_python_imports_the_install_with_its_dependencies(installed):
    """/usr/bin/python3 with only the prefix added: gnuradio.semcom and every module of it import;
    what the system lacked (onnxruntime) comes from the prefix, the sample photos with the package; numpy stays
    the system's 1.x, which GNU Radio is built against (the install put no numpy into the prefix)."""
    result = subprocess.run([SYSTEM_PYTHON, "-c", SYSTEM_PROBE], env=system_environment(installed),
                            cwd=installed["work"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    pydir = installed["pydir"].resolve()
    assert report["executable"] == str(SYSTEM_PYTHON)
    assert pathlib.Path(report["semcom"]).resolve() == installed["package"].resolve() / "__init__.py"
    assert report["failed"] == {}, report["failed"]
    assert {p.stem for p in (ROOT / "gr-semcom").glob("*.py")} - {"__init__"} <= set(report["modules"])
    numpy_version, numpy_file = report["numpy"]
    assert int(numpy_version.split(".")[0]) < 2, report["numpy"]
    assert not pathlib.Path(numpy_file).resolve().is_relative_to(pydir), report["numpy"]
    assert not list(pydir.glob("numpy*")), "the install put a numpy into the prefix"
    location = pathlib.Path(report["onnxruntime"]).resolve()
    assert location.is_relative_to(pydir), location
    # images "samples", every example's default, installed with the package
    assert len(report["samples"]) == 4, report["samples"]
    assert all(pathlib.Path(p).resolve().is_relative_to(installed["package"].resolve()) for p in report["samples"])
    assert report["webp"] and report["avif"], report["pil"]  # the codec blocks' formats


def test_python_dependencies_are_in_the_install_manifest(installed):
    """`make uninstall` removes what the install put into the prefix, its Python dependencies too."""
    manifest = set((installed["build"] / "install_manifest.txt").read_text().split())
    pydir = installed["pydir"]
    files = [p for p in (pydir / "onnxruntime").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert files and not [str(p) for p in files if str(p) not in manifest][:5]
    assert not list(pydir.glob("bin")), "console scripts of the dependencies left in the Python folder"


@pytest.fixture(scope="module")
def system_scripts(installed, tmp_path_factory) -> pathlib.Path:
    """Every standalone example compiled by the system's grcc (/usr/bin/python3) from the install."""
    out = tmp_path_factory.mktemp("system_grcc")
    grcc = pathlib.Path(gr_prefix_bin("grcc"))
    result = subprocess.run([grcc, "-o", out, *standalone_examples()], env=system_environment(installed),
                            cwd=installed["work"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    paths = result.stdout.split("Block paths:", 1)[1].split(">>>", 1)[0].split()
    assert str(installed["blocks"]) in paths, result.stdout
    return out


def gr_prefix_bin(name: str) -> str:
    from gnuradio import gr
    return str(pathlib.Path(gr.prefix()) / "bin" / name)


@needs_grcc
@needs_system_python
@pytest.mark.parametrize("example", [p.stem for p in standalone_examples()])
def test_installed_example_runs_under_the_system_python(installed, system_scripts, example, tmp_path):
    """What GRC's Run does after the install, without GRC: /usr/bin/python3 runs the generated
    script with the prefix alone added, and every image comes out with a finite PSNR."""
    out_dir = tmp_path / "out"
    result = subprocess.run([SYSTEM_PYTHON, system_scripts / f"{example}.py", "--out-dir", out_dir],
                            env=system_environment(installed), cwd=tmp_path, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    check_summary(result.stdout, len(list(out_dir.glob("*.png"))), f"{example}.py under {SYSTEM_PYTHON}")


@needs_display_tools
@needs_system_python
def test_system_grc_runs_the_installed_examples(installed, xvfb, tmp_path):
    """The system's gnuradio-companion (under /usr/bin/python3) with GRC_BLOCKS_PATH and
    PYTHONPATH of the install: Run (F6) of each standalone example delivers its images."""
    standalone = standalone_examples()
    copies = copy_examples(standalone, tmp_path / "examples")
    env = grc_environment(system_environment(installed), tmp_path)
    grc = Grc([GRC_EXECUTABLE, *copies], env, tmp_path, xvfb)
    try:
        paths = grc.wait_for(r"Block paths:\n((?:\t.*\n)+)", timeout=90).group(1).split()
        assert str(installed["blocks"]) in paths
        runs = exercise(grc, copies, {p.stem for p in standalone}, "grc_installed_", str(SYSTEM_PYTHON))
    finally:
        grc.stop()
    assert set(runs) == {p.stem for p in standalone}


# -- the block QA registered with CTest (GR_ADD_TEST, as gr_modtool does), run against the source tree --
CTEST = shutil.which("ctest")
QA_FILES = sorted(p.stem for p in (ROOT / "tests").glob("qa_*.py"))
QUICK_QA = ("qa_bit_mapper", "qa_jscc_encoder", "qa_qam_mapper")  # a few seconds each; the whole QA takes a minute

# Run with PYTHONPATH of a CTest script (argv[1]) and the venv's editable install of the source tree
# taken away, so that only that PYTHONPATH can find gnuradio.semcom
QA_IMPORT = textwrap.dedent("""
    import importlib.util, pathlib, sys
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
    sys.path[:0] = [p for p in sys.argv[1].split(":") if p]
    for name in list(sys.modules):
        if name == "gnuradio" or name.startswith("gnuradio."):
            del sys.modules[name]
    print(importlib.util.find_spec("gnuradio.semcom").origin)
    print(importlib.util.find_spec("semcom_tools").submodule_search_locations[0])
""")


@pytest.fixture(scope="module")
def qa_build(tmp_path_factory) -> pathlib.Path:
    """A build folder configured with this Python for the QA, and built (the QA needs no install)."""
    build = tmp_path_factory.mktemp("ctest") / "build"
    configure = _run([CMAKE, "-S", ROOT, "-B", build, f"-DQA_PYTHON_EXECUTABLE={sys.executable}"], timeout=120)
    assert f"Block QA Python:      {sys.executable}" in configure.stdout, configure.stdout
    _run([CMAKE, "--build", build], timeout=120)
    return build


@pytest.mark.skipif(CTEST is None, reason="ctest is not installed")
def test_ctest_registers_every_qa_file(qa_build):
    listed = _run([CTEST, "-N"], cwd=qa_build, timeout=60).stdout
    assert sorted(re.findall(r"Test +#\d+: (\S+)", listed)) == QA_FILES, listed


def test_each_qa_test_runs_its_file_with_pytest_against_the_source_tree(qa_build):
    for name in QA_FILES:
        script = (qa_build / f"{name}_test.sh").read_text()
        command = script.strip().splitlines()[-1].split()
        assert command == [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", '"not', 'training"',
                           str(ROOT / "tests" / f"{name}.py")], script
        pythonpath = re.search(r"^export PYTHONPATH=(.*)$", script, re.M).group(1).replace("$PYTHONPATH", "")
        result = _run([sys.executable, "-c", QA_IMPORT, pythonpath], cwd=qa_build, timeout=60)
        package, tools = result.stdout.split()
        # gnuradio.semcom from gr-semcom/ (through build/test_modules/gnuradio/semcom), semcom_tools from python/
        assert pathlib.Path(package).resolve() == ROOT / "gr-semcom" / "__init__.py", package
        assert pathlib.Path(tools).resolve() == ROOT / "python" / "semcom_tools", tools


@pytest.mark.skipif(CTEST is None, reason="ctest is not installed")
def test_ctest_runs_the_qa_and_it_passes(qa_build):
    result = subprocess.run([CTEST, "--output-on-failure", "-R", f"^({'|'.join(QUICK_QA)})$"], cwd=qa_build,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert re.findall(r"Test +#\d+: (\S+) \.+ +Passed", result.stdout) == list(QUICK_QA), result.stdout
    assert f"100% tests passed, 0 tests failed out of {len(QUICK_QA)}" in result.stdout, result.stdout
