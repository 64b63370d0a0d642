#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""LDPC codes of the separation baseline: parity-check matrices, gr-fec's encoder,
and a belief-propagation decoder (numpy), with gr-fec's own decoder as an option.

Codes (``CODES``; ``load(name)``, or ``load(path)`` for any alist file of a
parity-check matrix H):

==============  ======  =====  ======  ==================================================
name            n       k      rate    parity-check matrix
==============  ======  =====  ======  ==================================================
``n1800_r12``   1800    902    0.501   gr-fec's ``n_1800_k_0902_gap_28.alist`` (column weight 3)
``n1200_r34``   1200    902    0.752   quasi-cyclic, 3 x 12 circulants of size 100 (column
                                       weight 3, row weight 12, girth 8), built here: no
                                       rate-3/4 matrix ships with gr-fec
``n4440_r23``   4440    2960   0.667   gr-fec's ``PNB2_512_23C1.alist`` (the highest rate it ships)
``n512_r14``    512     130    0.254   gr-fec's ``n_0512_k_0130_gap_21.alist``
==============  ======  =====  ======  ==================================================

gr-fec's matrices are the alist files in ``<GNU Radio prefix>/share/gnuradio/fec/ldpc``.
The rate-3/4 code's H is ``QC_SHIFTS`` (circulant shifts) expanded: 300
checks of weight 12 on 1200 bits of weight 3, of rank 298 (each block row sums
to the all-ones vector); the two dependent rows are the last.

Encoding is gr-fec's C++ ``ldpc_encoder`` (``cldpc``: a generator matrix from H
by Gaussian elimination), run on one frame at a time through the coder's
``generic_work``. Its codewords are systematic; ``Code.info_positions`` says
where the k information bits are (the last k positions for gr-fec's gap-form
files). ``ldpc_par_mtrx_encoder`` gives the same codewords but is 15-30 times slower.

Decoding (``Code.decode``) is sum-product belief propagation in the LLR domain
(tanh rule), flooding schedule, stopping per frame at the first iteration whose
hard decision has a zero syndrome; the frames of a PDU are decoded together, in
batches of about 2^18 edges (48 frames of n1800_r12).
Input LLRs have this package's sign, log P(b=1)/P(b=0) (``demapping``).
A frame whose syndrome is still nonzero after ``max_iterations`` is failed;
its bits are the last hard decision.

gr-fec 3.10's own soft decoder (``fec.ldpc_decoder``, class ``awgn_bp``) is
there as ``Code.decode_grfec`` for comparison. It takes ``x = in`` with positive
meaning 1 and forms the likelihood ratio exp(x / (2 sigma^2)), so with
sigma = 1/sqrt(2) its input is our LLR unchanged. It multiplies likelihood
ratios, not LLRs: once messages pass about |LLR| = 37 (ratios beyond 1e16) a
check's ratio becomes exactly 0 or infinite and NaN spreads through the graph;
every NaN decides 0, and the all-zero word satisfies every check, so gr-fec
stops and reports a "codeword". This happens whenever a frame needs more than a
few iterations with confident LLRs (e.g. 20 wrong bits at |LLR| = 4 in a
1800-bit frame). ``decode_grfec`` decodes a fixed non-zero codeword's coset
(signs of the LLRs flipped where that codeword has a 1), so that a collapse
shows as all-zero output and is reported as a failed frame. gr-fec's decoder
also keeps two dense m x n double matrices of messages (105 MB for n4440_r23),
tests only the first n - k rows of H, and slows down up to 30 times in the
iterations where its ratios underflow to subnormal numbers.
"""
from __future__ import annotations

import ctypes
import math
import os
import pathlib
import tempfile
import threading

import numpy as np
from gnuradio import fec, gr


# name -> alist file in gr-fec's folder ("" for the code built here)
CODES = {
    "n1800_r12": "n_1800_k_0902_gap_28.alist",
    "n1200_r34": "",
    "n4440_r23": "PNB2_512_23C1.alist",
    "n512_r14": "n_0512_k_0130_gap_21.alist",
}
DEFAULT_CODE = "n1800_r12"
ENGINES = ("numpy", "gr-fec")
LLR_CLIP = 50.0  # |LLR| the decoders are given at most
_BATCH_EDGES = 1 << 18  # frames decoded together: about this many edges (messages) at a time
_PHI_MIN = 1e-10  # phi(1e-10) = 23.7: the largest check message magnitude
_GRFEC_SIGMA = 1 / math.sqrt(2)  # exp(x / (2 sigma^2)) = exp(x): gr-fec's input is our LLR


def grfec_ldpc_dir() -> pathlib.Path:
    """Where GNU Radio ships its LDPC alist files."""
    return pathlib.Path(gr.prefix()) / "share" / "gnuradio" / "fec" / "ldpc"


# -- alist files ---------------------------------------------------------------------------
def parse_alist(text: str, source: str = "alist") -> tuple[int, int, np.ndarray, np.ndarray]:
    """(n columns, m rows, row index, column index) of the ones of H in alist format
    (MacKay's: "n m", max weights, column weights, row weights, then the 1-based
    row indices of each column and the column indices of each row; zeros pad)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    try:
        n, m = (int(v) for v in lines[0][:2])
        column_weights = [int(v) for v in lines[2]]
        row_weights = [int(v) for v in lines[3]]
        columns = [[int(v) for v in line if int(v)] for line in lines[4:4 + n]]
        rows_listed = [[int(v) for v in line if int(v)] for line in lines[4 + n:4 + n + m]]
    except (IndexError, ValueError) as error:
        raise ValueError(f"{source} is not an alist file of a parity-check matrix: {error}") from None
    if n <= 0 or m <= 0 or len(columns) != n or len(column_weights) != n or len(row_weights) != m:
        raise ValueError(f"{source}: header says {n} columns and {m} rows, the file lists "
                         f"{len(column_weights)} column weights, {len(row_weights)} row weights, "
                         f"{len(columns)} columns")
    if [len(c) for c in columns] != column_weights:
        raise ValueError(f"{source}: column lists do not have the weights of line 3")
    row = np.concatenate([np.asarray(c, dtype=np.int64) for c in columns]) - 1
    col = np.repeat(np.arange(n), column_weights)
    if row.min() < 0 or row.max() >= m:
        raise ValueError(f"{source}: row index out of 1..{m}")
    if len(rows_listed) == m:  # the row lists, where present, must say the same
        listed = sorted((r, c - 1) for r, cols in enumerate(rows_listed) for c in cols)
        if listed != sorted(zip(row.tolist(), col.tolist())):
            raise ValueError(f"{source}: the row lists do not match the column lists")
    if np.unique(row * n + col).size != row.size:
        raise ValueError(f"{source}: a column lists the same row twice")
    return n, m, row, col


def write_alist(n: int, m: int, row: np.ndarray, col: np.ndarray) -> str:
    """alist text of the n-column, m-row H with ones at (row, col) (0-based)."""
    by_column = [[] for _ in range(n)]
    by_row = [[] for _ in range(m)]
    for r, c in sorted(zip(row.tolist(), col.tolist())):
        by_column[c].append(r + 1)
        by_row[r].append(c + 1)
    lines = [f"{n} {m}", f"{max(map(len, by_column))} {max(map(len, by_row))}",
             " ".join(str(len(v)) for v in by_column), " ".join(str(len(v)) for v in by_row)]
    lines += [" ".join(map(str, v)) for v in by_column + by_row]
    return "\n".join(lines) + "\n"


# Circulant shifts of the rate-3/4 code: block (a, b) of H is the Z x Z identity
# with its columns shifted by QC_SHIFTS[a][b] (row r has its one in column
# (r + shift) mod Z). Found by a greedy search for a Tanner graph without 4- and
# 6-cycles (girth 8); fixed here so that every machine builds the same code.
QC_Z = 100
QC_SHIFTS = ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
             (0, 50, 93, 23, 18, 88, 33, 72, 31, 54, 97, 38),
             (0, 44, 2, 83, 77, 49, 43, 68, 71, 39, 1, 26))


def qc_code(shifts=QC_SHIFTS, z: int = QC_Z) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(n, m, row, col) of the quasi-cyclic H of circulant ``shifts`` (size z).

    All rows are kept (every column has the weight of its block column), but
    the rows that depend on earlier ones are moved to the end: gr-fec's decoder
    tests only the first n - k rows, which then are independent."""
    shifts = np.asarray(shifts)
    rows, cols = [], []
    for (a, b), shift in np.ndenumerate(shifts):
        r = np.arange(z)
        rows.append(a * z + r)
        cols.append(b * z + (r + shift) % z)
    row, col = np.concatenate(rows), np.concatenate(cols)
    n, m = shifts.shape[1] * z, shifts.shape[0] * z
    independent = gf2_pivots(n, m, col, row)  # independent columns of H^T = rows of H
    order = np.r_[independent, np.setdiff1d(np.arange(m), independent)]
    renumber = np.empty(m, dtype=np.int64)
    renumber[order] = np.arange(m)
    return n, m, renumber[row], col


def gf2_pivots(m: int, n: int, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Pivot columns (over GF(2)) of the m x n matrix with ones at (row, col):
    the first columns, from the left, that are independent of those before them.
    Their number is the rank."""
    dense = np.zeros((m, n), dtype=np.uint8)
    dense[row, col] = 1
    packed = np.packbits(dense, axis=1)
    rank, pivots = 0, []
    for bit in range(n):
        byte, mask = bit >> 3, np.uint8(0x80 >> (bit & 7))
        candidates = np.flatnonzero(packed[rank:, byte] & mask)
        if candidates.size == 0:
            continue
        pivot = rank + candidates[0]
        packed[[rank, pivot]] = packed[[pivot, rank]]
        others = np.flatnonzero(packed[:, byte] & mask)
        others = others[others != rank]
        packed[others] ^= packed[rank]
        pivots.append(bit)
        rank += 1
        if rank == m:
            break
    return np.array(pivots, dtype=np.int64)


# -- gr-fec coders on numpy buffers --------------------------------------------------------
_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


def _run_coder(coder, data: np.ndarray, out: np.ndarray) -> None:
    """coder.generic_work(data, out): gr-fec's bindings take the buffers as capsules
    of raw pointers, so the sizes are checked here against the coder's."""
    # encoders take and give bytes; decoders say their item sizes (float in, byte out)
    in_size = coder.get_input_item_size() if hasattr(coder, "get_input_item_size") else 1
    out_size = coder.get_output_item_size() if hasattr(coder, "get_output_item_size") else 1
    if not (data.flags.c_contiguous and out.flags.c_contiguous and data.size >= coder.get_input_size()
            and out.size >= coder.get_output_size() and data.itemsize == in_size and out.itemsize == out_size):
        raise ValueError(f"gr-fec coder needs {coder.get_input_size()} items in, {coder.get_output_size()} out, "
                         f"got {data.size} {data.dtype}, {out.size} {out.dtype}")
    coder.generic_work(_capsule_new(data.ctypes.data, None, None), _capsule_new(out.ctypes.data, None, None))


class _AlistFile:
    """The code's alist as a file path for gr-fec: its own file, or a temporary
    one for a built code (gr-fec reads it in the constructor)."""

    def __init__(self, path: pathlib.Path | None, text: str):
        self.path, self.text = path, text

    def __enter__(self) -> str:
        if self.path is not None:
            return str(self.path)
        handle, self._temp = tempfile.mkstemp(suffix=".alist", prefix="semcom_ldpc_")
        with os.fdopen(handle, "w") as file:
            file.write(self.text)
        return self._temp

    def __exit__(self, *exc) -> None:
        if self.path is None:
            os.unlink(self._temp)


class Code:
    """An LDPC code: its name; H, m x n (m >= n - k), its ones as ``edge_check``
    and ``edge_var`` sorted by check; n, k, rate; ``info_positions`` of the
    information bits in the systematic codewords; gr-fec's encoder."""

    def __init__(self, name: str, alist_text: str, path: pathlib.Path | None = None):
        self.name = name
        n, m, row, col = parse_alist(alist_text, str(path or name))
        self.n, self.m = n, m
        self._alist = _AlistFile(path, alist_text)
        with self._alist as file:
            self._encoder = fec.ldpc_encoder_make(file)
        self.k = self._encoder.get_input_size()
        if self._encoder.get_output_size() != n or not 0 < self.k < n:
            raise ValueError(f"{name}: gr-fec makes a ({self._encoder.get_output_size()}, {self.k}) "
                             f"code of a {m} x {n} parity-check matrix")
        self.rate = self.k / n
        order = np.lexsort((col, row))
        self.edge_check, self.edge_var = row[order], col[order]
        self._check_start = np.flatnonzero(np.r_[True, np.diff(self.edge_check) != 0])
        self._check_degree = np.diff(np.r_[self._check_start, row.size])
        self._by_var = np.argsort(self.edge_var, kind="stable")
        self._var_start = np.flatnonzero(np.r_[True, np.diff(self.edge_var[self._by_var]) != 0])
        if self._check_start.size != m or self._var_start.size != n:
            raise ValueError(f"{name}: H has an empty row or column")
        self._lock = threading.Lock()
        self._grfec_decoders: dict[int, object] = {}
        self.info_positions = self._find_info_positions()
        self._coset_info = np.random.default_rng(1).integers(0, 2, self.k).astype(np.uint8)
        self._coset = self.encode(self._coset_info)[0]

    def __repr__(self) -> str:
        return f"Code({self.name!r}, n={self.n}, k={self.k}, rate={self.rate:.3f})"

    def _find_info_positions(self) -> np.ndarray:
        """Where the encoder puts information bit j, found from random words
        (column i of the codewords equals column j of the words); checks that
        every codeword satisfies H."""
        info = np.random.default_rng(0).integers(0, 2, (64, self.k)).astype(np.uint8)
        coded = self.encode(info)
        if not self.syndrome_ok(coded).all():
            raise ValueError(f"{self.name}: gr-fec's encoder makes words that do not satisfy H")
        keys_info = np.packbits(info, axis=0).T.copy().view(np.uint64).ravel()
        keys_coded = np.packbits(coded, axis=0).T.copy().view(np.uint64).ravel()
        where = {key: i for i, key in reversed(list(enumerate(keys_coded.tolist())))}
        positions = np.array([where.get(key, -1) for key in keys_info.tolist()])
        if (positions < 0).any() or np.unique(positions).size != self.k:
            raise ValueError(f"{self.name}: gr-fec's encoder is not systematic")
        return positions

    def encode(self, info: np.ndarray) -> np.ndarray:
        """(F, k) or (k,) bits -> (F, n) uint8 codewords (gr-fec's encoder, per frame)."""
        info = np.ascontiguousarray(np.asarray(info, dtype=np.uint8).reshape(-1, self.k))
        out = np.empty((info.shape[0], self.n), dtype=np.uint8)
        with self._lock:
            for frame, word in zip(info, out):
                _run_coder(self._encoder, frame, word)
        return out

    def syndrome_ok(self, words: np.ndarray) -> np.ndarray:
        """(F, n) hard bits -> (F,) bool, True where every parity check holds."""
        words = np.asarray(words).reshape(-1, self.n).astype(np.uint8) & 1
        parity = np.bitwise_xor.reduceat(words[:, self.edge_var], self._check_start, axis=1)
        return ~parity.any(axis=1)

    def decode(self, llr: np.ndarray, max_iterations: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sum-product decoding of (F, n) LLRs log P(b=1)/P(b=0).

        Returns (bits (F, k) uint8, ok (F,) bool: zero syndrome, iterations (F,)
        int32: 0 when the hard decision of the input already is a codeword)."""
        llr = np.asarray(llr, dtype=np.float32).reshape(-1, self.n)
        batch = max(1, _BATCH_EDGES // self.edge_var.size)
        parts = [self._decode_batch(llr[i:i + batch], max_iterations) for i in range(0, llr.shape[0], batch)]
        if not parts:
            return np.zeros((0, self.k), np.uint8), np.zeros(0, bool), np.zeros(0, np.int32)
        return tuple(np.concatenate(arrays) for arrays in zip(*parts))

    def _decode_batch(self, llr: np.ndarray, max_iterations: int):
        llr = np.clip(llr.astype(np.float64), -LLR_CLIP, LLR_CLIP)
        frames = llr.shape[0]
        hard = (llr > 0).astype(np.uint8)
        ok = self.syndrome_ok(hard)
        iterations = np.zeros(frames, dtype=np.int32)
        active = np.flatnonzero(~ok)
        channel = llr[active]
        to_check = channel[:, self.edge_var]  # variable-to-check messages, one per edge
        for iteration in range(1, max_iterations + 1):
            if active.size == 0:
                break
            # check nodes: |R| = phi(sum of phi(|Q|) of the other edges), sign = product of their signs
            phi = _phi(np.abs(to_check))
            total_phi = np.add.reduceat(phi, self._check_start, axis=1)
            negative = to_check < 0
            parity = np.bitwise_xor.reduceat(negative, self._check_start, axis=1)
            magnitude = _phi(np.repeat(total_phi, self._check_degree, axis=1) - phi)
            to_var = np.where(np.repeat(parity, self._check_degree, axis=1) ^ negative, -magnitude, magnitude)
            # variable nodes: posterior = channel + all check messages; extrinsic to each check
            posterior = channel + np.add.reduceat(to_var[:, self._by_var], self._var_start, axis=1)
            to_check = posterior[:, self.edge_var] - to_var
            decided = (posterior > 0).astype(np.uint8)
            done = self.syndrome_ok(decided)
            hard[active] = decided
            iterations[active] = iteration
            ok[active] = done
            if done.any():
                keep = ~done
                active, channel, to_check = active[keep], channel[keep], to_check[keep]
        return hard[:, self.info_positions], ok, iterations

    def decode_grfec(self, llr: np.ndarray, max_iterations: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like ``decode``, with gr-fec's ``ldpc_decoder`` (awgn_bp), one frame at a time.

        gr-fec reports only its iteration count; it runs with one spare
        iteration, so that a count <= max_iterations means it stopped on a zero
        syndrome. A frame that collapsed to the all-zero word (see the module
        docstring) is failed, with the hard decision of its LLRs as its bits."""
        llr = np.clip(np.asarray(llr, dtype=np.float32).reshape(-1, self.n), -LLR_CLIP, LLR_CLIP)
        flip = np.where(self._coset == 1, np.float32(-1), np.float32(1))
        bits = np.empty((llr.shape[0], self.k), dtype=np.uint8)
        ok = np.zeros(llr.shape[0], dtype=bool)
        iterations = np.zeros(llr.shape[0], dtype=np.int32)
        with self._lock:
            decoder = self._grfec_decoders.get(max_iterations)
            if decoder is None:
                with self._alist as file:
                    decoder = fec.ldpc_decoder.make(file, _GRFEC_SIGMA, max_iterations + 1)
                self._grfec_decoders[max_iterations] = decoder
            for frame in range(llr.shape[0]):
                word = np.ascontiguousarray(llr[frame] * flip)
                _run_coder(decoder, word, bits[frame])
                count = int(decoder.get_iterations())
                collapsed = not bits[frame].any()
                bits[frame] ^= self._coset_info
                iterations[frame] = min(count, max_iterations)
                ok[frame] = count <= max_iterations and not collapsed
                if collapsed:
                    bits[frame] = llr[frame, self.info_positions] > 0
        return bits, ok, iterations


def _phi(x: np.ndarray) -> np.ndarray:
    """phi(x) = -log(tanh(x / 2)) = log((e^x + 1) / (e^x - 1)), its own inverse on x > 0."""
    x = np.clip(x, _PHI_MIN, 2 * LLR_CLIP)
    return -np.log(np.tanh(0.5 * x))


_codes: dict[str, Code] = {}
_codes_lock = threading.Lock()


def load(code: str) -> Code:
    """The code called ``code`` (a name of ``CODES``, or the path of an alist file,
    then named by its file name), made once per process; ValueError naming the
    known codes otherwise."""
    if not isinstance(code, str) or not code:
        raise ValueError(f"LDPC code must be one of {sorted(CODES)} or an alist file path, got {code!r}")
    with _codes_lock:
        if code not in _codes:
            _codes[code] = _make(code)
        return _codes[code]


def _make(code: str) -> Code:
    file = CODES.get(code)
    if file == "":
        n, m, row, col = qc_code()
        return Code(code, write_alist(n, m, row, col))
    path = grfec_ldpc_dir() / file if file is not None else pathlib.Path(code)
    if not path.is_file():
        if file is not None:
            raise ValueError(f"LDPC code {code!r}: gr-fec's {path} is missing (is gnuradio's gr-fec installed?)")
        raise ValueError(f"unknown LDPC code {code!r}: use one of {sorted(CODES)} or the path of an alist file")
    return Code(code if file is not None else path.name, path.read_text(), path.resolve())
