#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""A relayed link as separate processes: transmitter, relays and receiver, joined by ZMQ.

    semcom-node tx --model deepjscc_cifar10_r6_df2_m5_dhd --images samples \\
        --out tcp://127.0.0.1:5550
    semcom-node relay --model deepjscc_cifar10_r6_df2_m5_dhd --relay 1 \\
        --in tcp://127.0.0.1:5550 --out tcp://127.0.0.1:5551 --snr 0
    semcom-node relay ... --relay 2 --in tcp://127.0.0.1:5551 --out tcp://127.0.0.1:5552
    semcom-node rx --model deepjscc_cifar10_r6_df2_m5_dhd --images samples \\
        --in tcp://127.0.0.1:5552 --snr 0 --csv out/nodes/metrics.csv

Every node is a GNU Radio flowgraph in its own process. Each one sends its PDUs with a
ZMQ PUSH sink bound to ``--out`` (``_push_sink``: the wire of GNU Radio's
``push_msg_sink``, but one that can stop) and takes the previous node's with GNU Radio's
``pull_msg_source`` (connected to ``--in``), so nodes start in any order and a node that
is restarted is reconnected by ZMQ. The channel of a hop (AWGN at ``--snr``,
``flowgraphs.awgn_hop``) sits at the node that receives it, seeded as in the
single-process ``flowgraphs.analog_point_to_point`` (``hop_seed``): the same images
through the processes give the same PSNR as through one flowgraph.

tx: image_source -> jscc_encoder -> ZMQ. relay (decode-and-forward, ``--relay k``):
ZMQ -> hop k - 1 -> relay_df k -> ZMQ; with ``--qf N_Q:b`` a quantize-and-forward
relay instead: ZMQ -> hop 0 -> relay_qf -> ZMQ, the ZMQ link then being the noiseless
bit pipeline. rx: ZMQ -> the last hop -> jscc_decoder (with ``--qf``: qf_dequantizer ->
jscc_decoder, no channel) -> image_sink, metrics_sink, scored against its own copy
of ``--images``.

tx and relays run until they are stopped (Ctrl-C, SIGTERM: they exit within a few seconds,
even with nobody downstream, and log what they took in but did not pass on). rx stops when
every image of ``--images`` has been scored (status 0); else it exits with status 1 and the
ids that never arrived: once the last image has arrived (the missing ones were lost
upstream), after ``--timeout`` seconds, ``--idle-timeout`` seconds after the latest
arrival when no other comes, or on Ctrl-C/SIGTERM.

Delivery is at most once. A node holds what it has taken in and not yet passed on in
memory; when it dies, that is lost and nothing is sent again. Images travel one route in
the order sent, so the receiver reports a gap as soon as a later image arrives, with the
ids. ``--received FILE`` keeps the ids a receiver got: one started again with the same
file does not wait for what its predecessor received (and keeps that one's CSV aside).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import pathlib
import signal
import sys
import threading
import time

import pmt
import zmq
from gnuradio import gr, zeromq

from gnuradio.semcom import bundle, keys, quantization
from gnuradio.semcom.image_sink import image_sink
from gnuradio.semcom.image_source import image_source
from gnuradio.semcom.jscc_decoder import jscc_decoder
from gnuradio.semcom.jscc_encoder import jscc_encoder
from gnuradio.semcom.metrics_sink import metrics_sink
from gnuradio.semcom.qf_dequantizer import qf_dequantizer
from gnuradio.semcom.relay_df import relay_df
from gnuradio.semcom.relay_qf import relay_qf

from . import datasets, flowgraphs

ROLES = ("tx", "relay", "rx")
POLL_MS = 100  # how often a ZMQ source checks for messages and a ZMQ sink for a stop
STOP_GRACE_S = 5.0  # a stopping node whose blocks are still busy after this exits anyway
TX_WINDOW = 16  # images a transmitter reads ahead of what it has handed to ZMQ


class NodeError(RuntimeError):
    """A node that cannot run as asked (its --out address taken, say): one clear line, exit 2."""


class Incomplete(RuntimeError):
    """The receiver ended before every image arrived; the message names the ones missing."""


def _image_id(msg) -> str:
    """The image id of a PDU for tallies and logs ("?" when it has none). Reads the one key,
    not the whole metadata, and never raises: it runs on whatever came over the network."""
    try:
        meta = pmt.car(msg) if pmt.is_pair(msg) else pmt.PMT_NIL
        if pmt.is_dict(meta):
            value = pmt.dict_ref(meta, pmt.intern(keys.IMAGE_ID), pmt.PMT_NIL)
            if pmt.is_symbol(value):
                return pmt.symbol_to_string(value)
            if not pmt.is_null(value):
                return pmt.write_string(value)
    except Exception:  # noqa: BLE001 - a tally must never take its block's thread down
        pass
    return "?"


def _listed(ids) -> str:
    return ", ".join(ids) if ids else "none"


class _Held:
    """What a node has taken in and not yet passed on (the ids, in order) and how many it took
    and passed: what it loses if it stops now. Held only as long as the node holds the image,
    so a node that runs for days does not grow."""

    def __init__(self):
        self._lock = threading.Lock()  # taken in one block's thread, passed on in another's
        self._ids: dict[str, int] = {}
        self.taken = self.passed = 0

    def take(self, image_id: str) -> None:
        with self._lock:
            self.taken += 1
            self._ids[image_id] = self._ids.get(image_id, 0) + 1

    def pass_on(self, image_id: str) -> None:
        with self._lock:
            self.passed += 1
            count = self._ids.pop(image_id, 0)
            if count > 1:
                self._ids[image_id] = count - 1

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)


class _tally(gr.basic_block):
    """Calls ``record`` with the image id of every PDU on port ``in`` and passes the PDU on to
    ``out``, except those whose id is in ``skip``: what a node took in."""

    def __init__(self, name: str, record, skip=()):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._record, self._skip = record, set(skip)
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        image_id = _image_id(msg)
        self._record(image_id)
        if image_id not in self._skip:
            self.message_port_pub(pmt.intern("out"), msg)


class _push_sink(gr.basic_block):
    """ZMQ PUSH bound to ``address`` of the PDUs on port ``in``, on the wire of GNU Radio's
    ``zeromq.push_msg_sink`` (one frame of ``pmt.serialize_str``, so its ``pull_msg_source``
    and the GRC nodes read it), but one that can stop. GNU Radio's sends without a timeout:
    with no peer its thread blocks in zmq_send for good, the flowgraph cannot stop and only
    kill -9 ends the process. Here a send gives up after POLL_MS and is tried again until
    ``halt()``; ``on_sent`` is called with the id of each PDU handed to ZMQ, and the id goes
    out on port ``done`` (an image_source's acknowledgements)."""

    def __init__(self, address: str, on_sent=lambda image_id: None):
        gr.basic_block.__init__(self, name="semcom_node_push", in_sig=None, out_sig=None)
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.PUSH)
        self._socket.setsockopt(zmq.LINGER, 0)  # a stopping node does not wait for a peer
        self._socket.setsockopt(zmq.SNDTIMEO, POLL_MS)
        try:
            self._socket.bind(address)
        except zmq.ZMQError as error:
            self.close()
            raise NodeError(f"cannot bind --out {address}: {error.strerror} "
                            f"(another node or program holds it? choose a free port)") from None
        self._halted = threading.Event()
        self._on_sent = on_sent
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("done"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def _handle(self, msg):
        image_id, data = _image_id(msg), pmt.serialize_str(msg)
        while not self._halted.is_set():
            try:
                self._socket.send(data)
            except zmq.Again:  # no peer yet, or its queue is full: wait on, unless stopping
                continue
            self._on_sent(image_id)
            self.message_port_pub(pmt.intern("done"), pmt.intern(image_id))
            return  # halted: dropped, and reported as taken in but not sent by the node

    def halt(self) -> None:
        """Make a send that waits for a peer give up within POLL_MS, and every later one at once."""
        self._halted.set()

    def close(self) -> None:
        self._socket.close()
        self._context.term()


class _Stop:
    """SIGINT and SIGTERM while a node runs, from before it loads its model: the first one's
    name goes into ``name`` and the main thread, which polls it every POLL_MS, stops the
    flowgraph (``_stop_flowgraph``: the process ends within STOP_GRACE_S whatever its blocks
    do). Polled, not waited for: Python runs a handler only when the main thread runs
    bytecode, and a signal the kernel hands to one of GNU Radio's threads does not wake a
    main thread blocked on a lock; nor may the handler take a lock (an Event's), which the
    main thread it interrupts may hold. Later signals are ignored: Ctrl-C in a terminal
    reaches a script and its nodes together, and the script's SIGTERM must not cut the
    nodes' reports short. The previous handlers come back on exit (``main`` also runs inside
    test processes)."""

    def __init__(self):
        self.name = ""
        self._previous = {}

    def __enter__(self):
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._on_signal)
        return self

    def __exit__(self, *_):
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _on_signal(self, number, _frame):
        self.name = self.name or signal.Signals(number).name


def _stop_flowgraph(top: gr.top_block, name: str, status: int = 0, report=lambda: "") -> None:
    """Stop ``top``: halt its ZMQ sinks first (a send waiting for a peer returns within
    POLL_MS, so its thread can end), then the flowgraph. Blocks still busy after STOP_GRACE_S
    (a long backlog) do not keep the process: it prints ``report()`` and exits ``status``."""
    for sink in getattr(top, "sinks", ()):
        sink.halt()
    top.stop()
    waiter = threading.Thread(target=top.wait, name="semcom_node_stop", daemon=True)
    waiter.start()
    waiter.join(STOP_GRACE_S)
    if waiter.is_alive():
        line = report()
        print(f"{name}: blocks still busy {STOP_GRACE_S:g} s after the stop: exiting anyway"
              + (f"; {line}" if line else ""), flush=True)
        os._exit(status)
    for sink in getattr(top, "sinks", ()):
        sink.close()


def _source(images: str, model_bundle: bundle.DeepJSCCBundle, rate: float = 0.0, window: int = 0) -> image_source:
    policy = "resize" if model_bundle.image_size else "full"
    # no window timeout: a transmitter with nobody downstream waits (it is not losing images)
    return image_source(datasets.locate(images), model=str(model_bundle.path), policy=policy, rate=rate, window=window,
                        window_timeout=math.inf)


def _burst(model_bundle: bundle.DeepJSCCBundle, max_size) -> int:
    """Symbols of the longest burst: the model's fixed size, else ``max_size`` (H, W)."""
    size = model_bundle.image_size or max_size
    if size is None:
        raise ValueError(f"model {model_bundle.model_id} is fully convolutional: give --max-size H W, "
                         f"the largest image the link carries")
    return model_bundle.n_symbols(*size)


class transmitter(gr.top_block):
    """image_source -> jscc_encoder -> ZMQ PUSH bound to ``address``; the source reads at
    most TX_WINDOW images ahead of what has been handed to ZMQ (GNU Radio's message queues
    have no back-pressure: a source at rate 0 would put its whole image set in memory, and
    lose it all on a stop)."""

    def __init__(self, model, images, address, rate=0.0, provider="auto", threads=0):
        gr.top_block.__init__(self, "semcom node tx")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        self.source = _source(images, model_bundle, rate, TX_WINDOW)
        self.encoder = jscc_encoder(str(model_bundle.path), provider, threads)
        self.held = _Held()
        self.out = _push_sink(address, self.held.pass_on)
        self.sinks = (self.out,)
        self.read = _tally("semcom_node_read", self.held.take)
        self.msg_connect((self.source, "image"), (self.read, "in"))
        self.msg_connect((self.read, "out"), (self.encoder, "image"))
        self.msg_connect((self.encoder, "symbols"), (self.out, "in"))
        self.msg_connect((self.out, "done"), (self.source, "done"))

    def report(self) -> str:
        """What it read, sent, and read but never sent (dropped when it stopped)."""
        unsent = self.held.ids()
        return (f"{self.held.taken} images read, {self.held.passed} sent, "
                + (f"{len(unsent)} never sent: {', '.join(unsent)}" if unsent else "every one sent"))


class relay(gr.top_block):
    """ZMQ PULL from ``source`` -> AWGN hop -> relay_df ``relay_index`` (or relay_qf at rate
    ``qf``) -> ZMQ PUSH bound to ``address``."""

    def __init__(self, model, relay_index, source, address, snr_db, seed=1, qf=None, max_size=None,
                 provider="auto", threads=0):
        gr.top_block.__init__(self, f"semcom node relay {relay_index}")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        path = str(model_bundle.path)
        if qf is not None:
            if relay_index != 1:
                raise ValueError("a quantize-and-forward link has one relay (--relay 1)")
            self.relay, port = relay_qf(path, *qf), "bits"
        else:
            self.relay, port = relay_df(path, relay_index, provider, threads), "symbols"
        self.input = zeromq.pull_msg_source(source, POLL_MS, False)
        self.held = _Held()
        self.taken = _tally("semcom_node_taken", self.held.take)
        self.hop = flowgraphs.awgn_hop(snr_db, flowgraphs.hop_seed(seed, relay_index - 1),
                                       _burst(model_bundle, max_size))
        self.out = _push_sink(address, self.held.pass_on)
        self.sinks = (self.out,)
        self.msg_connect((self.input, "out"), (self.taken, "in"))
        self.msg_connect(self.hop.connect(self, (self.taken, "out")), (self.relay, "symbols"))
        self.msg_connect((self.relay, port), (self.out, "in"))

    def report(self) -> str:
        """What it took in, forwarded, and took in but never forwarded (lost here)."""
        lost = self.held.ids()
        return (f"{self.held.taken} images taken in, {self.held.passed} forwarded, "
                + (f"{len(lost)} lost here: {', '.join(lost)}" if lost else "none lost here"))


class _Ledger:
    """The ids of the images a receiver got, one JSON string a line, appended and flushed as
    each arrives; what is in the file at start was received by a predecessor."""

    def __init__(self, path: str):
        self.path = pathlib.Path(path) if path else None
        self.previous: list[str] = []
        self._file = None
        if self.path is not None:
            if self.path.exists():
                self.previous = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a")

    def add(self, image_id: str) -> None:
        if self._file is not None:
            self._file.write(json.dumps(image_id) + "\n")
            self._file.flush()


def _set_aside(path: pathlib.Path) -> pathlib.Path:
    """Rename ``path`` to the first free ``<stem>.<n><suffix>``; returns the new name."""
    for number in itertools.count(1):
        kept = path.with_name(f"{path.stem}.{number}{path.suffix}")
        if not kept.exists():
            return path.rename(kept)


class receiver(gr.top_block):
    """ZMQ PULL from ``source`` -> the last AWGN hop -> jscc_decoder (or, with ``qf``,
    qf_dequantizer -> jscc_decoder) -> image_sink, metrics_sink; references from its own
    image_source of ``images``. ``received``: the ledger file of ids received (``_Ledger``)."""

    def __init__(self, model, images, source, snr_db, seed=1, qf=None, out_dir="", csv_path="",
                 provider="auto", threads=0, lpips=False, hash_model="", received=""):
        gr.top_block.__init__(self, "semcom node rx")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        path = str(model_bundle.path)
        self.ledger = _Ledger(received)
        if self.ledger.previous and csv_path and pathlib.Path(csv_path).exists():
            # metrics_sink starts its CSV afresh: keep the predecessor's rows
            kept = _set_aside(pathlib.Path(csv_path))
            print(f"rx: the previous receiver's metrics kept in {kept}", flush=True)
        self.references = _source(images, model_bundle)
        # the predecessor's images are not scored again: their references stop here
        self.expected_ids: list[str] = []  # appended by a block's thread, read by the main thread
        self.expected = _tally("semcom_node_expected", self.expected_ids.append, skip=self.ledger.previous)
        self._predicted: list[str] = []
        self.input = zeromq.pull_msg_source(source, POLL_MS, False)
        self.decoder = jscc_decoder(path, provider, threads)
        self.arrived_ids: list[str] = []
        self.decoded = _tally("semcom_node_decoded", self.arrived_ids.append)
        self.image_sink = image_sink(out_dir)
        self.metrics = metrics_sink(snr_db, csv_path, lpips, hash_model)
        if qf is not None:
            self.dequantizer = qf_dequantizer(path, *qf)
            self.msg_connect((self.input, "out"), (self.dequantizer, "bits"))
            self.msg_connect((self.dequantizer, "symbols"), (self.decoder, "symbols"))
        else:
            self.hop = flowgraphs.awgn_hop(snr_db, flowgraphs.hop_seed(seed, model_bundle.hops - 1),
                                           model_bundle.n_symbols(*self.references.max_shape()))
            self.msg_connect(self.hop.connect(self, (self.input, "out")), (self.decoder, "symbols"))
        self.msg_connect((self.decoder, "image"), (self.decoded, "in"))
        self.msg_connect((self.decoded, "out"), (self.image_sink, "image"))
        self.msg_connect((self.decoded, "out"), (self.metrics, "decoded"))
        self.msg_connect((self.references, "image"), (self.expected, "in"))
        self.msg_connect((self.expected, "out"), (self.metrics, "reference"))

    def _expected_ids(self) -> list[str]:
        """The ids of ``images`` in the order sent: the references' own once all are out,
        before that those image_source gives them (running number and file stem), so a
        receiver stopped early still names every image that did not arrive."""
        if len(self.expected_ids) >= self.references.count:
            return self.expected_ids[:self.references.count]
        if len(self._predicted) != len(self.references.paths):  # a file that failed to load leaves paths
            self._predicted = [f"{index:05d}_{path.stem}" for index, path in enumerate(self.references.paths)]
        return self._predicted

    def receive_all(self, timeout: float, stop: _Stop | None = None, idle_timeout: float = 0.0) -> list[dict]:
        """Start; log every gap in the arrivals with its ids as soon as a later image shows
        it; stop when every image of ``images`` has arrived (here or at a predecessor) and
        been scored and saved, and return this run's metric rows. Incomplete, naming the ids
        that never arrived, when the last image arrived without some of the others (lost
        upstream), after ``timeout`` s, ``idle_timeout`` s after the latest arrival (> 0: a
        node upstream that died with the rest, which no later image can show), or on
        ``stop``."""
        total = self.references.count
        previous = set(self.ledger.previous)
        if stop is not None and stop.name:
            raise Incomplete(f"{stop.name} before the start: 0 of {total} images arrived")
        self.start()
        print("rx running" + (f"; {len(previous)} images received by a predecessor (in {self.ledger.path}) "
                              f"are not waited for" if previous else ""), flush=True)
        deadline = time.monotonic() + timeout
        seen: set[str] = set()  # arrived here, each once
        lost: set[str] = set()  # reported lost and not arrived since
        expected, position = [], {}
        handled = scanned = 0  # arrivals looked at; expected[:scanned] looked at for gaps
        furthest, ending, latest_arrival = -1, "", None
        try:
            while not ending:
                latest = self._expected_ids()
                if latest != expected:  # at the start, and should the references differ from the prediction
                    expected, scanned = latest, 0
                    position = {image_id: index for index, image_id in enumerate(expected)}
                    furthest = max([-1] + [position[i] for i in seen if i in position])
                arrivals = self.arrived_ids[handled:]
                handled += len(arrivals)
                if arrivals:
                    latest_arrival = time.monotonic()
                for image_id in arrivals:
                    if image_id in seen or image_id in previous:
                        print(f"rx: {image_id} arrived again (a node upstream started again?): not counted",
                              flush=True)
                        continue
                    seen.add(image_id)
                    self.ledger.add(image_id)
                    furthest = max(furthest, position.get(image_id, -1))
                    if image_id in lost:
                        lost.discard(image_id)
                        print(f"rx: {image_id} arrived after it was reported lost (out of order: more than "
                              f"one route?)", flush=True)
                # one route keeps the order: what was sent before an image that arrived and is not here is lost
                gap = [i for i in expected[scanned:max(furthest, 0)] if i not in seen and i not in previous]
                scanned = max(scanned, furthest)
                if gap:
                    lost.update(gap)
                    print(f"rx: lost {len(gap)} images, sent before {expected[furthest]} which arrived "
                          f"(delivery is at most once: a node upstream dropped them): {_listed(gap)}", flush=True)
                if all(i in seen or i in previous for i in expected[scanned:]) and not lost:
                    ending = "complete"
                elif furthest == total - 1:
                    ending = ": the last image arrived without them, they were lost upstream"
                elif stop is not None and stop.name:
                    ending = f": stopped by {stop.name}"
                elif time.monotonic() > deadline:
                    ending = f" in {timeout:g} s: is every node upstream running?"
                elif idle_timeout > 0 and latest_arrival is not None and \
                        time.monotonic() - latest_arrival > idle_timeout:
                    ending = (f": none for {idle_timeout:g} s since the latest (--idle-timeout): did a node upstream "
                              f"stop or die?")
                else:
                    time.sleep(POLL_MS / 1000)
            if ending == "complete":  # the last ones may still be in the sinks; polled, like the signals
                until = max(deadline, time.monotonic() + 30)
                while min(self.metrics.arrivals.count, self.image_sink.arrivals.count) < len(seen) and \
                        not (stop is not None and stop.name) and time.monotonic() < until:
                    time.sleep(POLL_MS / 1000)
        finally:
            _stop_flowgraph(self, "rx", 0 if ending == "complete" else 1, lambda: f"{len(seen)} images arrived")
        if ending != "complete":
            missing = [i for i in expected if i not in seen and i not in previous]
            before = f" ({len(previous)} of them at a predecessor)" if previous else ""
            raise Incomplete(f"{len(seen) + len(previous)} of {total} images arrived{before}{ending}. "
                             f"Never arrived ({len(missing)}): {_listed(missing)}")
        if previous:
            print(f"rx: {len(previous)} images had arrived at a predecessor, {len(seen)} here", flush=True)
        return self.metrics.rows


def run_until_stopped(top: gr.top_block, name: str, stop: _Stop | None = None) -> None:
    """Run ``top`` until SIGINT or SIGTERM, then stop it within a few seconds (``_stop_flowgraph``),
    logging what it lost (``top.report()``)."""
    if stop is None:
        with _Stop() as stop:
            return run_until_stopped(top, name, stop)
    report = getattr(top, "report", lambda: "")
    if stop.name:
        print(f"{name}: {stop.name} before the start: exiting", flush=True)
        return
    top.start()
    print(f"{name} running", flush=True)
    while not stop.name:
        time.sleep(POLL_MS / 1000)
    print(f"{name}: {stop.name}: stopping", flush=True)
    _stop_flowgraph(top, name, 0, report)
    line = report()
    print(f"{name}: stopped" + (f"; {line}" if line else ""), flush=True)


def main(argv=None) -> list[dict] | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--model", required=True, help="a DeepJSCC bundle (decode-and-forward: a multi-hop one)")
    parser.add_argument("--images", default="samples", help="tx: what to send; rx: the references (the same set)")
    parser.add_argument("--in", dest="source", help="relay, rx: the previous node's --out address")
    parser.add_argument("--out", help="tx, relay: the address to bind, e.g. tcp://127.0.0.1:5550")
    parser.add_argument("--relay", type=int, default=1, help="relay: its place on the route, 1 .. hops - 1")
    parser.add_argument("--qf", type=quantization.rate, metavar="N_Q:b",
                        help="relay, rx: quantize-and-forward at this rate instead of decode-and-forward")
    parser.add_argument("--snr", type=float, default=10.0, help="relay, rx: SNR (dB) of the hop into the node")
    parser.add_argument("--seed", type=int, default=1, help="noise seed (hop k: seed + 10 k, as in one flowgraph)")
    parser.add_argument("--rate", type=float, default=0.0, help="tx: images per second (0: as fast as possible)")
    parser.add_argument("--max-size", type=int, nargs=2, metavar=("H", "W"),
                        help="relay: largest image, for a fully convolutional model's buffers")
    parser.add_argument("--csv", default="", help="rx: metrics CSV")
    parser.add_argument("--out-dir", default="", help="rx: where to write the decoded PNGs")
    parser.add_argument("--timeout", type=float, default=600.0, help="rx: seconds to wait for every image")
    parser.add_argument("--idle-timeout", type=float, default=60.0,
                        help="rx: give up this many seconds after the latest image when no other comes (0: never; "
                             "raise it for a transmitter slower than one image a minute)")
    parser.add_argument("--received", default="",
                        help="rx: file of the ids received, appended as they arrive; a receiver started again "
                             "with the same file does not wait for the images in it")
    parser.add_argument("--lpips", action="store_true", help="rx: also score LPIPS")
    parser.add_argument("--hash-model", default="", help="rx: a DHD bundle, also score hash agreement")
    args = parser.parse_args(argv)
    needs = {"tx": ("out",), "relay": ("source", "out"), "rx": ("source",)}[args.role]
    missing = [f"--{'in' if key == 'source' else key}" for key in needs if not getattr(args, key)]
    if missing:
        parser.error(f"{args.role} needs {' and '.join(missing)}")
    name = f"relay {args.relay}" if args.role == "relay" else args.role
    # signals are caught before the model loads: one during start-up ends the node cleanly too
    with _Stop() as stop:
        try:
            if args.role == "tx":
                node = transmitter(args.model, args.images, args.out, args.rate)
            elif args.role == "relay":
                node = relay(args.model, args.relay, args.source, args.out, args.snr, args.seed, args.qf,
                             args.max_size)
            else:
                node = receiver(args.model, args.images, args.source, args.snr, args.seed, args.qf, args.out_dir,
                                args.csv, lpips=args.lpips, hash_model=args.hash_model, received=args.received)
        except (ValueError, bundle.ModelError) as error:
            parser.error(str(error))
        except NodeError as error:
            print(f"{name}: {error}", file=sys.stderr, flush=True)
            sys.exit(2)
        if args.role != "rx":
            run_until_stopped(node, name, stop)
            return None
        try:
            rows = node.receive_all(args.timeout, stop, args.idle_timeout)
        except Incomplete as error:
            print(f"rx: {error}", file=sys.stderr, flush=True)
            sys.exit(1)
    means = node.metrics.means()  # over every image scored (rows keeps only the latest)
    if means["count"]:
        print(f"rx: {means['count']} images, mean PSNR {means['psnr_db']:.2f} dB, SSIM {means['ssim']:.4f}",
              flush=True)
    else:
        print("rx: no new images: every one had arrived at a predecessor", flush=True)
    return rows


if __name__ == "__main__":
    main()
