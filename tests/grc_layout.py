#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""GNU Radio Companion's drawing of flowgraphs and dialogs, measured with GRC's own GUI
classes (``gnuradio.grc.gui``) at its default zoom and preferences; needs an X display
(Xvfb will do). tests/test_grc_layout.py runs it in a subprocess, so that GTK never
shares a process with the tests' Qt.

    python tests/grc_layout.py measure examples/*.grc     JSON: every drawn rectangle and connection
                                                          of the flowgraphs, every combo entry's text
    python tests/grc_layout.py fix examples/x.grc ...     move blocks apart (coordinates only)
    python tests/grc_layout.py arrange examples/x.grc ... unconnected blocks (parameters, variables,
                                                          ...) in rows on top, the rest below, apart
    python tests/grc_layout.py screenshot x.grc out.png   the flowgraph as GRC draws it
    HOME=$(mktemp -d) python tests/grc_layout.py window x.grc window.png library.png
                                                          GRC's window with x.grc open and the
                                                          library expanded at Semantic Communications

Blocks come from this source tree's grc/ and GNU Radio's own, never from an install.
A rectangle is a block with its ports (``Block.get_extents``) or a block's comment
(``get_extents_comment``), the pieces ``FlowGraph.get_extents`` takes.
"""
from __future__ import annotations

import itertools
import json
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GAP = 8  # the least free space between two drawn things: one grid step of GRC's canvas
FIX_GAP = 24  # what ``fix`` leaves between the things it moves apart
GRID = 8


def _platform(application: bool = True):
    """GRC's GUI platform with this tree's blocks, its preferences at their defaults (and a
    Gtk application for its flowgraphs, unless GRC's own comes)."""
    from gnuradio import gr
    from semcom_tools import grc
    os.environ.update(grc.environment())
    import gi
    gi.require_version("Gtk", "3.0")
    gi.require_version("PangoCairo", "1.0")
    from gi.repository import Gtk
    if not Gtk.init_check(sys.argv)[0]:
        raise SystemExit("no X display: run under Xvfb (xvfb-run or DISPLAY)")
    from gnuradio.grc.gui.Platform import Platform  # first: GRC's gui modules import each other
    from gnuradio.grc.gui import Actions
    from gnuradio.grc.gui.canvas import flowgraph as canvas_flowgraph
    # a flowgraph hooks its context menu to GRC's main window; none is needed to draw
    canvas_flowgraph._ContextMenu = lambda main_window: None
    for action in vars(Actions).values():  # a fresh user's preferences (comments shown, ...)
        if isinstance(action, Actions.Action) and action.preference_name is not None:
            action.set_active(bool(action.default))
    platform = Platform(version=gr.version(), version_parts=(gr.major_version(), gr.api_version(), gr.minor_version()),
                        prefs=gr.prefs(), install_prefix=gr.prefix())
    platform.build_library()
    if application:
        app = Gtk.Application(application_id="org.gnuradio.semcom.layout")
        app.register(None)
    return platform


def load(platform, path):
    """The flowgraph in ``path``, validated and laid out as GRC draws it."""
    flowgraph = platform.make_flow_graph(str(path))
    flowgraph.grc_file_path = str(path)
    flowgraph.rewrite()
    flowgraph.validate()
    flowgraph.update_elements_to_draw()
    flowgraph.create_labels()
    flowgraph.create_shapes()
    return flowgraph


def rectangles(flowgraph) -> list[dict]:
    """Every drawn block (with its ports) and comment: name, kind, x0, y0, x1, y1."""
    from gnuradio.grc.gui import Actions
    show_comments = Actions.TOGGLE_SHOW_BLOCK_COMMENTS.get_active()
    out = []
    for block in flowgraph.blocks:
        if block not in flowgraph._elements_to_draw:
            continue
        out.append(dict(zip(("name", "kind", "x0", "y0", "x1", "y1"), (block.name, "block", *block.get_extents()))))
        if show_comments and block.enabled and block._comment_layout is not None:
            out.append(dict(zip(("name", "kind", "x0", "y0", "x1", "y1"),
                                (block.name, "comment", *block.get_extents_comment()))))
    return out


def wires(flowgraph) -> list[dict]:
    """Every drawn connection: source and sink block, and the other blocks it passes under
    (GRC draws connections first, blocks over them, so a connection under a block looks
    like one to that block's ports). Its path is GRC's (``Connection._make_path``): 15 px
    straight out of the source port, a Bezier curve, 15 px straight into the sink port."""
    from gnuradio.grc.gui.Utils import get_rotated_coordinate as rotate
    bodies = {}
    for block in flowgraph.blocks:
        if block in flowgraph._elements_to_draw:
            (x, y), (w, h) = block.coordinate, (block.width, block.height)
            bodies[block.name] = (x, y, x + w, y + h) if block.is_horizontal() else (x, y, x + h, y + w)
    out = []
    for connection in flowgraph.connections:
        if connection not in flowgraph._elements_to_draw:
            continue
        source, sink = connection.source_port, connection.sink_port
        start, end = source.connector_coordinate_absolute, sink.connector_coordinate_absolute

        def at(origin, offset, rotation):
            dx, dy = rotate(offset, rotation)
            return origin[0] + dx, origin[1] + dy

        p1, p2 = at(start, (15, 0), source.rotation), at(start, (50, 0), source.rotation)
        p3, p4 = at(end, (-50, 0), sink.rotation), at(end, (-15, 0), sink.rotation)
        points = [start] + [tuple((1 - s) ** 3 * a + 3 * (1 - s) ** 2 * s * b + 3 * (1 - s) * s ** 2 * c + s ** 3 * d
                                  for a, b, c, d in zip(p1, p2, p3, p4)) for s in (i / 64 for i in range(65))] + [end]
        ends = {connection.source_block.name, connection.sink_block.name}
        under = sorted(name for name, (x0, y0, x1, y1) in bodies.items() if name not in ends
                       and any(x0 < x < x1 and y0 < y < y1 for x, y in points))
        out.append({"source": connection.source_block.name, "sink": connection.sink_block.name, "under": under})
    return out


def too_close(a: dict, b: dict, gap: float = GAP) -> bool:
    """Whether rectangles a and b overlap or leave less than ``gap`` between them."""
    return (a["x0"] < b["x1"] + gap and b["x0"] < a["x1"] + gap
            and a["y0"] < b["y1"] + gap and b["y0"] < a["y1"] + gap)


def clashes(rects: list[dict], gap: float = GAP) -> list[tuple[dict, dict]]:
    """Pairs of rectangles of different blocks that are too close (a block and its own
    comment are drawn apart by GRC itself)."""
    return [(a, b) for a, b in itertools.combinations(rects, 2)
            if a["name"] != b["name"] and too_close(a, b, gap)]


def entries(platform) -> list[dict]:
    """Each option label of a parameter GRC shows as an editable combo (options on a
    non-enum dtype) in the properties dialog of every gr-semcom block: its pixel width
    and the width of the entry's text area it is shown in."""
    from gi.repository import Gtk
    from gnuradio.grc.gui import ParamWidgets
    from gnuradio.grc.gui.PropsDialog import PropsDialog
    flowgraph = platform.make_flow_graph("")
    window = Gtk.Window()
    window.config = platform.config
    out = []
    for key in sorted(k for k in platform.blocks if k.startswith("semcom_")):
        block = flowgraph.new_block(key)
        block.params["id"].set_value(f"{key}_0")  # as GRC names a block it adds
        block.rewrite()
        block.validate()
        dialog = PropsDialog(window, block)
        dialog.show_all()
        while Gtk.events_pending():
            Gtk.main_iteration_do(False)
        stack = [dialog]
        while stack:
            widget = stack.pop()
            if isinstance(widget, ParamWidgets.EnumEntryParam):
                entry = widget._input.get_child()
                for label in widget.param.options.values():
                    out.append({"block": key, "param": widget.param.key, "label": label,
                                "text": entry.create_pango_layout(label).get_pixel_size()[0],
                                "area": entry.get_text_area().width})
            if isinstance(widget, Gtk.Container):
                stack.extend(widget.get_children())
        dialog.destroy()
    return out


def measure(paths) -> dict:
    platform = _platform()
    flowgraphs = {str(path): load(platform, path) for path in paths}
    return {"flowgraphs": {path: rectangles(flowgraph) for path, flowgraph in flowgraphs.items()},
            "wires": {path: wires(flowgraph) for path, flowgraph in flowgraphs.items()},
            "entries": entries(platform)}


# -- moving blocks apart ------------------------------------------------------------------
def _snap(value: float) -> int:
    return int(-(-value // GRID) * GRID)


def layout_moves(rects: list[dict], gap: float = FIX_GAP) -> dict[str, tuple[int, int]]:
    """(dx, dy) per block name that leaves ``gap`` between every two blocks and comments
    while keeping the flowgraph's rows and columns: two blocks that clash are kept apart
    along the axis they are already apart on most (side by side: x; one over the other: y),
    in the order they have; every block then moves as little as those constraints allow
    (right or down only), and everything moves so that nothing sticks out left of or above
    the canvas."""
    blocks = {r["name"]: r for r in rects if r["kind"] == "block"}
    centre = {n: ((r["x0"] + r["x1"]) / 2, (r["y0"] + r["y1"]) / 2) for n, r in blocks.items()}
    size = {n: (r["x1"] - r["x0"], r["y1"] - r["y0"]) for n, r in blocks.items()}
    order = [sorted(blocks, key=lambda n: (centre[n][axis], centre[n][1 - axis], n)) for axis in (0, 1)]
    rank = [{n: i for i, n in enumerate(o)} for o in order]
    after = ({}, {})  # per axis: (first, second) -> least offset of second's move over first's
    moves = {n: [0, 0] for n in blocks}

    def moved(r):
        dx, dy = moves[r["name"]]
        return {**r, "x0": r["x0"] + dx, "x1": r["x1"] + dx, "y0": r["y0"] + dy, "y1": r["y1"] + dy}

    for _ in range(1000):
        pairs = clashes([moved(r) for r in rects], gap)
        if not pairs:
            break
        for a, b in pairs:
            u, v = a["name"], b["name"]
            spread = [abs(centre[u][k] - centre[v][k]) / (size[u][k] + size[v][k]) for k in (0, 1)]
            axis = 0 if spread[0] >= spread[1] else 1
            if rank[axis][u] > rank[axis][v]:
                a, b, u, v = b, a, v, u
            low, high = ("x0", "x1") if axis == 0 else ("y0", "y1")
            need = _snap(a[high] - moves[u][axis] + gap - (b[low] - moves[v][axis]))  # in unmoved coordinates
            after[axis][u, v] = max(after[axis].get((u, v), need), need)
        for axis in (0, 1):  # longest paths in the order along the axis
            for n in order[axis]:
                moves[n][axis] = max([0] + [moves[u][axis] + c for (u, v), c in after[axis].items() if v == n])
    else:
        raise RuntimeError("blocks could not be moved apart")
    current = [moved(r) for r in rects]
    shift = (_snap(max(0, GRID - min(r["x0"] for r in current))), _snap(max(0, GRID - min(r["y0"] for r in current))))
    return {n: (dx + shift[0], dy + shift[1]) for n, (dx, dy) in moves.items() if (dx + shift[0], dy + shift[1]) != (0, 0)}


def set_coordinates(path: pathlib.Path, coordinates: dict[str, tuple[int, int]]) -> None:
    """Rewrite the ``coordinate`` of the named blocks (``options`` for the Options block) in
    .grc file ``path``, in the style the file has (``[x, y]`` or a block list), and nothing
    else; the file is read right before it is written."""
    value = r"(?: \[[^\]\n]*\]|\n    - [^\n]*\n    - [^\n]*)"
    text = path.read_text()
    for name, (x, y) in coordinates.items():
        if name == "options":
            match = re.search(rf"\A(options:\n(?:.*\n)*?    coordinate:){value}", text)
        else:
            match = re.search(rf"^(- name: {re.escape(name)}\n(?:(?!- name: |connections:).*\n)*?    coordinate:){value}",
                              text, re.M)
        if match is None:
            raise ValueError(f"{path}: no coordinate for block {name}")
        new = f" [{x}, {y}]" if match.group(0)[len(match.group(1)):].startswith(" ") else f"\n    - {x}\n    - {y}"
        text = text[:match.start()] + match.group(1) + new + text[match.end():]
    path.write_text(text)


def fix(paths) -> None:
    platform = _platform()
    for path in map(pathlib.Path, paths):
        flowgraph = load(platform, path)
        moves = layout_moves(rectangles(flowgraph))
        coordinates = {}
        for block in flowgraph.blocks:
            if block.name in moves:
                x, y = block.states["coordinate"]
                dx, dy = moves[block.name]
                coordinates["options" if block.key == "options" else block.name] = (int(x + dx), int(y + dy))
        set_coordinates(path, coordinates)
        flowgraph = load(platform, path)
        hidden = [w for w in wires(flowgraph) if w["under"]]
        print(f"{path}: {len(coordinates)} blocks moved, {len(clashes(rectangles(flowgraph)))} clashes left, "
              f"{len(hidden)} connections under blocks {[(w['source'], w['sink'], w['under']) for w in hidden]}")


def arrange_moves(flowgraph, width: int = 1600, gap: int = FIX_GAP) -> dict[str, tuple[int, int]]:
    """(dx, dy) per block that puts the blocks without connections (options, parameters,
    variables, snippets, GUI widgets) in rows at the top, in their order, no wider than
    ``width`` where they fit, and everything connected below them as it is arranged; then
    ``layout_moves`` keeps every two things ``gap`` apart."""
    rects = rectangles(flowgraph)
    connected = {block.name for connection in flowgraph.connections
                 for block in (connection.source_block, connection.sink_block)}
    units = {}
    for r in rects:
        u = units.setdefault(r["name"], dict(r))
        u.update(x0=min(u["x0"], r["x0"]), y0=min(u["y0"], r["y0"]), x1=max(u["x1"], r["x1"]), y1=max(u["y1"], r["y1"]))
    block_at = {r["name"]: (r["x0"], r["y0"]) for r in rects if r["kind"] == "block"}
    band = sorted((n for n in units if n not in connected), key=lambda n: (block_at[n][1] > 64, block_at[n][0], n))
    moves, x, y, row_bottom = {}, GRID, GRID, GRID
    for name in band:
        u = units[name]
        w, h = u["x1"] - u["x0"], u["y1"] - u["y0"]
        if x > GRID and x + w > width:
            x, y = GRID, _snap(row_bottom + gap)
        moves[name] = (_snap(x) - u["x0"], _snap(y) - u["y0"])
        x = _snap(x + w + gap)
        row_bottom = max(row_bottom, y + h)
    rest = [units[n] for n in units if n in connected]
    if rest:
        dx = _snap(GRID - min(u["x0"] for u in rest))
        dy = _snap((row_bottom + 2 * gap if band else GRID) - min(u["y0"] for u in rest))
        moves.update({u["name"]: (dx, dy) for u in rest})
    moved = [{**r, "x0": r["x0"] + moves[r["name"]][0], "x1": r["x1"] + moves[r["name"]][0],
              "y0": r["y0"] + moves[r["name"]][1], "y1": r["y1"] + moves[r["name"]][1]} for r in rects]
    more = layout_moves(moved, gap)
    moves = {n: (moves[n][0] + more.get(n, (0, 0))[0], moves[n][1] + more.get(n, (0, 0))[1]) for n in moves}
    upstream = {}
    for connection in flowgraph.connections:
        upstream.setdefault(connection.sink_block.name, set()).add(connection.source_block.name)
    return _pull_in(rects, moves, upstream, width, gap)


def _pull_in(rects, moves, upstream, width, gap):
    """Move each block that reaches past ``width`` left, as far as the things beside it
    (the blocks and comments at its height left of it) and the blocks feeding it allow."""
    def placed(name):
        dx, dy = moves[name]
        return [{**r, "x0": r["x0"] + dx, "x1": r["x1"] + dx, "y0": r["y0"] + dy, "y1": r["y1"] + dy}
                for r in rects if r["name"] == name]
    names = sorted(moves, key=lambda n: min(r["x0"] for r in placed(n)))
    for i, name in enumerate(names):
        mine = placed(name)
        if max(r["x1"] for r in mine) <= width:
            continue
        least = GRID - min(r["x0"] for r in mine)
        for other in names[:i]:
            for a in placed(other):
                for b in mine:
                    if a["y0"] < b["y1"] + gap and b["y0"] < a["y1"] + gap:
                        least = max(least, a["x1"] + gap - b["x0"])
            if other in upstream.get(name, ()):
                block = next(r for r in mine if r["kind"] == "block")
                feeder = next(r for r in placed(other) if r["kind"] == "block")
                least = max(least, feeder["x1"] + gap - block["x0"])
        shift = min(0, _snap(least))
        moves[name] = (moves[name][0] + shift, moves[name][1])
    return moves


def arrange(paths, width: int = 1600) -> None:
    platform = _platform()
    for path in map(pathlib.Path, paths):
        flowgraph = load(platform, path)
        moves = arrange_moves(flowgraph, width)
        coordinates = {}
        for block in flowgraph.blocks:
            dx, dy = moves.get(block.name, (0, 0))
            if (dx, dy) != (0, 0):
                x, y = block.states["coordinate"]
                coordinates["options" if block.key == "options" else block.name] = (int(x + dx), int(y + dy))
        set_coordinates(path, coordinates)
        flowgraph = load(platform, path)
        rects = rectangles(flowgraph)
        hidden = [w for w in wires(flowgraph) if w["under"]]
        print(f"{path}: {len(coordinates)} blocks moved, {len(clashes(rects))} clashes left, "
              f"{max(r['x1'] for r in rects):.0f} x {max(r['y1'] for r in rects):.0f} px, "
              f"{len(hidden)} connections under blocks {[(w['source'], w['sink'], w['under']) for w in hidden]}")


def screenshot(path, png) -> None:
    platform = _platform()
    from gnuradio.grc.gui import Utils
    Utils.make_screenshot(load(platform, path), str(png))


def window(example, window_png, library_png, size=(1900, 1000)) -> None:
    """GNU Radio Companion itself with ``example`` open and its block library expanded at
    Semantic Communications: the window to ``window_png``, the library panel to
    ``library_png``. Run it with HOME set to a scratch folder: GRC saves its preferences
    there when it quits."""
    from gi.repository import Gdk, GLib
    platform = _platform(application=False)
    from gnuradio.grc.gui.Application import Application
    app = Application([str(pathlib.Path(example).resolve())], platform)

    def expand():
        main = app.main_window
        main.resize(*size)
        tree = main.btwin
        tree.treeview.collapse_all()
        path = tree.treestore.get_path(tree._categories[("Semantic Communications",)])
        tree.treeview.expand_row(path, True)
        tree.treeview.scroll_to_cell(path, None, True, 0.0, 0.0)
        GLib.timeout_add(1500, capture)
        return False

    def capture():
        main = app.main_window
        gdk_window = main.get_window()
        shot = Gdk.pixbuf_get_from_window(gdk_window, 0, 0, gdk_window.get_width(), gdk_window.get_height())
        shot.savev(str(window_png), "png", [], [])
        panel = main.btwin
        x, y = panel.translate_coordinates(main, 0, 0)
        allocation = panel.get_allocation()
        Gdk.pixbuf_get_from_window(gdk_window, x, y, allocation.width, allocation.height).savev(str(library_png), "png", [], [])
        app.quit()
        return False

    GLib.timeout_add(4000, expand)
    app.run([])


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "measure":
        json.dump(measure(arguments), sys.stdout)
    elif command == "fix":
        fix(arguments)
    elif command == "arrange":
        arrange(arguments)
    elif command == "screenshot":
        screenshot(*arguments)
    elif command == "window":
        window(*arguments)
    else:
        raise SystemExit(__doc__)
