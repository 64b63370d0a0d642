#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""image_source: images from files (or the embedded samples) as image PDUs."""
from __future__ import annotations

import pathlib
import threading
import time
import traceback

import numpy as np
import pmt
from gnuradio import gr

from . import bundle, keys, pdus
from . import images as imaging


class image_source(gr.basic_block):
    LABELS = ("none", "file_prefix", "folder")

    def __init__(self, images="samples", model="", policy="full", size=(0, 0), loop=False, rate=0.0,
                 labels="none", window=0, window_timeout=10.0):
        """Emit each image as a PDU on port ``image``.

        images: "samples" (the shipped photos, ``images.sample_paths``), a folder, a glob, a
            file, or a list of those (a comma-separated string also works).
        model: a model bundle (folder or shipped name) whose size the images are
            fitted to; "" to use ``size`` instead.
        policy: "resize", "crop", "pad" or "full" (see ``images.fit``); "full"
            keeps every image's own size, for fully convolutional models.
        size: (height, width) when no model is given; ignored with "full".
        loop: start again after the last image.
        rate: images per second; 0 sends as fast as the flowgraph takes them.
        labels: the class label of each image, for accuracy: "none", "file_prefix"
            (the file name up to its first "_": the ``cifar10-test:N`` files are
            ``<class>_<n>.png``) or "folder" (the name of the folder holding it).
        window: at most this many images sent and not yet acknowledged on the input
            port ``done``, which the source has only with a window (0: no limit and no
            port). GNU Radio 3.10's message queues have no back-pressure (a publisher
            never blocks, and the ``max_messages`` limit only prunes ports without a
            handler), so a source at rate 0 would fill the next block's queue with every
            image; connect a sink's ``done`` port (image_sink, metrics_sink with
            done_port) to bound that. Acknowledging an image also acknowledges every
            image sent before it (messages keep their order), so a lost image holds no
            credit once a later one arrives.
        window_timeout: seconds without any acknowledgement after which the images in
            flight are logged as presumed lost and sending goes on (a link that loses
            every image, or ``done`` left unconnected, must not stop the source for good).

        Files Pillow cannot open (not an image, over its decompression-bomb limit) are
        logged and left out at construction; a file that fails to decode when it is sent
        is logged, left out of later passes and out of ``count`` at once, so a runner
        waiting for ``count`` images does not wait for it.

        Each PDU: u8vector of H*W*3 RGB bytes; metadata image_id (unique:
        running number and file stem), image_shape, source, and label unless
        labels is "none".
        """
        gr.basic_block.__init__(self, name="semcom_image_source", in_sig=None, out_sig=None)
        if isinstance(images, str) and "," in images:
            images = [s.strip() for s in images.split(",") if s.strip()]
        if rate < 0:
            raise ValueError(f"rate must be >= 0 images/s, got {rate}")
        if int(window) < 0 or int(window) != window:
            raise ValueError(f"window must be a whole number of images >= 0 (0: no limit), got {window}")
        if not window_timeout > 0:
            raise ValueError(f"window_timeout must be > 0 s, got {window_timeout}")
        self.paths, self._headers = self._readable(imaging.resolve_paths(images))
        if model:
            model_bundle = bundle.Bundle(model)
            if policy == "full" and model_bundle.image_size:
                raise ValueError(f"model {model_bundle.model_id} takes {model_bundle.image_size} images: "
                                 f"choose policy resize, crop or pad, not full")
            self.size = model_bundle.image_size
        else:
            self.size = tuple(int(v) for v in size) if policy != "full" else None
            if self.size is not None and (len(self.size) != 2 or min(self.size) <= 0):
                raise ValueError(f"size must be (height, width) > 0 for policy {policy!r}, got {size}")
        if policy not in imaging.FIT_POLICIES:
            raise ValueError(f"policy {policy!r} is not one of {imaging.FIT_POLICIES}")
        if labels not in self.LABELS:
            raise ValueError(f"labels {labels!r} is not one of {self.LABELS}")
        self.policy, self.loop, self.rate, self.labels = policy, bool(loop), float(rate), labels
        self.window, self.window_timeout = int(window), float(window_timeout)
        self.message_port_register_out(pmt.intern("image"))
        self._done_port = False
        if self.window:
            self._add_done_port()
        self._stop = threading.Event()
        self._thread = None
        self.sent = 0
        self.skipped = 0  # files that failed to decode while sending (left out of count since)
        # pacing (window > 0): image_id -> running number of the images in flight, in sending order
        self._credit = threading.Condition()
        self._in_flight: dict[str, int] = {}
        self._acknowledged = -1  # the highest running number acknowledged on "done"

    def _readable(self, paths) -> tuple[list[pathlib.Path], dict]:
        """The files whose header Pillow reads, and their (height, width); the others logged."""
        readable, headers = [], {}
        for path in paths:
            try:
                headers[path] = imaging.check_header(path)
            except ValueError as error:
                self.logger.error(f"left out: {error}")
                continue
            readable.append(path)
        if not readable:
            raise ValueError(f"none of the {len(paths)} image files can be read (see the log)")
        return readable, headers

    @property
    def count(self) -> int:
        """Images one pass emits (a looping source repeats them); drops as soon as a file
        fails to decode while sending, so a runner re-reading it never waits for that file."""
        return len(self.paths)

    def pace(self, window: int, timeout: float | None = None) -> None:
        """Set ``window`` (and ``window_timeout``) before start; a window adds the port ``done``."""
        if int(window) < 0:
            raise ValueError(f"window must be >= 0 images, got {window}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"window_timeout must be > 0 s, got {timeout}")
        self.window = int(window)
        if timeout is not None:
            self.window_timeout = float(timeout)
        if self.window:
            self._add_done_port()

    def _add_done_port(self) -> None:
        # only with a window: the GRC block, which has none, declares no such port
        if not self._done_port:
            self.message_port_register_in(pmt.intern("done"))
            self.set_msg_handler(pmt.intern("done"), self.handle_done)
            self._done_port = True

    @property
    def in_flight(self) -> int:
        """Images sent and not yet acknowledged on ``done`` (counted only with a window)."""
        with self._credit:
            return len(self._in_flight)

    @property
    def sending(self) -> bool:
        """Whether the source's thread is still running (a non-looping source ends after one pass)."""
        return self._thread is not None and self._thread.is_alive()

    @pdus.guarded
    def handle_done(self, msg):
        """An acknowledgement: an image id as a string, or a metadata dict or PDU that has one."""
        meta = msg if pmt.is_dict(msg) else pmt.car(msg) if pmt.is_pair(msg) and pmt.is_dict(pmt.car(msg)) else None
        value = msg if meta is None else pmt.dict_ref(meta, pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)
        if not pmt.is_symbol(value):
            raise ValueError(f"an acknowledgement on port done must be an image id (a string, or a dict or PDU "
                             f"with {keys.IMAGE_ID}), got {pdus._short(msg)}")
        with self._credit:
            number = self._in_flight.get(pmt.symbol_to_string(value))
            if number is None:  # not ours, or already counted (an earlier id's acknowledgement, a timeout)
                return
            self._acknowledged = max(self._acknowledged, number)
            while self._in_flight and next(iter(self._in_flight.values())) <= self._acknowledged:
                del self._in_flight[next(iter(self._in_flight))]
            self._credit.notify_all()

    def _wait_for_credit(self) -> bool:
        """With a window, wait until fewer than ``window`` images are in flight; False when stopped."""
        if not self.window:
            return not self._stop.is_set()
        with self._credit:
            quiet_since = time.monotonic()
            while len(self._in_flight) >= self.window:
                if self._stop.is_set():
                    return False
                acknowledged = self._acknowledged
                # short waits, so that stop() is seen even without a notification
                self._credit.wait(0.1)
                if self._acknowledged != acknowledged:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= self.window_timeout:
                    ids = list(self._in_flight)
                    self.logger.warn(f"no image acknowledged on port done for {self.window_timeout:g} s with "
                                     f"{len(ids)} in flight: presumed lost, sending on ({_ids(ids)})")
                    self._acknowledged = max(self._in_flight.values())
                    self._in_flight.clear()
            return not self._stop.is_set()

    def label_of(self, path) -> str | None:
        """The class label ``labels`` gives the file ``path`` (None for "none")."""
        path = pathlib.Path(path)
        return {"none": None, "file_prefix": path.stem.split("_", 1)[0], "folder": path.parent.name}[self.labels]

    def shapes(self) -> list[tuple[int, int]]:
        """(height, width) of each image one pass emits, read from file headers."""
        if self.size is not None:
            return [tuple(self.size)] * len(self.paths)
        return [self._headers[path] for path in list(self.paths)]

    def max_shape(self) -> tuple[int, int]:
        """Largest (height, width) this source emits, read from file headers."""
        if self.size is not None:
            return self.size
        shapes = self.shapes()
        return max(h for h, _ in shapes), max(w for _, w in shapes)

    def start(self):
        self._stop.clear()
        with self._credit:  # a restart owes nothing to the images of the last run
            self._in_flight.clear()
            self._acknowledged = self.sent - 1
        self._thread = threading.Thread(target=self._run, name="semcom_image_source", daemon=True)
        self._thread.start()
        return True

    def stop(self):
        self._stop.set()
        with self._credit:
            self._credit.notify_all()
        if self._thread is not None:
            self._thread.join()
        return True

    def _run(self):
        period = 1.0 / self.rate if self.rate > 0 else 0.0
        next_time = time.monotonic()
        while not self._stop.is_set():
            for path in list(self.paths):  # a copy: a file that fails leaves self.paths
                if not self._wait_for_credit():
                    return
                image = self._load(path)
                if image is None:
                    continue
                meta = {keys.IMAGE_ID: f"{self.sent:05d}_{path.stem}", keys.SOURCE: str(path)}
                if self.labels != "none":
                    meta[keys.LABEL] = self.label_of(path)
                if self.window:
                    with self._credit:
                        self._in_flight[meta[keys.IMAGE_ID]] = self.sent
                self.message_port_pub(pmt.intern("image"), pdus.image_pdu(meta, np.ascontiguousarray(image)))
                self.sent += 1
                if period:
                    next_time += period
                    self._stop.wait(max(0.0, next_time - time.monotonic()))
            if not self.loop:
                return
            if not self.paths:
                self.logger.error("no readable image left to loop over: the source stops")
                return

    def _load(self, path) -> np.ndarray | None:
        """The fitted image of ``path``, or None after logging why not: the file then leaves
        ``paths`` (and ``count``) so that nobody waits for it, and the source goes on."""
        try:
            image, note = imaging.load_image(path)
            image = imaging.fit(image, self.policy, self.size)
        except Exception as error:  # noqa: BLE001 - one file must never end the source's thread
            # a file that cannot be read is ValueError; anything else is a bug, logged as pdus.guarded does
            bug = "" if isinstance(error, ValueError) else \
                f"\ninternal error (a bug in gr-semcom, not a bad file):\n{traceback.format_exc()}"
            self.paths.remove(path)
            self.skipped += 1
            self.logger.error(f"skipped {path}: {error} ({len(self.paths)} images left in a pass){bug}")
            return None
        if note:
            self.logger.info(f"{path.name}: {note}")
        return image


def _ids(ids: list[str], shown: int = 10) -> str:
    """Image ids for a log line: the first ``shown`` of them and how many more."""
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more
