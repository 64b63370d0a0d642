#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""GRC: the block YAML in grc/ matches the Python blocks; the library tree groups them
by function under "Semantic Communications"; a model parameter offers the shipped models
the block can use and GRC flags any other name before a run; labels are short enough for
GRC to show whole; the Documentation tab shows each block's text once. The examples
compile with grcc (blocks from the source tree's grc/) and run: e.g. two images through
encoder, AWGN channel and decoder, written as PNGs and scored.

Nothing here is installed; test_install.py does the same against an install.
test_grc_layout.py checks how GRC draws the examples and the dialogs.
"""
from __future__ import annotations

import inspect
import json
import math
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pmt
import pytest
import yaml
from gnuradio import blocks, gr
from gnuradio.gr import gateway
from PIL import Image

from gnuradio import semcom
from gnuradio.semcom import bundle
from semcom_tools import flowgraphs
from conftest import grcc, load_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
GRC_DIR = ROOT / "grc"
EXAMPLE = ROOT / "examples" / "awgn_point_to_point.grc"
BLOCKS = ("image_source", "jscc_encoder", "jscc_decoder", "image_sink", "metrics_sink",
          "qam_mapper", "soft_demapper", "block_fading", "equalizer", "ldpc_encoder", "ldpc_decoder",
          "bitsemcom_encoder", "bit_mapper", "bitsemcom_decoder", "codec_encoder", "codec_decoder",
          "relay_qf", "qf_dequantizer", "relay_df", "burst_tx", "burst_rx", "image_display",
          "symbols_to_stream", "stream_to_symbols")
# the library tree: "Semantic Communications" and under it one sub-category per function
TREE_ROOT = "[Semantic Communications]"
SUBCATEGORIES = ("Sources and Sinks", "Analog JSCC", "Digital (BitSemCom)", "Channel Helpers", "Relays",
                 "Over the Air", "Baselines", "GUI")
# GRC shows a parameter on the block as "label: value" and cuts the value to
# max(27 - len(label), 3) characters: a label this long leaves 10 for the value
MAX_LABEL = 17
GRCC = shutil.which("grcc")
STRING_DTYPES = {"string", "file_open", "file_save", "dir_select", "_multiline"}
needs_grcc = pytest.mark.skipif(GRCC is None, reason="grcc (GNU Radio Companion compiler) is not installed")

# Two images whose symbol counts (for the 4x-downsampling, 6-channel Kodak model:
# 3 * H/4 * W/4 = 1035 and 297) are not multiples of the adder's volk alignment, which
# held back the tail of the last burst before Symbols to Stream framed them with a guard.
TEST_IMAGE_SIZES = {"gradient": (60, 92), "stripes": (36, 44)}


# -- model ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model(request) -> pathlib.Path:
    """The Kodak model: conftest's ``kodak_model`` fixture, else $SEMCOM_TEST_MODEL,
    else models/deepjscc_bsds_r16; skips when none of them is a bundle."""
    try:
        path = pathlib.Path(request.getfixturevalue("kodak_model"))
    except pytest.FixtureLookupError:
        path = pathlib.Path(os.environ.get("SEMCOM_TEST_MODEL", ROOT / "models" / "deepjscc_bsds_r16"))
    if not (path / "card.json").is_file():
        pytest.skip(f"no model bundle at {path} (not trained or not shipped yet)")
    return path


# -- block YAML against the Python classes ------------------------------------------------
def block_files(grc_dir: pathlib.Path = GRC_DIR) -> list[pathlib.Path]:
    return sorted(grc_dir.glob("*.block.yml"))


def load_block(path: pathlib.Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name} is not a YAML mapping"
    return data


def make_call(data: dict) -> str:
    """The ``semcom.<class>(...)`` of ``templates: make``: all of it, or for a Qt GUI block
    its constructor line (the rest puts the widget in the window)."""
    make = data["templates"]["make"].strip()
    match = re.search(r"^semcom\.\w+\(.*\)$", make, re.M | re.S) if "qwidget()" not in make \
        else re.search(r"^semcom\.\w+\(.*\)$", make, re.M)
    assert match, f"{data['id']}: make {make!r} has no semcom.<block>(...)"
    return match.group(0)


def make_class(data: dict):
    """(class name, argument text) of ``templates: make: semcom.<class>(...)``."""
    match = re.fullmatch(r"semcom\.(\w+)\((.*)\)", make_call(data), re.S)
    assert match, f"{data['id']}: make {data['templates']['make']!r} is not semcom.<block>(...)"
    return match.group(1), match.group(2)


def test_every_block_has_its_yaml():
    assert sorted(p.name for p in block_files()) == sorted(f"semcom_{b}.block.yml" for b in BLOCKS)


@pytest.mark.parametrize("path", block_files(), ids=lambda p: p.name)
def test_block_yaml_matches_the_python_class(path):
    data = load_block(path)
    assert data["id"] == path.name[: -len(".block.yml")]
    assert data["file_format"] == 1
    assert data["category"] == f"{TREE_ROOT}/{tree_placement()[data['id']]}"
    assert "from gnuradio import semcom" in data["templates"]["imports"]
    assert data.get("documentation", "").strip(), f"{path.name} has no documentation"

    name, arguments = make_class(data)
    assert f"semcom_{name}" == data["id"]
    cls = getattr(semcom, name, None)
    assert inspect.isclass(cls) and issubclass(cls, (gateway.gateway_block, gr.hier_block2)), f"gnuradio.semcom exports no block {name}"

    # every ${param} of make is a parameter of the block, every keyword one of the class
    param_ids = [p["id"] for p in data.get("parameters", [])]
    assert set(re.findall(r"\$\{\s*(\w+)", arguments)) <= set(param_ids)
    signature = inspect.signature(cls.__init__)
    assert set(re.findall(r"(\w+)=\$\{", arguments)) <= set(signature.parameters) - {"self"}
    for param in data.get("parameters", []):
        if "options" in param:
            assert len(param.get("option_labels", [])) == len(param["options"]), \
                f"{path.name}: {param['id']} needs a readable label for each option"

    # callbacks call methods that exist, and every setter of the class has one
    callbacks = data["templates"].get("callbacks", [])
    called = {re.match(r"(?:self\.\w+\.)?(\w+)\(", c).group(1) for c in callbacks}
    for method in called:
        assert callable(getattr(cls, method, None)), f"{path.name}: callback {method} is not a method of {name}"
    assert called == {m for m in vars(cls) if m.startswith("set_") and callable(vars(cls)[m])}


def tree_placement() -> dict[str, str]:
    """Block id -> its sub-category in grc/semcom.tree.yml."""
    tree = yaml.safe_load((GRC_DIR / "semcom.tree.yml").read_text())
    assert list(tree) == [TREE_ROOT], "one top-level category, the README's"
    placement = {}
    for group in tree[TREE_ROOT]:
        ((name, block_ids),) = group.items()
        for block_id in block_ids:
            assert block_id not in placement, f"{block_id} is in the tree twice"
            placement[block_id] = name
    return placement


def test_tree_groups_every_block_by_function():
    tree = yaml.safe_load((GRC_DIR / "semcom.tree.yml").read_text())
    assert [next(iter(group)) for group in tree[TREE_ROOT]] == list(SUBCATEGORIES)
    assert all(next(iter(group.values())) for group in tree[TREE_ROOT]), "an empty sub-category"
    assert sorted(tree_placement()) == sorted(f"semcom_{b}" for b in BLOCKS)


@pytest.fixture(scope="module")
def grc_platform():
    """GRC's own (non-GUI) platform with this tree's blocks and GNU Radio's."""
    from gnuradio.grc.core.platform import Platform
    platform = Platform(name="GNU Radio Companion Compiler", prefs=gr.prefs(), version=gr.version(),
                        version_parts=(gr.major_version(), gr.api_version(), gr.minor_version()))  # as grcc makes it
    platform.build_library([str(GRC_DIR), str(pathlib.Path(gr.prefix()) / "share" / "gnuradio" / "grc" / "blocks")])
    return platform


def test_grc_shows_the_blocks_under_semantic_communications_by_function(grc_platform):
    """What GRC's library panel is built from: each block's category path."""
    placement = tree_placement()
    for block in BLOCKS:
        assert grc_platform.blocks[f"semcom_{block}"].category == ["Semantic Communications", placement[f"semcom_{block}"]]


# -- labels and documentation --------------------------------------------------------------
@pytest.mark.parametrize("path", block_files(), ids=lambda p: p.name)
def test_parameter_labels_leave_room_for_their_values(path):
    data = load_block(path)
    long = [p["label"] for p in data.get("parameters", []) if len(p["label"]) > MAX_LABEL]
    assert not long, f"{path.name}: GRC cuts the value after a label this long: {long}"


@pytest.mark.parametrize("path", block_files(), ids=lambda p: p.name)
def test_documentation_tab_shows_the_block_text_once(path):
    """GRC's Documentation tab (and the library's tooltip) shows the YAML documentation,
    then whatever docstrings its extractor finds for the block; the block class keeps its
    reference in __init__'s docstring, so that the extractor finds none."""
    from gnuradio.grc.core.utils.extract_docs import docstring_from_make
    data = load_block(path)
    found = docstring_from_make(data["id"], data["templates"]["imports"], data["templates"]["make"])
    assert not {k: v for k, v in found.items() if v and v.strip()}, \
        f"{path.name}: GRC would show these docstrings after the YAML documentation"
    name, _ = make_class(data)
    assert inspect.getdoc(getattr(semcom, name).__init__), f"{name}.__init__ has no docstring (help() shows it)"


# -- model parameters ----------------------------------------------------------------------
def _deepjscc(card):
    return card["method"] == "deepjscc"


def _bitsemcom(card):
    return card["method"] == "bitsemcom"


def _image_coder(card):
    return card["method"] in ("deepjscc", "bitsemcom")


# block id -> (parameter, which shipped models it can use (by card), whether "" (none) is
# offered, a shipped model GRC must refuse there or None)
MODEL_PARAMETERS = {
    "semcom_jscc_encoder": ("model", _deepjscc, False, "bitsemcom_cifar10"),
    "semcom_jscc_decoder": ("model", _deepjscc, False, "bitsemcom_cifar10"),
    "semcom_relay_df": ("model", lambda card: _deepjscc(card) and card.get("hops", 1) >= 2, False, "dhd_cifar10"),
    "semcom_relay_qf": ("model", lambda card: _deepjscc(card) and "qf_codebooks" in card, False, "bitsemcom_cifar10"),
    "semcom_qf_dequantizer": ("model", lambda card: _deepjscc(card) and "qf_codebooks" in card, False, "dhd_cifar10"),
    "semcom_bitsemcom_encoder": ("model", _bitsemcom, False, "deepjscc_cifar10_r6"),
    "semcom_bitsemcom_decoder": ("model", _bitsemcom, False, "deepjscc_cifar10_r6"),
    "semcom_image_source": ("model", _image_coder, True, None),
    "semcom_burst_rx": ("model", _image_coder, True, None),
    "semcom_metrics_sink": ("hash_model", lambda card: card["method"] == "dhd", True, "deepjscc_cifar10_r6"),
}


def shipped_cards() -> dict[str, dict]:
    return {name: json.loads((bundle.models_dir() / name / "card.json").read_text()) for name in bundle.shipped_models()}


def model_param(block_id: str) -> dict:
    data = load_block(GRC_DIR / f"{block_id}.block.yml")
    (param,) = [p for p in data["parameters"] if p["id"] == MODEL_PARAMETERS[block_id][0]]
    return param


def test_is_model_names_shipped_models_and_bundle_folders(tmp_path):
    assert bundle.is_model("deepjscc_cifar10_r6") and bundle.is_model("deepjscc_cifar10_r6", "deepjscc")
    assert bundle.is_model(bundle.models_dir() / "bitsemcom_cifar10", "bitsemcom")
    assert bundle.is_model(str(bundle.models_dir() / "dhd_cifar10" / "card.json"))  # a file in a bundle, as resolve takes
    assert not bundle.is_model("deepjscc_cifar10_r6", "bitsemcom")
    for name in ("", "no_such_model", str(tmp_path), str(tmp_path / "missing")):
        assert not bundle.is_model(name), name
    (tmp_path / "card.json").write_text("{not json")
    assert not bundle.is_model(str(tmp_path))
    (tmp_path / "card.json").write_text(json.dumps({"model_id": "m", "method": "deepjscc", "files": {}}))
    assert bundle.is_model(str(tmp_path), "deepjscc") and not bundle.is_model(str(tmp_path), "dhd")


def test_every_model_parameter_offers_the_shipped_models():
    takes_a_model = {data["id"] for data in map(load_block, block_files()) for p in data.get("parameters", [])
                     if p["id"] == "model" or p["id"].endswith("_model")}
    assert takes_a_model == set(MODEL_PARAMETERS)


@pytest.mark.parametrize("block_id", sorted(MODEL_PARAMETERS))
def test_model_parameter_offers_the_shipped_models_the_block_can_use(block_id):
    """The options are every shipped model the block can use, no other, so a model added
    to models/ fails here until it is offered where it works."""
    _, usable, optional, _ = MODEL_PARAMETERS[block_id]
    param = model_param(block_id)
    expected = [""] * optional + sorted(name for name, card in shipped_cards().items() if usable(card))
    assert param["options"] == expected
    # GRC shows options of a non-enum dtype as an editable combo box: a bundle folder still goes in
    assert param["dtype"] == "string"
    assert len(set(param["option_labels"])) == len(param["options"]), "two models with one label"
    assert str(param.get("default", "")) in param["options"]
    documentation = load_block(GRC_DIR / f"{block_id}.block.yml")["documentation"]
    assert all(f"({name})" in documentation for name in filter(None, param["options"])), \
        "the documentation says which label is which model"


@pytest.mark.parametrize("block_id", sorted(MODEL_PARAMETERS))
def test_every_offered_model_builds_the_block(block_id):
    param_id = MODEL_PARAMETERS[block_id][0]
    data = load_block(GRC_DIR / f"{block_id}.block.yml")
    namespace = {}
    exec(data["templates"]["imports"], namespace)
    for name in filter(None, model_param(block_id)["options"]):
        values = {param_id: repr(name)}
        if block_id == "semcom_image_source":
            values["policy"] = "'resize'"  # a fixed-size model refuses "full"
        assert eval(render_make(data, values), namespace) is not None, name


@pytest.mark.parametrize("block_id", sorted(MODEL_PARAMETERS))
def test_grc_flags_a_wrong_model_before_a_run(block_id, grc_platform, tmp_path):
    """GRC evaluates the block's asserts (in a namespace with its imports and parameters)
    whenever the flowgraph changes and refuses to generate while one fails."""
    param_id, usable, optional, refused = MODEL_PARAMETERS[block_id]
    flowgraph = grc_platform.make_flow_graph()
    block = flowgraph.new_block(block_id)

    def flagged(value: str) -> bool:
        block.params[param_id].set_value(value)
        flowgraph.rewrite()
        flowgraph.validate()
        messages = block.get_error_messages()
        assert not [m for m in messages if "did not evaluate" in m], messages
        return any("is_model" in m for m in messages)

    good = next(name for name, card in shipped_cards().items() if usable(card))
    assert not flagged(good)
    assert not flagged(str(bundle.models_dir() / good))  # a bundle folder
    assert flagged("no_such_model")
    assert flagged(str(tmp_path))  # a folder that is no bundle
    assert flagged("") != optional
    if refused:
        assert flagged(refused)


def render_make(data: dict, values: dict) -> str:
    """The Python code GRC writes for ``make`` with each parameter's default,
    or ``values[id]`` (raw code) where given."""
    from mako.template import Template
    codes = {}
    for param in data.get("parameters", []):
        if param["id"] in values:
            codes[param["id"]] = values[param["id"]]
            continue
        default = str(param.get("default", ""))
        if param.get("dtype") in STRING_DTYPES:
            try:  # GRC keeps a string parameter that is an expression, quotes any other
                is_code = isinstance(eval(default, {}), str)
            except Exception:
                is_code = False
            codes[param["id"]] = default if is_code else repr(default)
        else:
            codes[param["id"]] = default
    return Template(data["templates"]["make"]).render(**codes)


def port_hidden(port: dict, data: dict, values: dict) -> bool:
    """Whether GRC hides ``port`` (its ``hide`` template, evaluated) with each parameter's
    default or ``values``: a hidden optional port is one the block does not register."""
    if "hide" not in port:
        return False
    # GRC evaluates the expression on the parameters' values, not on their code as in make
    names = [p["id"] for p in data.get("parameters", [])]
    evaluated = eval(render_make({**data, "templates": {"make": "(" + ", ".join(f"${{{n}}}" for n in names) + ",)"}},
                                 values), {})
    expression = re.fullmatch(r"\$\{(.*)\}", str(port["hide"]).strip(), re.S).group(1)
    return bool(eval(expression, {}, dict(zip(names, evaluated))))


# blocks whose optional message ports appear with a parameter: (block, parameter values, the ports)
OPTIONAL_PORTS = [("semcom_image_source", {"window": "4"}, {"inputs": {"done"}}),
                  ("semcom_image_sink", {"done_port": "True"}, {"outputs": {"done"}}),
                  ("semcom_metrics_sink", {"done_port": "True"}, {"outputs": {"done"}})]


@pytest.mark.parametrize("block_id, values, ports", OPTIONAL_PORTS, ids=[o[0] for o in OPTIONAL_PORTS])
def test_optional_ports_appear_with_their_parameter(block_id, values, ports):
    data = load_block(GRC_DIR / f"{block_id}.block.yml")
    namespace = {}
    exec(data["templates"]["imports"], namespace)
    block = eval(render_make({**data, "templates": {**data["templates"], "make": make_call(data)}}, values), namespace)
    for direction, names in ports.items():
        assert all(not port_hidden(p, data, values) for p in data[direction] if p["id"] in names)
        registered = block.message_ports_in() if direction == "inputs" else block.message_ports_out()
        assert names <= set(pmt.to_python(registered))


_QT_APPLICATION = []


@pytest.mark.parametrize("path", block_files(), ids=lambda p: p.name)
def test_make_with_defaults_builds_a_block_with_the_yaml_ports(path, request):
    data = load_block(path)
    values = {}
    if data["id"] in ("semcom_jscc_encoder", "semcom_jscc_decoder"):
        values["model"] = repr(str(request.getfixturevalue("model")))
    if "qwidget()" in data["templates"]["make"]:  # a Qt GUI block needs the QApplication GRC makes
        from PyQt5 import QtWidgets
        if QtWidgets.QApplication.instance() is None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            _QT_APPLICATION.append(QtWidgets.QApplication(["test_grc"]))  # kept for the process's widgets
    namespace = {}
    exec(data["templates"]["imports"], namespace)  # the imports GRC writes must suffice
    block = eval(render_make({**data, "templates": {**data["templates"], "make": make_call(data)}}, values), namespace)

    def ports(names) -> set[str]:
        return set(pmt.to_python(names)) - {"system"}

    declared = {direction: {p["id"] for p in data.get(direction, []) if p.get("domain") == "message"
                            and not port_hidden(p, data, values)}
                for direction in ("inputs", "outputs")}
    if isinstance(block, gr.hier_block2):  # no port listing: each declared port must connect, others not
        top, debug = gr.top_block(), blocks.message_debug()
        for port in declared["inputs"]:
            top.msg_connect(debug, "print", block, port)
        for port in declared["outputs"]:
            top.msg_connect(block, port, debug, "store")
        with pytest.raises(ValueError, match="invalid msg port"):
            top.msg_connect(debug, "print", block, "no_such_port")
        return
    assert ports(block.message_ports_in()) == declared["inputs"]
    assert ports(block.message_ports_out()) == declared["outputs"]


# -- the example flowgraph ----------------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> pathlib.Path:
    if GRCC is None:
        pytest.skip("grcc (GNU Radio Companion compiler) is not installed")
    out_dir = tmp_path_factory.mktemp("grcc")
    result = grcc(EXAMPLE, out_dir)
    assert result.returncode == 0, f"grcc failed:\n{result.stdout}\n{result.stderr}"
    script = out_dir / "awgn_point_to_point.py"
    assert script.is_file(), f"grcc wrote {sorted(p.name for p in out_dir.iterdir())}"
    return script


@pytest.fixture
def two_images(tmp_path) -> list[pathlib.Path]:
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for name, (height, width) in TEST_IMAGE_SIZES.items():
        y, x = np.mgrid[0:height, 0:width]
        if name == "gradient":
            pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], -1)
        else:
            pixels = np.stack([(x // 4 % 2) * 200 + 20, y * 5, 255 - x * 5], -1)
        paths.append(folder / f"{name}.png")
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(paths[-1])
    return paths


def test_example_has_the_documented_parameters(generated):
    module = load_module(generated)
    defaults = {name: p.default for name, p in
                inspect.signature(module.awgn_point_to_point.__init__).parameters.items() if name != "self"}
    assert defaults == {"model": "deepjscc_bsds_r16", "images": "samples", "snr_db": 10, "out_dir": "out/example"}


@needs_grcc
def test_grcc_compiled_example_sends_two_images(generated, model, two_images, tmp_path):
    module = load_module(generated)
    out_dir = tmp_path / "out"
    tb = module.awgn_point_to_point(model=str(model), images=",".join(map(str, two_images)),
                                    snr_db=10.0, out_dir=str(out_dir))
    # the bursts are ones the adder would hold back with its default alignment, which the
    # flowgraph keeps: the frames' guard carries them through
    model_bundle = bundle.Bundle(model)
    n_symbols = [model_bundle.n_symbols(*size) for size in TEST_IMAGE_SIZES.values()]
    alignment = tb.blocks_add_xx_0.alignment()
    assert alignment > 1 and any(n % alignment for n in n_symbols), (n_symbols, alignment)
    assert not hasattr(module, "snippets_main_after_init")

    tb.start()
    try:
        scored = tb.semcom_metrics_sink_0.arrivals.wait(2, 60.0)
        # the image sink handles its messages in its own thread: stopping as soon as
        # the metrics are in could drop the last PNG
        saved = tb.semcom_image_sink_0.arrivals.wait(2, 10.0)
    finally:
        tb.stop()
        tb.wait()
    assert scored, f"{tb.semcom_metrics_sink_0.arrivals.count} of 2 images scored"
    assert saved, f"{tb.semcom_image_sink_0.arrivals.count} of 2 images saved"

    written = sorted(out_dir.glob("*.png"))
    assert [p.stem for p in written] == [f"{i:05d}_{p.stem}" for i, p in enumerate(two_images)]
    for path, (height, width) in zip(written, TEST_IMAGE_SIZES.values()):
        with Image.open(path) as picture:
            assert (picture.height, picture.width) == (height, width)
    rows = tb.semcom_metrics_sink_0.rows
    assert len(rows) == 2
    assert all(math.isfinite(row["psnr_db"]) for row in rows), rows
    assert sorted(row["n_symbols"] for row in rows) == sorted(n_symbols)
    assert all(row["snr_db"] == 10.0 for row in rows)
    csv_lines = (out_dir / "metrics.csv").read_text().splitlines()
    assert len(csv_lines) == 3 and csv_lines[0].startswith("image,snr_db,psnr_db")


@needs_grcc
def test_generated_script_runs_to_completion(generated, model, two_images, tmp_path):
    out_dir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(generated), "--model", str(model), "--images", ",".join(map(str, two_images)),
         "--snr-db", "10", "--out-dir", str(out_dir)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 of 2 images: mean PSNR" in result.stdout, result.stdout + result.stderr
    assert len(list(out_dir.glob("*.png"))) == 2


@needs_grcc
def test_grcc_refuses_impossible_parameters(tmp_path):
    flowgraph = yaml.safe_load(EXAMPLE.read_text())
    changes = {"semcom_jscc_encoder_0": {"threads": "-1", "provider": "gpu"},
               "semcom_image_source_0": {"rate": "-1", "policy": "resize", "model": "''"}}
    for block in flowgraph["blocks"]:
        block["parameters"].update(changes.get(block["name"], {}))
    bad = tmp_path / "bad.grc"
    bad.write_text(yaml.safe_dump(flowgraph))
    result = grcc(bad, tmp_path / "gen")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for expected in ("threads >= 0", "provider in", "rate >= 0", "policy == 'full' or"):
        assert re.search(rf'Assertion "{re.escape(expected)}[^"]*" failed', output), output


DIGITAL_EXAMPLE = ROOT / "examples" / "bitsemcom_rayleigh.grc"


@needs_grcc
def test_digital_example_runs_the_shipped_bitsemcom_model_over_rayleigh_fading(tmp_path):
    """examples/bitsemcom_rayleigh.grc: GRC's Constellation Object, block fading with CSI
    to the soft demapper; every sample photo comes out, and the quality is what the shipped
    model gives there (measured: 23.01 dB at 20 dB, 4 photos resized to 32x32)."""
    result = grcc(DIGITAL_EXAMPLE, tmp_path / "gen")
    assert result.returncode == 0, f"grcc failed:\n{result.stdout}\n{result.stderr}"
    script = tmp_path / "gen" / "bitsemcom_rayleigh.py"
    result = subprocess.run([sys.executable, str(script), "--snr-db", "20", "--out-dir", str(tmp_path / "out")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"4 of 4 images: mean PSNR ([\d.]+) dB", result.stdout)
    assert match and float(match.group(1)) > 22.0, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*.png"))) == 4


DF_EXAMPLE = ROOT / "examples" / "df_two_relays.grc"


@needs_grcc
def test_df_example_is_the_multi_hop_flowgraph(df_model, tmp_path):
    """examples/df_two_relays.grc: encoder, two DF relays and decoder with an AWGN hop (Symbols
    to Stream, noise, Stream to Symbols) between every two of them: the mean PSNR of
    flowgraphs.analog_point_to_point's symbol-level hops on the sample photos (within 0.2 dB)."""
    result = grcc(DF_EXAMPLE, tmp_path / "gen")
    assert result.returncode == 0, f"grcc failed:\n{result.stdout}\n{result.stderr}"
    script = tmp_path / "gen" / "df_two_relays.py"
    result = subprocess.run([sys.executable, str(script), "--model", str(df_model), "--snr-db", "5",
                             "--out-dir", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"4 of 4 images: mean PSNR ([\d.]+) dB", result.stdout)
    assert match, result.stdout + result.stderr
    rows = flowgraphs.analog_point_to_point(str(df_model), "samples", snr_db=5.0, seed=1).run_images(60)
    assert float(match.group(1)) == pytest.approx(sum(r["psnr_db"] for r in rows) / len(rows), abs=0.2)


@needs_grcc
def test_node_examples_run_as_four_processes_like_one_flowgraph(df_model, tmp_path):
    """examples/relay_node_{tx,relay,rx}.grc over ZMQ on loopback: transmitter, relay 1,
    relay 2 and receiver as four processes give the mean PSNR of the single flowgraph."""
    for role in ("tx", "relay", "rx"):
        result = grcc(ROOT / "examples" / f"relay_node_{role}.grc", tmp_path / "gen")
        assert result.returncode == 0, f"grcc failed:\n{result.stdout}\n{result.stderr}"
    ports = []
    for _ in range(3):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(f"tcp://127.0.0.1:{probe.getsockname()[1]}")
    model = ["-m", str(df_model)]
    script = lambda role: [sys.executable, str(tmp_path / "gen" / f"relay_node_{role}.py"), *model]  # noqa: E731
    others = [subprocess.Popen(script("relay") + ["-s", "5", "-r", str(k), "-n", ports[k - 1], "-o", ports[k]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in (1, 2)]
    others.append(subprocess.Popen(script("tx") + ["-o", ports[0]], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL))
    try:
        result = subprocess.run(script("rx") + ["-s", "5", "-n", ports[2], "-o", str(tmp_path / "out")],
                                capture_output=True, text=True, timeout=120)
    finally:
        for process in others:
            process.terminate()
            process.wait(10)
    match = re.search(r"4 of 4 images: mean PSNR ([\d.]+) dB", result.stdout)
    assert result.returncode == 0 and match, result.stdout + result.stderr
    rows = flowgraphs.analog_point_to_point(str(df_model), "samples", snr_db=5.0, seed=1).run_images(60)
    assert float(match.group(1)) == pytest.approx(sum(r["psnr_db"] for r in rows) / len(rows), abs=0.2)


BURST_EXAMPLES = ("burst_loopback", "burst_loopback_gui", "burst_zmq_tx", "burst_zmq_rx", "burst_uhd_tx",
                  "burst_uhd_rx", "burst_soapy_tx", "burst_soapy_rx")


@pytest.fixture(scope="module")
def burst_scripts(tmp_path_factory) -> pathlib.Path:
    """Every over-the-air example compiled with grcc; the hardware ones (UHD, SoapySDR)
    compile without a radio, they cannot run here."""
    if GRCC is None:
        pytest.skip("grcc (GNU Radio Companion compiler) is not installed")
    out = tmp_path_factory.mktemp("burst_grcc")
    for name in BURST_EXAMPLES:
        result = grcc(ROOT / "examples" / f"{name}.grc", out)
        assert result.returncode == 0 and (out / f"{name}.py").is_file(), f"{name}:\n{result.stdout}\n{result.stderr}"
    return out


def test_burst_loopback_example_runs_headless_near_the_aligned_channel(burst_scripts, tmp_path):
    """examples/burst_loopback.grc: bursts through channel_model with a frequency and a
    sample-rate offset at 10 dB; measured 25.90 dB on the sample photos, the aligned AWGN
    link 25.94 dB."""
    result = subprocess.run([sys.executable, str(burst_scripts / "burst_loopback.py"), "--out-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    match = re.search(r"4 of 4 images: mean PSNR ([\d.]+) dB", result.stdout)
    assert result.returncode == 0 and match, result.stdout + result.stderr
    aligned = flowgraphs.analog_point_to_point("deepjscc_cifar10_r6", "samples", snr_db=10.0, seed=1).run_images(60)
    assert float(match.group(1)) > sum(r["psnr_db"] for r in aligned) / len(aligned) - 0.5


def test_burst_gui_example_shows_and_receives_every_image_offscreen(burst_scripts, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    gui = subprocess.Popen([sys.executable, str(burst_scripts / "burst_loopback_gui.py"), "--out-dir", str(tmp_path)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.png"))) < 4 and time.monotonic() < deadline and gui.poll() is None:
            time.sleep(0.2)
        assert gui.poll() is None, gui.stderr.read()  # a Qt flowgraph runs until its window is closed
        assert len(list(tmp_path.glob("*.png"))) == 4
    finally:
        gui.terminate()
        gui.wait(10)


def test_burst_zmq_examples_are_transmitter_and_receiver_processes(burst_scripts, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    tx = subprocess.Popen([sys.executable, str(burst_scripts / "burst_zmq_tx.py"), "-a", address],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = subprocess.run([sys.executable, str(burst_scripts / "burst_zmq_rx.py"), "-a", address,
                                 "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    finally:
        tx.terminate()
        tx.wait(10)
    assert result.returncode == 0 and "4 of 4 images: mean PSNR" in result.stdout, result.stdout + result.stderr


VSCC_EXAMPLE = ROOT / "examples" / "vscc_resampling.grc"


@needs_grcc
@pytest.mark.parametrize("resampling", ["transmitted", "knowledge_base"])
def test_vscc_example_is_the_resampling_flowgraph(vscc_tiny, resampling, tmp_path):
    """examples/vscc_resampling.grc: the encoder sends the variance when the decoder resamples with
    it, every draw of every sample photo is written, and the scores are those of
    flowgraphs.analog_point_to_point with the same draws' seeds (within 0.2 dB: the channel
    noise goes through Symbols to Stream and Stream to Symbols here)."""
    result = grcc(VSCC_EXAMPLE, tmp_path / "gen")
    assert result.returncode == 0, f"grcc failed:\n{result.stdout}\n{result.stderr}"
    script = tmp_path / "gen" / "vscc_resampling.py"
    result = subprocess.run([sys.executable, str(script), "--model", str(vscc_tiny), "--resampling", resampling,
                             "--samples", "3", "--snr-db", "5", "--out-dir", str(tmp_path / "out")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"4 of 4 images, 3 draws each: mean PSNR ([\d.]+) dB \(min ([\d.]+), max ([\d.]+)\)",
                      result.stdout)
    assert match, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*#*.png"))) == 12
    graph = flowgraphs.analog_point_to_point(str(vscc_tiny), "samples", snr_db=5.0, seed=1, resampling=resampling,
                                             samples=3)
    graph.run_images(60)
    means = graph.metrics.means()
    assert [float(v) for v in match.groups()] == pytest.approx(
        [means["psnr_db"], means["psnr_min"], means["psnr_max"]], abs=0.2)
