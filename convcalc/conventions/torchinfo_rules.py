"""torchinfo 1.8.0: ``torchinfo.summary(model, input_size=(1, C, H, W)).total_mult_adds``, the parameters named
``weight`` and ``bias`` of each module times its output positions (or once per sample)."""

from __future__ import annotations

from convcalc.conventions.base import POOLING, RESHAPES, Layer, Rule, Tool, zero
from convcalc.ops.catalogue import ACTIVATIONS

TOOL = Tool("torchinfo", "1.8.0", "mult-adds", "torchinfo.summary(model, input_size=(1, C, H, W)).total_mult_adds")


def torchinfo_conv(layer: Layer) -> dict[str, int]:
    """``LayerInfo.calculate_macs``, class name containing "Conv" (ConvNd and ConvTransposeNd alike): every
    parameter named ``weight`` or ``bias`` times the output positions, batch x prod(output spatial). A transposed
    conv is thus counted per *output* position: output positions x C_in x (C_out/g) x prod(k), plus C_out biases
    per output position."""
    counts = {"conv weights": layer.out_positions * layer.weights}
    if layer.bias:
        counts["bias"] = layer.out_positions * layer.out_channels
    return counts


def torchinfo_linear(layer: Layer) -> dict[str, int]:
    """Any other module: ``weight`` and ``bias`` parameter counts times ``output_size[0]`` (the batch), so a linear
    layer costs in x out + out per sample however many rows it applies to (a linear layer on (N, L, C) counts one
    row, not L)."""
    counts = {"linear": layer.in_channels * layer.out_channels}
    if layer.bias:
        counts["bias"] = layer.out_channels
    return counts


def torchinfo_bn(layer: Layer) -> dict[str, int]:
    """Batch norm: its parameters (weight, bias: 2C) once per sample; nothing without ``affine``."""
    return {"normalisation": 2 * layer.in_channels} if layer.args.get("affine", True) else {}


def torchinfo_prelu(layer: Layer) -> dict[str, int]:
    """PReLU: its ``weight`` (1 or C slopes) once per sample."""
    return {"activation": layer.args.get("num_parameters", 1)}


RULES: dict[str, Rule] = {
    "conv": torchinfo_conv,
    "deconv": torchinfo_conv,
    "linear": torchinfo_linear,
    "bn": torchinfo_bn,
    "prelu": torchinfo_prelu,
    **dict.fromkeys(
        ("softmax", "upsample", *ACTIVATIONS, *POOLING, *RESHAPES),
        zero("a module without parameters: torchinfo counts parameters named weight and bias only"),
    ),
    "add": zero("x + y is a function call, not a module: torchinfo sees modules only"),
    "mul": zero("x * y is a function call, not a module: torchinfo sees modules only"),
}
