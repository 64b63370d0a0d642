#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The training side never runs a pickle (issue 15, finding 10): a checkpoint or weights file
whose unpickling would run code is refused by --init, resume and export alike."""
import pathlib

import pytest
pytestmark = pytest.mark.training  # needs torch (semcom_train); skipped where torch is absent
torch = pytest.importorskip("torch")

from semcom_train import export, models, runs, train


class Payload:
    """Unpickling this calls pathlib.Path.touch on the marker: code run by a hostile file."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


@pytest.fixture
def hostile(tmp_path) -> tuple[pathlib.Path, pathlib.Path]:
    marker = tmp_path / "payload_ran"
    path = tmp_path / "checkpoint.pt"
    torch.save({"model_name": "deepjscc_cifar10_r6", "model": {}, "args": Payload(marker)}, path)
    return path, marker


def test_init_resume_and_export_refuse_a_pickle_that_runs_code(hostile, tmp_path):
    path, marker = hostile
    model = models.build("deepjscc_cifar10_r6")
    with pytest.raises(Exception, match="Weights only load failed"):
        train.initialise(model, path, "deepjscc_cifar10_r6")
    run = runs.Run(tmp_path, model, "deepjscc_cifar10_r6", 1e-3, 10, {})
    with pytest.raises(Exception, match="Weights only load failed"):
        run.resume()
    with pytest.raises(Exception, match="Weights only load failed"):
        export.main(["--checkpoint", str(path), "--out", str(tmp_path / "bundle")])
    assert not marker.exists()
