#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Every message input of every block gets seeded, randomised malformed messages (other pmt
types, other vector types, empty, cut, grown and huge payloads, NaN and Inf, absurd values
for every metadata key of ``keys``, deep nesting), then a valid PDU: nothing escapes a
handler (a block that raised would stop handling messages), the valid PDU comes out as it
does from a fresh block, and memory stays bounded.

    FUZZ_MESSAGES=2000 .venv/bin/python -m pytest tests/test_fuzz.py    # a longer run
"""
from __future__ import annotations

import os
import resource
import time

import numpy as np
import pmt
import pytest
from conftest import CIFAR_MODEL, Idle, run_block
from gnuradio import blocks, gr

from gnuradio import semcom
from gnuradio.semcom import keys, pdus

MESSAGES = int(os.environ.get("FUZZ_MESSAGES", 150))  # per input port
SEED = 20261202
KEYS = sorted(v for k, v in vars(keys).items() if k.isupper() and isinstance(v, str))


def image_pdu(image_id: str = "valid"):
    y, x = np.mgrid[0:32, 0:32]
    image = np.stack([x * 8, y * 8, (x + y) * 4], -1).astype(np.uint8)
    return pdus.image_pdu({keys.IMAGE_ID: image_id}, image)


def through(block, port: str, msg, out_port: str):
    """What ``block`` makes of ``msg`` (one PDU)."""
    (out,) = run_block(block, port, [msg], out_port, expected=1)
    return out


def nested(depth: int):
    value = pmt.from_long(1)
    for _ in range(depth):
        value = pmt.list1(value)
    return value


def absurd_value(rng: np.random.Generator):
    """A pmt no key of ``keys`` takes sensibly."""
    choices = [
        lambda: pmt.from_double(float("inf")), lambda: pmt.from_double(float("-inf")),
        lambda: pmt.from_double(float("nan")), lambda: pmt.from_long(-1), lambda: pmt.from_long(0),
        lambda: pmt.from_long(2 ** 62), lambda: pmt.from_double(1e300), lambda: pmt.intern("x" * 10000),
        lambda: pmt.intern(""), lambda: pmt.from_complex(1 + 1j), lambda: pmt.PMT_T, lambda: pmt.PMT_NIL,
        lambda: pmt.init_s32vector(0, []), lambda: pmt.init_s32vector(3, [100000, 100000, 3]),
        lambda: pmt.init_f32vector(3, [float("nan")] * 3), lambda: pmt.init_c32vector(2, [1j, float("inf")]),
        lambda: pmt.init_u8vector(5, [1, 2, 3, 4, 5]), lambda: nested(int(rng.integers(2, 60))),
        lambda: pmt.make_dict(), lambda: pmt.cons(pmt.intern("a"), pmt.intern("b")),
    ]
    return choices[int(rng.integers(len(choices)))]()


def payload_like(data, rng: np.random.Generator):
    """Another payload: other type, empty, cut, grown, huge, or with NaN/Inf."""
    if pmt.is_c32vector(data):
        values = np.asarray(pmt.c32vector_elements(data), np.complex64)
    elif pmt.is_f32vector(data):
        values = np.asarray(pmt.f32vector_elements(data), np.float32)
    else:
        values = np.asarray(pmt.u8vector_elements(data), np.uint8)
    kind = int(rng.integers(7))
    if kind == 0:  # another vector type of the same length
        other = [np.uint8, np.float32, np.complex64][int(rng.integers(3))]
        return pmt.cdr(pdus.make({}, (values if other is np.complex64 else np.real(values)).astype(other)))
    if kind == 1:
        return pmt.cdr(pdus.make({}, values[:0]))
    if kind == 2:
        return pmt.cdr(pdus.make({}, values[:max(values.size // 2, 1) - 1]))
    if kind == 3:
        return pmt.cdr(pdus.make({}, np.concatenate([values, values[:1]])))
    if kind == 4:  # huge: ten times the valid length, at most 2 M items
        return pmt.cdr(pdus.make({}, np.resize(values, min(values.size * 10, 2_000_000))))
    if kind == 5 and values.dtype != np.uint8:
        spoiled = values.copy()
        spoiled[rng.integers(spoiled.size, size=3)] = [np.nan, np.inf, -np.inf]
        return pmt.cdr(pdus.make({}, spoiled))
    return pmt.init_s32vector(values.size, [0] * values.size)


def malformed(valid, rng: np.random.Generator):
    """One malformed message made from the ``valid`` PDU (under another image id)."""
    meta, data = pmt.dict_add(pmt.car(valid), pmt.intern(keys.IMAGE_ID), pmt.intern("fuzz")), pmt.cdr(valid)
    kind = int(rng.integers(5))
    if kind == 0:  # not a PDU at all
        return [pmt.intern("not a pdu"), pmt.from_long(5), pmt.PMT_NIL, pmt.make_dict(), data,
                pmt.cons(pmt.intern("meta"), data), pmt.cons(meta, pmt.intern("data")),
                pmt.cons(pmt.PMT_NIL, pmt.PMT_NIL)][int(rng.integers(8))]
    if kind in (1, 2):  # absurd values for one to three keys
        for _ in range(int(rng.integers(1, 4))):
            meta = pmt.dict_add(meta, pmt.intern(KEYS[int(rng.integers(len(KEYS)))]), absurd_value(rng))
        return pmt.cons(meta, data)
    if kind == 3:  # another payload
        return pmt.cons(meta, payload_like(data, rng))
    meta = pmt.dict_add(meta, pmt.intern(KEYS[int(rng.integers(len(KEYS)))]), absurd_value(rng))
    return pmt.cons(meta, payload_like(data, rng))


# -- the valid input of every block's every message port ----------------------------------
@pytest.fixture(scope="module")
def chain(bitsemcom_model, df_model):
    """Valid messages for every port, each made by the block upstream of it."""
    image = image_pdu()
    symbols = through(semcom.jscc_encoder(str(CIFAR_MODEL)), "image", image, "symbols")
    probs = through(semcom.bitsemcom_encoder(str(bitsemcom_model)), "image", image, "probs")
    bits = through(semcom.bit_mapper(deterministic=True), "probs", probs, "bits")
    qpsk = through(semcom.qam_mapper("qpsk"), "bits", bits, "symbols")
    faded = through(semcom.block_fading(seed=3), "symbols", qpsk, "symbols")
    soft = through(semcom.soft_demapper("qpsk", noise_var=0.1), "symbols", qpsk, "soft_bits")
    coded = through(semcom.ldpc_encoder(), "bits", bits, "bits")
    coded_soft = through(semcom.soft_demapper("qpsk", noise_var=0.1), "symbols",
                         through(semcom.qam_mapper("qpsk"), "bits", coded, "symbols"), "soft_bits")
    codec_bits = through(semcom.codec_encoder("jpeg", max_bits=8192), "image", image, "bits")
    qf_bits = through(semcom.relay_qf(str(CIFAR_MODEL)), "symbols", symbols, "bits")
    df_symbols = through(semcom.jscc_encoder(str(df_model)), "image", image, "symbols")
    return dict(image=image, symbols=symbols, probs=probs, bits=bits, qpsk=qpsk, faded=faded, soft=soft,
                coded=coded, coded_soft=coded_soft, codec_bits=codec_bits, qf_bits=qf_bits, df_symbols=df_symbols)


# (case id, block factory (models), input port, valid message's name, output port or what
# shows that the valid PDU was taken, output exactly repeatable)
CASES = [
    ("jscc_encoder", lambda m: semcom.jscc_encoder(m["cifar"]), "image", "image", "symbols", True),
    ("jscc_decoder", lambda m: semcom.jscc_decoder(m["cifar"]), "symbols", "symbols", "image", True),
    ("bitsemcom_encoder", lambda m: semcom.bitsemcom_encoder(m["bitsemcom"]), "image", "image", "probs", True),
    ("bit_mapper", lambda m: semcom.bit_mapper(deterministic=True), "probs", "probs", "bits", True),
    ("qam_mapper", lambda m: semcom.qam_mapper("qpsk"), "bits", "bits", "symbols", True),
    ("block_fading", lambda m: semcom.block_fading(seed=3), "symbols", "qpsk", "symbols", False),
    ("equalizer", lambda m: semcom.equalizer("zf"), "symbols", "faded", "symbols", True),
    ("soft_demapper", lambda m: semcom.soft_demapper("qpsk", noise_var=0.1), "symbols", "qpsk", "soft_bits", True),
    ("bitsemcom_decoder", lambda m: semcom.bitsemcom_decoder(m["bitsemcom"]), "soft_bits", "soft", "image", True),
    ("ldpc_encoder", lambda m: semcom.ldpc_encoder(), "bits", "bits", "bits", True),
    ("ldpc_decoder", lambda m: semcom.ldpc_decoder(), "soft_bits", "coded_soft", "bits", True),
    ("codec_encoder", lambda m: semcom.codec_encoder("jpeg", max_bits=8192), "image", "image", "bits", True),
    ("codec_decoder", lambda m: semcom.codec_decoder("jpeg"), "bits", "codec_bits", "image", True),
    ("relay_qf", lambda m: semcom.relay_qf(m["cifar"]), "symbols", "symbols", "bits", True),
    ("qf_dequantizer", lambda m: semcom.qf_dequantizer(m["cifar"]), "bits", "qf_bits", "symbols", True),
    ("relay_df", lambda m: semcom.relay_df(m["df"], 1), "symbols", "df_symbols", "symbols", True),
    ("symbols_to_stream", lambda m: semcom.symbols_to_stream(), "symbols", "symbols", "stream", True),
    ("burst_tx", lambda m: semcom.burst_tx(), "symbols", "symbols", "stream", True),
    ("image_sink", lambda m: semcom.image_sink(), "image", "image", "sink", True),
    ("metrics_sink reference", lambda m: semcom.metrics_sink(), "reference", "image", "sink", True),
    ("metrics_sink decoded", lambda m: semcom.metrics_sink(), "decoded", "image", "sink", True),
]


@pytest.fixture(scope="module")
def models(bitsemcom_model, df_model) -> dict:
    return {"cifar": str(CIFAR_MODEL), "bitsemcom": str(bitsemcom_model), "df": str(df_model)}


def payload(msg) -> np.ndarray:
    return np.asarray(pmt.to_python(pmt.cdr(msg)))


def image_id(msg):
    if not (pmt.is_pair(msg) and pmt.is_dict(pmt.car(msg))):
        return None
    value = pmt.dict_ref(pmt.car(msg), pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)
    return pmt.symbol_to_string(value) if pmt.is_symbol(value) else None


def post_all(block, messages, taken, out_port: str | None = None, sink=None, timeout: float = 30.0):
    """Post ``messages`` ((port, message) pairs) to ``block`` in a running flowgraph, its
    message output ``out_port`` into a message debug or its stream output into ``sink``;
    returns ``taken(debug)`` once true (or after ``timeout`` s)."""
    top, debug = gr.top_block(), blocks.message_debug()
    feeders = {port: Idle() for port, _ in messages}  # their port "out" publishes into the block's (hier too)
    for port, feeder in feeders.items():
        top.msg_connect((feeder, "out"), (block, port))
    if out_port is not None:
        top.msg_connect((block, out_port), (debug, "store"))
    if sink is not None:
        top.connect(block, sink)
    top.start()
    try:
        for port, msg in messages:
            feeders[port].message_port_pub(pmt.intern("out"), msg)
        deadline = time.monotonic() + timeout
        while not taken(debug) and time.monotonic() < deadline:
            time.sleep(0.02)
        return taken(debug)
    finally:
        top.stop()
        top.wait()


def output_of_valid(debug):
    """The output message for the PDU with image id "valid", or None."""
    found = [m for m in (debug.get_message(i) for i in range(debug.num_messages())) if image_id(m) == "valid"]
    return found[-1] if found else None


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_messages_never_disable_a_block(case, chain, models):
    name, make, port, valid_name, out, exact = case
    valid = chain[valid_name]
    rng = np.random.default_rng([SEED, sum(map(ord, name))])
    messages = [(port, malformed(valid, rng)) for _ in range(MESSAGES)] + [(port, valid)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    block = make(models)
    if out == "stream":  # at least the valid PDU's samples come out after what the fuzz let through
        alone = blocks.vector_sink_c()
        post_all(make(models), [(port, valid)], lambda _: len(alone.data()) > 0, sink=alone)
        sink = blocks.vector_sink_c()
        assert post_all(block, messages, lambda _: len(sink.data()) >= len(alone.data()), sink=sink), \
            f"{name}: no stream for the valid PDU after {MESSAGES} malformed ones"
    elif out == "sink":
        if name.startswith("metrics_sink"):  # the valid image's pair is scored
            messages.append(("decoded" if port == "reference" else "reference", valid))
            taken = post_all(block, messages, lambda _: any(r["image"] == "valid" for r in block.rows))
        else:
            taken = post_all(block, messages, lambda _: block.last_id == "valid")
        assert taken, f"{name}: the valid PDU was not taken after {MESSAGES} malformed ones"
    else:
        found = {}

        def taken(debug):
            found["output"] = output_of_valid(debug)
            return found["output"] is not None

        assert post_all(block, messages, taken, out_port=out), \
            f"{name}: no output for the valid PDU after {MESSAGES} malformed ones"
        reference = through(make(models), port, valid, out)
        if exact:
            np.testing.assert_array_equal(payload(found["output"]), payload(reference))
        else:
            assert payload(found["output"]).shape == payload(reference).shape
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 400_000, "memory grew by 400 MB or more"
