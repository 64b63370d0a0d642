#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Constructors refuse what would fail later (issue 15, finding 11): card geometry that
divides by zero at the first image, a constellation given by a wrong name or type, a
codebook entry of the wrong shape."""
import json
import shutil

import pytest
from conftest import CIFAR_MODEL

from gnuradio.semcom import bundle, burst_tx, jscc_encoder, qam_mapper, relay_qf, soft_demapper
from semcom_tools import flowgraphs


@pytest.fixture
def card_copy(tmp_path):
    """A copy of the CIFAR-10 model and a function that rewrites its card."""
    copy = tmp_path / "model"
    shutil.copytree(CIFAR_MODEL, copy)
    card = json.loads((copy / "card.json").read_text())

    def rewrite(**changes):
        (copy / "card.json").write_text(json.dumps({**card, **changes}))
        return copy
    return rewrite


@pytest.mark.parametrize("changes, message", [
    ({"downsampling": 0}, "downsampling must be > 0, got 0"),
    ({"downsampling": -4}, "downsampling must be > 0, got -4"),
    ({"latent_channels": 0}, "latent_channels must be > 0, got 0"),
    ({"image_size": [32, 0]}, r"image_size must be \[height, width\] or null, got \[32, 0\]"),
    ({"qf_codebooks": "codebooks.npz"}, 'card key qf_codebooks must be {"file"'),
])
def test_impossible_cards_fail_at_construction(card_copy, changes, message):
    model = card_copy(**changes)
    with pytest.raises(bundle.ModelError, match=message):
        if "qf_codebooks" in changes:
            relay_qf(str(model), 4, 1.0)
        else:
            jscc_encoder(str(model))


def test_constellations_by_name_or_refused_clearly():
    assert qam_mapper("qpsk").constellation.bits_per_symbol == 2
    assert soft_demapper("16qam_gray", noise_var=0.1).constellation.bits_per_symbol == 4
    with pytest.raises(ValueError, match="unknown constellation 'qpsx'; give a digital.constellation or one of bpsk"):
        qam_mapper("qpsx")
    with pytest.raises(ValueError, match="constellation must be a digital.constellation or a modulation name, got int"):
        soft_demapper(3, noise_var=0.1)


@pytest.mark.parametrize("snr_db", [float("nan"), float("inf"), -float("inf")])
def test_a_link_refuses_an_snr_that_is_not_finite(snr_db):
    """NaN noise made every image be dropped by the decoder; the link now refuses it."""
    with pytest.raises(ValueError, match="snr_db must be a finite number of dB"):
        flowgraphs.analog_point_to_point(str(CIFAR_MODEL), snr_db=snr_db)
    link = flowgraphs.analog_point_to_point(str(CIFAR_MODEL), snr_db=10.0)
    with pytest.raises(ValueError, match="snr_db must be a finite number of dB"):
        link.set_snr_db(snr_db)


@pytest.mark.parametrize("amplitude", [float("nan"), float("inf"), 0.0])
def test_burst_tx_refuses_an_amplitude_that_is_not_a_finite_positive_number(amplitude):
    with pytest.raises(ValueError, match="amplitude > 0, got .*" + str(amplitude)):
        burst_tx(amplitude=amplitude)
