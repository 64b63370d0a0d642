#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Training on devices and across processes (semcom_train.parallel): two gloo processes under
torchrun take the steps of one process with the same global batch, a resumed run goes on as the
uninterrupted one, DataLoader workers make the same batches; CUDA and mixed precision on GPUs
(skipped without one)."""
import csv
import subprocess
import sys

import numpy as np
import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")
from PIL import Image

from gnuradio.semcom import images
from semcom_train import channels, data, train

STEPS = 6
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

# interrupted in step STOP (after the checkpoint of step STOP - 1), on every rank
INTERRUPTED = """
import sys
from semcom_train import data, train
real = data.Stream.state_at
def state_at(self, step):
    if step == {stop}:
        raise SystemExit(3)
    return real(self, step)
data.Stream.state_at = state_at
train.main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """Three sample photos as 64x64 BSDS-like train and val folders (32x32 crops are trained)."""
    root = tmp_path_factory.mktemp("dist") / "data"
    for split in ("train", "val"):
        folder = root / "bsds500" / split
        folder.mkdir(parents=True)
        for path in images.sample_paths()[:3]:
            picture, _ = images.load_image(path)
            Image.fromarray(images.fit(picture, "crop", (64, 64))).save(folder / f"{path.stem}.png")
    return root


def arguments(data_root, out, *extra):
    return ["--model", "deepjscc_cifar10_r6", "--data", "bsds", "--data-root", str(data_root), "--out", str(out),
            "--crop", "32", "--batch-size", "4", "--steps", str(STEPS), "--threads", "1", "--val-every", "1",
            "--checkpoint-every", "3", *extra]


def torchrun(processes: int, *argv, script=None) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node processes`` of semcom_train.train (or ``script``)."""
    target = [str(script)] if script else ["-m", "semcom_train.train"]
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
                           "--nproc_per_node", str(processes), *target, *argv],
                          capture_output=True, text=True, timeout=600)


def log_rows(run) -> list[tuple[int, float, float]]:
    """(step, loss, validation PSNR) of each row of a run's log.csv."""
    with open(run / "log.csv") as file:
        return [(int(r["step"]), float(r["loss"]), float(r["val_psnr_db"])) for r in csv.DictReader(file)]


def weights(run) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=True)["model"]


def assert_same_run(run, reference, exact=False, rel=1e-4):
    """The same logged losses and validation PSNRs at every step and the same final weights: equal
    (``exact``) or within float tolerance ``rel``."""
    rows, expected = log_rows(run), log_rows(reference)
    assert [r[0] for r in rows] == [e[0] for e in expected] == list(range(1, STEPS + 1))
    for (_, loss, psnr), (_, loss_ref, psnr_ref) in zip(rows, expected):
        assert loss == (loss_ref if exact else pytest.approx(loss_ref, rel=rel, abs=1e-6))
        assert psnr == (psnr_ref if exact else pytest.approx(psnr_ref, abs=100 * rel))
    ours, theirs = weights(run), weights(reference)
    for key, value in theirs.items():
        if exact:
            assert torch.equal(ours[key], value), key
        else:
            assert torch.allclose(ours[key], value, rtol=rel, atol=rel / 10), key


@pytest.fixture(scope="module")
def one_process(tiny_data, tmp_path_factory):
    """The reference: one process, global batch 4, uninterrupted."""
    out = tmp_path_factory.mktemp("one") / "run"
    result = train.main(arguments(tiny_data, out))
    assert result["step"] == STEPS and np.isfinite(result["loss"])
    return out


def test_channel_shards_draw_the_global_batchs_noise():
    latent = torch.randn(4, 8, 4, 4)
    torch.manual_seed(1)
    whole = channels.AWGN((0.0, 20.0))(latent)
    halves = []
    for rank in range(2):
        torch.manual_seed(1)
        channel = channels.AWGN((0.0, 20.0))
        channel.shard = (rank, 2)
        halves.append(channel(latent[2 * rank:2 * rank + 2]))
    assert torch.equal(torch.cat(halves), whole)


def test_batch_sources_shard_the_global_batch_and_resume_from_their_state(tiny_data):
    pictures = data.load_folder(tiny_data / "bsds500" / "train")
    whole = data.RandomCrops(pictures, 32, 4, 10, np.random.default_rng(0))
    shards = [data.RandomCrops(pictures, 32, 4, 10, np.random.default_rng(0), (rank, 2)) for rank in range(2)]
    for _ in range(3):
        assert torch.equal(whole.materialize(whole.next_plan()),
                           torch.cat([s.materialize(s.next_plan()) for s in shards]))
    array = np.random.default_rng(1).integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    source = data.ArrayBatches(array, 4, np.random.default_rng(2), np.arange(10))
    [source.next_plan() for _ in range(3)]  # into the second epoch
    state = source.state()
    ahead = [source.materialize(source.next_plan()) for _ in range(3)]
    again = data.ArrayBatches(array, 4, np.random.default_rng(99), np.arange(10))
    again.load_state(state)
    for (image, label), (image2, label2) in zip(ahead, [again.materialize(again.next_plan()) for _ in range(3)]):
        assert torch.equal(image, image2) and torch.equal(label, label2)
    with pytest.raises(ValueError, match="split evenly"):
        data.ArrayBatches(array, 3, np.random.default_rng(0), shard=(0, 2))


def test_two_gloo_processes_take_the_steps_of_one_process(tiny_data, one_process, tmp_path):
    out = tmp_path / "two"
    done = torchrun(2, *arguments(tiny_data, out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_run(out, one_process)


def test_a_resumed_run_goes_on_as_the_uninterrupted_one(tiny_data, one_process, tmp_path, monkeypatch):
    out = tmp_path / "resumed"
    real = data.Stream.state_at

    def interrupted(self, step):
        if step == 5:
            raise KeyboardInterrupt
        return real(self, step)
    monkeypatch.setattr(data.Stream, "state_at", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train.main(arguments(tiny_data, out))
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3
    monkeypatch.setattr(data.Stream, "state_at", real)
    assert train.main(arguments(tiny_data, out))["step"] == STEPS
    assert_same_run(out, one_process, exact=True)


def test_a_two_process_run_interrupted_resumes_in_one_process(tiny_data, one_process, tmp_path):
    """Checkpoints of a data-parallel run hold the global random state: any number of processes
    resumes them."""
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED.format(stop=5))
    out = tmp_path / "run"
    done = torchrun(2, *arguments(tiny_data, out), script=script)
    assert done.returncode != 0 and torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3
    assert train.main(arguments(tiny_data, out))["step"] == STEPS
    assert_same_run(out, one_process)


def test_dataloader_workers_make_the_same_batches(tiny_data, one_process, tmp_path):
    out = tmp_path / "workers"
    train.main(arguments(tiny_data, out, "--workers", "2"))
    assert_same_run(out, one_process, exact=True)


def test_bf16_autocast_trains_on_cpu(tiny_data, tmp_path):
    result = train.main(arguments(tiny_data, tmp_path / "bf16", "--device", "cpu", "--precision", "bf16"))
    assert result["step"] == STEPS and np.isfinite(result["loss"]) and np.isfinite(result["val_psnr_db"])


def test_options_refuse_what_the_machine_cannot_do(tiny_data, tmp_path):
    with pytest.raises(SystemExit):
        train.parse_args(arguments(tiny_data, tmp_path, "--device", "cpu", "--precision", "fp16"))
    with pytest.raises(SystemExit):
        train.parse_args(arguments(tiny_data, tmp_path, "--workers", "-1"))
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            train.parse_args(arguments(tiny_data, tmp_path, "--device", "cuda"))


# -- GPUs ---------------------------------------------------------------------------------------------
@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_training_checkpoints_and_resumes_exactly(tiny_data, tmp_path, monkeypatch, precision):
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bf16 on this GPU")
    extra = ("--device", "cuda", "--precision", precision)
    whole = tmp_path / "whole"
    result = train.main(arguments(tiny_data, whole, *extra))
    assert result["step"] == STEPS and np.isfinite(result["loss"])
    state = torch.load(whole / "checkpoint.pt", weights_only=True)
    assert ("scaler" in state) == (precision == "fp16") and "cuda" in state["random_state"]["torch"]
    out, real = tmp_path / "resumed", data.Stream.state_at

    def interrupted(self, step):
        if step == 5:
            raise KeyboardInterrupt
        return real(self, step)
    monkeypatch.setattr(data.Stream, "state_at", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train.main(arguments(tiny_data, out, *extra))
    monkeypatch.setattr(data.Stream, "state_at", real)
    train.main(arguments(tiny_data, out, *extra))
    assert_same_run(out, whole, rel=1e-2)  # cuDNN may pick nondeterministic kernels


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="fewer than 2 CUDA devices")
def test_two_gpus_with_nccl_take_the_steps_of_one(tiny_data, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    train.main(arguments(tiny_data, one, "--device", "cuda"))
    done = torchrun(2, *arguments(tiny_data, two, "--device", "cuda"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_run(two, one, rel=1e-2)


def test_dhd_takes_the_device_options():
    from semcom_train import dhd
    args = dhd.parse_args(["--out", "x", "--steps", "1", "--device", "cpu", "--precision", "bf16"])
    assert (args.device, args.precision) == ("cpu", "bf16")
    with pytest.raises(SystemExit):
        dhd.parse_args(["--out", "x", "--steps", "1", "--device", "cpu", "--precision", "fp16"])
