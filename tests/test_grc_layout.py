#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""How GNU Radio Companion draws gr-semcom: every example's blocks (with their ports) and
comments, at GRC's default zoom and preferences, leave room between each other, no
connection runs under a block, and every option label fits the combo box GRC shows it in. The sizes are GRC's own
(``gnuradio.grc.gui``: ``Block.create_labels`` / ``create_shapes``, the properties
dialog's widgets), measured by tests/grc_layout.py in a subprocess under an X display
(Xvfb when there is none).

After editing an example: ``python tests/grc_layout.py fix examples/<name>.grc`` (under
``xvfb-run`` without a display) moves its blocks apart and touches nothing else.
"""
from __future__ import annotations

import json
import os
import pathlib
import select
import shutil
import subprocess
import sys

import pytest

import grc_layout

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.grc"))
# the text of an option label must fit the entry of GRC's editable combo box (150 px of
# text at Xvfb's Sans 10) with this much spare, for a desktop whose font is larger
FONT_SPARE = 0.8


@pytest.fixture(scope="module")
def display():
    """An X display: $DISPLAY, else an Xvfb of its own."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("no X display and no Xvfb (apt-get install xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 30)
        number = os.read(read, 64).decode().strip() if ready else ""
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        os.close(read)
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory) -> pathlib.Path:
    """awgn_point_to_point.grc with the Image Source moved onto the JSCC Encoder."""
    path = tmp_path_factory.mktemp("layout") / "overlapping.grc"
    shutil.copy(ROOT / "examples" / "awgn_point_to_point.grc", path)
    text = path.read_text()
    start = text.index("- name: semcom_jscc_encoder_0\n")
    coordinate = text[start:].split("    coordinate: [", 1)[1].split("]", 1)[0]
    x, y = (int(float(v)) for v in coordinate.split(","))
    grc_layout.set_coordinates(path, {"semcom_image_source_0": (x + 16, y + 8)})
    return path


@pytest.fixture(scope="module")
def drawn(display, overlapping) -> dict:
    result = subprocess.run([sys.executable, str(pathlib.Path(grc_layout.__file__)), "measure",
                             *map(str, EXAMPLES), str(overlapping)],
                            env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def describe(pairs) -> str:
    return "\n".join(f"  {a['name']} ({a['kind']} {a['x0']:.0f},{a['y0']:.0f}-{a['x1']:.0f},{a['y1']:.0f}) and "
                     f"{b['name']} ({b['kind']} {b['x0']:.0f},{b['y0']:.0f}-{b['x1']:.0f},{b['y1']:.0f})"
                     for a, b in pairs)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_draws_no_block_or_comment_over_another(drawn, example):
    rects = drawn["flowgraphs"][str(example)]
    assert sum(r["kind"] == "block" for r in rects) >= 3
    pairs = grc_layout.clashes(rects)
    assert not pairs, (f"{example.name}: closer than {grc_layout.GAP} px as GRC draws them (fix: python "
                       f"tests/grc_layout.py fix {example.relative_to(ROOT)}):\n{describe(pairs)}")
    outside = [r["name"] for r in rects if r["x0"] < 0 or r["y0"] < 0]
    assert not outside, f"{example.name}: drawn left of or above the canvas: {outside}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_draws_no_connection_under_a_block(drawn, example):
    """GRC draws blocks over connections: one passing under a block looks connected to it."""
    hidden = [f"  {w['source']} -> {w['sink']} under {', '.join(w['under'])}"
              for w in drawn["wires"][str(example)] if w["under"]]
    assert drawn["wires"][str(example)] and not hidden, (
        f"{example.name}: move blocks so that these run clear (e.g. the Image Source above the chain, "
        f"level with the sink's port):\n" + "\n".join(hidden))


def test_the_check_sees_a_block_over_another(drawn, overlapping):
    pairs = grc_layout.clashes(drawn["flowgraphs"][str(overlapping)])
    assert {"semcom_image_source_0", "semcom_jscc_encoder_0"} in [{a["name"], b["name"]} for a, b in pairs]
    # and the Image Source's connection to the metrics sink now runs under the blocks after it
    assert any(w["under"] for w in drawn["wires"][str(overlapping)] if w["sink"] == "semcom_metrics_sink_0")


def test_fix_moves_blocks_apart_and_changes_nothing_else(drawn, overlapping, tmp_path):
    rects = drawn["flowgraphs"][str(overlapping)]
    moves = grc_layout.layout_moves(rects)
    moved = [{**r, "x0": r["x0"] + moves.get(r["name"], (0, 0))[0], "x1": r["x1"] + moves.get(r["name"], (0, 0))[0],
              "y0": r["y0"] + moves.get(r["name"], (0, 0))[1], "y1": r["y1"] + moves.get(r["name"], (0, 0))[1]}
             for r in rects]
    assert not grc_layout.clashes(moved, grc_layout.FIX_GAP)
    assert all(dx >= 0 and dy >= 0 and dx % grc_layout.GRID == 0 and dy % grc_layout.GRID == 0
               for dx, dy in moves.values())
    copy = tmp_path / "copy.grc"
    shutil.copy(overlapping, copy)
    grc_layout.set_coordinates(copy, {"semcom_image_source_0": (8, 640), "options": (16, 24)})
    before, after = overlapping.read_text().splitlines(), copy.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 2, changed
    assert all(b.strip().startswith("coordinate: [") for _, b in changed)


def test_option_labels_fit_the_combo_boxes_of_the_properties_dialogs(drawn):
    """GRC shows a parameter with options and a non-enum dtype (a model, a provider, ...) as
    an editable combo box whose entry shows the chosen option's label and cuts a longer one."""
    entries = drawn["entries"]
    assert {"semcom_jscc_encoder", "semcom_bitsemcom_decoder", "semcom_image_source"} <= {e["block"] for e in entries}
    cut = [f"{e['block']} {e['param']}: {e['label']!r} is {e['text']} px, the entry {e['area']} px"
           for e in entries if e["text"] > FONT_SPARE * e["area"]]
    assert not cut, "\n".join(cut)
