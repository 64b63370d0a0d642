"""metrics_sink: PSNR, SSIM and optionally LPIPS, hash agreement and class accuracy of decoded images
against their sources."""
from __future__ import annotations

import collections
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
           "height", "width", "decode_failed", "codec_bytes", "samples", "psnr_min", "psnr_max", "ssim_min",
           "ssim_max", "label", "predicted", "correct")


class metrics_sink(gr.basic_block):
    def __init__(self, snr_db=float("nan"), csv_path="", lpips=False, hash_model="", accuracy=False):
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
        Several draws of one image (metadata samples > 1, jscc_decoder resampling)
        make one row once all have come: psnr_db, ssim, lpips and the hash columns
        are their means, psnr_min / psnr_max and ssim_min / ssim_max their extremes,
        samples their number (1 for a single image).
        accuracy: score the decoder's class_label against the source's label
        (image_source labels): columns label, predicted (the most frequent label
        over the draws) and correct (the fraction of draws that are right). A
        reference without a label, or a decoded image without a class_label, is
        then logged and dropped; a lost image (``score_lost``) counts as wrong. Off,
        the three columns are "".
        ``rows`` holds every row as a dict, ``means()`` the running means.
        """
        gr.basic_block.__init__(self, name="semcom_metrics_sink", in_sig=None, out_sig=None)
        self.snr_db = float(snr_db)
        self.accuracy = bool(accuracy)
        self.lpips = perceptual.LPIPS(threads=1) if lpips else None
        self.hasher = bundle.HashBundle(hash_model, threads=1) if hash_model else None
        if self.hasher is not None:
            self.hasher.session("hash")  # load now, so a bad model fails at construction
        self.rows = []
        self.arrivals = pdus.Arrivals()
        # image_id -> (metadata, image) for references, -> list of them (the draws) for decoded images
        self._waiting = {"reference": {}, "decoded": {}}
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
        """Keep images until the reference and every draw of its decoded image have come, then score them."""
        meta, image = pdus.parse_image(msg)
        image_id = meta.get(keys.IMAGE_ID)
        if image_id is None:
            raise ValueError(f"{port} image has no {keys.IMAGE_ID}")
        if self.accuracy and port == "reference" and keys.LABEL not in meta:
            raise ValueError(f"reference image {image_id} has no {keys.LABEL}: accuracy needs labelled sources "
                             f"(image_source labels)")
        if self.accuracy and port == "decoded" and keys.CLASS_LABEL not in meta:
            raise ValueError(f"decoded image {image_id} has no {keys.CLASS_LABEL}: accuracy needs a model with a "
                             f"classifier")
        with self._lock:
            if port == "reference":
                self._waiting["reference"][image_id] = (meta, image)
            else:
                self._waiting["decoded"].setdefault(image_id, []).append((meta, image))
            reference = self._waiting["reference"].get(image_id)
            draws = self._waiting["decoded"].get(image_id, [])
            if reference is None or not draws or len(draws) < int(draws[0][0].get(keys.SAMPLES, 1)):
                return
            del self._waiting["reference"][image_id], self._waiting["decoded"][image_id]
        self._score(reference, draws)

    def score_lost(self, fallback: int = 128) -> int:
        """Score every reference whose decoded image never came (a burst not received) as a
        mid-grey ``fallback`` image with decode_failed 1; returns how many."""
        with self._lock:
            lost, self._waiting["reference"] = self._waiting["reference"], {}
        for meta, reference in lost.values():
            failed = {**meta, keys.DECODE_FAILED: 1, keys.N_SYMBOLS: ""}
            self._score((meta, reference), [(failed, np.full_like(reference, fallback))])
        return len(lost)

    def _score(self, reference, draws):
        """One row for ``reference`` (metadata, image) and the draws [(metadata, image), ...] of its decoding."""
        reference_meta, reference = reference
        meta, image = draws[0]
        scores = [self._image_scores(reference, decoded) for _, decoded in draws]
        psnrs, ssims = [s["psnr_db"] for s in scores], [s["ssim"] for s in scores]
        row = {
            "image": meta[keys.IMAGE_ID],
            "snr_db": float(meta.get(keys.SNR_DB, self.snr_db)),
            **{key: _mean([s[key] for s in scores]) for key in ("psnr_db", "ssim", "lpips", "hash_cosine",
                                                                  "hash_hamming")},
            "model_id": meta.get(keys.MODEL_ID, ""),
            "n_symbols": meta.get(keys.N_SYMBOLS, ""),
            "height": image.shape[0],
            "width": image.shape[1],
            "decode_failed": meta.get(keys.DECODE_FAILED, ""),
            "codec_bytes": meta.get(keys.CODEC_BYTES, ""),
            "samples": len(draws),
            "psnr_min": min(psnrs), "psnr_max": max(psnrs), "ssim_min": min(ssims), "ssim_max": max(ssims),
            **self._accuracy(reference_meta, [m for m, _ in draws]),
        }
        self.rows.append(row)
        if self._csv is not None:
            self._csv.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
            self._csv_file.flush()
        self.arrivals.add()

    def _image_scores(self, reference, image) -> dict:
        return {"psnr_db": metrics.psnr_db(reference, image), "ssim": metrics.ssim(reference, image),
                "lpips": (self.lpips.distance(reference, image)
                          if self.lpips and min(image.shape[:2]) >= perceptual.MIN_SIDE else ""),
                **self._hash_agreement(reference, image)}

    def _accuracy(self, reference_meta: dict, draw_metas: list[dict]) -> dict:
        label = reference_meta.get(keys.LABEL)
        predicted = [m[keys.CLASS_LABEL] for m in draw_metas if keys.CLASS_LABEL in m]
        if not self.accuracy or label is None:
            return {"label": "", "predicted": "", "correct": ""}
        if not predicted:  # lost (score_lost): nothing was classified
            return {"label": label, "predicted": "", "correct": 0.0}
        return {"label": label, "predicted": collections.Counter(predicted).most_common(1)[0][0],
                "correct": sum(p == label for p in predicted) / len(predicted)}

    def _hash_agreement(self, reference, image) -> dict:
        if self.hasher is None or image.shape[:2] != self.hasher.image_size:
            return {"hash_cosine": "", "hash_hamming": ""}
        source, decoded = self.hasher.hash(reference), self.hasher.hash(image)
        cosine = float(source @ decoded / (np.linalg.norm(source) * np.linalg.norm(decoded) + 1e-12))
        return {"hash_cosine": cosine, "hash_hamming": int(np.count_nonzero((source >= 0) != (decoded >= 0)))}

    def means(self) -> dict:
        """{"psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming", "psnr_min", "psnr_max", "ssim_min",
        "ssim_max", "accuracy" (mean of correct), "count"} over the rows so far, each over the rows
        that have it (NaN when none)."""
        keys_ = ("psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming", "psnr_min", "psnr_max", "ssim_min",
                 "ssim_max")
        means = {key: _mean([r[key] for r in self.rows], math.nan) for key in keys_}
        return {**means, "accuracy": _mean([r["correct"] for r in self.rows], math.nan), "count": len(self.rows)}

    def stop(self):
        if self._csv is not None:
            self._csv_file.flush()
        return True


def _mean(values, empty=""):
    """The mean of the values that are not "" (``empty`` when none are)."""
    present = [v for v in values if v != ""]
    return sum(present) / len(present) if present else empty
