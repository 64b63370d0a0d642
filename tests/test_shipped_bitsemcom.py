"""Shipped BitSemCom models through the GNU Radio digital link, against floors measured here.

One model, several constellations without retraining: QPSK (what it was trained
with) and Gray 16QAM (half the channel uses). Floors are about 0.5 dB under what
the shipped bundles measured on 20 CIFAR-10 test images (2 per class), seed 1.
"""
import pytest

from gnuradio.semcom import bundle, flowgraphs, images

# measured on 2026-11-22: 23.38, 23.69, 23.18 and 21.24 dB
FLOORS = {  # (model, constellation, channel, SNR dB) -> PSNR floor in dB
    ("bitsemcom_cifar10", "qpsk", "awgn", 3.0): 22.9,
    ("bitsemcom_cifar10", "16qam_gray", "awgn", 10.0): 23.2,
    ("bitsemcom_cifar10_uniform", "qpsk", "awgn", 3.0): 22.7,
    ("bitsemcom_cifar10_rayleigh", "qpsk", "rayleigh", 3.0): 20.7,
}


@pytest.mark.parametrize("model,constellation,channel,snr_db", sorted(FLOORS))
def test_shipped_bitsemcom_quality(model, constellation, channel, snr_db):
    try:
        paths = images.resolve_paths("cifar10-test:2")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    graph = flowgraphs.digital_point_to_point(bundle.resolve(model), [str(p) for p in paths],
                                              constellation=constellation, channel=channel, snr_db=snr_db)
    rows = graph.run_images(timeout=120)
    assert len(rows) == 20
    assert sum(r["psnr_db"] for r in rows) / len(rows) > FLOORS[(model, constellation, channel, snr_db)]
