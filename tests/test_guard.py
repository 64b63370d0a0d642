#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""pdus.guarded: no message can disable a block. Each reproduction of issue 15's first
finding goes to a block in a running flowgraph, then a valid PDU, which must still come out.
Only bad input is a dropped message (ValueError); anything else is logged as a bug (issue 18)."""

import numpy as np
import pmt
import pytest
from conftest import CIFAR_MODEL, logged, run_block

from gnuradio import semcom
from gnuradio.semcom import jscc_decoder, keys, pdus

SHAPE = np.array([32, 32, 3], np.int32)


def nested_id(depth: int):
    """An image id nested ``depth`` lists deep (built in pmt: Python's converter recurses)."""
    value = pmt.intern("x")
    for _ in range(depth):
        value = pmt.list1(value)
    return value


def with_id(meta: dict, image_id) -> pmt.pmt_base:
    msg = pdus.make(meta, np.zeros(512, np.complex64))
    return pmt.cons(pmt.dict_add(pmt.car(msg), pmt.intern(keys.IMAGE_ID), image_id), pmt.cdr(msg))


@pytest.fixture(scope="module")
def decoder():
    return jscc_decoder(str(CIFAR_MODEL))


def test_no_message_disables_the_decoder(decoder, capfd):
    bad = [pdus.make({keys.IMAGE_ID: "inf hop", keys.HOP: float("inf"), keys.IMAGE_SHAPE: SHAPE},
                     np.zeros(512, np.complex64)),
           pdus.make({keys.IMAGE_ID: "no shape", keys.IMAGE_SHAPE: np.zeros(0, np.int32)},
                     np.zeros(512, np.complex64)),
           with_id({keys.IMAGE_SHAPE: np.zeros(0, np.int32)}, nested_id(1000))]
    good = pdus.make({keys.IMAGE_ID: "good", keys.IMAGE_SHAPE: SHAPE}, np.zeros(512, np.complex64))
    out = run_block(decoder, "symbols", bad + [good], "image", expected=1, settle=0.2)
    assert [pdus.parse_image(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "dropped message for image inf hop: metadata 'hop' must be a whole number from 0 to 65536, got inf" in log
    assert "dropped message for image no shape:" in log
    assert log.count("dropped message") == 3


class Block:
    """What the guard needs of a block: a logger (printing here)."""
    logger = type("Logger", (), {"error": staticmethod(print)})()


def test_the_guard_logs_what_it_cannot_describe(capfd):
    class Broken(ValueError):
        def __str__(self):
            raise RuntimeError("no text")

    @pdus.guarded
    def handle(block, msg):
        raise Broken()

    handle(Block(), pdus.make({keys.IMAGE_ID: "x"}, np.zeros(1, np.complex64)))
    assert "dropped message for image x: Broken (not described: RuntimeError)" in logged(capfd)


def test_a_bug_is_logged_as_an_internal_error_with_its_traceback_and_the_block_goes_on(capfd):
    """Issue 18: only bad input (ValueError) is a dropped message; any other exception is a
    bug in gr-semcom, shown as one with where it happened, and the next message is handled."""
    handled = []

    @pdus.guarded
    def handle(block, msg):
        meta, _ = pdus.parse_symbols(msg)
        handled.append(meta[keys.IMAGE_ID])
        return {}["missing"]  # a programming error, whatever the message

    for image_id in ("first", "second"):
        handle(Block(), pdus.make({keys.IMAGE_ID: image_id}, np.zeros(1, np.complex64)))
    log = logged(capfd)
    assert handled == ["first", "second"]
    assert "internal error (a bug in gr-semcom, not bad input) while handling a message for image first; " \
           "the message is dropped:\nTraceback (most recent call last):" in log
    assert "return {}[\"missing\"]" in log and "KeyError: 'missing'" in log
    assert "dropped message" not in log


# values no metadata key takes sensibly: one of each kind pmt converts to
ABSURD = [pmt.from_double(float("inf")), pmt.from_double(float("nan")), pmt.from_long(-1), pmt.from_long(2 ** 62),
          pmt.from_double(2.5), pmt.intern("x"), pmt.from_complex(1 + 1j), pmt.PMT_T, pmt.PMT_NIL,
          pmt.init_s32vector(0, []), pmt.init_f32vector(3, [float("nan")] * 3), pmt.init_c32vector(2, [1j, 1]),
          pmt.make_dict(), pmt.cons(pmt.intern("a"), pmt.intern("b")), pmt.list2(pmt.from_long(1), pmt.intern("a"))]
KEYS = sorted(v for k, v in vars(keys).items() if k.isupper() and isinstance(v, str))


def unguarded(block, port: str):
    """``block``'s handler of input ``port`` without the guard: it raises what the guard catches."""
    return getattr(type(block), f"handle_{port}").__wrapped__.__get__(block)


def output(block, port: str, msg):
    """The PDU ``block`` publishes for ``msg`` on input ``port`` (no flowgraph needed)."""
    sent = []
    block.publish = lambda _, pdu: sent.append(pdu)
    unguarded(block, port)(msg)
    return sent[0]


@pytest.fixture(scope="module")
def inputs(bitsemcom_cifar_model, df_cifar_model, qapp):
    """(name, block factory, input port, valid message, partner) for every message input of every
    block; each valid message is made by the block upstream of it. ``partner``: (port, message) a
    sink needs first so that the message is matched and scored (a fresh block for each message)."""
    y, x = np.mgrid[0:32, 0:32]
    pixels = np.stack([x * 8, y * 8, (x + y) * 4], -1).astype(np.uint8)
    image = pdus.image_pdu({keys.IMAGE_ID: "valid", keys.LABEL: "cat", keys.CLASS_LABEL: "cat"}, pixels)
    cifar, bitsemcom, df = str(CIFAR_MODEL), str(bitsemcom_cifar_model), str(df_cifar_model)
    symbols = output(semcom.jscc_encoder(cifar), "image", image)
    probs = output(semcom.bitsemcom_encoder(bitsemcom), "image", image)
    bits = output(semcom.bit_mapper(deterministic=True), "probs", probs)
    mapped = output(semcom.qam_mapper("qpsk"), "bits", bits)
    qpsk = pmt.cons(pmt.dict_add(pmt.car(mapped), pmt.intern(keys.NOISE_VAR), pmt.from_double(0.1)), pmt.cdr(mapped))
    coded = output(semcom.ldpc_encoder(), "bits", bits)
    soft = semcom.soft_demapper("qpsk", noise_var=0.1)
    faded = output(semcom.block_fading(seed=3), "symbols", qpsk)
    qf_bits = output(semcom.relay_qf(cifar), "symbols", symbols)
    stateless = [
        ("jscc_encoder", lambda: semcom.jscc_encoder(cifar), "image", image),
        ("jscc_decoder", lambda: semcom.jscc_decoder(cifar), "symbols", symbols),
        ("bitsemcom_encoder", lambda: semcom.bitsemcom_encoder(bitsemcom), "image", image),
        ("bit_mapper", lambda: semcom.bit_mapper(deterministic=True), "probs", probs),
        ("qam_mapper", lambda: semcom.qam_mapper("qpsk"), "bits", bits),
        ("block_fading", lambda: semcom.block_fading(seed=3), "symbols", qpsk),
        ("equalizer", lambda: semcom.equalizer("mmse"), "symbols", faded),
        ("soft_demapper", lambda: semcom.soft_demapper("qpsk"), "symbols", faded),
        ("bitsemcom_decoder", lambda: semcom.bitsemcom_decoder(bitsemcom), "soft_bits",
         output(soft, "symbols", qpsk)),
        ("ldpc_encoder", lambda: semcom.ldpc_encoder(), "bits", bits),
        ("ldpc_decoder", lambda: semcom.ldpc_decoder(), "soft_bits",
         output(soft, "symbols", output(semcom.qam_mapper("qpsk"), "bits", coded))),
        ("codec_encoder", lambda: semcom.codec_encoder("jpeg", max_bits=8192), "image", image),
        ("codec_decoder", lambda: semcom.codec_decoder("jpeg"), "bits",
         output(semcom.codec_encoder("jpeg", max_bits=8192), "image", image)),
        ("relay_qf", lambda: semcom.relay_qf(cifar), "symbols", symbols),
        ("qf_dequantizer", lambda: semcom.qf_dequantizer(cifar), "bits", qf_bits),
        ("relay_df", lambda: semcom.relay_df(df, 1), "symbols", output(semcom.jscc_encoder(df), "image", image)),
        ("burst_tx", lambda: semcom.burst_tx().framer, "symbols", qpsk),
        ("symbols_to_stream", lambda: semcom.symbols_to_stream(), "symbols", symbols),
        ("image_sink", lambda: semcom.image_sink(), "image", image),
    ]
    sinks = [(f"{name} {port}", make, port, image, ("decoded" if port == "reference" else "reference", image))
             for name, make in (("metrics_sink", lambda: semcom.metrics_sink(accuracy=True)),
                                ("image_display", lambda: semcom.image_display()))
             for port in ("reference", "decoded")]
    return [(*case, None) for case in stateless] + sinks


def test_malformed_metadata_is_bad_input_never_a_bug(inputs):
    """Issue 18: each metadata key of ``keys`` set to each absurd value, on every message input
    of every block: the handler raises a ValueError naming the problem or takes the PDU; never
    another exception, which the guard would log as a bug in gr-semcom."""
    def ready(make, partner):
        block = make()
        if partner is not None:
            unguarded(block, partner[0])(partner[1])
        return block

    bugs = set()
    for name, make, port, valid, partner in inputs:
        block = ready(make, partner)
        unguarded(block, port)(valid)  # taken as it is: each case reaches past the parsing
        for key in KEYS:
            for value in ABSURD:
                if partner is not None:  # a sink holds what it took: a fresh one for each message
                    block = ready(make, partner)
                msg = pmt.cons(pmt.dict_add(pmt.car(valid), pmt.intern(key), value), pmt.cdr(valid))
                try:
                    unguarded(block, port)(msg)
                except ValueError:
                    pass
                except Exception as error:  # noqa: BLE001 - what the test looks for
                    bugs.add(f"{name}: {key} = {pmt.write_string(value)}: {type(error).__name__}: {error}")
    assert not bugs, "\n".join(sorted(bugs))
