#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""ldpc_encoder in a running flowgraph, and the codes of ``ldpc``: frames,
zero padding, metadata, codewords that satisfy H, gr-fec's encoders agreeing,
the codes' sizes and the rate-3/4 code's structure, bad input and bad codes."""
import numpy as np
import pmt
import pytest
from gnuradio import fec

from conftest import logged, run_block
from gnuradio.semcom import keys, ldpc, ldpc_encoder, pdus

SIZES = {"n1800_r12": (1800, 902), "n1200_r34": (1200, 902), "n4440_r23": (4440, 2960), "n512_r14": (512, 130)}


def bits_pdu(n_bits, image_id="a", seed=0):
    bits = np.random.default_rng(seed).integers(0, 2, n_bits).astype(np.uint8)
    return pdus.make({keys.IMAGE_ID: image_id}, bits), bits


def coded(msg):
    return pdus.parse_bits(msg)


def test_frames_padding_and_metadata():
    code = ldpc.load("n1800_r12")
    msg, bits = bits_pdu(2000)
    (out,) = run_block(ldpc_encoder("n1800_r12"), "bits", [msg], "bits", expected=1)
    meta, words = coded(out)
    assert words.size == 3 * 1800  # ceil(2000 / 902) frames
    assert meta == {keys.IMAGE_ID: "a", keys.N_BITS: 5400, keys.LDPC_INFO_BITS: 2000,
                    keys.LDPC_FRAMES: 3, keys.LDPC_CODE: "n1800_r12"}
    words = words.reshape(3, 1800)
    assert code.syndrome_ok(words).all()
    info = words[:, code.info_positions].reshape(-1)
    np.testing.assert_array_equal(info[:2000], bits)
    assert not info[2000:].any()  # the last frame is filled up with zeros
    # gr-fec's gap-form matrices put the information bits last
    np.testing.assert_array_equal(code.info_positions, np.arange(898, 1800))


def test_a_whole_number_of_frames_needs_no_padding():
    msg, bits = bits_pdu(2 * 902)
    (out,) = run_block(ldpc_encoder("n1200_r34"), "bits", [msg], "bits", expected=1)
    meta, words = coded(out)
    code = ldpc.load("n1200_r34")
    assert words.size == 2400 and meta[keys.LDPC_FRAMES] == 2 and meta[keys.LDPC_INFO_BITS] == 1804
    np.testing.assert_array_equal(words.reshape(2, 1200)[:, code.info_positions].reshape(-1), bits)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_every_code_has_its_size_and_encodes_codewords(name):
    code = ldpc.load(name)
    assert (code.n, code.k) == SIZES[name] and code.rate == pytest.approx(SIZES[name][1] / SIZES[name][0])
    # gr-fec's decoder tests only the first n - k rows of H: they must be independent
    first = code.edge_check < code.n - code.k
    rank = ldpc.gf2_pivots(code.n - code.k, code.n, code.edge_check[first], code.edge_var[first]).size
    assert rank == code.n - code.k
    info = np.random.default_rng(1).integers(0, 2, (3, code.k)).astype(np.uint8)
    words = code.encode(info)
    assert words.shape == (3, code.n) and code.syndrome_ok(words).all()
    np.testing.assert_array_equal(words[:, code.info_positions], info)
    flipped = words.copy()
    flipped[:, 7] ^= 1
    assert not code.syndrome_ok(flipped).any()


def test_rate_three_quarter_code_is_regular_with_girth_eight():
    n, m, row, col = ldpc.qc_code()
    assert (n, m) == (1200, 300)
    # rank 298 (each block row sums to all ones), the first 298 rows independent:
    # gr-fec's decoder tests only the first n - k rows
    assert ldpc.gf2_pivots(m, n, row, col).size == 298
    assert ldpc.gf2_pivots(298, n, row[row < 298], col[row < 298]).size == 298
    dense = np.zeros((m, n), dtype=np.int64)
    dense[row, col] = 1
    assert set(dense.sum(axis=0)) == {3} and set(dense.sum(axis=1)) == {12}
    overlap = dense.T @ dense  # two columns sharing two checks make a 4-cycle
    np.fill_diagonal(overlap, 0)
    assert overlap.max() == 1
    # no 6-cycles: without 4-cycles, a triangle of columns (pairwise sharing a check)
    # lies in one check, or is a 6-cycle through three checks
    share = overlap.astype(np.float64)
    triangles = np.trace(share @ share @ share) / 6
    assert triangles == m * (12 * 11 * 10 / 6)
    assert ldpc.parse_alist(ldpc.write_alist(n, m, row, col))[:2] == (n, m)


def test_gr_fec_parity_matrix_encoder_gives_the_same_codewords():
    code = ldpc.load("n1800_r12")
    other = fec.ldpc_par_mtrx_encoder_make(str(ldpc.grfec_ldpc_dir() / "n_1800_k_0902_gap_28.alist"), 28)
    info = np.random.default_rng(4).integers(0, 2, code.k).astype(np.uint8)
    word = np.zeros(code.n, dtype=np.uint8)
    ldpc._run_coder(other, info, word)
    np.testing.assert_array_equal(word, code.encode(info)[0])


def test_any_alist_file_is_a_code_named_by_its_file(tmp_path):
    path = ldpc.grfec_ldpc_dir() / "n_0300_k_0152_gap_03.alist"
    block = ldpc_encoder(str(path))
    assert (block.code.name, block.code.n, block.code.k) == ("n_0300_k_0152_gap_03.alist", 300, 152)
    msg, _ = bits_pdu(200)
    (out,) = run_block(block, "bits", [msg], "bits", expected=1)
    meta, words = coded(out)
    assert meta[keys.LDPC_CODE] == "n_0300_k_0152_gap_03.alist" and words.size == 600


def test_bad_messages_are_logged_and_dropped_and_the_next_is_encoded(capfd):
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "floats"}), pmt.init_f32vector(2, [0.0, 1.0])),
        pdus.make({keys.IMAGE_ID: "twos"}, np.array([0, 1, 2, 1], np.uint8)),
        pmt.cons(pmt.to_pmt({keys.IMAGE_ID: "empty"}), pmt.init_u8vector(0, [])),
    ]
    good, _ = bits_pdu(100, image_id="good")
    out = run_block(ldpc_encoder("n512_r14"), "bits", bad + [good], "bits", expected=1, settle=0.2)
    assert [coded(m)[0][keys.IMAGE_ID] for m in out] == ["good"]
    log = logged(capfd)
    assert "not a PDU" in log
    assert "image floats: bit PDU payload must be a u8vector of 0/1 values" in log
    assert "image twos: bits must be 0 or 1, got 1 other values, e.g. 2" in log
    assert "image empty: bit PDU is empty" in log


def test_constructor_names_unknown_and_broken_codes(tmp_path):
    with pytest.raises(ValueError, match=r"unknown LDPC code 'dvbs2_r12': use one of \['n1200_r34', 'n1800_r12'"):
        ldpc_encoder("dvbs2_r12")
    with pytest.raises(ValueError, match="LDPC code must be one of"):
        ldpc_encoder("")
    broken = tmp_path / "broken.alist"
    broken.write_text("12 6\n3 6\n3 3\n")
    with pytest.raises(ValueError, match="broken.alist is not an alist file of a parity-check matrix"):
        ldpc_encoder(str(broken))
    mismatch = tmp_path / "mismatch.alist"
    mismatch.write_text("2 1\n1 2\n2 1\n2\n1\n1\n1 2\n")
    with pytest.raises(ValueError, match="mismatch.alist: column lists do not have the weights of line 3"):
        ldpc_encoder(str(mismatch))
