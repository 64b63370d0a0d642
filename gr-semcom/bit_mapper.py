#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""bit_mapper: bit probability PDU -> bit PDU, by Bernoulli sampling or thresholding."""
from __future__ import annotations

import numpy as np

from . import keys, pdu_block, pdus


def make_bits(probs: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """uint8 0/1 bits of probabilities P(b = 1): b ~ Bernoulli(p) drawn with ``rng``,
    or b = 1[p > 1/2] when ``rng`` is None. ValueError for values outside [0, 1] or NaN."""
    probs = np.asarray(probs, dtype=np.float32).reshape(-1)
    outside = ~((probs >= 0) & (probs <= 1))  # NaN too
    if outside.any():
        raise ValueError(f"probabilities must be in [0, 1]: {np.count_nonzero(outside)} of {probs.size} "
                         f"are not, e.g. {probs[outside][0]}")
    if rng is None:
        return (probs > 0.5).astype(np.uint8)
    # U in [0, 1): p = 0 never gives 1, p = 1 always does
    return (rng.random(probs.size, dtype=np.float32) < probs).astype(np.uint8)


class bit_mapper(pdu_block.pdu_block):
    def __init__(self, seed=0, deterministic=False):
        """Make bit PDUs (port ``bits``) of probability PDUs (port ``probs``).

        seed: 0 draws a fresh seed from the operating system; any other value
        makes the bits reproducible (the same sequence of PDUs gets the same
        bits). deterministic: False samples each bit b ~ Bernoulli(p) (BitSemCom's
        inference, with a numpy Generator); True thresholds, b = 1 when p > 1/2
        (the ablations, or a repeatable link).

        Input: f32vector of probabilities P(b = 1) (bitsemcom_encoder). Output:
        u8vector of as many 0/1 bits; metadata sets n_bits. Values outside [0, 1]
        or NaN, a payload that is not f32, or a metadata n_bits other than the
        vector's length are logged and the PDU dropped.
        """
        pdu_block.pdu_block.__init__(self, "semcom_bit_mapper", {"probs": self.handle_probs}, ("bits",))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0 (0: a fresh seed), got {seed!r}")
        if not isinstance(deterministic, (bool, np.bool_)):
            raise ValueError(f"deterministic must be True or False, got {deterministic!r}")
        self.deterministic = bool(deterministic)
        self.rng = np.random.default_rng(int(seed) if seed else None)

    @pdu_block.takes(pdus.parse_floats, "probability")
    def handle_probs(self, meta, probs):
        """float32 (N,) probabilities -> uint8 (N,) bits on port ``bits``."""
        if pdus.whole(meta, keys.N_BITS, probs.size) != probs.size:
            raise ValueError(f"metadata {keys.N_BITS!r} = {meta[keys.N_BITS]}, but the PDU holds "
                             f"{probs.size} probabilities")
        bits = make_bits(probs, None if self.deterministic else self.rng)
        meta[keys.N_BITS] = int(bits.size)
        self.publish("bits", pdus.make(meta, bits))
