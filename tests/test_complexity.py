#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""MAC counts of ONNX graphs against counts made by hand, and of the shipped networks."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from gnuradio.semcom import bundle
from semcom_tools import complexity


def weight(name: str, *shape: int):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def test_convolutions_and_products_count_as_by_hand(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Conv", ["a", "w2"], ["b"], group=4),
             helper.make_node("ConvTranspose", ["b", "w3"], ["c"], strides=[2, 2]),
             helper.make_node("Flatten", ["c"], ["d"]),
             helper.make_node("Gemm", ["d", "w4"], ["e"]),
             helper.make_node("MatMul", ["e", "w5"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [weight("w1", 8, 3, 3, 3), weight("w2", 8, 2, 1, 1), weight("w3", 8, 5, 2, 2),
                               weight("w4", 5 * 16 * 16, 7), weight("w5", 7, 2)])
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    # 16x16 input: conv 3x3 stride 2 -> 8x8x8; grouped 1x1 -> 8x8x8; transposed 2x2 stride 2 -> 5x16x16
    expected = (8 * 8 * 8 * 3 * 3 * 3) + (8 * 8 * 8 * 2) + (8 * 8 * 8 * 5 * 2 * 2) + (5 * 16 * 16 * 7) + 7 * 2
    assert complexity.macs(path, {"x": (1, 3, 16, 16)}) == expected
    assert complexity.macs(path, {"x": (2, 3, 16, 16)}) == 2 * expected
    with pytest.raises(ValueError, match="has no input 'image'"):
        complexity.macs(path, {"image": (1, 3, 16, 16)})
    with pytest.raises(ValueError, match="has 4 dimensions, got shape"):
        complexity.macs(path, {"x": (3, 16, 16)})


def test_shipped_kodak_network_costs_what_its_layers_say():
    """deepjscc_bsds_r16 at Kodak's 768x512: 3.89 GMAC to encode, 6.55 to decode (issue 16's
    estimate: encoder 3.9, about 10 in all); a fully convolutional network's cost grows with
    the pixels."""
    model = bundle.Bundle("deepjscc_bsds_r16")
    full = complexity.bundle_macs(model, 512, 768)
    assert full["encoder"] == pytest.approx(3.893e9, rel=1e-3)
    assert full["decoder"] == pytest.approx(6.547e9, rel=1e-3)
    quarter = complexity.bundle_macs(model, 256, 384)
    assert quarter == {role: value // 4 for role, value in full.items()}
