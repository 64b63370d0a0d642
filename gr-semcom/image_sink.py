"""image_sink: write image PDUs as PNG files named by image id."""
from __future__ import annotations

import pathlib
import re

import pmt
from gnuradio import gr
from PIL import Image

from gnuradio.semcom import keys, pdus


class image_sink(gr.basic_block):
    def __init__(self, folder=""):
        """Take image PDUs on port ``image``; write ``<folder>/<image_id>.png``
        (``<image_id>#<sample>.png`` for the draws of an image decoded several times).

        folder: where to write ("" writes nothing). ``last_image`` holds the most
        recent image (uint8 (H, W, 3)) and ``last_id`` its id, for display;
        ``arrivals.wait(n, timeout)`` waits for n images.
        """
        gr.basic_block.__init__(self, name="semcom_image_sink", in_sig=None, out_sig=None)
        self.folder = pathlib.Path(folder) if folder else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.last_image = None
        self.last_id = None
        self.arrivals = pdus.Arrivals()
        self.message_port_register_in(pmt.intern("image"))
        self.set_msg_handler(pmt.intern("image"), self.handle_image)

    @pdus.guarded
    def handle_image(self, msg):
        meta, image = pdus.parse_image(msg)
        image_id = str(meta.get(keys.IMAGE_ID, f"image{self.arrivals.count:05d}"))
        if self.folder is not None:
            # an id is free text: keep it a single safe file name
            name = re.sub(r"[^A-Za-z0-9._#-]", "_", image_id)
            if int(meta.get(keys.SAMPLES, 1)) > 1:
                name += f"#{int(meta[keys.SAMPLE])}"
            Image.fromarray(image).save(self.folder / f"{name}.png")
        self.last_image, self.last_id = image, image_id
        self.arrivals.add()
