#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The model card schema (gnuradio.semcom.card): every shipped card follows it, wrong cards are
refused with the file and the key named, and measured results are stored in one shape."""
from __future__ import annotations

import json
import math

import pytest

from gnuradio.semcom import bundle, card

SHIPPED = bundle.shipped_models()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_card_follows_the_schema(name):
    path = bundle.models_dir() / name / "card.json"
    shipped = card.read(path)
    assert card.validate(shipped, path) is shipped
    assert shipped["schema_version"] == card.SCHEMA_VERSION
    # written by card.write: schema order, two-space indent, one trailing newline
    assert path.read_text() == json.dumps(card.ordered(shipped), indent=2) + "\n"


def test_every_method_has_a_schema_and_its_runtime_keys_are_in_it():
    assert set(card.FIELDS) == set(card.METHODS) == set(card.RUNTIME)
    for method, keys in card.RUNTIME.items():
        assert set(keys) <= set(card.FIELDS[method]), method


@pytest.fixture
def cifar_card():
    path = bundle.models_dir() / "deepjscc_cifar10_r6" / "card.json"
    return card.read(path)


@pytest.mark.parametrize("change, message", [
    ({"schema_version": 1}, f"schema_version must be {card.SCHEMA_VERSION}, got 1"),
    ({"schema_version": None}, "key 'schema_version' missing or not an int"),
    ({"method": "vscc"}, "method must be one of"),
    ({"latent_channels": "16"}, "key 'latent_channels' missing or not an int, got '16'"),
    ({"latent_channels": True}, "key 'latent_channels' missing or not an int, got True"),
    ({"downsampling": 0}, "downsampling must be > 0, got 0"),
    ({"image_size": [32]}, r"image_size must be \[height, width\] or null, got \[32\]"),
    ({"train_snr_db": [20.0, 0.0]}, r"train_snr_db must be \[low, high\] numbers, got \[20.0, 0.0\]"),
    ({"files": {"encoder": 3}}, "files must be role -> file name"),
    ({"fully_convolutional": True}, "fully_convolutional must be False"),
    ({"colour": "blue"}, "key 'colour' is not in the deepjscc card schema"),
    ({"measured": {"x": {"images": "kodak", "command": "c", "analog/awgn": {}}}},
     "measured.x.images must be a list of image set names"),
    ({"measured": {"x": {"images": ["kodak"], "command": "c", "psnr_db": {"1": 20.0}}}},
     "'psnr_db' is not a '<modulation>/<channel>' key"),
    ({"measured": {"x": {"images": ["kodak"], "command": "c", "analog/awgn": {"psnr_db": {"high": 20.0}}}}},
     "measured.x.analog/awgn.psnr_db must map SNRs in dB"),
])
def test_wrong_cards_are_refused_naming_the_file_and_the_key(cifar_card, change, message, tmp_path):
    path = tmp_path / "card.json"
    with pytest.raises(card.CardError, match=message) as refused:
        card.validate({**cifar_card, **change}, path)
    assert str(refused.value).startswith(str(path))
    with pytest.raises(card.CardError, match=message):
        card.write(path, {**cifar_card, **change})
    assert not path.exists()  # nothing written


@pytest.mark.parametrize("key", ["model_id", "architecture", "files", "hops", "loss", "steps", "train_command"])
def test_a_card_missing_a_required_key_is_refused(cifar_card, key, tmp_path):
    with pytest.raises(card.CardError, match=f"key '{key}' missing"):
        card.validate({k: v for k, v in cifar_card.items() if k != key}, tmp_path / "card.json")


def test_a_fixed_size_bitsemcom_card_needs_its_bit_count():
    path = bundle.models_dir() / "bitsemcom_cifar10" / "card.json"
    fixed = card.read(path)
    with pytest.raises(card.CardError, match="n_bits must be given for a fixed-size model"):
        card.validate({**fixed, "n_bits": None}, path)


def test_reading_refuses_what_is_not_a_json_object(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("{not json")
    with pytest.raises(card.CardError, match="card.json is not valid JSON"):
        card.read(path)
    path.write_text("[1, 2]")
    with pytest.raises(card.CardError, match="card.json is not a JSON object"):
        card.read(path)


def test_the_runtime_reads_a_minimal_card_and_refuses_a_newer_schema(tmp_path):
    minimal = {"model_id": "m", "method": "deepjscc", "files": {}}
    card.check_runtime(minimal, tmp_path)
    with pytest.raises(card.CardError, match=f"schema_version {card.SCHEMA_VERSION + 1} is not one this gr-semcom reads"):
        card.check_runtime({**minimal, "schema_version": card.SCHEMA_VERSION + 1}, tmp_path)
    with pytest.raises(card.CardError, match="key 'files' missing or not a dict"):
        card.check_runtime({"model_id": "m", "method": "deepjscc"}, tmp_path)


def test_record_results_round_trips_in_the_one_shape(cifar_card, tmp_path):
    path = card.write(tmp_path / "card.json", cifar_card)
    rows = [{"link": "qpsk/awgn", "snr_db": 3.0, "psnr_db": 24.9871, "ssim": 0.712345, "lpips": None,
             "channel_uses": 512.04},
            {"link": "qpsk/awgn", "snr_db": -3.0, "psnr_db": 20.0, "ssim": math.nan, "channel_uses": 512.04},
            {"link": "analog/awgn/knowledge_base", "snr_db": 10.5, "psnr_db": 30.0, "accuracy": 0.53}]
    record = card.record_results(path, "kodak_test", rows, "python -m x --update-card kodak_test", ["kodak"],
                                 n_images=24)
    assert record == {"images": ["kodak"], "command": "python -m x --update-card kodak_test", "n_images": 24,
                      "qpsk/awgn": {"psnr_db": {"3": 24.99, "-3": 20.0}, "ssim": {"3": 0.7123}, "channel_uses": 512.0},
                      "analog/awgn/knowledge_base": {"psnr_db": {"10.5": 30.0}, "accuracy": {"10.5": 0.53}}}
    written = card.read(path)
    assert card.validate(written, path)["measured"]["kodak_test"] == record
    assert written["measured"]["cifar10_test"] == cifar_card["measured"]["cifar10_test"]  # others kept
    assert path.read_text().endswith("}\n")
    # a second measurement under the same key replaces the first
    card.record_results(path, "kodak_test", rows[:1], "again", ["kodak"])
    assert set(card.read(path)["measured"]["kodak_test"]) == {"images", "command", "qpsk/awgn"}


def test_writing_puts_the_keys_in_schema_order(cifar_card, tmp_path):
    shuffled = dict(reversed(list(cifar_card.items())))
    path = card.write(tmp_path / "card.json", shuffled)
    assert list(json.loads(path.read_text())) == [k for k in card.FIELDS["deepjscc"] if k in cifar_card]
