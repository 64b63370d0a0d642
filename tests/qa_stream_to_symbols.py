#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""stream_to_symbols in a flowgraph: frames found from their tags through a delay and a
gain, metadata kept and the estimates added; frames it cannot receive are logged with
their image id, never lost silently."""
import importlib

import numpy as np
import pmt
import pytest
from conftest import logged
from gnuradio import blocks, channels, gr

from gnuradio.semcom import keys, pdus, stream_frames, stream_to_symbols


def tagged_stream(payloads, ids, delay=0, gain=1.0, tag_shift=0):
    """(samples, tags): the frames of ``payloads`` one after another, the signal ``delay``
    samples late against its tags (``tag_shift`` moves the tags of frame 0 further),
    times ``gain``."""
    samples, tags, offset = [np.zeros(100, np.complex64)], [], 100
    for index, (payload, image_id) in enumerate(zip(payloads, ids)):
        layout = stream_frames.Layout(payload.size)
        meta = pmt.to_pmt({keys.IMAGE_ID: image_id, keys.N_SYMBOLS: payload.size})
        tag = gr.tag_t()
        tag.offset, tag.key, tag.value = offset + (tag_shift if index == 0 else 0), \
            pmt.intern(stream_frames.BURST_TAG), layout.tag_value(meta)
        tags.append(tag)
        samples.append(stream_frames.frame(payload))
        offset += samples[-1].size
    stream = np.concatenate([np.zeros(delay, np.complex64), *samples]) * gain
    return stream.astype(np.complex64), tags


def receive(stream, tags, block=None):
    block = block or stream_to_symbols()
    top, debug = gr.top_block(), blocks.message_debug()
    top.connect(blocks.vector_source_c(stream.tolist(), False, 1, tags), block)
    top.msg_connect((block, "symbols"), (debug, "store"))
    top.run()  # the source ends: stop() reports what is still pending
    return block, [pdus.parse_symbols(debug.get_message(i)) for i in range(debug.num_messages())]


def payloads(*sizes):
    rng = np.random.default_rng(11)
    return [((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64) for n in sizes]


def test_frames_come_out_equalised_with_their_metadata_and_estimates():
    sent = payloads(512, 7, 5000)
    gain = 0.6 - 0.8j
    block, out = receive(*tagged_stream(sent, ["a", "b", "c"], delay=5, gain=gain)[:2])
    assert [meta[keys.IMAGE_ID] for meta, _ in out] == ["a", "b", "c"]
    assert block.received == 3 and block.dropped == 0
    for (meta, symbols), payload in zip(out, sent):
        np.testing.assert_allclose(symbols, payload, atol=1e-4)
        assert meta[keys.N_SYMBOLS] == payload.size
        assert meta[keys.BURST_CFO] == pytest.approx(0, abs=1e-7)
        assert meta[keys.NOISE_VAR] < 1e-8 and meta[keys.ESTIMATED_SNR_DB] > 80 and keys.SNR_DB not in meta
    assert out[0][0][keys.BURST_START] == 100 + 5


def through_clock_offset(epsilon: float, sent: np.ndarray):
    """(metadata, symbols) of ``sent`` framed, through Channel Model with this epsilon
    and no noise, and received."""
    stream, tags = tagged_stream([sent], ["drift"])
    channel = channels.channel_model(0.0, 0.0, epsilon, [1.0], 1)
    block, top, debug = stream_to_symbols(), gr.top_block(), blocks.message_debug()
    top.connect(blocks.vector_source_c(np.concatenate([stream, np.zeros(2000, np.complex64)]).tolist(), False, 1,
                                       tags), channel, block)
    top.msg_connect((block, "symbols"), (debug, "store"))
    top.run()
    (received,) = [pdus.parse_symbols(debug.get_message(i)) for i in range(debug.num_messages())]
    return received


@pytest.mark.parametrize("epsilon", [1 + 1e-4, 1 - 1e-4, 1 + 1e-5])
def test_a_sample_clock_offset_is_measured_and_corrected(epsilon, monkeypatch):
    """Channel Model's epsilon resamples the stream (0.5 samples of timing drift over this
    burst at 1e-4). The drift is measured (burst_drift = 1 - epsilon, samples per sample)
    and the frame resampled: the symbols' error is at least 8 dB below what it is without
    the correction, what is left being the interpolators' (GNU Radio's 8-tap MMSE in the
    channel, ours in the receiver) on a signal at one sample per symbol."""
    sent = payloads(5000)[0]
    meta, symbols = through_clock_offset(epsilon, sent)
    assert meta[keys.BURST_DRIFT] == pytest.approx(1 - epsilon, rel=0.05)
    corrected = 10 * np.log10(np.mean(np.abs(symbols - sent) ** 2))
    monkeypatch.setattr(stream_frames, "MAX_TIMING_ERROR", np.inf)
    meta, symbols = through_clock_offset(epsilon, sent)
    assert meta[keys.BURST_DRIFT] == 0
    uncorrected = 10 * np.log10(np.mean(np.abs(symbols - sent) ** 2))
    assert corrected < min(-10.0, uncorrected - 8.0), (corrected, uncorrected)


def test_a_frame_away_from_its_tag_is_logged_and_the_next_one_received(capfd):
    block, out = receive(*tagged_stream(payloads(600, 600), ["moved", "fine"], tag_shift=300))
    assert [meta[keys.IMAGE_ID] for meta, _ in out] == ["fine"]
    assert block.dropped == 1
    assert "burst of image moved at sample 400 dropped: no preamble within 64 samples" in logged(capfd)


def test_a_frame_the_stream_ends_in_is_reported_at_stop(capfd):
    stream, tags = tagged_stream(payloads(600, 600), ["whole", "cut"])
    block, out = receive(stream[:-stream_frames.Layout(600).padded_length // 2], tags)
    assert [meta[keys.IMAGE_ID] for meta, _ in out] == ["whole"]
    assert block.dropped == 1
    log = logged(capfd)
    assert "burst of image cut at sample" in log and "lost: the stream ended" in log


def test_a_stream_without_tags_is_reported(capfd, monkeypatch):
    # the package's name stream_to_symbols is the block; the module holds the threshold
    monkeypatch.setattr(importlib.import_module("gnuradio.semcom.stream_to_symbols"), "TAGLESS_WARNING", 50000)
    stream, _ = tagged_stream(payloads(600) * 40, ["x"] * 40)
    block, out = receive(stream, [])
    assert out == []
    log = logged(capfd)
    assert log.count("no semcom_burst tag in 50000 samples: a block between symbols_to_stream and this block "
                     "drops stream tags") == 1


def test_tags_that_are_not_a_frames_are_logged_and_the_next_frame_received(capfd):
    stream, tags = tagged_stream(payloads(600, 600), ["x", "next"])
    tags[0].value = pmt.intern("garbage")
    block, out = receive(stream, tags)
    assert [meta[keys.IMAGE_ID] for meta, _ in out] == ["next"] and block.dropped == 1
    assert "semcom_burst tag value is not a dict" in logged(capfd)
    # a tag claiming more symbols than any frame carries would have the block buffer for ever
    tags[0].value = stream_frames.Layout(600).tag_value(pmt.make_dict())
    tags[0].value = pmt.dict_add(tags[0].value, pmt.intern("n_symbols"), pmt.from_long(1 << 40))
    block, out = receive(stream, tags)
    assert [meta[keys.IMAGE_ID] for meta, _ in out] == ["next"] and block.dropped == 1
    assert "a frame carries 1 to 16777216 payload symbols, got 1099511627776" in logged(capfd)


def test_what_the_block_holds_stays_bounded():
    """Samples no pending frame needs are let go, also those of a chunk joined to receive
    an earlier frame (which kept the whole stream before: 300 MiB per 10,000 images)."""
    sent = payloads(*([600] * 200))
    block, out = receive(*tagged_stream(sent, [f"i{k}" for k in range(200)]))
    assert len(out) == 200 and block.received == 200
    assert block.held <= stream_frames.SEARCH + 8192, block.held
