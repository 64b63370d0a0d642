#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""image_display: a Qt view of decoded images beside their references, with SNR, PSNR and SSIM."""
from __future__ import annotations

import collections
import math
import threading
import time

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from . import keys, metrics, pdu_block, pdus

# references kept for matching (an image_source running ahead of a slow decoder)
MAX_REFERENCES = 64


def display_scale(height: int, width: int, size: int) -> tuple[int, int]:
    """(zoom, step) that fit an image of ``height`` x ``width`` pixels to ``size``
    pixels on its longer side with an integer nearest-neighbour scale: each pixel
    repeated ``zoom`` x ``zoom`` times when the image is smaller (32x32 at size 256:
    zoom 8), every ``step``-th pixel when it is larger (768x512 at size 256: step 3,
    256x171); one of the two is 1."""
    side = max(int(height), int(width))
    if side <= 0 or size < 1:
        raise ValueError(f"cannot fit a {height}x{width} image to {size} pixels")
    if side <= size:
        return size // side, 1
    return 1, -(-side // size)


def scaled(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 (H, W, 3) ``image`` at its ``display_scale``: a C-contiguous uint8
    (H * zoom, W * zoom, 3) or (ceil(H / step), ceil(W / step), 3) array."""
    zoom, step = display_scale(image.shape[0], image.shape[1], size)
    if step > 1:
        return np.ascontiguousarray(image[::step, ::step])
    return np.ascontiguousarray(image.repeat(zoom, axis=0).repeat(zoom, axis=1))


def caption(image_id: str, snr_db: float, psnr_db: float | None, ssim: float | None,
            estimated_snr_db: float | None = None) -> str:
    """The text under the images: id on the first line; SNR (with the receiver's estimate
    when given), PSNR and SSIM on the second ("?" for an unknown SNR, "-" for a score
    without a reference)."""
    snr = "?" if not math.isfinite(snr_db) else f"{snr_db:.1f}"
    if estimated_snr_db is not None:
        snr += f" dB (est. {estimated_snr_db:.1f})"
    else:
        snr += " dB"
    psnr = "-" if psnr_db is None else ("inf" if math.isinf(psnr_db) else f"{psnr_db:.2f}")
    similarity = "-" if ssim is None else f"{ssim:.3f}"
    return f"image {image_id}\nSNR {snr}   PSNR {psnr} dB   SSIM {similarity}"


def to_qimage(image: np.ndarray) -> QtGui.QImage:
    """An RGB888 QImage holding a copy of uint8 (H, W, 3) ``image``."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    return QtGui.QImage(image.data, width, height, 3 * width, QtGui.QImage.Format_RGB888).copy()


def from_qimage(picture: QtGui.QImage) -> np.ndarray:
    """uint8 (H, W, 3) RGB pixels of a QImage (or of a QPixmap, e.g. ``widget.grab()``)."""
    if isinstance(picture, QtGui.QPixmap):
        picture = picture.toImage()
    picture = picture.convertToFormat(QtGui.QImage.Format_RGB888)
    height, width, stride = picture.height(), picture.width(), picture.bytesPerLine()
    buffer = picture.constBits()
    buffer.setsize(height * stride)
    rows = np.frombuffer(buffer, dtype=np.uint8).reshape(height, stride)
    return rows[:, : 3 * width].reshape(height, width, 3).copy()


class ImageView(QtWidgets.QWidget):
    """Paints one QImage at its own pixel size (no smoothing, no margin): ``grab()``
    gives back exactly the pixels shown. Before the first image it is a grey square."""

    def __init__(self, size: int, parent=None):
        super().__init__(parent)
        self.picture = None
        self.setFixedSize(size, size)

    def show_image(self, picture: QtGui.QImage | None, blank: tuple[int, int] = (0, 0)) -> None:
        """Paint ``picture``; None paints a grey (height, width) ``blank`` instead."""
        self.picture = picture
        if picture is not None:
            self.setFixedSize(picture.width(), picture.height())
        else:
            self.setFixedSize(blank[1], blank[0])
        self.update()

    def paintEvent(self, event):  # noqa: N802 (Qt's name)
        painter = QtGui.QPainter(self)
        if self.picture is None:
            painter.fillRect(self.rect(), QtGui.QColor(200, 200, 200))
        else:
            painter.drawImage(0, 0, self.picture)
        painter.end()


class DisplayWidget(QtWidgets.QWidget):
    """The block's widget: the received image (``decoded_view``) beside the reference
    (``reference_view``), a heading over each, the caption (``caption``) under them."""

    updated = QtCore.pyqtSignal(object)

    def __init__(self, title: str, size: int, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QGridLayout(self)
        if title:
            heading = QtWidgets.QLabel(title)
            heading.setStyleSheet("font-weight: bold")
            layout.addWidget(heading, 0, 0, 1, 2)
        layout.addWidget(QtWidgets.QLabel("received"), 1, 0)
        layout.addWidget(QtWidgets.QLabel("reference"), 1, 1)
        self.decoded_view, self.reference_view = ImageView(size), ImageView(size)
        layout.addWidget(self.decoded_view, 2, 0, QtCore.Qt.AlignLeft | QtCore.Qt.AlignTop)
        layout.addWidget(self.reference_view, 2, 1, QtCore.Qt.AlignLeft | QtCore.Qt.AlignTop)
        self.caption = QtWidgets.QLabel("waiting for images")
        self.caption.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        layout.addWidget(self.caption, 3, 0, 1, 2)
        layout.setRowStretch(4, 1)
        layout.setColumnStretch(2, 1)
        self.shown = None
        self.shows = pdus.Arrivals()
        # a slot of this widget: a queued signal from the block's thread runs it in the GUI thread
        self.updated.connect(self.show_view, QtCore.Qt.QueuedConnection)

    @QtCore.pyqtSlot(object)
    def show_view(self, view: dict) -> None:
        """GUI thread: paint ``view`` (see ``image_display.shown``) and keep it in ``shown``."""
        self.decoded_view.show_image(to_qimage(view["decoded_view"]))
        if view["reference_view"] is None:  # not come (yet): a grey image of the decoded one's size
            self.reference_view.show_image(None, view["decoded_view"].shape[:2])
        else:
            self.reference_view.show_image(to_qimage(view["reference_view"]))
        self.caption.setText(view["text"])
        self.shown = view
        self.shows.add()


class image_display(pdu_block.pdu_block):
    def __init__(self, snr_db=float("nan"), size=256, title=""):
        """Qt view of decoded image PDUs (port ``decoded``) beside their references
        (port ``reference``, matched by metadata image_id), with the image id, the SNR
        and the PSNR and SSIM (``metrics``) of the pair under them.

        snr_db: the SNR to show when an image's metadata has no ``snr_db`` (NaN shows
        "?"); ``set_snr_db`` changes it for the images that follow. The metadata's
        ``estimated_snr_db`` (stream_to_symbols' measurement) is shown beside it.
        size: the longer side, in pixels, each image is fitted to with an integer
        nearest-neighbour scale (``display_scale``: 32x32 is shown 8x at 256, 768x512
        every third pixel).
        title: a heading over the images ("" for none).

        Needs a QApplication (a GRC "QT GUI" flowgraph makes one first).
        ``qwidget()`` is the QWidget to put in a window. Messages are handled in the
        block's thread and the view is updated in the GUI thread through a queued Qt
        signal; bad PDUs (not an image, no image_id, a reference of another shape) are
        logged and dropped. A decoded image whose reference has not come yet is shown
        alone and scored when the reference comes.

        After each update of the view (GUI thread) ``shown`` holds what it shows:
        {"image_id": str, "decoded": uint8 (H, W, 3) as received, "reference": the
        same or None, "decoded_view" / "reference_view": the scaled uint8 arrays painted,
        "snr_db": float, "estimated_snr_db", "psnr_db", "ssim": float or None, "text": the
        caption}; ``shows``
        counts the updates (``shows.wait(n, timeout)`` from a thread other than the GUI's,
        whose event loop must run meanwhile; ``wait_shown`` in the GUI thread),
        ``arrivals`` the decoded images handled, ``reference_arrivals`` the references.
        """
        pdu_block.pdu_block.__init__(self, "semcom_image_display", {"decoded": self.handle_decoded,
                                                                    "reference": self.handle_reference})
        if QtWidgets.QApplication.instance() is None:
            raise RuntimeError("image_display needs a QApplication: create one first (a GRC QT GUI flowgraph does)")
        if int(size) < 1:
            raise ValueError(f"size must be >= 1 pixel, got {size}")
        self.snr_db = float(snr_db)
        self.size = int(size)
        self.arrivals = pdus.Arrivals()
        self.reference_arrivals = pdus.Arrivals()
        self._references = collections.OrderedDict()  # image_id -> uint8 (H, W, 3)
        self._unmatched = None  # (image_id, meta, image) of a decoded image shown without its reference
        self._lock = threading.Lock()
        self._widget = DisplayWidget(title, self.size)

    def qwidget(self) -> QtWidgets.QWidget:
        """The display's QWidget (a ``DisplayWidget``)."""
        return self._widget

    def set_snr_db(self, snr_db):
        self.snr_db = float(snr_db)

    @pdu_block.takes(pdus.parse_image)
    def handle_reference(self, meta, image):
        """Keep uint8 (H, W, 3) reference ``image``; show the decoded image that waited for it."""
        image_id = _image_id(meta, "reference")
        with self._lock:
            self._references[image_id] = image
            self._references.move_to_end(image_id)
            while len(self._references) > MAX_REFERENCES:
                self._references.popitem(last=False)
            pending = self._unmatched if self._unmatched and self._unmatched[0] == image_id else None
            if pending is not None:
                self._unmatched = None
        self.reference_arrivals.add()
        if pending is not None:
            self._update(pending[1], pending[2], image)

    @pdu_block.takes(pdus.parse_image)
    def handle_decoded(self, meta, image):
        """Show uint8 (H, W, 3) decoded ``image`` beside its reference (alone until it comes)."""
        image_id = _image_id(meta, "decoded")
        for key in (keys.SNR_DB, keys.ESTIMATED_SNR_DB):  # checked before the image waits for its reference
            pdus.real(meta, key)
        with self._lock:
            reference = self._references.get(image_id)
            self._unmatched = (image_id, meta, image) if reference is None else None
        self.arrivals.add()
        self._update(meta, image, reference)

    def _update(self, meta: dict, image: np.ndarray, reference: np.ndarray | None) -> None:
        """Score the pair and hand the view to the GUI thread."""
        image_id = str(meta[keys.IMAGE_ID])
        if reference is not None and reference.shape != image.shape:
            raise ValueError(f"decoded image {image_id} is {image.shape[:2]}, its reference {reference.shape[:2]}")
        snr_db = pdus.real(meta, keys.SNR_DB, self.snr_db)
        estimated = pdus.real(meta, keys.ESTIMATED_SNR_DB)
        psnr_db = None if reference is None else metrics.psnr_db(reference, image)
        ssim = (None if reference is None or min(image.shape[:2]) < 11
                else metrics.ssim(reference, image))
        self._widget.updated.emit({
            "image_id": image_id, "decoded": image, "reference": reference,
            "decoded_view": scaled(image, self.size),
            "reference_view": None if reference is None else scaled(reference, self.size),
            "snr_db": snr_db, "estimated_snr_db": estimated, "psnr_db": psnr_db, "ssim": ssim,
            "text": caption(image_id, snr_db, psnr_db, ssim, estimated)})

    @property
    def shown(self) -> dict | None:
        """What the view shows since its last update (None before the first)."""
        return self._widget.shown

    @property
    def shows(self) -> pdus.Arrivals:
        """Counts the updates of the view."""
        return self._widget.shows

    def wait_shown(self, count: int, timeout: float) -> bool:
        """From the GUI thread: process Qt events until ``count`` updates have been
        shown or ``timeout`` seconds pass; returns whether they were."""
        deadline = time.monotonic() + timeout
        while self.shows.count < count and time.monotonic() < deadline:
            QtWidgets.QApplication.processEvents(QtCore.QEventLoop.AllEvents, 50)
            self.shows.wait(count, 0.01)
        return self.shows.count >= count


def _image_id(meta: dict, port: str) -> str:
    if keys.IMAGE_ID not in meta:
        raise ValueError(f"{port} image has no {keys.IMAGE_ID}")
    return str(meta[keys.IMAGE_ID])
