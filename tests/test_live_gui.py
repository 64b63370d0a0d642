#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""examples/live_gui.grc: compiled with grcc and run offscreen under a Qt event loop, the
window shows each decoded image exactly as it reached the Image Display (grabbed from the
widget), its PSNR against the source, the received symbols in the constellation sink, and
the SNR slider changes the noise the channel adds.

``python tests/test_live_gui.py docs`` writes the README's screenshots (docs/live_gui.png
at 10 dB, docs/live_gui_low_snr.png at 0 dB).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import pathlib
import re
import shutil
import sys

import numpy as np
import pytest
from gnuradio import blocks

from gnuradio.semcom import bundle, keys, metrics, pdus
from conftest import grcc, load_module

display_module = importlib.import_module("gnuradio.semcom.image_display")  # its helpers
ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "live_gui.grc"
GRCC = shutil.which("grcc")
WINDOW = (1150, 960)  # the example's snippet sizes a first window so
_APPLICATION = []  # the QApplication this module made, kept alive for the process's widgets


def qt_application():
    """The process's QApplication (offscreen when this makes it)."""
    from PyQt5 import QtWidgets
    app = QtWidgets.QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QtWidgets.QApplication(["test_live_gui"])
        _APPLICATION.append(app)
    return app


def compile_example(out_dir: pathlib.Path) -> pathlib.Path:
    """grcc on the example with the source tree's blocks; returns the generated script."""
    result = grcc(EXAMPLE, out_dir)
    script = out_dir / "live_gui.py"
    assert result.returncode == 0 and script.is_file(), f"grcc failed:\n{result.stdout}\n{result.stderr}"
    return script


def run_qt_until(condition, timeout: float) -> bool:
    """Run the Qt event loop (the GUI's updates) until ``condition()`` or ``timeout`` s;
    a QTimer polls the condition every 50 ms."""
    from PyQt5 import QtCore
    loop = QtCore.QEventLoop()
    poll = QtCore.QTimer()
    poll.timeout.connect(lambda: condition() and loop.quit())
    poll.start(50)
    QtCore.QTimer.singleShot(int(timeout * 1000), loop.quit)
    if not condition():
        loop.exec_()
    poll.stop()
    return bool(condition())


class Recorder:
    """message_debug stores on the example's ports, by image id."""

    def __init__(self, tb):
        self.ports = {"sent": (tb.semcom_image_source_0, "image"), "symbols": (tb.semcom_jscc_encoder_0, "symbols"),
                      "received": (tb.semcom_stream_to_symbols_0, "symbols"), "decoded": (tb.semcom_jscc_decoder_0, "image")}
        self.debug = {name: blocks.message_debug() for name in self.ports}
        for name, (block, port) in self.ports.items():
            tb.msg_connect(block, port, self.debug[name], "store")

    def get(self, name: str) -> dict:
        """image_id -> (metadata, numpy payload) of what passed ``name``."""
        parse = pdus.parse_image if name in ("sent", "decoded") else pdus.parse_symbols
        found = {}
        debug = self.debug[name]
        for i in range(debug.num_messages()):
            meta, payload = parse(debug.get_message(i))
            found[meta[keys.IMAGE_ID]] = (meta, payload)
        return found


def start(module):
    """The example's top block as its main() makes it (window sized by its snippet),
    with recorders on its ports, started and shown."""
    tb = module.live_gui()
    module.snippets_main_after_init(tb)
    tb.resize(*WINDOW)  # a saved window size (QSettings) would win over the snippet's
    recorder = Recorder(tb)
    tb.start()
    tb.show()
    return tb, recorder


def index(image_id: str) -> int:
    """image_source's running number of an image id ("00012_rocket" -> 12)."""
    return int(re.match(r"(\d+)_", image_id).group(1))


@pytest.fixture(scope="module")
def live_gui(tmp_path_factory):
    if GRCC is None:
        pytest.skip("grcc (GNU Radio Companion compiler) is not installed")
    qt_application()
    return load_module(compile_example(tmp_path_factory.mktemp("live_gui")))


def test_live_gui_shows_the_decoded_image_its_psnr_and_constellation_and_follows_the_slider(live_gui):
    tb, recorder = start(live_gui)
    display = tb.semcom_image_display_0
    constellation = tb.qtgui_const_sink_x_0
    n_symbols = bundle.Bundle(live_gui.live_gui.__init__.__defaults__[0]).n_symbols(32, 32)
    try:
        # -- the view: what the widget paints is the decoded image that reached the block ----------
        scored = lambda: display.shown is not None and display.shown["psnr_db"] is not None  # noqa: E731
        assert run_qt_until(lambda: display.shows.count >= 3 and scored(), 20.0), \
            f"{display.shows.count} updates of the display"
        shown = display.shown
        image_id = shown["image_id"]
        painted = display.qwidget().decoded_view.grab()
        reference_painted = display.qwidget().reference_view.grab()
        decoded = recorder.get("decoded")[image_id][1]
        sent = recorder.get("sent")[image_id][1]
        assert decoded.shape == (32, 32, 3)
        assert np.array_equal(display_module.from_qimage(painted), decoded.repeat(8, axis=0).repeat(8, axis=1))
        assert np.array_equal(display_module.from_qimage(reference_painted), sent.repeat(8, axis=0).repeat(8, axis=1))
        psnr = metrics.psnr_db(sent, decoded)
        caption = display.qwidget().caption.text()
        assert caption.startswith(f"image {image_id}\n") and f"PSNR {psnr:.2f} dB" in caption, caption
        # the symbols the constellation plots: the received PDUs, one image's symbols at a time
        assert constellation.nsamps() == n_symbols
        assert tb.get_samp_rate() == 1e6 and tb.qtgui_time_sink_x_0 is not None

        # -- the slider: 20 dB, then 0 dB; the noise on the symbols of later images follows ---------
        measured = {}
        for snr_db in (20.0, 0.0):
            tb._snr_db_win.d_widget.setValue(snr_db)  # what dragging the slider does
            assert tb.get_snr_db() == snr_db
            # images from here on go through the new noise but for two: the channel's noise source
            # runs up to its output buffer (2560 samples, more than a burst) ahead, so the next
            # image, and the preamble of the one after it, may still get the old noise
            first = tb.semcom_image_source_0.sent + 2
            assert run_qt_until(lambda: sum(index(i) >= first for i in recorder.get("decoded")) >= 2 and scored()
                                and index(display.shown["image_id"]) >= first, 20.0)
            symbols, received = recorder.get("symbols"), recorder.get("received")
            later = [i for i in received if index(i) >= first and i in symbols]
            noise = np.concatenate([received[i][1] - symbols[i][1] for i in later])
            measured[snr_db] = {"snr_db": -10 * np.log10(np.mean(np.abs(noise) ** 2)),
                                "estimate": np.mean([received[i][0][keys.ESTIMATED_SNR_DB] for i in later]),
                                "shown": display.shown}
        for snr_db, found in measured.items():
            # noise power per symbol 10^(-snr/10) at unit signal power, as the receiver estimates it
            assert found["snr_db"] == pytest.approx(snr_db, abs=1.0), measured
            assert found["estimate"] == pytest.approx(snr_db, abs=1.0), measured
            # the display shows the SNR set on the slider and the receiver's estimate
            shown = found["shown"]
            assert shown["snr_db"] == snr_db and shown["estimated_snr_db"] == pytest.approx(snr_db, abs=1.5)
            assert f"\nSNR {snr_db:.1f} dB (est. {shown['estimated_snr_db']:.1f})   PSNR" in shown["text"]
        assert measured[0.0]["shown"]["psnr_db"] < measured[20.0]["shown"]["psnr_db"]
    finally:
        tb.stop()
        tb.wait()
        tb.hide()  # not close(): its closeEvent would save the window's geometry in the user's QSettings


def save_screenshots(folder: pathlib.Path, tmp: pathlib.Path) -> list[pathlib.Path]:
    """The whole window, after a few images at 10 dB and at 0 dB."""
    qt_application()
    module = load_module(compile_example(tmp))
    tb, _ = start(module)
    display = tb.semcom_image_display_0
    paths = []
    try:
        for snr_db, name in ((10.0, "live_gui.png"), (0.0, "live_gui_low_snr.png")):
            tb._snr_db_win.d_widget.setValue(snr_db)
            first = tb.semcom_image_source_0.sent + 2
            run_qt_until(lambda: display.shown is not None and display.shown["psnr_db"] is not None
                         and index(display.shown["image_id"]) >= first + 3, 30.0)
            run_qt_until(lambda: False, 1.5)  # let the spectrum's average settle
            paths.append(folder / name)
            assert tb.grab().save(str(paths[-1])), paths[-1]
    finally:
        tb.stop()
        tb.wait()
        tb.hide()
    return paths


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        print(*save_screenshots(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs"), pathlib.Path(tmp)))
