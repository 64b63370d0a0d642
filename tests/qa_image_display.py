#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""image_display: a real flowgraph feeds it image PDUs; what its widget paints (grabbed
offscreen) is the decoded image and its reference at the block's scale, and the caption
shows id, SNR and the PSNR of the pair."""
from __future__ import annotations

import importlib
import pathlib
import re
import time

import numpy as np
import pmt
import pytest
import yaml
from gnuradio import blocks, gr

from gnuradio import semcom
from gnuradio.semcom import keys, metrics, pdus

from conftest import CIFAR_MODEL, logged, run_block

display_module = importlib.import_module("gnuradio.semcom.image_display")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def grabbed(view) -> np.ndarray:
    """uint8 (H, W, 3) pixels a widget paints."""
    return display_module.from_qimage(view.grab())


def stored_images(debug) -> dict:
    """image_id -> uint8 (H, W, 3) of the image PDUs a message_debug stored."""
    images = {}
    for i in range(debug.num_messages()):
        meta, image = pdus.parse_image(debug.get_message(i))
        images[meta[keys.IMAGE_ID]] = image
    return images


def test_display_scale_is_an_integer_nearest_neighbour_fit():
    scale = display_module.display_scale
    assert scale(32, 32, 256) == (8, 1)  # CIFAR: 256 x 256 on screen
    assert scale(512, 768, 256) == (1, 3)  # Kodak: every third pixel, 171 x 256
    assert scale(768, 512, 384) == (1, 2)
    assert scale(60, 92, 256) == (2, 1)  # the longer side decides
    assert scale(256, 100, 256) == (1, 1)
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    big = display_module.scaled(image, 7)  # zoom 2
    assert big.shape == (4, 6, 3) and np.array_equal(big[::2, ::2], image) and np.array_equal(big[1::2, 1::2], image)
    kodak = np.random.default_rng(0).integers(0, 256, (512, 768, 3), dtype=np.uint8)
    shown = display_module.scaled(kodak, 256)
    assert shown.shape == (171, 256, 3) and np.array_equal(shown, kodak[::3, ::3])
    with pytest.raises(ValueError):
        scale(32, 32, 0)


def test_flowgraph_shows_the_decoded_image_beside_its_reference(qapp):
    """image_source -> display reference, and image_source -> encoder -> decoder -> display decoded:
    every sample photo is shown 8x (32x32 at size 256), exactly the decoded pixels, with id, SNR,
    PSNR and SSIM of the pair."""
    top = gr.top_block()
    source = semcom.image_source("samples", model=str(CIFAR_MODEL), policy="resize")
    encoder = semcom.jscc_encoder(str(CIFAR_MODEL))
    decoder = semcom.jscc_decoder(str(CIFAR_MODEL))
    display = semcom.image_display(snr_db=12.5, size=256, title="CIFAR")
    references, decoded = blocks.message_debug(), blocks.message_debug()
    top.msg_connect(source, "image", display, "reference")
    top.msg_connect(source, "image", encoder, "image")
    top.msg_connect(source, "image", references, "store")
    top.msg_connect(encoder, "symbols", decoder, "symbols")
    top.msg_connect(decoder, "image", display, "decoded")
    top.msg_connect(decoder, "image", decoded, "store")
    widget = display.qwidget()
    widget.show()
    assert widget.caption.text() == "waiting for images"
    top.start()
    try:
        assert display.arrivals.wait(source.count, 30.0)
        # the last image's reference may come after it: wait until it is scored
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (display.shown is None or display.shown["psnr_db"] is None
                                               or display.shown["image_id"] != f"{source.count - 1:05d}_rocket"):
            display.wait_shown(display.shows.count + 1, 0.1)
    finally:
        top.stop()
        top.wait()
    shown = display.shown
    image_id = shown["image_id"]
    sent, received = stored_images(references)[image_id], stored_images(decoded)[image_id]
    assert received.shape == (32, 32, 3)

    on_screen = grabbed(widget.decoded_view)
    assert on_screen.shape == (256, 256, 3)
    assert np.array_equal(on_screen, received.repeat(8, axis=0).repeat(8, axis=1))
    assert np.array_equal(grabbed(widget.reference_view), sent.repeat(8, axis=0).repeat(8, axis=1))
    assert not np.array_equal(sent, received)  # the decoder's, not the source's, image is on the left

    text = widget.caption.text()
    assert text == shown["text"]
    psnr = metrics.psnr_db(sent, received)
    assert re.fullmatch(rf"image {image_id}\nSNR 12\.5 dB   PSNR {psnr:.2f} dB   SSIM {metrics.ssim(sent, received):.3f}",
                        text), text
    assert shown["psnr_db"] == psnr and np.isfinite(psnr)
    # the whole widget shows both images and the caption
    whole = grabbed(widget)
    assert whole.shape[0] >= 256 + widget.caption.height() and whole.shape[1] >= 2 * 256


def test_snr_setter_and_metadata(qapp):
    """set_snr_db changes the SNR shown for the images that follow; metadata snr_db wins."""
    top = gr.top_block()
    source = semcom.image_source("samples", size=(24, 40), policy="resize", loop=True, rate=20)
    display = semcom.image_display(snr_db=float("nan"), size=120)
    top.msg_connect(source, "image", display, "reference")
    top.msg_connect(source, "image", display, "decoded")
    top.start()
    try:
        assert display.wait_shown(2, 10.0)
        assert "SNR ? dB" in display.shown["text"]
        display.set_snr_db(3.5)
        assert display.snr_db == 3.5
        deadline = time.monotonic() + 10
        # the two ports race: an image shown before its reference comes again, scored, once that comes
        while time.monotonic() < deadline and (display.shown["snr_db"] != 3.5 or display.shown["psnr_db"] is None):
            display.wait_shown(display.shows.count + 1, 0.2)
    finally:
        top.stop()
        top.wait()
    assert "SNR 3.5 dB" in display.shown["text"]
    # a source and its own copy: PSNR inf, SSIM 1; 24x40 fitted to 120 is a 3x zoom
    assert re.search(r"PSNR inf dB   SSIM 1\.000$", display.shown["text"]), display.shown["text"]
    assert grabbed(display.qwidget().decoded_view).shape == (72, 120, 3)

    image = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    with_snr = pdus.image_pdu({keys.IMAGE_ID: "m", keys.SNR_DB: 7.25}, image)
    run_block(display, "decoded", [with_snr], done=lambda: display.wait_shown(display.shows.count + 1, 0.05)
              and display.shown["image_id"] == "m", timeout=10)
    assert display.shown["snr_db"] == 7.25 and "\nSNR 7.2 dB   PSNR" in display.shown["text"]
    # the receiver's estimate (stream_to_symbols) beside the SNR set
    estimated = pdus.image_pdu({keys.IMAGE_ID: "e", keys.ESTIMATED_SNR_DB: 2.96}, image)
    run_block(display, "decoded", [estimated], done=lambda: display.wait_shown(display.shows.count + 1, 0.05)
              and display.shown["image_id"] == "e", timeout=10)
    assert display.shown["estimated_snr_db"] == 2.96
    assert "\nSNR 3.5 dB (est. 3.0)   PSNR - dB" in display.shown["text"], display.shown["text"]


def test_large_image_fits_and_is_scored_when_its_reference_comes_late(qapp):
    rng = np.random.default_rng(2)
    reference = rng.integers(0, 256, (512, 768, 3), dtype=np.uint8)
    decoded = np.clip(reference.astype(int) + rng.integers(-20, 21, reference.shape), 0, 255).astype(np.uint8)
    display = semcom.image_display(size=256)
    run_block(display, "decoded", [pdus.image_pdu({keys.IMAGE_ID: "kodim"}, decoded)],
              done=lambda: display.wait_shown(1, 0.05), timeout=20)
    assert display.shown["psnr_db"] is None and "PSNR - dB" in display.shown["text"]
    run_block(display, "reference", [pdus.image_pdu({keys.IMAGE_ID: "kodim"}, reference)],
              done=lambda: display.wait_shown(2, 0.05), timeout=20)
    assert display.shows.count == 2
    widget = display.qwidget()
    assert np.array_equal(grabbed(widget.decoded_view), decoded[::3, ::3])
    assert np.array_equal(grabbed(widget.reference_view), reference[::3, ::3])
    assert f"PSNR {metrics.psnr_db(reference, decoded):.2f} dB" in widget.caption.text()


def test_bad_pdus_are_logged_and_dropped(qapp, capfd):
    display = semcom.image_display(size=64)
    good = np.full((8, 8, 3), 40, dtype=np.uint8)
    reference = pdus.image_pdu({keys.IMAGE_ID: "a"}, np.zeros((4, 4, 3), np.uint8))
    run_block(display, "reference", [reference], done=lambda: display.reference_arrivals.count == 1, timeout=10)
    messages = [pmt.intern("not a pdu"),
                pdus.image_pdu({}, good),  # no image_id
                pdus.image_pdu({keys.IMAGE_ID: "a"}, good),  # its reference is 4x4
                pdus.make({keys.IMAGE_ID: "b"}, np.zeros(5, np.float32)),
                pdus.image_pdu({keys.IMAGE_ID: "ok"}, good)]
    run_block(display, "decoded", messages, done=lambda: display.wait_shown(1, 0.05), timeout=10)
    display.wait_shown(2, 0.3)  # nothing else may show
    text = logged(capfd)
    assert text.count("dropped message") == 4, text
    assert "no image_id" in text and "for image a" in text and "for image b" in text
    assert display.shows.count == 1 and display.shown["image_id"] == "ok"
    assert "PSNR - dB   SSIM -" in display.shown["text"]


def test_block_yaml_is_a_qt_gui_widget_with_a_tested_callback():
    data = yaml.safe_load((ROOT / "grc" / "semcom_image_display.block.yml").read_text())
    assert data["id"] == "semcom_image_display" and data["category"] == "[Semantic Communications]/GUI"
    assert [p["id"] for p in data["parameters"]] == ["title", "snr_db", "size", "gui_hint"]
    assert "semcom.image_display(snr_db=${snr_db}, size=${size}, title=${title})" in data["templates"]["make"]
    assert "${gui_hint() % win}" in data["templates"]["make"]
    assert data["templates"]["callbacks"] == ["set_snr_db(${snr_db})"]
    setters = {m for m in vars(semcom.image_display) if m.startswith("set_")}
    assert setters == {"set_snr_db"}
    assert {p["id"] for p in data["inputs"]} == {"decoded", "reference"}
