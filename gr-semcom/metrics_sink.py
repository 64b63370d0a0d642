"""metrics_sink: PSNR, SSIM and optionally LPIPS and hash agreement of decoded images against their sources."""
from __future__ import annotations

import csv
import math
import pathlib
import threading

import numpy as np
import pmt
from gnuradio import gr

from gnuradio.semcom import bundle, keys, metrics, pdus
from gnuradio.semcom import lpips as perceptual

COLUMNS = ("image", "snr_db", "psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming", "model_id", "n_symbols",
           "height", "width", "decode_failed", "codec_bytes")


class metrics_sink(gr.basic_block):
    """Match decoded images (port ``decoded``) to sources (port ``reference``) by image_id.

    snr_db: the channel SNR to record (metadata ``snr_db`` wins when present;
    NaN when unknown). csv_path: file to write rows to as they come ("" for
    none); columns image, snr_db, psnr_db, ssim, lpips, model_id, n_symbols,
    height, width, decode_failed, codec_bytes (the last two from the decoded
    image's metadata, set by codec_decoder and codec_encoder; "" when absent).
    lpips: also score LPIPS (AlexNet, ``gnuradio.semcom.lpips``; lower is
    closer; "" for images under 31x31 pixels); construction fails, naming the
    set-up command, when its network is not installed. Off, the column is "".
    hash_model: a DHD hash bundle (``semcom_train.dhd``, e.g. "dhd_cifar10"):
    columns hash_cosine (cosine of the continuous hashes of source and
    decoded image, 1 = aligned) and hash_hamming (bits whose signs differ);
    "" for images not of the hash model's size, or without a hash model.
    ``rows`` holds every row as a dict, ``means()`` the running means.
    """

    def __init__(self, snr_db=float("nan"), csv_path="", lpips=False, hash_model=""):
        gr.basic_block.__init__(self, name="semcom_metrics_sink", in_sig=None, out_sig=None)
        self.snr_db = float(snr_db)
        self.lpips = perceptual.LPIPS(threads=1) if lpips else None
        self.hasher = bundle.HashBundle(hash_model, threads=1) if hash_model else None
        if self.hasher is not None:
            self.hasher.session("hash")  # load now, so a bad model fails at construction
        self.rows = []
        self.arrivals = pdus.Arrivals()
        self._waiting = {"reference": {}, "decoded": {}}  # image_id -> (metadata, image)
        self._lock = threading.Lock()
        self._csv = None
        if csv_path:
            path = pathlib.Path(csv_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._csv_file = open(path, "w", newline="")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=COLUMNS)
            self._csv.writeheader()
        for port, handler in (("reference", self.handle_reference), ("decoded", self.handle_decoded)):
            self.message_port_register_in(pmt.intern(port))
            self.set_msg_handler(pmt.intern(port), handler)

    def set_snr_db(self, snr_db):
        self.snr_db = float(snr_db)

    @pdus.guarded
    def handle_reference(self, msg):
        self._match("reference", msg)

    @pdus.guarded
    def handle_decoded(self, msg):
        self._match("decoded", msg)

    def _match(self, port, msg):
        """Keep the image until its partner from the other port arrives, then score the pair."""
        meta, image = pdus.parse_image(msg)
        image_id = meta.get(keys.IMAGE_ID)
        if image_id is None:
            raise ValueError(f"{port} image has no {keys.IMAGE_ID}")
        other = "decoded" if port == "reference" else "reference"
        with self._lock:
            partner = self._waiting[other].pop(image_id, None)
            if partner is None:
                self._waiting[port][image_id] = (meta, image)
        if partner is not None:
            reference, (decoded_meta, decoded) = ((image, partner) if port == "reference"
                                                  else (partner[1], (meta, image)))
            self._score(reference, decoded_meta, decoded)

    def score_lost(self, fallback: int = 128) -> int:
        """Score every reference whose decoded image never came (a burst not received) as a
        mid-grey ``fallback`` image with decode_failed 1; returns how many."""
        with self._lock:
            lost, self._waiting["reference"] = self._waiting["reference"], {}
        for meta, reference in lost.values():
            self._score(reference, {**meta, keys.DECODE_FAILED: 1, keys.N_SYMBOLS: ""}, np.full_like(reference, fallback))
        return len(lost)

    def _score(self, reference, meta, image):
        row = {
            "image": meta[keys.IMAGE_ID],
            "snr_db": float(meta.get(keys.SNR_DB, self.snr_db)),
            "psnr_db": metrics.psnr_db(reference, image),
            "ssim": metrics.ssim(reference, image),
            "lpips": (self.lpips.distance(reference, image)
                      if self.lpips and min(image.shape[:2]) >= perceptual.MIN_SIDE else ""),
            **self._hash_agreement(reference, image),
            "model_id": meta.get(keys.MODEL_ID, ""),
            "n_symbols": meta.get(keys.N_SYMBOLS, ""),
            "height": image.shape[0],
            "width": image.shape[1],
            "decode_failed": meta.get(keys.DECODE_FAILED, ""),
            "codec_bytes": meta.get(keys.CODEC_BYTES, ""),
        }
        self.rows.append(row)
        if self._csv is not None:
            self._csv.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
            self._csv_file.flush()
        self.arrivals.add()

    def _hash_agreement(self, reference, image) -> dict:
        if self.hasher is None or image.shape[:2] != self.hasher.image_size:
            return {"hash_cosine": "", "hash_hamming": ""}
        source, decoded = self.hasher.hash(reference), self.hasher.hash(image)
        cosine = float(source @ decoded / (np.linalg.norm(source) * np.linalg.norm(decoded) + 1e-12))
        return {"hash_cosine": cosine, "hash_hamming": int(np.count_nonzero((source >= 0) != (decoded >= 0)))}

    def means(self) -> dict:
        """{"psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming", "count"} over the rows
        so far, each over the rows that have it (NaN when none)."""
        def mean(key):
            values = [r[key] for r in self.rows if r[key] != ""]
            return sum(values) / len(values) if values else math.nan
        return {**{key: mean(key) for key in ("psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming")},
                "count": len(self.rows)}

    def stop(self):
        if self._csv is not None:
            self._csv_file.flush()
        return True
