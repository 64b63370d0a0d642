#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""ldpc_decoder in a running flowgraph, and ``ldpc``'s decoders: exact decoding
of clean and noisy frames, the information bits trimmed, per-frame success in
the metadata, gr-fec's decoder agreeing with ours until its likelihood ratios
saturate, failed frames reported, bad input and bad parameters."""
import math

import numpy as np
import pmt
import pytest

from conftest import logged, run_block
from gnuradio.semcom import keys, ldpc, ldpc_decoder, pdus


def bpsk_llrs(words, ebn0_db, rate, rng):
    """LLRs log P(1)/P(0) of codewords sent as BPSK (bit 1 -> +1) over AWGN at Eb/N0."""
    sigma2 = 1 / (2 * rate * 10 ** (ebn0_db / 10))
    received = (2.0 * words - 1) + rng.normal(size=words.shape) * math.sqrt(sigma2)
    return (2 * received / sigma2).astype(np.float32)


def soft_pdu(code, n_info, ebn0_db=None, image_id="a", seed=0, **extra):
    """(soft-bit PDU as the encoder + demapper would send it, information bits)."""
    rng = np.random.default_rng(seed)
    frames = -(-n_info // code.k)
    info = np.zeros((frames, code.k), dtype=np.uint8)
    info.reshape(-1)[:n_info] = rng.integers(0, 2, n_info)
    words = code.encode(info)
    llr = (np.where(words == 1, 8.0, -8.0).astype(np.float32) if ebn0_db is None
           else bpsk_llrs(words, ebn0_db, code.rate, rng))
    meta = {keys.IMAGE_ID: image_id, keys.N_BITS: int(words.size), keys.LDPC_CODE: code.name,
            keys.LDPC_INFO_BITS: n_info, keys.LDPC_FRAMES: frames, **extra}
    return pdus.make(meta, llr.reshape(-1)), info.reshape(-1)[:n_info]


def decoded(msg):
    return pdus.parse_bits(msg)


def test_clean_frames_decode_and_the_padding_is_dropped():
    code = ldpc.load("n1800_r12")
    msg, bits = soft_pdu(code, 2000)
    (out,) = run_block(ldpc_decoder("n1800_r12"), "soft_bits", [msg], "bits", expected=1)
    meta, got = decoded(out)
    np.testing.assert_array_equal(got, bits)
    assert meta[keys.N_BITS] == 2000 and meta[keys.IMAGE_ID] == "a"
    np.testing.assert_array_equal(meta[keys.LDPC_FRAME_OK], [1, 1, 1])
    assert meta[keys.LDPC_FRAME_OK].dtype == np.uint8 and meta[keys.LDPC_FAILED_FRAMES] == 0
    np.testing.assert_array_equal(meta[keys.LDPC_ITERATIONS], [0, 0, 0])  # already codewords


@pytest.mark.parametrize("engine", ldpc.ENGINES)
def test_noisy_frames_above_the_threshold_decode(engine):
    code = ldpc.load("n1200_r34")
    msg, bits = soft_pdu(code, 6 * 902, ebn0_db=4.0, seed=3)
    (out,) = run_block(ldpc_decoder("n1200_r34", engine=engine), "soft_bits", [msg], "bits", expected=1)
    meta, got = decoded(out)
    np.testing.assert_array_equal(got, bits)
    assert meta[keys.LDPC_FAILED_FRAMES] == 0
    assert (meta[keys.LDPC_ITERATIONS] > 0).all()  # the channel made errors that BP corrected


def test_without_info_bits_metadata_all_frames_come_out():
    code = ldpc.load("n512_r14")
    msg, bits = soft_pdu(code, 2 * 130)
    meta = {key: value for key, value in pmt.to_python(pmt.car(msg)).items() if key != keys.LDPC_INFO_BITS}
    (out,) = run_block(ldpc_decoder("n512_r14"), "soft_bits", [pmt.cons(pmt.to_pmt(meta), pmt.cdr(msg))],
                       "bits", expected=1)
    np.testing.assert_array_equal(decoded(out)[1], bits)


def test_numpy_and_gr_fec_decoders_agree_where_gr_fec_does_not_saturate():
    code = ldpc.load("n1800_r12")
    rng = np.random.default_rng(8)
    info = rng.integers(0, 2, (12, code.k)).astype(np.uint8)
    llr = bpsk_llrs(code.encode(info), 1.5, code.rate, rng)  # at the threshold: some frames fail
    ours = code.decode(llr, 30)
    theirs = code.decode_grfec(llr, 30)
    assert 0 < ours[1].sum() < 12  # a mix of decoded and failed frames
    # the same algorithm (sum-product, flooding): same decisions, same iteration counts
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_array_equal(ours[2], theirs[2])
    np.testing.assert_array_equal(ours[0][ours[1]], theirs[0][theirs[1]])
    np.testing.assert_array_equal(ours[0][ours[1]], info[ours[1]])


def test_gr_fec_collapse_is_reported_as_a_failed_frame():
    code = ldpc.load("n1800_r12")
    info = np.random.default_rng(0).integers(0, 2, (1, code.k)).astype(np.uint8)
    llr = np.where(code.encode(info) == 1, 5.0, -5.0).astype(np.float32)
    llr[0, :20] *= -1  # 20 confident errors: gr-fec's likelihood ratios overflow
    bits, ok, _ = code.decode(llr)
    assert ok.all() and (bits == info).all()
    bits, ok, _ = code.decode_grfec(llr)
    assert not ok.any()  # gr-fec stops on the all-zero word; reported, not passed off as decoded


@pytest.mark.parametrize("engine", ldpc.ENGINES)
def test_frames_that_cannot_decode_are_reported_failed(engine):
    code = ldpc.load("n512_r14")
    msg, bits = soft_pdu(code, 3 * 130 - 7, ebn0_db=-6.0, seed=1)
    (out,) = run_block(ldpc_decoder("n512_r14", max_iterations=10, engine=engine), "soft_bits", [msg], "bits",
                       expected=1)
    meta, got = decoded(out)
    assert got.size == 383 and meta[keys.N_BITS] == 383
    np.testing.assert_array_equal(meta[keys.LDPC_FRAME_OK], [0, 0, 0])
    assert meta[keys.LDPC_FAILED_FRAMES] == 3
    np.testing.assert_array_equal(meta[keys.LDPC_ITERATIONS], [10, 10, 10])
    assert 0.2 < np.mean(got != bits) < 0.6


def test_bad_messages_are_logged_and_dropped_and_the_next_is_decoded(capfd):
    code = ldpc.load("n512_r14")
    good, bits = soft_pdu(code, 200, image_id="good")
    meta = pmt.to_python(pmt.car(good))
    llr = np.array(pmt.f32vector_elements(pmt.cdr(good)), np.float32)
    nan = llr.copy()
    nan[3] = np.inf
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "bytes"}), pmt.init_u8vector(2, [0, 1])),
        pdus.make({**meta, keys.IMAGE_ID: "short"}, llr[:-1]),
        pdus.make({**meta, keys.IMAGE_ID: "inf"}, nan),
        pdus.make({**meta, keys.IMAGE_ID: "other_code", keys.LDPC_CODE: "n1800_r12"}, llr),
        pdus.make({**meta, keys.IMAGE_ID: "too_many", keys.LDPC_INFO_BITS: 261}, llr),
        pdus.make({**meta, keys.IMAGE_ID: "too_few", keys.LDPC_INFO_BITS: 130}, llr),
    ]
    out = run_block(ldpc_decoder("n512_r14"), "soft_bits", bad + [good], "bits", expected=1, settle=0.2)
    assert [decoded(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    np.testing.assert_array_equal(decoded(out[0])[1], bits)
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image bytes: soft-bit PDU payload must be an f32vector of LLRs" in log
    assert "image short: 1023 LLRs are not a whole number of n512_r14 codewords of 512 bits" in log
    assert "image inf: soft-bit PDU holds 1 NaN or Inf values" in log
    assert "image other_code: PDU was encoded with LDPC code 'n1800_r12', this decoder's is 'n512_r14'" in log
    assert "image too_many: metadata 'ldpc_info_bits' = 261 does not fit 2 frames of 130 information bits" in log
    assert "image too_few: metadata 'ldpc_info_bits' = 130 does not fit 2 frames" in log


def test_constructor_refuses_bad_parameters():
    with pytest.raises(ValueError, match="unknown LDPC code 'wifi'"):
        ldpc_decoder("wifi")
    for value in (0, 2.5, True):
        with pytest.raises(ValueError, match="max_iterations must be an integer >= 1"):
            ldpc_decoder(max_iterations=value)
    with pytest.raises(ValueError, match=r"engine must be one of \('numpy', 'gr-fec'\)"):
        ldpc_decoder(engine="min-sum")
