#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""image_source emits every image once (or looping), fitted, converted, with ids."""
import functools
import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr
from PIL import Image

from conftest import logged
from gnuradio.semcom import image_source, images, keys, pdus


def _collect(source, expected, timeout=20.0, settle=0.0):
    top = gr.top_block()
    debug = blocks.message_debug()
    top.msg_connect((source, "image"), (debug, "store"))
    top.start()
    deadline = time.monotonic() + timeout
    while debug.num_messages() < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(settle)
    top.stop()
    top.wait()
    return [pdus.parse_image(debug.get_message(i)) for i in range(debug.num_messages())]


def test_emits_each_file_once_with_unique_ids_at_full_size(photo_dir):
    source = image_source(str(photo_dir), policy="full")
    out = _collect(source, 3, settle=0.2)
    names = sorted(p.stem for p in photo_dir.iterdir())
    assert [m[keys.IMAGE_ID] for m, _ in out] == [f"{i:05d}_{n}" for i, n in enumerate(names)]
    for (meta, image), name in zip(out, names):
        expected, _ = images.load_image(photo_dir / f"{name}.png")
        np.testing.assert_array_equal(image, expected)
        assert meta[keys.SOURCE].endswith(f"{name}.png")


@pytest.mark.parametrize("policy", ["resize", "crop", "pad"])
def test_fits_to_a_fixed_size_model(photo_dir, cifar_model, policy):
    out = _collect(image_source(str(photo_dir), model=str(cifar_model), policy=policy), 3)
    assert [image.shape for _, image in out] == [(32, 32, 3)] * 3


def test_explicit_size_and_glob_and_list(photo_dir):
    files = sorted(photo_dir.glob("*.png"))
    source = image_source(f"{files[0]},{photo_dir}/c*.png", policy="crop", size=(20, 30))
    out = _collect(source, 3, settle=0.2)  # astronaut, then chelsea and coffee from the glob
    assert len(out) == 3 and all(image.shape == (20, 30, 3) for _, image in out)


def test_loop_and_rate(photo_dir):
    source = image_source(str(photo_dir), policy="full", loop=True, rate=50.0)
    started = time.monotonic()
    out = _collect(source, 7)
    assert len(out) >= 7 and time.monotonic() - started >= 6 / 50.0
    ids = [m[keys.IMAGE_ID] for m, _ in out]
    assert len(set(ids)) == len(ids)


def test_converts_grayscale_rgba_and_16_bit_and_skips_corrupt_files(tmp_path, capfd):
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    Image.fromarray(gray, "L").save(tmp_path / "a_gray.png")
    rgba = np.zeros((12, 10, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "b_rgba.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "c_16bit.png")
    (tmp_path / "d_corrupt.png").write_bytes(b"\x89PNG not really")
    source = image_source(str(tmp_path), policy="full")
    assert source.count == 3  # the corrupt file is left out at construction: nobody waits for it
    out = _collect(source, 3, settle=0.3)
    assert len(out) == 3 and all(image.shape == (12, 10, 3) for _, image in out)
    np.testing.assert_array_equal(out[0][1][..., 1], gray)
    assert out[1][1][0, 0].tolist() == [100, 0, 0]  # 200 * 128/255, composited on black
    np.testing.assert_array_equal(out[2][1][..., 0], gray)
    log = logged(capfd)
    assert "left out" in log and "d_corrupt.png" in log and "alpha composited" in log


def test_impossible_parameters_raise(tmp_path, cifar_model, kodak_model):
    with pytest.raises(FileNotFoundError, match="no images found"):
        image_source(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="choose policy resize, crop or pad"):
        image_source("samples", model=str(cifar_model), policy="full")
    with pytest.raises(ValueError, match="rate must be >= 0"):
        image_source("samples", rate=-1)
    with pytest.raises(ValueError, match="policy 'stretch'"):
        image_source("samples", policy="stretch", size=(8, 8))
    with pytest.raises(ValueError, match="size must be"):
        image_source("samples", policy="crop", size=(0, 8))
    assert image_source("samples", model=str(kodak_model)).count == len(images.sample_paths())


def test_labels_from_the_file_name_prefix_or_the_folder(tmp_path):
    folder = tmp_path / "ship"
    folder.mkdir()
    picture = np.full((8, 8, 3), 50, np.uint8)
    for name in ("cat_0001.png", "dog_0002.png"):
        Image.fromarray(picture).save(folder / name)
    by_prefix = _collect(image_source(str(folder), policy="full", labels="file_prefix"), 2, settle=0.2)
    assert [meta[keys.LABEL] for meta, _ in by_prefix] == ["cat", "dog"]
    by_folder = _collect(image_source(str(folder), policy="full", labels="folder"), 2, settle=0.2)
    assert [meta[keys.LABEL] for meta, _ in by_folder] == ["ship", "ship"]
    unlabelled = _collect(image_source(str(folder), policy="full"), 2, settle=0.2)
    assert all(keys.LABEL not in meta for meta, _ in unlabelled)
    with pytest.raises(ValueError, match="labels 'name' is not one of"):
        image_source(str(folder), policy="full", labels="name")


def _bomb(path, side=15000):
    """A PNG whose header claims side x side RGB pixels (2.5 times Pillow's decompression-bomb
    limit at 15000) and whose data is a few rows of zeros: a few KB on disk."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = zlib.compress(b"\0" * (1 + 3 * side) * 4, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def _truncated(path):
    """A PNG with a good header whose pixel data stops half way: Pillow opens it, then fails to decode it."""
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def test_a_decompression_bomb_is_a_logged_skip_not_a_dead_source(tmp_path, capfd):
    with pytest.raises(ValueError, match="cannot read image .*bomb.png: DecompressionBombError"):
        images.load_image(_bomb(tmp_path / "bomb.png"))
    good = np.full((8, 8, 3), 90, np.uint8)
    for name in ("a.png", "c.png"):
        Image.fromarray(good).save(tmp_path / name)
    source = image_source(str(tmp_path), policy="full")
    assert source.count == 2 and "left out" in logged(capfd)  # found by its header, before anything runs
    # a file that turns into a bomb after construction: skipped when it is read, and the source goes on
    _bomb(tmp_path / "c.png")
    out = _collect(source, 1, settle=0.3)
    assert [meta[keys.IMAGE_ID] for meta, _ in out] == ["00000_a"]
    log = logged(capfd)
    assert "skipped" in log and "c.png" in log and "DecompressionBombError" in log
    assert source.count == 1 and source.skipped == 1


def test_a_file_that_fails_to_decode_leaves_the_count_at_once(tmp_path, capfd):
    good = np.full((8, 8, 3), 90, np.uint8)
    Image.fromarray(good).save(tmp_path / "a.png")
    _truncated(tmp_path / "b.png")
    Image.fromarray(good).save(tmp_path / "c.png")
    source = image_source(str(tmp_path), policy="full", loop=True, rate=100.0)
    assert source.count == 3  # its header is fine: found out only when decoded
    out = _collect(source, 4)
    assert [meta[keys.SOURCE].rsplit("/", 1)[1] for meta, _ in out[:4]] == ["a.png", "c.png", "a.png", "c.png"]
    assert source.count == 2 and source.skipped == 1  # left out of the later passes too
    log = logged(capfd)
    assert log.count("skipped") == 1 and "b.png: OSError: image file is truncated (2 images left in a pass)" in log


def test_the_harness_does_not_wait_for_an_unreadable_image(cifar_model, photo_dir, capfd):
    """The evaluation CLI waited its 1,800 s for a file the source had skipped, and wrote nothing."""
    from semcom_tools import evaluate
    _truncated(photo_dir / "broken.png")
    _bomb(photo_dir / "bomb.png")
    started = time.monotonic()
    rows = evaluate.run([str(cifar_model)], [str(photo_dir)], [10.0], timeout=30.0)
    assert sorted(r["image"].split("_", 1)[1] for r in rows) == ["astronaut", "chelsea", "coffee"]
    assert time.monotonic() - started < 20
    log = logged(capfd)
    assert "broken.png" in log and "bomb.png" in log


def _ack(source, image_id):
    source.to_basic_block()._post(pmt.intern("done"), pmt.intern(image_id))


def test_a_window_bounds_the_images_in_flight_until_acknowledged(photo_dir, capfd):
    source = image_source(str(photo_dir), policy="full", loop=True, window=3, window_timeout=1.0)
    top = gr.top_block()
    debug = blocks.message_debug()
    top.msg_connect((source, "image"), (debug, "store"))
    top.start()
    try:
        def settled(n, wait=0.3):
            """Messages out once n are, or after 3 s, and ``wait`` s more (under window_timeout)."""
            deadline = time.monotonic() + 3
            while debug.num_messages() < n and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(wait)
            return debug.num_messages()
        assert settled(3) == 3 and source.in_flight == 3
        ids = [pdus.parse_image(debug.get_message(i))[0][keys.IMAGE_ID] for i in range(3)]
        _ack(source, ids[1])  # acknowledges ids[0] too: messages keep their order
        _ack(source, "not ours")  # ignored
        _ack(source, ids[0])  # already counted
        assert settled(5) == 5 and source.in_flight == 3
        # nothing acknowledged for window_timeout: the images in flight are presumed lost
        assert settled(8, 0.0) == 8
        assert "no image acknowledged on port done for 1 s with 3 in flight: presumed lost" in logged(capfd)
    finally:
        top.stop()
        top.wait()
    with pytest.raises(ValueError, match="window must be a whole number"):
        image_source(str(photo_dir), policy="full", window=-1)
    unpaced = image_source(str(photo_dir), policy="full")
    assert "done" not in pmt.to_python(unpaced.message_ports_in())  # as the GRC block declares
    unpaced.pace(2, 0.5)
    assert "done" in pmt.to_python(unpaced.message_ports_in()) and unpaced.window_timeout == 0.5


class _SlowStage(gr.basic_block):
    """Takes 10 ms per image, records its input queue's length, and acknowledges each image."""

    def __init__(self):
        gr.basic_block.__init__(self, name="slow_stage", in_sig=None, out_sig=None)
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("done"))
        self.set_msg_handler(pmt.intern("in"), self.handle)
        self.queued, self.handled = [], 0

    def handle(self, msg):
        self.queued.append(self.to_basic_block().nmsgs(pmt.intern("in")))
        time.sleep(0.01)
        self.handled += 1
        self.message_port_pub(pmt.intern("done"), pmt.car(msg))


@pytest.mark.parametrize("window", [0, 4])
def test_a_paced_source_keeps_the_next_queue_within_its_window(tmp_path, window):
    for i in range(40):
        Image.fromarray(np.full((4, 4, 3), i, np.uint8)).save(tmp_path / f"{i:02d}.png")
    source = image_source(str(tmp_path), policy="full", window=window)
    stage = _SlowStage()
    top = gr.top_block()
    top.msg_connect((source, "image"), (stage, "in"))
    if window:  # the source has the port only with a window
        top.msg_connect((stage, "done"), (source, "done"))
    top.start()
    deadline = time.monotonic() + 10
    while stage.handled < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    top.stop()
    top.wait()
    assert stage.handled == 40
    if window:
        assert max(stage.queued) < window
    else:  # unpaced, the whole set waits in the queue (what the issue saw as 600 PDUs)
        assert max(stage.queued) > 20


def test_the_harness_paces_its_source_and_a_run_of_lost_images_does_not_stop_it(cifar_model, tmp_path, monkeypatch,
                                                                                capfd):
    """run_images acknowledges each scored image to the source (window 2 here); six images in a
    row lost in the link hold the window until idle / 2 s pass, then the source sends on, and
    the lost ones are scored as such."""
    from gnuradio.semcom import jscc_decoder
    from semcom_tools import flowgraphs
    for i in range(10):
        Image.fromarray(np.full((32, 32, 3), 20 * i, np.uint8)).save(tmp_path / f"{i:02d}.png")
    lost = {f"{i:05d}_{i:02d}" for i in range(2, 8)}
    decode = jscc_decoder.handle_symbols

    @functools.wraps(decode)  # GNU Radio's gateway finds a handler by its name
    def lossy(self, msg):  # a link that loses images 2 to 7
        if pmt.symbol_to_string(pmt.dict_ref(pmt.car(msg), pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)) not in lost:
            decode(self, msg)
    monkeypatch.setattr(jscc_decoder, "handle_symbols", lossy)
    graph = flowgraphs.analog_point_to_point(cifar_model, str(tmp_path), snr_db=10.0)
    started = time.monotonic()
    rows = graph.run_images(timeout=30, idle=2.0, window=2)
    assert time.monotonic() - started < 15
    assert sorted(r["image"] for r in rows) == [f"{i:05d}_{i:02d}" for i in range(10)]
    assert {r["image"] for r in rows if r["decode_failed"] == 1} == lost
    assert "presumed lost, sending on (00002_02, 00003_03)" in logged(capfd)
