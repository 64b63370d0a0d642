"""pdus.guarded: no message can disable a block. Each reproduction of issue 15's first
finding goes to a block in a running flowgraph, then a valid PDU, which must still come out."""
import numpy as np
import pmt
import pytest
from conftest import CIFAR_MODEL, logged, run_block

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

