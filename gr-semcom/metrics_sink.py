#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""metrics_sink: PSNR, SSIM and optionally LPIPS, hash agreement and class accuracy of decoded images
against their sources."""
from __future__ import annotations

import collections
import csv
import math
import pathlib
import threading

import numpy as np

from . import bundle, keys, metrics, pdu_block, pdus
from . import lpips as perceptual

COLUMNS = ("image", "snr_db", "psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming", "model_id", "n_symbols",
           "height", "width", "decode_failed", "codec_bytes", "samples", "psnr_min", "psnr_max", "ssim_min",
           "ssim_max", "label", "predicted", "correct")


# the columns means() averages over every row, and "accuracy" (the mean of column correct)
_MEANS = ("psnr_db", "ssim", "lpips", "hash_cosine", "hash_hamming", "psnr_min", "psnr_max", "ssim_min", "ssim_max",
          "accuracy")
_SCORED_IDS = 10000  # ids remembered as scored, to drop decoded images that come again


class metrics_sink(pdu_block.pdu_block):
    def __init__(self, snr_db=float("nan"), csv_path="", lpips=False, hash_model="", accuracy=False,
                 keep_rows=10000, max_waiting_mb=1024.0, done_port=False):
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
        keep_rows: how many of the latest rows ``rows`` keeps in memory (the CSV has all
        of them; ``means()`` and ``count`` cover all of them), so that a flowgraph can run
        for days. max_waiting_mb: the most memory the images waiting for their match may
        take; beyond it the oldest is dropped with a log line naming its id.

        done_port: acknowledge each scored row on the output port ``done`` (a PDU with
        its image_id; connect it to image_source's ``done`` to pace the source; also
        ``add_done_port()``).

        Nothing is dropped silently: a reference that comes again before its match
        replaces the first, a draw that comes again or a decoded image whose id was just
        scored is dropped, each with a log line, and ``stop`` logs the ids still unmatched.
        ``rows`` holds the latest ``keep_rows`` rows as dicts, ``means()`` the running means.
        """
        pdu_block.pdu_block.__init__(self, "semcom_metrics_sink", {"reference": self.handle_reference,
                                                                   "decoded": self.handle_decoded})
        self.snr_db = float(snr_db)
        self.accuracy = bool(accuracy)
        self.lpips = perceptual.LPIPS(threads=1) if lpips else None
        self.hasher = bundle.HashBundle(hash_model, threads=1) if hash_model else None
        if self.hasher is not None:
            self.hasher.session("hash")  # load now, so a bad model fails at construction
        if int(keep_rows) < 0:
            raise ValueError(f"keep_rows must be >= 0, got {keep_rows}")
        if not float(max_waiting_mb) > 0:
            raise ValueError(f"max_waiting_mb must be > 0, got {max_waiting_mb}")
        self._rows = collections.deque(maxlen=int(keep_rows))
        self._sums = {key: [0.0, 0] for key in _MEANS}  # key -> [sum, rows that have it], over every row
        self.count = 0  # rows scored
        self.arrivals = pdus.Arrivals()
        # image_id -> (metadata, image) for references, -> list of them (the draws) for decoded images
        self._waiting = {"reference": {}, "decoded": {}}
        # (port, image_id) -> bytes held, oldest first: what a full budget drops first
        self._held: collections.OrderedDict = collections.OrderedDict()
        self._held_bytes, self._max_held_bytes = 0, int(float(max_waiting_mb) * 2 ** 20)
        # ids scored lately: a decoded image that comes again is dropped, not held for a later reference
        self._scored: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        self._csv = None
        if csv_path:
            path = pathlib.Path(csv_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._csv_file = open(path, "w", newline="")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=COLUMNS)
            self._csv.writeheader()
        self._done = pdus.DonePort(self)
        if done_port:
            self.add_done_port()

    def add_done_port(self) -> None:
        """Publish each row scored on the output port ``done`` (``pdus.DonePort``), for
        image_source's window; before start."""
        self._done.add()

    def set_snr_db(self, snr_db):
        self.snr_db = float(snr_db)

    @property
    def rows(self) -> list[dict]:
        """The latest ``keep_rows`` rows, oldest first (a copy)."""
        with self._lock:
            return list(self._rows)

    @property
    def keep_rows(self) -> int:
        return self._rows.maxlen

    def keep_latest(self, keep_rows: int) -> None:
        """Keep the latest ``keep_rows`` rows from now on (those kept so far stay, up to that many)."""
        if int(keep_rows) < 0:
            raise ValueError(f"keep_rows must be >= 0, got {keep_rows}")
        with self._lock:
            self._rows = collections.deque(self._rows, maxlen=int(keep_rows))

    @pdu_block.takes(pdus.parse_image)
    def handle_reference(self, meta, image):
        self._match("reference", meta, image)

    @pdu_block.takes(pdus.parse_image)
    def handle_decoded(self, meta, image):
        self._match("decoded", meta, image)

    def _match(self, port: str, meta: dict, image: np.ndarray):
        """Keep uint8 (H, W, 3) images until the reference and every draw of its decoded image
        have come, then score them."""
        image_id = meta.get(keys.IMAGE_ID)
        if image_id is None:
            raise ValueError(f"{port} image has no {keys.IMAGE_ID}")
        if not isinstance(image_id, (str, int)):
            raise ValueError(f"{port} image's {keys.IMAGE_ID} must be a string, got {type(image_id).__name__}")
        if self.accuracy and port == "reference" and pdus.text(meta, keys.LABEL) is None:
            raise ValueError(f"reference image {image_id} has no {keys.LABEL}: accuracy needs labelled sources "
                             f"(image_source labels)")
        if self.accuracy and port == "decoded" and pdus.text(meta, keys.CLASS_LABEL) is None:
            raise ValueError(f"decoded image {image_id} has no {keys.CLASS_LABEL}: accuracy needs a model with a "
                             f"classifier")
        if port == "decoded":  # what scoring reads, checked before the image is held: bad metadata drops it alone
            pdus.whole(meta, keys.SAMPLE)
            pdus.whole(meta, keys.SAMPLES)
            pdus.real(meta, keys.SNR_DB)
        with self._lock:
            if not self._hold(port, image_id, meta, image):
                return
            reference = self._waiting["reference"].get(image_id)
            draws = self._waiting["decoded"].get(image_id, [])
            if reference is None or not draws or len(draws) < int(draws[0][0].get(keys.SAMPLES, 1)):
                return
            self._release("reference", image_id)
            self._release("decoded", image_id)
            self._scored[image_id] = None
            if len(self._scored) > _SCORED_IDS:
                self._scored.popitem(last=False)
        self._score(reference, draws)

    def _hold(self, port: str, image_id, meta: dict, image) -> bool:
        """Keep an image until its match comes; False (logged) when it is a duplicate to drop. Holds the lock."""
        if port == "reference":
            if image_id in self._waiting["reference"]:
                self.logger.warn(f"reference image {image_id} came again before its decoded image: the earlier "
                                 f"reference is replaced")
                self._release("reference", image_id)
            self._waiting["reference"][image_id] = (meta, image)
        else:
            draws = self._waiting["decoded"].get(image_id, [])
            if not draws and image_id in self._scored and image_id not in self._waiting["reference"]:
                self.logger.warn(f"decoded image {image_id} came again after it was scored: dropped (a duplicate "
                                 f"must not wait for, and be scored against, a later reference)")
                return False
            sample = meta.get(keys.SAMPLE, 0)
            if any(m.get(keys.SAMPLE, 0) == sample for m, _ in draws):
                self.logger.warn(f"decoded image {image_id} (draw {sample}) came twice before it was scored: "
                                 f"the second is dropped")
                return False
            self._waiting["decoded"].setdefault(image_id, []).append((meta, image))
        size = image.nbytes
        self._held[(port, image_id)] = self._held.get((port, image_id), 0) + size
        self._held_bytes += size
        while self._held_bytes > self._max_held_bytes and len(self._held) > 1:
            old_port, old_id = next(iter(self._held))
            self.logger.error(f"{old_port} image {old_id} dropped unmatched: the images waiting for their match "
                              f"passed max_waiting_mb {self._max_held_bytes / 2 ** 20:g} MiB")
            self._release(old_port, old_id)
        return (port, image_id) in self._held

    def _release(self, port: str, image_id) -> None:
        """Forget the images held for ``image_id`` on ``port``. Holds the lock."""
        self._waiting[port].pop(image_id, None)
        self._held_bytes -= self._held.pop((port, image_id), 0)

    def score_lost(self, fallback: int = 128) -> int:
        """Score every reference whose decoded image never came (a burst not received) as a
        mid-grey ``fallback`` image with decode_failed 1; returns how many."""
        with self._lock:
            lost = dict(self._waiting["reference"])
            for image_id in lost:
                self._release("reference", image_id)
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
            "snr_db": pdus.real(meta, keys.SNR_DB, self.snr_db),
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
        with self._lock:
            self._rows.append(row)
            self.count += 1
            for key, total in self._sums.items():
                value = row[key if key != "accuracy" else "correct"]
                if value != "":
                    total[0] += value
                    total[1] += 1
        if self._csv is not None:
            self._csv.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
            self._csv_file.flush()
        self.arrivals.add()
        self._done.acknowledge(row["image"])

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
        "ssim_max", "accuracy" (mean of correct), "count"} over every row so far (running sums: the
        rows ``rows`` no longer keeps count), each over the rows that have it (NaN when none)."""
        with self._lock:
            means = {key: total / n if n else math.nan for key, (total, n) in self._sums.items()}
            return {**means, "count": self.count}

    def waiting(self) -> dict:
        """{"reference": [ids], "decoded": [ids]}: the images still waiting for their match."""
        with self._lock:
            return {port: list(held) for port, held in self._waiting.items()}

    def stop(self):
        # what is still unmatched is lost unless a runner scores it (score_lost): say which
        for port, ids in self.waiting().items():
            if ids:
                other = "decoded image" if port == "reference" else "reference"
                self.logger.warn(f"at stop, {len(ids)} {port} image{'s' if len(ids) > 1 else ''} had no {other}: "
                                 f"{_ids(ids)}")
        if self._csv is not None:
            self._csv_file.flush()
        return True


def _ids(ids: list, shown: int = 20) -> str:
    """Image ids for a log line: the first ``shown`` of them and how many more."""
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(str(i) for i in ids[:shown]) + more


def _mean(values, empty=""):
    """The mean of the values that are not "" (``empty`` when none are)."""
    present = [v for v in values if v != ""]
    return sum(present) / len(present) if present else empty
