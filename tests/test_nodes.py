#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Transmitter, relays and receiver as separate processes over ZMQ on loopback: every image
arrives with the PSNR of the single-process flowgraph, a killed relay that is started again
carries the images sent after it and the receiver names the ones lost with it at once, a
receiver started again does not wait for what its predecessor received, a receiver whose
relay died says so instead of hanging, every node exits within seconds of SIGTERM or SIGINT
even with nobody downstream, and the example script stops every node it started."""
from __future__ import annotations

import csv
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from PIL import Image

from gnuradio.semcom import images
from semcom_tools import flowgraphs
from semcom_tools import nodes as nodes_module

SNR_DB = 2.0


@pytest.fixture(scope="module")
def twenty_photos(tmp_path_factory) -> pathlib.Path:
    """20 different 32x32 crops of the sample photos."""
    folder = tmp_path_factory.mktemp("twenty")
    paths = images.sample_paths()
    for index in range(20):
        picture, _ = images.load_image(paths[index % len(paths)])
        size = 48 + 8 * (index // len(paths))
        Image.fromarray(images.fit(images.fit(picture, "resize", (size, size)), "crop", (32, 32))).save(
            folder / f"photo{index:02d}.png")
    return folder


def free_addresses(count: int) -> list[str]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return [f"tcp://127.0.0.1:{port}" for port in ports]


class Nodes:
    """Starts node processes and ends every one still running."""

    def __init__(self, model: pathlib.Path, photos: pathlib.Path, tmp_path: pathlib.Path):
        self.model, self.photos, self.tmp_path = str(model), str(photos), tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self, role: str, *args: str, name: str | None = None) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name or role}.log", "a")
        process = subprocess.Popen([sys.executable, "-m", "semcom_tools.nodes", role, "--model", self.model,
                                    "--snr", str(SNR_DB), *args], stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.processes.append(process)
        return process

    def wait_running(self, name: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.tmp_path / f"{name}.log").read_text().count("running") >= count:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{name} did not start: {(self.tmp_path / f'{name}.log').read_text()}")

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def nodes(df_model, twenty_photos, tmp_path):
    started = Nodes(df_model, twenty_photos, tmp_path)
    yield started
    started.close()


def rows_of(path: pathlib.Path) -> dict[str, float]:
    with open(path, newline="") as handle:
        return {row["image"]: float(row["psnr_db"]) for row in csv.DictReader(handle)}


def all_ids(photos: pathlib.Path) -> set[str]:
    """The ids image_source gives the photos: their index in sorted order, then the name."""
    return {f"{index:05d}_{path.stem}" for index, path in enumerate(sorted(photos.glob("*.png")))}


def never_arrived(log: str) -> set[str]:
    """The ids of the receiver's final "Never arrived (n): ..." line."""
    found = re.findall(r"Never arrived \((\d+)\): (.*)", log)
    assert len(found) == 1, log
    count, ids = found[0]
    listed = set() if ids == "none" else set(ids.split(", "))
    assert len(listed) == int(count), log
    return listed


def test_twenty_images_through_four_processes_match_one_flowgraph(nodes, df_model, twenty_photos, tmp_path):
    a, b, c = free_addresses(3)
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", c, "--csv", str(tmp_path / "rx.csv"),
                     "--timeout", "120")
    nodes.start("relay", "--relay", "2", "--in", b, "--out", c, name="relay2")
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a)
    assert rx.wait(150) == 0, (tmp_path / "rx.log").read_text()
    separate = rows_of(tmp_path / "rx.csv")
    together = flowgraphs.analog_point_to_point(str(df_model), str(twenty_photos), snr_db=SNR_DB, seed=1).run_images(120)
    assert len(separate) == 20 and {r["image"] for r in together} == set(separate)
    for row in together:
        assert separate[row["image"]] == pytest.approx(row["psnr_db"], abs=1e-3)  # the CSV keeps 4 decimals
    assert "rx: 20 images, mean PSNR" in (tmp_path / "rx.log").read_text()


def test_a_relay_killed_with_a_backlog_loses_it_and_the_receiver_names_the_ids_at_once(nodes, twenty_photos,
                                                                                        tmp_path):
    a, b, c = free_addresses(3)
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", c, "--csv", str(tmp_path / "rx.csv"),
                     "--timeout", "90")
    first = nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.wait_running("relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a, "--rate", "3")
    nodes.wait_running("tx")
    time.sleep(2.5)  # relay 1 takes in what is sent and holds it: relay 2 is not there yet
    first.kill()  # kill -9: no report from it; whatever it held is lost
    first.wait()
    started = time.monotonic()
    nodes.start("relay", "--relay", "2", "--in", b, "--out", c, name="relay2")
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    assert rx.wait(60) == 1, nodes.log("rx")
    # it ends when the last image arrives (20 at 3 a second), not after its 90 s timeout
    assert time.monotonic() - started < 30
    log = nodes.log("rx")
    arrived = set(rows_of(tmp_path / "rx.csv"))
    lost = never_arrived(log)
    assert lost and lost == all_ids(twenty_photos) - arrived, log
    assert "00000_photo00" in lost and "00019_photo19" in arrived  # the backlog, and the images sent after
    reported = set()  # the gaps it logged as they showed, before the end
    for line in re.findall(r"rx: lost \d+ images, sent before \S+ which arrived .*: (.*)", log):
        reported |= set(line.split(", "))
    assert reported == lost, log


def test_a_receiver_whose_relay_died_mid_stream_gives_up_soon_after_the_latest_image(nodes, twenty_photos, tmp_path):
    a, b, c = free_addresses(3)
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", c, "--csv", str(tmp_path / "rx.csv"),
                     "--timeout", "300", "--idle-timeout", "3")
    second = nodes.start("relay", "--relay", "2", "--in", b, "--out", c, name="relay2")
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a, "--rate", "4")
    deadline = time.monotonic() + 60
    while not ((tmp_path / "rx.csv").exists() and len(rows_of(tmp_path / "rx.csv")) >= 4):
        assert time.monotonic() < deadline and rx.poll() is None, nodes.log("rx")
        time.sleep(0.1)
    second.kill()  # and no one starts it again: no later image can show the loss
    killed = time.monotonic()
    assert rx.wait(30) == 1, nodes.log("rx")
    assert time.monotonic() - killed < 10  # not its 300 s timeout
    log = nodes.log("rx")
    assert "since the latest (--idle-timeout): did a node upstream stop or die?" in log, log
    assert never_arrived(log) == all_ids(twenty_photos) - set(rows_of(tmp_path / "rx.csv"))


def test_a_receiver_started_again_does_not_wait_for_what_its_predecessor_received(nodes, twenty_photos,
                                                                                  tmp_path):
    a, b, c = free_addresses(3)
    ledger, metrics = tmp_path / "received.txt", tmp_path / "rx.csv"
    receive = ("--images", str(twenty_photos), "--in", c, "--csv", str(metrics), "--received", str(ledger),
               "--timeout", "90")
    first = nodes.start("rx", *receive, name="rx1")
    nodes.start("relay", "--relay", "2", "--in", b, "--out", c, name="relay2")
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a, "--rate", "4")
    deadline = time.monotonic() + 60
    while not (metrics.exists() and len(rows_of(metrics)) >= 5):
        assert time.monotonic() < deadline and first.poll() is None, nodes.log("rx1")
        time.sleep(0.1)
    first.send_signal(signal.SIGTERM)
    assert first.wait(10) == 1
    # what the first one lists as missing is what its ledger lacks
    before = set(rows_of(metrics))
    assert never_arrived(nodes.log("rx1")) == all_ids(twenty_photos) - before
    second = nodes.start("rx", *receive, name="rx2")  # meanwhile relay 2 holds what comes
    status = second.wait(60)
    log = nodes.log("rx2")
    assert f"rx: the previous receiver's metrics kept in {tmp_path / 'rx.1.csv'}" in log
    assert set(rows_of(tmp_path / "rx.1.csv")) == before
    after = set(rows_of(metrics))
    assert not before & after, "an image the first receiver had was waited for and scored again"
    missing = all_ids(twenty_photos) - before - after
    if missing:  # in flight when the first receiver stopped: lost, and named
        assert status == 1 and never_arrived(log) == missing, log
    else:
        assert status == 0, log
        assert f"rx: {len(before)} images had arrived at a predecessor, {len(after)} here" in log
    received = [line for line in ledger.read_text().splitlines() if line]
    assert len(received) == len(set(received)) == len(before | after)


def test_every_node_exits_within_seconds_of_sigterm_or_sigint_even_when_its_output_blocks(nodes, twenty_photos):
    a, b, c, d = free_addresses(4)
    lone = nodes.start("tx", "--images", str(twenty_photos), "--out", a, name="lone_tx")  # nobody downstream
    feeding = nodes.start("tx", "--images", str(twenty_photos), "--out", b, name="feeding_tx")
    relay = nodes.start("relay", "--relay", "1", "--in", b, "--out", c, name="relay1")  # nobody downstream
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", d, "--timeout", "600")  # nobody upstream
    for name in ("lone_tx", "feeding_tx", "relay1", "rx"):
        nodes.wait_running(name)
    time.sleep(2)  # the transmitters have read their 20 images; every ZMQ send waits for a peer that never comes
    signals = {lone: signal.SIGTERM, relay: signal.SIGINT, rx: signal.SIGTERM, feeding: signal.SIGINT}
    sent = time.monotonic()
    for process, number in signals.items():
        process.send_signal(number)
    for process in signals:
        process.wait(timeout=max(0.1, sent + 8 - time.monotonic()))  # TimeoutExpired: still alive
    assert time.monotonic() - sent < 8
    assert (lone.returncode, relay.returncode, rx.returncode, feeding.returncode) == (0, 0, 1, 0)
    log = nodes.log("lone_tx")
    assert "tx: SIGTERM: stopping" in log
    # it read only as far ahead of what it could send as its window lets it
    held = ", ".join(f"{index:05d}_photo{index:02d}" for index in range(nodes_module.TX_WINDOW))
    assert f"tx: stopped; {nodes_module.TX_WINDOW} images read, 0 sent, {nodes_module.TX_WINDOW} never sent: {held}\n" \
        in log, log
    log = nodes.log("relay1")
    assert "relay 1: SIGINT: stopping" in log
    taken = re.search(r"relay 1: stopped; (\d+) images taken in, 0 forwarded, (\d+) lost here: 00000_photo00", log)
    assert taken and taken[1] == taken[2] != "0", log
    assert "tx: stopped; 20 images read, 20 sent, every one sent" in nodes.log("feeding_tx")
    log = nodes.log("rx")
    assert "rx: 0 of 20 images arrived: stopped by SIGTERM. Never arrived (20): 00000_photo00" in log, log
    assert never_arrived(log) == all_ids(twenty_photos)


def test_a_receiver_whose_relay_died_says_how_many_arrived(nodes, twenty_photos, tmp_path):
    a, b, c = free_addresses(3)
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", c, "--timeout", "8")
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a)  # relay 2 never comes
    assert rx.wait(60) == 1
    assert "rx: 0 of 20 images arrived in 8 s: is every node upstream running?" in (tmp_path / "rx.log").read_text()


def test_nodes_refuse_missing_addresses_and_impossible_relays(df_model, capsys):
    from semcom_tools import nodes
    with pytest.raises(SystemExit):
        nodes.main(["relay", "--model", str(df_model), "--out", "tcp://127.0.0.1:1"])
    assert "relay needs --in" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        nodes.main(["relay", "--model", str(df_model), "--relay", "3", "--in", "tcp://127.0.0.1:1",
                    "--out", "tcp://127.0.0.1:2"])
    assert "relay must be 1 .. 2" in capsys.readouterr().err


SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "relay_processes.sh"


def leftover_nodes(model: pathlib.Path) -> str:
    time.sleep(0.5)
    return subprocess.run(["pgrep", "-af", f"semcom_tools.nodes .*{model}"], capture_output=True, text=True).stdout


def test_the_example_script_starts_the_four_processes_and_ends_them(df_model, tmp_path):
    result = subprocess.run(["bash", str(SCRIPT), str(df_model), "samples", "5", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0 and "rx: 4 images, mean PSNR" in result.stdout, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    assert len((tmp_path / "out" / "received.txt").read_text().splitlines()) == 4
    assert "relay 2: stopped; 4 images taken in, 4 forwarded, none lost here" in result.stdout
    assert leftover_nodes(df_model) == "", "the script left node processes running"


def test_the_example_script_says_which_node_could_not_bind_its_port_and_stops_at_once(df_model, tmp_path):
    held = socket.socket()  # another program on relay 1's port
    held.bind(("127.0.0.1", 0))
    held.listen()
    with held:
        ports = [free_addresses(1)[0].rsplit(":", 1)[1], str(held.getsockname()[1]), free_addresses(1)[0].rsplit(":", 1)[1]]
        started = time.monotonic()
        result = subprocess.run(["bash", str(SCRIPT), str(df_model), "samples", "5", str(tmp_path / "out")],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "PYTHON": sys.executable, "RELAY_PORTS": " ".join(ports)})
        took = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1 and took < 30, output
    assert f"relay 1: cannot bind --out tcp://127.0.0.1:{ports[1]}: Address already in use" in result.stderr
    assert re.search(r"relay_processes.sh: relay 1 \(pid \d+\) exited with status 2; stopping the other nodes",
                     result.stderr), output
    assert "Traceback" not in output
    assert leftover_nodes(df_model) == "", "the script left node processes running"


@pytest.mark.parametrize("ctrl_c", [False, True], ids=["sigterm-to-the-script", "ctrl-c-to-the-group"])
def test_the_example_script_stopped_mid_run_stops_every_node(df_model, tmp_path, ctrl_c):
    photos = tmp_path / "photos"  # enough that the run is still going when it is stopped
    photos.mkdir()
    picture, _ = images.load_image(images.sample_paths()[0])
    for index in range(200):
        Image.fromarray(images.fit(picture, "crop", (32, 32)) ^ index).save(photos / f"p{index:03d}.png")
    log = open(tmp_path / "script.log", "w")
    # SIGINT as a terminal's shell has it: a run started in the background (nohup ... &) inherits
    # it ignored, and a shell cannot trap a signal ignored when it starts
    script = subprocess.Popen(["bash", str(SCRIPT), str(df_model), str(photos), "5", str(tmp_path / "out")],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                              env={**os.environ, "PYTHON": sys.executable, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while not all(f"{name} running" in (tmp_path / "script.log").read_text()
                      for name in ("tx", "relay 1", "relay 2", "rx")):
            assert time.monotonic() < deadline and script.poll() is None, (tmp_path / "script.log").read_text()
            time.sleep(0.1)
        if ctrl_c:  # what a terminal does: SIGINT to the script and its nodes at once
            os.killpg(script.pid, signal.SIGINT)
        else:
            script.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        status = script.wait(20)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
    output = (tmp_path / "script.log").read_text()
    assert status == (130 if ctrl_c else 143) and time.monotonic() - sent < 12, output
    for name in ("tx", "relay 1", "relay 2"):
        assert f"{name}: {'SIGINT' if ctrl_c else 'SIGTERM'}: stopping" in output and f"{name}: stopped; " in output, \
            "\n".join(line for line in output.splitlines() if ":info:" not in line)[-3000:]
    assert re.search(r"rx: \d+ of 200 images arrived: stopped by SIG(INT|TERM)\. Never arrived", output), output
    assert "did not stop on SIGTERM" not in output
    assert leftover_nodes(df_model) == "", "the script left node processes running"


def test_a_node_whose_blocks_stay_busy_after_the_stop_exits_anyway_with_its_report(tmp_path):
    # a block stuck in its handler (here 60 s of sleep) must not keep a stopped node alive
    program = tmp_path / "busy.py"
    program.write_text('''
import time
import pmt
from gnuradio import blocks, gr
from semcom_tools import nodes

class stuck(gr.basic_block):
    def __init__(self):
        gr.basic_block.__init__(self, name="stuck", in_sig=None, out_sig=None)
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self.handle)

    def handle(self, msg):
        time.sleep(60)

top = gr.top_block()
strobe, block = blocks.message_strobe(pmt.intern("x"), 10), stuck()  # Python blocks need a reference
top.msg_connect((strobe, "strobe"), (block, "in"))
top.start()
time.sleep(0.5)
nodes.STOP_GRACE_S = 1  # 5 in the nodes; less time in the suite
nodes._stop_flowgraph(top, "busy node", 7, lambda: "3 images held")
print("not reached", flush=True)
''')
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 7 and time.monotonic() - started < 20, result.stdout + result.stderr
    assert "busy node: blocks still busy 1 s after the stop: exiting anyway; 3 images held" in result.stdout
    assert "not reached" not in result.stdout
