"""image_sink writes one PNG per image, named by id, and keeps the last."""
import numpy as np
from PIL import Image

from conftest import image_pdu, run_block
from gnuradio.semcom import image_sink


def test_writes_png_per_image_named_by_id(tmp_path):
    sink = image_sink(str(tmp_path / "out"))
    pictures = [np.full((8, 12, 3), v, np.uint8) for v in (10, 200)]
    msgs = [image_pdu(pictures[0], "00000_a"), image_pdu(pictures[1], "00001_b/../c")]
    run_block(sink, "image", msgs, done=lambda: sink.arrivals.count >= 2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00000_a.png", "00001_b_.._c.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "00000_a.png")), pictures[0])
    np.testing.assert_array_equal(sink.last_image, pictures[1])
    assert sink.last_id == "00001_b/../c"


def test_without_folder_keeps_last_image_only(tmp_path):
    sink = image_sink("")
    run_block(sink, "image", [image_pdu(np.zeros((4, 4, 3), np.uint8), "x")], done=lambda: sink.arrivals.count)
    assert sink.last_id == "x" and sink.last_image.shape == (4, 4, 3)
