#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""How much arithmetic a network costs: multiply-accumulates (MACs) of an ONNX graph at given
input shapes, counted from its convolutions and matrix products (the rest of a JSCC network,
activations, normalisation and reshapes, is a few operations per value, under 1 % of it).

    macs(path, {"image": (1, 3, 512, 768)})          # one ONNX file
    bundle_macs(model_bundle, 512, 768)              # {"encoder": ..., "decoder": ...}, one image

Shapes come from ONNX's shape inference with the inputs' symbolic sizes made concrete.
"""
from __future__ import annotations

import math

import onnx
from onnx import shape_inference

COUNTED = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def _shape(value_info) -> tuple[int, ...] | None:
    dims = value_info.type.tensor_type.shape.dim
    return tuple(d.dim_value for d in dims) if dims and all(d.HasField("dim_value") for d in dims) else None


def macs(path, input_shapes: dict[str, tuple[int, ...]]) -> int:
    """MACs of one run of the ONNX model at ``path`` with inputs of ``input_shapes`` (name ->
    shape). ValueError when an input is not named, or a counted node's shapes cannot be inferred."""
    model = onnx.load(str(path))
    inputs = {i.name: i for i in model.graph.input}
    for name, shape in input_shapes.items():
        if name not in inputs:
            raise ValueError(f"{path} has no input {name!r} (inputs: {', '.join(inputs)})")
        dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) != len(shape):
            raise ValueError(f"input {name!r} of {path} has {len(dims)} dimensions, got shape {shape}")
        for dim, size in zip(dims, shape):
            dim.Clear()
            dim.dim_value = size
    inferred = shape_inference.infer_shapes(model, data_prop=True).graph
    shapes = {v.name: _shape(v) for v in (*inferred.input, *inferred.value_info, *inferred.output)}
    shapes.update({t.name: tuple(t.dims) for t in inferred.initializer})
    total = 0
    for node in inferred.node:
        if node.op_type not in COUNTED:
            continue
        known = [shapes.get(name) for name in (*node.input[:2], node.output[0])]
        if any(shape is None for shape in known):
            raise ValueError(f"{path}: cannot infer the shapes of {node.op_type} node {node.name!r}")
        first, second, out = known
        if node.op_type == "Conv":  # each output value: one dot product over (C_in / groups) x kernel
            total += math.prod(out) * math.prod(second[1:])
        elif node.op_type == "ConvTranspose":  # each input value: scattered over C_out / groups x kernel
            total += math.prod(first) * math.prod(second[1:])
        else:  # MatMul, Gemm: each output value is a dot product over the shared dimension
            transposed = node.op_type == "Gemm" and any(a.name == "transA" and a.i for a in node.attribute)
            total += math.prod(out) * (first[-2] if transposed else first[-1])
    return total


def bundle_macs(model_bundle, height: int, width: int) -> dict[str, int]:
    """MACs per image of a DeepJSCC bundle's single-hop encoder and decoder at ``height`` x
    ``width`` pixels (the encoder's padded size, the decoder's latent)."""
    padded = model_bundle.padded_size(height, width)
    channels, latent_height, latent_width = model_bundle.latent_shape(height, width)
    files = model_bundle.card["files"]
    return {"encoder": macs(model_bundle.path / files["encoder"], {"image": (1, 3, *padded)}),
            "decoder": macs(model_bundle.path / files["decoder"],
                            {"latent": (1, channels, latent_height, latent_width)})}
