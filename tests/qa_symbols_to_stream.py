#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""symbols_to_stream in a flowgraph: each PDU out as its frame, exactly, with one tag
carrying the geometry and the PDU's metadata; bad PDUs logged and dropped."""
import time

import numpy as np
import pmt
import pytest
from conftest import logged
from gnuradio import blocks, gr

from gnuradio.semcom import keys, pdus, stream_frames, symbols_to_stream


def send(block, messages, expected_samples: int, timeout: float = 10.0):
    """Post ``messages`` to ``block`` in a running flowgraph; (samples, tags) once
    ``expected_samples`` came out (or ``timeout``), after a short wait for more."""
    top, sink = gr.top_block(), blocks.vector_sink_c()
    top.connect(block, sink)
    top.start()
    try:
        for msg in messages:
            block.to_basic_block()._post(pmt.intern("symbols"), msg)
        deadline = time.monotonic() + timeout
        while len(sink.data()) < expected_samples and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
    finally:
        top.stop()
        top.wait()
    return np.array(sink.data(), np.complex64), sink.tags()


def test_every_pdu_comes_out_as_its_frame_with_its_metadata():
    rng = np.random.default_rng(3)
    payloads = [(rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64) for n in (512, 1, 3001)]
    metas = [{keys.IMAGE_ID: f"img{i}", keys.IMAGE_SHAPE: np.array([32, 32, 3], np.int32), keys.N_SYMBOLS: p.size}
             for i, p in enumerate(payloads)]
    frames = [stream_frames.frame(p, 100) for p in payloads]
    samples, tags = send(symbols_to_stream(pilot_spacing=100), [pdus.make(m, p) for m, p in zip(metas, payloads)],
                         sum(f.size for f in frames))
    np.testing.assert_array_equal(samples, np.concatenate(frames))  # nothing more, nothing less
    assert [t.offset for t in tags] == list(np.cumsum([0] + [f.size for f in frames[:-1]]))
    for tag, meta, payload in zip(tags, metas, payloads):
        assert pmt.symbol_to_string(tag.key) == stream_frames.BURST_TAG
        layout, tag_meta = stream_frames.Layout.from_tag(tag.value)
        assert layout == stream_frames.Layout(payload.size, 100)
        got = pmt.to_python(tag_meta)
        assert got[keys.IMAGE_ID] == meta[keys.IMAGE_ID] and list(got[keys.IMAGE_SHAPE]) == [32, 32, 3]


def test_bad_pdus_are_logged_and_dropped_and_the_block_keeps_running(capfd):
    good = np.ones(10, np.complex64)
    bad = [pmt.intern("not a pdu"),
           pdus.make({keys.IMAGE_ID: "bytes"}, np.ones(4, np.uint8)),
           pdus.make({keys.IMAGE_ID: "nan"}, np.array([np.nan, 1], np.complex64)),
           pdus.make({keys.IMAGE_ID: "empty"}, np.zeros(0, np.complex64))]
    samples, tags = send(symbols_to_stream(), bad + [pdus.make({keys.IMAGE_ID: "good"}, good)],
                         stream_frames.Layout(10).padded_length)
    np.testing.assert_array_equal(samples, stream_frames.frame(good))
    assert len(tags) == 1
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image bytes: symbol PDU payload must be a c32vector" in log
    assert "image nan: symbol PDU holds 1 NaN or Inf symbols of 2" in log
    assert "image empty: symbol PDU is empty" in log


@pytest.mark.parametrize("spacing", [-1, 2.5, "x"])
def test_constructor_refuses_impossible_pilot_spacing(spacing):
    with pytest.raises((ValueError, TypeError), match="pilot_spacing must be a whole number >= 0"):
        symbols_to_stream(spacing)
