"""GNU Radio's own channel blocks between Symbols to Stream and Stream to Symbols, each
built into examples/standard_channel.grc as a .grc file, compiled with grcc and run
(bench/standard_channels.py does the building, compiling and running): every image
arrives, and with noise only the PSNR is the evaluation harness's at the same SNR."""
import importlib.util
import math
import pathlib
import shutil

import pytest
from PIL import Image

from gnuradio.semcom import images

ROOT = pathlib.Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("grcc") is None, reason="grcc is not installed")

# PSNR floors under fading at 10 dB, 1.5 dB below what these images gave (`python
# bench/standard_channels.py --images <the folder below>`: 22.85, 24.83, 21.25, 17.52 dB)
FADING_FLOORS = {("fading_model (defaults) + noise", "deepjscc_cifar10_r6"): 21.35,
                 ("fading_model (defaults) + noise", "deepjscc_bsds_r16"): 23.3,
                 ("selective_fading_model (defaults) + noise", "deepjscc_cifar10_r6"): 19.75,
                 ("selective_fading_model (defaults) + noise", "deepjscc_bsds_r16"): 16.0}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("standard_channels", ROOT / "bench" / "standard_channels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> pathlib.Path:
    """Two photos at Kodak's 768x512 (73,728 symbols for deepjscc_bsds_r16) and two of odd
    sizes (symbol counts not a multiple of 8: what GNU Radio's adder used to hold back)."""
    folder = tmp_path_factory.mktemp("photos")
    for path, size in zip(images.sample_paths(), ((512, 768), (512, 768), (300, 452), (92, 60))):
        picture, _ = images.load_image(path)
        Image.fromarray(images.fit(picture, "resize", size)).save(folder / f"{path.stem}.png")
    return folder


@pytest.fixture(scope="module")
def rows(bench, photos, tmp_path_factory) -> list[dict]:
    return bench.measure(list(bench.CHANNELS), list(bench.MODELS), [10.0], str(photos),
                         tmp_path_factory.mktemp("standard_channels"))


def test_every_image_arrives_through_every_channel_block(rows, bench):
    assert {(row["channel"], row["model"]) for row in rows} == {(c, m) for c in bench.CHANNELS for m in bench.MODELS}
    for row in rows:
        assert (row["delivered"], row["dropped"]) == (row["sent"], 0) == (4, 0), row


def test_noise_only_psnr_is_the_harness_awgn_links(rows):
    compared = [row for row in rows if not math.isnan(row["harness_db"])]
    assert len(compared) == 12  # wire, multiply_const, channel_model x 3, noise + add; two models
    for row in compared:
        assert abs(row["psnr_db"] - row["harness_db"]) <= 0.2, row


def test_fading_keeps_its_measured_quality(rows):
    for row in rows:
        floor = FADING_FLOORS.get((row["channel"], row["model"]))
        if floor is not None:
            assert row["psnr_db"] > floor, row
