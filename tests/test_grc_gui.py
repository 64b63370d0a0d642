#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""GNU Radio Companion itself, headless under Xvfb: `make grc` opens every example
(examples/*.grc) with gr-semcom's blocks in the library; each one loads without an
error and generates (GRC only generates a flowgraph it finds valid), and Run executes
every example that runs to completion on its own (headless, no radio, no other
process) with the venv's Python and delivers its images. A screenshot of each
example goes to out/screenshots/grc_<example>.png.

test_install.py does the same Run with the system's gnuradio-companion and
/usr/bin/python3 after a cmake install; it uses the helpers here (one Xvfb for both).

GRC is driven with xdotool (F5 generate, F6 run, Ctrl+W close) on copies of the
examples, so that the generated scripts and images land in a temporary folder. GRC
would run a no_gui flowgraph in a terminal emulator (x-terminal-emulator); there is
none to see under Xvfb, so xterm_executable points nowhere
(GR_CONF_GRC_XTERM_EXECUTABLE) and GRC shows the flowgraph's output in its console,
which it also writes to its standard output, read here.
"""
from __future__ import annotations

import functools
import math
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.grc"))
SCREENSHOTS = ROOT / "out" / "screenshots"
TOOLS = {name: shutil.which(name) for name in ("Xvfb", "xdotool", "import", "make")}
GRC_EXECUTABLE = pathlib.Path("/usr/bin/gnuradio-companion")
# blocks a flowgraph cannot run without: a radio, or another process at the other end
NEEDS_MORE = re.compile(r"^(uhd_|soapy_|zeromq_|network_|iio_|osmosdr_|audio_)")
# what the image examples print last: "4 of 4 images[, 10 draws each]: mean PSNR 29.10 dB ..."
SUMMARY = re.compile(r"(\d+) of (\d+) images(?:, (\d+) draws each)?: mean PSNR (\S+) dB")
# GRC's warning for every flowgraph without a throttle or hardware: ours run to completion
HARMLESS = ("This flow graph may not have flow control",)

needs_display_tools = pytest.mark.skipif(
    not all(TOOLS.values()) or not GRC_EXECUTABLE.is_file(),
    reason=f"needs gnuradio-companion, Xvfb, xdotool, ImageMagick's import and make (make setup installs them): "
           f"{[n for n, p in TOOLS.items() if not p]}")


@functools.lru_cache(maxsize=None)
def flowgraph(path: pathlib.Path) -> dict:
    data = yaml.safe_load(path.read_text())
    options = data.get("options", {}).get("parameters", {})
    return {"generate_options": options.get("generate_options"),
            "block_ids": [block.get("id", "") for block in data.get("blocks", [])]}


def standalone_examples() -> list[pathlib.Path]:
    """The examples that run to completion on their own: no GUI, no radio, no other process."""
    return [path for path in EXAMPLES
            if flowgraph(path)["generate_options"] == "no_gui"
            and not any(NEEDS_MORE.match(block) for block in flowgraph(path)["block_ids"])]


def check_summary(output: str, new_pngs: int, where: str) -> re.Match:
    """The example's summary: every image delivered, a finite PSNR, and its PNGs written."""
    match = SUMMARY.search(output)
    assert match, f"{where}: no summary ('N of N images: mean PSNR ...') in\n{output}"
    delivered, total, draws, psnr = match.groups()
    assert int(delivered) == int(total) > 0, f"{where}: {match.group(0)}"
    assert math.isfinite(float(psnr)) and float(psnr) > 10.0, f"{where}: {match.group(0)}"
    assert new_pngs == int(total) * int(draws or 1), f"{where}: {new_pngs} PNGs written after {match.group(0)}"
    return match


# -- one Xvfb for the whole session ---------------------------------------------------------
_XVFB: dict = {}


@pytest.fixture(scope="session")
def xvfb():
    """DISPLAY of an Xvfb server (1280x800) shared by every test that imports this fixture."""
    if not all(TOOLS.values()):
        pytest.skip(f"missing: {[n for n, p in TOOLS.items() if not p]} (make setup installs them)")
    if "display" in _XVFB:
        yield _XVFB["display"]
        return
    read, write = os.pipe()
    server = subprocess.Popen([TOOLS["Xvfb"], "-displayfd", str(write), "-screen", "0", "1280x800x24",
                               "-nolisten", "tcp", "-noreset"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    assert number.isdigit(), f"Xvfb did not start: {server.stderr.read().decode() if server.poll() is not None else ''}"
    _XVFB["display"] = f":{number}"
    try:
        yield _XVFB["display"]
    finally:
        _XVFB.clear()
        server.terminate()
        server.wait(10)


# -- GRC under Xvfb ---------------------------------------------------------------------------
class Grc:
    """A running GNU Radio Companion: its output as it comes, its window, keys sent to it."""

    def __init__(self, command: list, env: dict, cwd: pathlib.Path, display: str):
        self.display = display
        self.lines: list[str] = []
        self.process = subprocess.Popen([str(c) for c in command], env={**env, "DISPLAY": display}, cwd=cwd,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.window = None

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, start: int = 0, timeout: float = 60.0) -> re.Match:
        """The first match of ``pattern`` in the output after line ``start``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, "".join(self.lines[start:]), re.M)
            if match:
                return match
            assert self.process.poll() is None, f"GRC exited ({self.process.returncode}):\n{self.output}"
            time.sleep(0.1)
        raise AssertionError(f"GRC did not print {pattern!r} within {timeout} s:\n{self.output}")

    def xdotool(self, *args, check: bool = True) -> str:
        result = subprocess.run([TOOLS["xdotool"], *args], env={**os.environ, "DISPLAY": self.display},
                                capture_output=True, text=True, timeout=30)
        assert not check or result.returncode == 0, f"xdotool {args}: {result.stderr}"
        return result.stdout.strip()

    def title(self) -> str:
        return self.xdotool("getwindowname", self.window)

    def wait_for_window(self, title: str, timeout: float = 60.0):
        """GRC's main window, once its title is ``title`` (the current flowgraph's "<file> - <folder>")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"GRC exited ({self.process.returncode}):\n{self.output}"
            for window in self.xdotool("search", "--onlyvisible", "--name", re.escape(title), check=False).split():
                self.window = window
                self.xdotool("windowfocus", "--sync", window)
                return window
            time.sleep(0.2)
        raise AssertionError(f"no GRC window titled {title!r} within {timeout} s:\n{self.output}")

    def key(self, *keys: str):
        self.xdotool("windowfocus", "--sync", self.window)
        self.xdotool("key", "--clearmodifiers", *keys)

    def screenshot(self, name: str) -> pathlib.Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        subprocess.run([TOOLS["import"], "-window", "root", str(path)], check=True, timeout=30,
                       env={**os.environ, "DISPLAY": self.display})
        return path

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # GRC and what it started (make, a flowgraph)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._reader.join(5)


def grc_environment(base: dict, folder: pathlib.Path) -> dict:
    """GRC's own settings for a test: its window 1280x800 with a wide console, no
    terminal for no_gui flowgraphs (and no "xterm missing" dialog: GRC shows it once per
    setting), unbuffered output, its hier block library in ``folder``."""
    prefs = folder / "grc.conf"
    prefs.write_text("[main]\nxterm_missing = none\nmain_window_width = 1280\nmain_window_height = 800\n"
                     "console_window_position = 520\nblocks_window_position = 1060\n"
                     "variable_editor_position = 700\n")
    # NO_AT_BRIDGE: GTK without the accessibility bus (none under Xvfb; it would only warn)
    return {**base, "GRC_PREFS_PATH": str(prefs), "GR_CONF_GRC_XTERM_EXECUTABLE": "none",
            "PYTHONUNBUFFERED": "1", "GRC_HIER_PATH": str(folder / "hier"), "NO_AT_BRIDGE": "1"}


def copy_examples(examples: list[pathlib.Path], folder: pathlib.Path) -> list[pathlib.Path]:
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in examples:
        shutil.copy(path, folder / path.name)
        copies.append(folder / path.name)
    return copies


def load_problems(output: str) -> list[str]:
    """Lines of GRC's output that report a problem, in GRC's own formats (its console's
    ">>> Error"/">>> Warning", its log's "[ERROR]", "[WARNING]": a block file it cannot
    load, a block id defined twice, ...) or a Python traceback; not the throttle warning
    every run-to-completion flowgraph gets."""
    bad = re.compile(r">>> (Error|Warning)|\[(ERROR|WARNING|CRITICAL)\]|Traceback \(most recent call last\)")
    return [line for line in output.splitlines() if bad.search(line) and not any(h in line for h in HARMLESS)]


def missing_blocks(path: pathlib.Path, output: str) -> list[str]:
    """Block ids of the flowgraph that no block file in GRC's block paths (its "Block paths:"
    output) defines: GRC shows them as "Missing Block" and prints nothing."""
    match = re.search(r"Block paths:\n((?:\t.*\n)+)", output)
    known = {"epy_block", "epy_module", "virtual_source", "virtual_sink", "pad_source", "pad_sink"}
    for folder in (match.group(1).split() if match else []):
        known |= {p.name[:-len(".block.yml")] for p in pathlib.Path(folder).rglob("*.block.yml")}
    return sorted(set(flowgraph(path)["block_ids"]) - known)


def exercise(grc: Grc, copies: list[pathlib.Path], run: set[str], shot_prefix: str, python: str) -> dict:
    """Every flowgraph GRC opened (as tabs, the first one current): generate it (F5), run it
    (F6) if its name is in ``run``, screenshot, close it (Ctrl+W). Returns the Run outputs."""
    for copy in copies:
        grc.wait_for(rf'^Loading: "{re.escape(str(copy))}"\n>>> Done$', timeout=90)
    problems = load_problems(grc.output)
    assert not problems, "GRC reported problems loading the examples:\n" + "\n".join(problems) + f"\n\n{grc.output}"
    runs = {}
    grc.wait_for_window(f"{copies[0].name} - {copies[0].parent}")
    for index, copy in enumerate(copies):
        title = f"{copy.name} - {copy.parent}"
        assert grc.title() == title, f"GRC shows {grc.title()!r}, expected {title!r}"
        start = len(grc.lines)
        grc.key("F5")
        try:
            grc.wait_for(r"^Generating: '(.*)'$", start, timeout=20)
        except AssertionError:
            shot = grc.screenshot(f"{shot_prefix}{copy.stem}")
            raise AssertionError(f"GRC did not generate {copy.name}: it only generates a flowgraph without errors "
                                 f"(see {shot}; blocks not in GRC's library: {missing_blocks(copy, grc.output)})"
                                 f"\n{grc.output}") from None
        generated = copy.parent / f"{copy.stem}.py"  # GRC says so before it writes the file
        deadline = time.monotonic() + 20
        while not generated.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert generated.is_file(), f"GRC generated no {generated.name}:\n{grc.output}"
        if copy.stem in run:
            # examples may share an output folder: count the PNGs this run writes or rewrites
            before = {p: p.stat().st_mtime_ns for p in copy.parent.rglob("*.png")}
            start = len(grc.lines)
            grc.key("F6")
            executing = grc.wait_for(r"^Executing: (\S+) ", start, timeout=30)
            assert executing.group(1) == python, f"GRC ran {copy.name} with {executing.group(1)}, not {python}"
            done = grc.wait_for(r"^>>> Done.*$", start, timeout=120)
            output = "".join(grc.lines[start:])
            assert done.group(0) == ">>> Done", f"{copy.name} failed in GRC:\n{output}"
            new_pngs = sum(before.get(p) != p.stat().st_mtime_ns for p in copy.parent.rglob("*.png"))
            runs[copy.stem] = check_summary(output, new_pngs, f"Run of {copy.name} in GRC")
        shot = grc.screenshot(f"{shot_prefix}{copy.stem}")
        assert shot.stat().st_size > 10_000, f"{shot}: an empty screen?"
        if index + 1 < len(copies):
            grc.key("ctrl+w")
            following = f"{copies[index + 1].name} - {copy.parent}"
            deadline = time.monotonic() + 20
            while grc.title() != following and time.monotonic() < deadline:
                time.sleep(0.1)
            assert grc.title() == following, (f"after closing {copy.name} GRC shows {grc.title()!r} "
                                              f"(a dialog? see {grc.screenshot(shot_prefix + 'close')})")
    problems = load_problems(grc.output)
    assert not problems, "GRC reported problems:\n" + "\n".join(problems) + f"\n\n{grc.output}"
    return runs


def test_examples_are_found():
    assert {"awgn_point_to_point", "bitsemcom_rayleigh", "df_two_relays", "vscc_resampling",
            "burst_loopback"} <= {p.stem for p in standalone_examples()}
    assert not {"burst_uhd_rx", "burst_zmq_tx", "relay_node_rx", "burst_loopback_gui"} & \
        {p.stem for p in standalone_examples()}


@needs_display_tools
def test_make_grc_opens_every_example_and_runs_the_standalone_ones(xvfb, tmp_path):
    """`make grc FLOWGRAPHS=...` as a user runs it; only GNU Radio's own blocks besides grc/
    (an installed gr-semcom in GRC's global block folders would override grc/)."""
    from gnuradio import gr
    copies = copy_examples(EXAMPLES, tmp_path / "examples")
    env = grc_environment(dict(os.environ), tmp_path)
    env.update(GR_CONF_GRC_GLOBAL_BLOCKS_PATH=str(pathlib.Path(gr.prefix()) / "share" / "gnuradio" / "grc" / "blocks"),
               GR_CONF_GRC_LOCAL_BLOCKS_PATH="")
    env.pop("GRC_BLOCKS_PATH", None)
    grc = Grc([TOOLS["make"], "-s", "-C", ROOT, "grc", f"FLOWGRAPHS={' '.join(map(str, copies))}"], env,
              tmp_path, xvfb)
    try:
        paths = grc.wait_for(r"Block paths:\n((?:\t.*\n)+)", timeout=90).group(1).split()
        assert paths[0] == str(ROOT / "grc"), paths
        standalone = {p.stem for p in standalone_examples()}
        runs = exercise(grc, copies, standalone, "grc_", str(ROOT / ".venv" / "bin" / "python"))
    finally:
        grc.stop()
    assert set(runs) == standalone
