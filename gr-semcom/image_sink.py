#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""image_sink: write image PDUs as PNG files named by image id."""
from __future__ import annotations

import hashlib
import os
import pathlib
import re
import time
import urllib.parse

from PIL import Image, PngImagePlugin

from . import keys, pdu_block, pdus

# Characters an id keeps in its file name; every other byte of its UTF-8 is written %XX, so
# that distinct ids never share a name ("a/b" -> a%2Fb, "a b" -> a%20b, "a_b" stays) and
# urllib.parse.unquote gives the id back. "~" and "#" are escaped too: the sink's own
# suffixes use them.
_KEPT = re.compile(r"[A-Za-z0-9._-]")
# Linux and macOS allow 255 bytes per file name: the escaped id gets at most this many, which
# leaves room for "#<sample>", "~<n>" and ".png"
MAX_NAME_BYTES = 200
_HASH_CHARS = 16  # of the SHA-256 hex digest that replaces the cut part of a long id


def file_stem(image_id: str) -> str:
    """The file name (without suffix) for ``image_id``: the id escaped as ``%XX`` where a byte
    is not a letter, digit, ".", "_" or "-" (unquote reverses it; a leading "." is escaped so
    no file is hidden). An escaped id over ``MAX_NAME_BYTES`` keeps its first part and ends in
    "~" and a hash of the whole id: unique, though no longer reversible from the name alone
    (the PNG's text chunk ``image_id`` holds every id in full)."""
    escaped = "".join(c if _KEPT.fullmatch(c) else urllib.parse.quote(c, safe="") for c in image_id)
    escaped = escaped.replace("~", "%7E")  # quote() keeps "~", which marks a shortened name
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    if not escaped:
        return "%"  # the empty id: unquote("%") is "%", so this one is marked, not reversible
    if len(escaped) <= MAX_NAME_BYTES:
        return escaped
    keep = escaped[:MAX_NAME_BYTES - _HASH_CHARS - 1]
    keep = re.sub(r"%[0-9A-F]?$", "", keep)  # never cut an escape in two
    return f"{keep}~{hashlib.sha256(image_id.encode('utf-8', 'surrogatepass')).hexdigest()[:_HASH_CHARS]}"


class image_sink(pdu_block.pdu_block):
    def __init__(self, folder="", done_port=False):
        """Take image PDUs on port ``image``; write ``<folder>/<name>.png``
        (``<name>#<sample>.png`` for the draws of an image decoded several times).

        folder: where to write ("" writes nothing). The name is the image id with every
        character other than letters, digits, ".", "_" and "-" escaped as %XX (so ids
        never share a file; ``urllib.parse.unquote`` reverses it), and ids whose escaped
        form is over 200 bytes are cut and end in "~" and a hash; each PNG keeps the full
        id in its text chunk ``image_id``. An image whose file this sink already wrote in
        this run (the same id twice, or ids that differ only in case on a case-insensitive
        file system) is written as ``<name>~2.png`` (3, ...) with a log line, never over
        the first. Files from earlier runs are overwritten. done_port: acknowledge each
        image written on the output port ``done`` (a PDU with its image_id; connect it to
        image_source's ``done`` to pace the source; also ``add_done_port()``).

        ``last_image`` holds the most recent image (uint8 (H, W, 3)) and ``last_id`` its
        id, for display; ``arrivals.wait(n, timeout)`` waits for n images.
        """
        pdu_block.pdu_block.__init__(self, "semcom_image_sink", {"image": self.handle_image})
        self.folder = pathlib.Path(folder) if folder else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.last_image = None
        self.last_id = None
        self.arrivals = pdus.Arrivals()
        self._started_ns = time.time_ns() - 100_000_000  # files modified since were written in this run
        self._done = pdus.DonePort(self)
        if done_port:
            self.add_done_port()

    def add_done_port(self) -> None:
        """Publish each image written on the output port ``done`` (``pdus.DonePort``), for
        image_source's window; before start."""
        self._done.add()

    def start(self):
        # the kernel stamps files with a clock that lags time.time_ns() by up to a tick (a few
        # ms): the margin keeps a file written just after this from passing as an earlier run's
        self._started_ns = time.time_ns() - 100_000_000
        return True

    @pdu_block.takes(pdus.parse_image)
    def handle_image(self, meta, image):
        """Write uint8 (H, W, 3) ``image`` (when the sink has a folder) and keep it as ``last_image``."""
        raw_id = meta.get(keys.IMAGE_ID, f"image{self.arrivals.count:05d}")
        if not isinstance(raw_id, (str, int)):
            raise ValueError(f"{keys.IMAGE_ID} must be a string, got {type(raw_id).__name__}")
        image_id = str(raw_id)
        if self.folder is not None:
            stem = file_stem(image_id)
            if "~" in stem:  # ids have "~" escaped: this name was shortened
                self.logger.info(f"image id of {len(image_id)} characters is too long for a file name: "
                                 f"written as {stem}.png (its text chunk image_id holds the full id)")
            if pdus.whole(meta, keys.SAMPLES, 1) > 1:
                stem += f"#{pdus.whole(meta, keys.SAMPLE, 0)}"
            self._write(image, image_id, stem)
        self.last_image, self.last_id = image, image_id
        self.arrivals.add()
        self._done.acknowledge(image_id)

    def _write(self, image, image_id: str, stem: str) -> None:
        """Write ``<stem>.png``, or ``<stem>~<n>.png`` when this run already wrote that file."""
        info = PngImagePlugin.PngInfo()
        info.add_text(keys.IMAGE_ID, image_id, zip=len(image_id) > 1000)
        names = (f"{stem}.png" if copy == 1 else f"{stem}~{copy}.png" for copy in range(1, 1_000_000))
        for name in names:
            path = self.folder / name
            try:
                handle = open(path, "xb")  # exclusive: never replace a file unnoticed
            except FileExistsError:
                if os.stat(path).st_mtime_ns >= self._started_ns:
                    continue  # written in this run: try the next copy's name
                handle = open(path, "wb")  # an earlier run's file: a rerun replaces it
            with handle:
                Image.fromarray(image).save(handle, format="PNG", pnginfo=info)
            if name != f"{stem}.png":
                self.logger.warn(f"image {image_id}: {stem}.png was already written in this run (the same id "
                                 f"again, or ids differing only in case): written as {name}")
            return
