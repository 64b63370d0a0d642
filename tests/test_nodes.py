"""Transmitter, relays and receiver as separate processes over ZMQ on loopback: every image
arrives with the PSNR of the single-process flowgraph, a killed relay that is started again
carries the images sent after it, and a receiver whose relay died says so instead of hanging."""
from __future__ import annotations

import csv
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest
from PIL import Image

from gnuradio.semcom import flowgraphs, images

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
        process = subprocess.Popen([sys.executable, "-m", "gnuradio.semcom.nodes", role, "--model", self.model,
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


def test_a_relay_killed_and_started_again_carries_the_images_sent_after(nodes, twenty_photos, tmp_path):
    a, b, c = free_addresses(3)
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", c, "--csv", str(tmp_path / "rx.csv"),
                     "--timeout", "60")
    nodes.start("relay", "--relay", "2", "--in", b, "--out", c, name="relay2")
    first = nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.wait_running("relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a, "--rate", "2")
    time.sleep(3)
    first.kill()  # mid-stream: whatever it held is lost
    first.wait()
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.wait_running("relay1", count=2)
    rx.wait(90)
    arrived = rows_of(tmp_path / "rx.csv")
    late = [f"{index:05d}_photo{index:02d}" for index in range(14, 20)]  # sent 7 s and more after the start
    assert set(late) <= set(arrived), sorted(arrived)


def test_a_receiver_whose_relay_died_says_how_many_arrived(nodes, twenty_photos, tmp_path):
    a, b, c = free_addresses(3)
    rx = nodes.start("rx", "--images", str(twenty_photos), "--in", c, "--timeout", "8")
    nodes.start("relay", "--relay", "1", "--in", a, "--out", b, name="relay1")
    nodes.start("tx", "--images", str(twenty_photos), "--out", a)  # relay 2 never comes
    assert rx.wait(60) == 1
    assert "rx: 0 of 20 images arrived in 8 s: is every node upstream running?" in (tmp_path / "rx.log").read_text()


def test_nodes_refuse_missing_addresses_and_impossible_relays(df_model, capsys):
    from gnuradio.semcom import nodes
    with pytest.raises(SystemExit):
        nodes.main(["relay", "--model", str(df_model), "--out", "tcp://127.0.0.1:1"])
    assert "relay needs --in" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        nodes.main(["relay", "--model", str(df_model), "--relay", "3", "--in", "tcp://127.0.0.1:1",
                    "--out", "tcp://127.0.0.1:2"])
    assert "relay must be 1 .. 2" in capsys.readouterr().err


def test_the_example_script_starts_the_four_processes_and_ends_them(df_model, tmp_path):
    script = pathlib.Path(__file__).resolve().parent.parent / "examples" / "relay_processes.sh"
    result = subprocess.run(["bash", str(script), str(df_model), "samples", "5", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0 and "rx: 4 images, mean PSNR" in result.stdout, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    time.sleep(1)
    leftover = subprocess.run(["pgrep", "-f", f"gnuradio.semcom.nodes .*{df_model}"], capture_output=True, text=True)
    assert leftover.stdout == "", "the script left node processes running"
