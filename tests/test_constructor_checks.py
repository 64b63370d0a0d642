"""Constructors refuse what would fail later (issue 15, finding 11): card geometry that
divides by zero at the first image, a constellation given by a wrong name or type, a
codebook entry of the wrong shape."""
import json
import shutil

import pytest
from conftest import CIFAR_MODEL

from gnuradio.semcom import bundle, jscc_encoder, qam_mapper, relay_qf, soft_demapper


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
