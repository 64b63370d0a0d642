"""image_source emits every image once (or looping), fitted, converted, with ids."""
import time

import numpy as np
import pytest
from gnuradio import blocks, gr
from PIL import Image

from conftest import logged
from gnuradio.semcom import image_source, images, keys, pdus


def _collect(source, expected, timeout=20.0, settle=0.0):
    top = gr.top_block()
    debug = blocks.message_debug()
    top.msg_connect((source, "image"), (debug, "store"))
    top.start()
    deadline = time.monotonic() + timeout
    while debug.num_messages() < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(settle)
    top.stop()
    top.wait()
    return [pdus.parse_image(debug.get_message(i)) for i in range(debug.num_messages())]


def test_emits_each_file_once_with_unique_ids_at_full_size(photo_dir):
    source = image_source(str(photo_dir), policy="full")
    out = _collect(source, 3, settle=0.2)
    names = sorted(p.stem for p in photo_dir.iterdir())
    assert [m[keys.IMAGE_ID] for m, _ in out] == [f"{i:05d}_{n}" for i, n in enumerate(names)]
    for (meta, image), name in zip(out, names):
        expected, _ = images.load_image(photo_dir / f"{name}.png")
        np.testing.assert_array_equal(image, expected)
        assert meta[keys.SOURCE].endswith(f"{name}.png")


@pytest.mark.parametrize("policy", ["resize", "crop", "pad"])
def test_fits_to_a_fixed_size_model(photo_dir, cifar_model, policy):
    out = _collect(image_source(str(photo_dir), model=str(cifar_model), policy=policy), 3)
    assert [image.shape for _, image in out] == [(32, 32, 3)] * 3


def test_explicit_size_and_glob_and_list(photo_dir):
    files = sorted(photo_dir.glob("*.png"))
    source = image_source(f"{files[0]},{photo_dir}/c*.png", policy="crop", size=(20, 30))
    out = _collect(source, 3, settle=0.2)  # astronaut, then chelsea and coffee from the glob
    assert len(out) == 3 and all(image.shape == (20, 30, 3) for _, image in out)


def test_loop_and_rate(photo_dir):
    source = image_source(str(photo_dir), policy="full", loop=True, rate=50.0)
    started = time.monotonic()
    out = _collect(source, 7)
    assert len(out) >= 7 and time.monotonic() - started >= 6 / 50.0
    ids = [m[keys.IMAGE_ID] for m, _ in out]
    assert len(set(ids)) == len(ids)


def test_converts_grayscale_rgba_and_16_bit_and_skips_corrupt_files(tmp_path, capfd):
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    Image.fromarray(gray, "L").save(tmp_path / "a_gray.png")
    rgba = np.zeros((12, 10, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "b_rgba.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "c_16bit.png")
    (tmp_path / "d_corrupt.png").write_bytes(b"\x89PNG not really")
    out = _collect(image_source(str(tmp_path), policy="full"), 3, settle=0.3)
    assert len(out) == 3 and all(image.shape == (12, 10, 3) for _, image in out)
    np.testing.assert_array_equal(out[0][1][..., 1], gray)
    assert out[1][1][0, 0].tolist() == [100, 0, 0]  # 200 * 128/255, composited on black
    np.testing.assert_array_equal(out[2][1][..., 0], gray)
    log = logged(capfd)
    assert "skipped" in log and "d_corrupt.png" in log and "alpha composited" in log


def test_impossible_parameters_raise(tmp_path, cifar_model, kodak_model):
    with pytest.raises(FileNotFoundError, match="no images found"):
        image_source(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="choose policy resize, crop or pad"):
        image_source("samples", model=str(cifar_model), policy="full")
    with pytest.raises(ValueError, match="rate must be >= 0"):
        image_source("samples", rate=-1)
    with pytest.raises(ValueError, match="policy 'stretch'"):
        image_source("samples", policy="stretch", size=(8, 8))
    with pytest.raises(ValueError, match="size must be"):
        image_source("samples", policy="crop", size=(0, 8))
    assert image_source("samples", model=str(kodak_model)).count == len(images.sample_paths())


def test_labels_from_the_file_name_prefix_or_the_folder(tmp_path):
    folder = tmp_path / "ship"
    folder.mkdir()
    picture = np.full((8, 8, 3), 50, np.uint8)
    for name in ("cat_0001.png", "dog_0002.png"):
        Image.fromarray(picture).save(folder / name)
    by_prefix = _collect(image_source(str(folder), policy="full", labels="file_prefix"), 2, settle=0.2)
    assert [meta[keys.LABEL] for meta, _ in by_prefix] == ["cat", "dog"]
    by_folder = _collect(image_source(str(folder), policy="full", labels="folder"), 2, settle=0.2)
    assert [meta[keys.LABEL] for meta, _ in by_folder] == ["ship", "ship"]
    unlabelled = _collect(image_source(str(folder), policy="full"), 2, settle=0.2)
    assert all(keys.LABEL not in meta for meta, _ in unlabelled)
    with pytest.raises(ValueError, match="labels 'name' is not one of"):
        image_source(str(folder), policy="full", labels="name")
