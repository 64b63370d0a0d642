"""image_source: images from files (or the embedded samples) as image PDUs."""
from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import pmt
from gnuradio import gr
from PIL import Image

from gnuradio.semcom import bundle, keys, pdus
from gnuradio.semcom import images as imaging


class image_source(gr.basic_block):
    LABELS = ("none", "file_prefix", "folder")

    def __init__(self, images="samples", model="", policy="full", size=(0, 0), loop=False, rate=0.0,
                 labels="none"):
        """Emit each image as a PDU on port ``image``.

        images: "samples" (scikit-image's photos), "kodak", a folder, a glob, a
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

        Each PDU: u8vector of H*W*3 RGB bytes; metadata image_id (unique:
        running number and file stem), image_shape, source, and label unless
        labels is "none".
        """
        gr.basic_block.__init__(self, name="semcom_image_source", in_sig=None, out_sig=None)
        if isinstance(images, str) and "," in images:
            images = [s.strip() for s in images.split(",") if s.strip()]
        self.paths = imaging.resolve_paths(images)
        if rate < 0:
            raise ValueError(f"rate must be >= 0 images/s, got {rate}")
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
        self.message_port_register_out(pmt.intern("image"))
        self._stop = threading.Event()
        self._thread = None
        self.sent = 0

    @property
    def count(self) -> int:
        """Images one pass emits (a looping source repeats them)."""
        return len(self.paths)

    def label_of(self, path) -> str | None:
        """The class label ``labels`` gives the file ``path`` (None for "none")."""
        path = pathlib.Path(path)
        return {"none": None, "file_prefix": path.stem.split("_", 1)[0], "folder": path.parent.name}[self.labels]

    def shapes(self) -> list[tuple[int, int]]:
        """(height, width) of each image one pass emits, read from file headers."""
        if self.size is not None:
            return [tuple(self.size)] * len(self.paths)
        shapes = []
        for path in self.paths:
            with Image.open(path) as picture:
                shapes.append((picture.height, picture.width))
        return shapes

    def max_shape(self) -> tuple[int, int]:
        """Largest (height, width) this source emits, read from file headers."""
        if self.size is not None:
            return self.size
        shapes = self.shapes()
        return max(h for h, _ in shapes), max(w for _, w in shapes)

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="semcom_image_source", daemon=True)
        self._thread.start()
        return True

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return True

    def _run(self):
        period = 1.0 / self.rate if self.rate > 0 else 0.0
        next_time = time.monotonic()
        while not self._stop.is_set():
            for path in self.paths:
                if self._stop.is_set():
                    return
                try:
                    image, note = imaging.load_image(path)
                    image = imaging.fit(image, self.policy, self.size)
                except ValueError as error:
                    self.logger.error(f"skipped {path}: {error}")
                    continue
                if note:
                    self.logger.info(f"{path.name}: {note}")
                meta = {keys.IMAGE_ID: f"{self.sent:05d}_{path.stem}", keys.SOURCE: str(path)}
                if self.labels != "none":
                    meta[keys.LABEL] = self.label_of(path)
                self.message_port_pub(pmt.intern("image"), pdus.image_pdu(meta, np.ascontiguousarray(image)))
                self.sent += 1
                if period:
                    next_time += period
                    self._stop.wait(max(0.0, next_time - time.monotonic()))
            if not self.loop:
                return
