"""torchinfo 1.8.0: ``torchinfo.summary(model, input_size=(1, C, H, W)).total_mult_adds``, the parameters named
``weight`` and ``bias`` of each module times its output positions (or once per sample)."""

from __future__ import annotations

from math import prod

from convcalc.conventions.base import POOLING, RESHAPES, Layer, Rule, Tool, zero
from convcalc.ops.catalogue import ACTIVATIONS, UNARY_MATH
from convcalc.ops.handlers import normalized_shape

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


def torchinfo_norm(layer: Layer) -> dict[str, int]:
    """layernorm, rmsnorm, groupnorm, instancenorm: their parameters (``weight``, ``bias``) once per sample:
    prod(normalised shape) or C each, as the module has them; nothing without ``elementwise_affine``/``affine``."""
    if layer.op in ("layernorm", "rmsnorm"):
        size = prod(normalized_shape(layer.args, layer.input_shape))
        affine = layer.args.get("elementwise_affine", True)
        bias = layer.op == "layernorm" and layer.args.get("bias", True)
    else:
        size = layer.in_channels
        affine = layer.args.get("affine", layer.op == "groupnorm")
        bias = layer.args.get("bias", True)
    return {"normalisation": size * (1 + bias)} if affine else {}


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
    **dict.fromkeys(("layernorm", "rmsnorm", "groupnorm", "instancenorm"), torchinfo_norm),
    "lrn": zero("LocalResponseNorm has no parameters: torchinfo counts parameters named weight and bias only"),
    **dict.fromkeys(("mean", "sum", "amax", "amin", "var", "norm"), zero("x.mean(...), x.sum(...), ... are calls in forward, not modules")),
    **dict.fromkeys(("sub", "div", *UNARY_MATH), zero("x - y, x / y, torch.exp(x), ... are function calls, not "
                                                     "modules: torchinfo sees modules only")),
    "logsoftmax": zero("a module without parameters: torchinfo counts parameters named weight and bias only"),
    **dict.fromkeys(("matmul", "einsum", "attention"), zero("torch.matmul, torch.einsum, F.scaled_dot_product_attention "
                                                           "are calls in forward, not modules")),
    "mha": zero("nn.MultiheadAttention is not a leaf module (it holds out_proj, which its forward never calls) and "
                "total_mult_adds sums leaf modules only: 0, though its summary line shows L x its params"),
    "constant": zero("a registered buffer or a tensor made in forward: no parameter, no module of its own, so no "
                     "mult-adds (torchinfo lists buffers apart from params)"),
    "param": zero("a bare nn.Parameter used in forward: in Total params (the root module's own), but no module's "
                  "weight or bias, so no mult-adds"),
    "interpolate": zero("F.interpolate is a call in forward, not a module"),
    **dict.fromkeys(("unfold", "fold"), zero("nn.Unfold and nn.Fold have no parameters: torchinfo counts parameters "
                                             "named weight and bias only")),
}
