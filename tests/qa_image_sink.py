#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""image_sink writes one PNG per image, named by id, and keeps the last."""
import os
import time
import urllib.parse

import numpy as np
import pmt
from PIL import Image

from conftest import image_pdu, logged, run_block
from gnuradio.semcom import image_sink, keys, pdus


def test_writes_png_per_image_named_by_id(tmp_path):
    sink = image_sink(str(tmp_path / "out"))
    pictures = [np.full((8, 12, 3), v, np.uint8) for v in (10, 200)]
    msgs = [image_pdu(pictures[0], "00000_a"), image_pdu(pictures[1], "00001_b/../c")]
    run_block(sink, "image", msgs, done=lambda: sink.arrivals.count >= 2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00000_a.png", "00001_b%2F..%2Fc.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "00000_a.png")), pictures[0])
    np.testing.assert_array_equal(sink.last_image, pictures[1])
    assert sink.last_id == "00001_b/../c"


def test_without_folder_keeps_last_image_only(tmp_path):
    sink = image_sink("")
    run_block(sink, "image", [image_pdu(np.zeros((4, 4, 3), np.uint8), "x")], done=lambda: sink.arrivals.count)
    assert sink.last_id == "x" and sink.last_image.shape == (4, 4, 3)


def _saved(folder) -> dict:
    """{image_id from the PNG's text chunk: (file name, pixels)} of every PNG in ``folder``."""
    saved = {}
    for path in folder.iterdir():
        with Image.open(path) as picture:
            saved[picture.text[keys.IMAGE_ID]] = (path.name, np.asarray(picture))
    return saved


def test_ids_that_differ_only_in_unsafe_characters_get_their_own_reversible_files(tmp_path):
    ids = ["a/b", "a_b", "a:b", "a b", "a%2Fb", "~a", ".hidden", "ü/ß", "a#b", ""]
    sink = image_sink(str(tmp_path))
    pictures = {image_id: np.full((4, 6, 3), 20 * i, np.uint8) for i, image_id in enumerate(ids)}
    run_block(sink, "image", [image_pdu(p, i) for i, p in pictures.items()],
              done=lambda: sink.arrivals.count >= len(ids))
    saved = _saved(tmp_path)
    assert sorted(saved) == sorted(ids)  # ten files: none overwrote another
    for image_id, (name, pixels) in saved.items():
        np.testing.assert_array_equal(pixels, pictures[image_id])
        assert not name.startswith(".")
        if image_id:  # the name gives the id back
            assert urllib.parse.unquote(name.removesuffix(".png")) == image_id
    assert saved["a_b"][0] == "a_b.png" and saved["a/b"][0] == "a%2Fb.png" and saved["a b"][0] == "a%20b.png"


def test_ids_over_255_bytes_are_written_under_a_short_unique_name(tmp_path, capfd):
    ids = ["x" * 300, "x" * 299 + "y", "é" * 300, "a/" * 200]  # 300 to 600 bytes, most escaped
    sink = image_sink(str(tmp_path))
    run_block(sink, "image", [image_pdu(np.full((4, 4, 3), i, np.uint8), image_id) for i, image_id in enumerate(ids)],
              done=lambda: sink.arrivals.count >= len(ids), timeout=10)
    saved = _saved(tmp_path)
    assert sorted(saved) == sorted(ids)  # the text chunks hold the full ids
    assert all(len(name.encode()) <= 255 for name, _ in saved.values())
    assert saved["x" * 300][0] != saved["x" * 299 + "y"][0]  # the same first 183 bytes, not the same file
    assert logged(capfd).count("too long for a file name") == 4


def test_the_same_id_twice_in_a_run_keeps_both_files_and_logs_it(tmp_path, capfd):
    earlier = tmp_path / "old.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(earlier)
    an_hour_ago = time.time() - 3600
    os.utime(earlier, (an_hour_ago, an_hour_ago))
    sink = image_sink(str(tmp_path), done_port=True)
    first, second, rerun = (np.full((4, 4, 3), v, np.uint8) for v in (50, 150, 250))
    msgs = [image_pdu(first, "dup"), image_pdu(second, "dup"), image_pdu(rerun, "old")]
    done = run_block(sink, "image", msgs, out_port="done", expected=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["dup.png", "dup~2.png", "old.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "dup.png")), first)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "dup~2.png")), second)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "old.png")), rerun)  # an earlier run's: replaced
    assert "image dup: dup.png was already written in this run" in logged(capfd)
    # every image written is acknowledged on "done", for image_source's window
    assert [pdus.split(m)[0][keys.IMAGE_ID] for m in done] == ["dup", "dup", "old"]
    assert all(pmt.length(pmt.cdr(m)) == 0 for m in done)
