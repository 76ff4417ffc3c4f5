"""fvcore 0.1.5.post20221221: ``fvcore.nn.FlopCountAnalysis(model.eval(), x).total()``, a handle per traced aten op
(conv, linear, batch norm, adaptive average pooling, upsampling); every other op is ignored or unsupported."""

from __future__ import annotations

from math import prod

from convcalc.conventions.base import RESHAPES, Layer, Rule, Tool, zero
from convcalc.ops.catalogue import ACTIVATIONS, UNARY_MATH
from convcalc.ops.handlers import parse_einsum

TOOL = Tool("fvcore", "0.1.5.post20221221", "flops", "fvcore.nn.FlopCountAnalysis(model.eval(), x).total()")


def fvcore_conv(layer: Layer) -> dict[str, int]:
    """``conv_flop_jit`` on ``aten::_convolution``: prod(weight shape) x output positions; bias ignored."""
    return {"conv weights": layer.out_positions * layer.weights}


def fvcore_deconv(layer: Layer) -> dict[str, int]:
    """``conv_flop_jit``, transposed: prod(weight shape) x *input* positions (as ours); bias ignored."""
    return {"conv weights": layer.in_positions * layer.weights}


def fvcore_linear(layer: Layer) -> dict[str, int]:
    """``linear_flop_jit`` on ``aten::linear``: prod(input shape) x out (all rows); bias ignored."""
    return {"linear": layer.in_elements * layer.out_channels}


def fvcore_bn(layer: Layer) -> dict[str, int]:
    """``batchnorm_flop_jit``: in eval mode input elements x (2 with ``affine``, else 1). Without running statistics
    ``F.batch_norm`` runs in training mode even in eval, and fvcore then counts x5 (affine) or x4. (A model left in
    training mode is counted x5 everywhere: convcalc assumes ``model.eval()``.)"""
    affine = layer.args.get("affine", True)
    if layer.args.get("track_running_stats", True):
        return {"normalisation": layer.in_elements * (2 if affine else 1)}
    return {"normalisation": layer.in_elements * (5 if affine else 4)}


def fvcore_adaptive_avgpool(layer: Layer) -> dict[str, int]:
    """``aten::adaptive_avg_pool2d``: input elements x 1. Only the 2-D op has a handle: 1-D and 3-D adaptive average
    pooling are unsupported ops, counted 0 (with a warning)."""
    return {"pooling": layer.in_elements} if len(layer.input_shape) == 3 else {}


FVCORE_UPSAMPLE = {"nearest": 1, "bilinear": 4}  # aten::upsample_nearest2d, aten::upsample_bilinear2d


def fvcore_upsample(layer: Layer) -> dict[str, int]:
    """``aten::upsample_nearest2d``: output elements x 1; ``aten::upsample_bilinear2d``: x 4. Other modes and
    1-D or 3-D upsampling are unsupported ops: 0."""
    if len(layer.input_shape) != 3:
        return {}
    return {"other": layer.out_elements * FVCORE_UPSAMPLE.get(layer.args.get("mode", "nearest"), 0)}


def fvcore_interpolate(layer: Layer) -> dict[str, int]:
    """What ``F.interpolate`` runs: 2-D nearest ``aten::upsample_nearest2d`` (output elements) and bilinear
    ``aten::upsample_bilinear2d`` (x 4) as for upsample; 2-D area ``aten::adaptive_avg_pool2d`` (input elements);
    every other mode and rank (``aten::_upsample_nearest_exact2d``, ``aten::upsample_bicubic2d``, 1-D and 3-D ops)
    has no handle: 0."""
    if len(layer.input_shape) != 3:
        return {}
    mode = layer.args.get("mode", "nearest")
    if mode == "area":
        return {"pooling": layer.in_elements}
    return {"other": layer.out_elements * FVCORE_UPSAMPLE.get(mode, 0)} if mode in FVCORE_UPSAMPLE else {}


def fvcore_norm(layer: Layer) -> dict[str, int]:
    """``norm_flop_counter`` on ``aten::layer_norm``, ``aten::group_norm``, ``aten::instance_norm``: input elements
    x 5 with a weight (``elementwise_affine``/``affine``; a bias alone changes nothing), else x 4 -- in eval mode
    too, even when an instance norm uses its running statistics."""
    affine = layer.args.get("elementwise_affine" if layer.op == "layernorm" else "affine", layer.op != "instancenorm")
    return {"normalisation": layer.in_elements * (5 if affine else 4)}


def fvcore_matmul(layer: Layer) -> dict[str, int]:
    """``matmul_flop_jit`` on ``aten::matmul``: prod(first operand's shape) x m, the shape as passed (not broadcast
    to the output's leading axes: a broadcast first operand is counted once)."""
    return {"linear": prod(layer.input_shapes[0]) * layer.input_shapes[1][-1]}


def fvcore_einsum(layer: Layer) -> dict[str, int]:
    """``einsum_flop_jit`` on ``aten::einsum`` of the exported equation (a batch letter first): letters renamed by
    first appearance, ``abc,abd->acd`` is n c t p and ``abc,adc->adb`` n t g c from the operands' shapes; any other
    equation is numpy's "optimal" ``einsum_path`` FLOP count / 2, floored: the product of every letter's size, x2
    when a letter is summed away (contracted or summed in one operand), so halved without one (a product)."""
    operands, out, sizes = parse_einsum(layer.args["equation"], list(layer.input_shapes))
    text = "Z" + operands[0] + ",Z" + operands[1] + "->Z" + out
    order = {letter: chr(97 + i) for i, letter in enumerate(dict.fromkeys(c for c in text if c.isalpha()))}
    form = "".join(order.get(c, c) for c in text)
    a, b = ((1, *shape) for shape in layer.input_shapes)
    if form == "abc,abd->acd":
        return {"linear": prod(a) * b[-1]}
    if form == "abc,adc->adb":
        return {"linear": prod(a) * b[1]}
    everything = prod(sizes.values())
    summed = any(letter not in out for letter in sizes)
    return {"linear": everything if summed else everything // 2}


def fvcore_mha(layer: Layer) -> dict[str, int]:
    """The ``aten::linear`` handles of nn.MultiheadAttention's projections (input elements x out, bias ignored): q, k
    and v (one packed linear, or one each) and the output; its attention (``aten::scaled_dot_product_attention``)
    and ``add_bias_kv``'s ``aten::cat`` have no handle."""
    q, k, v = (layer.input_shapes * 3)[:3] if len(layer.input_shapes) == 1 else (
        layer.input_shapes[0], layer.input_shapes[1], layer.input_shapes[-1])  # fmt: skip
    embed = q[-1]
    return {"linear": (2 * prod(q) + prod(k) + prod(v)) * embed}


RULES: dict[str, Rule] = {
    "conv": fvcore_conv,
    "deconv": fvcore_deconv,
    "linear": fvcore_linear,
    "bn": fvcore_bn,
    "adaptive_avgpool": fvcore_adaptive_avgpool,
    "global_avgpool": fvcore_adaptive_avgpool,  # exported as AdaptiveAvgPoolNd(1)
    "upsample": fvcore_upsample,
    **dict.fromkeys(
        ("maxpool", "avgpool", "adaptive_maxpool", "global_maxpool", "prelu", "softmax", *ACTIVATIONS),
        zero("no handle for the aten op (aten::relu and aten::relu_ are ignored, the others reported unsupported)"),
    ),
    "add": zero("aten::add and aten::add_ have no handle (reported unsupported)"),
    "mul": zero("aten::mul has no handle (reported unsupported)"),
    **dict.fromkeys(RESHAPES, zero("ignored or unsupported aten op (flatten, dropout, cat, constant_pad_nd, reflection_pad2d, permute, "
                                          "reshape, pixel_shuffle, channel_shuffle, slice, roll, expand)")),
    **dict.fromkeys(("layernorm", "groupnorm", "instancenorm"), fvcore_norm),
    "rmsnorm": zero("aten::rms_norm has no handle (reported unsupported)"),
    "lrn": zero("F.local_response_norm traces to aten::mul, constant_pad_nd, avg_pool3d, add, pow, div: no handles"),
    **dict.fromkeys(("mean", "sum", "amax", "amin", "var", "norm"), zero("aten::mean, sum, amax, amin, var, linalg_vector_norm have no handle")),
    "sub": zero("aten::sub and aten::rsub have no handle (reported unsupported)"),
    "div": zero("aten::div (and aten::reciprocal, aten::mul for a constant over x) have no handle"),
    **dict.fromkeys(UNARY_MATH, zero("aten::exp, log, sqrt, rsqrt, pow, neg, abs, reciprocal, square, sign have no "
                                     "handle (reported unsupported); aten::clamp is ignored")),
    "constant": zero("a buffer read, or aten::zeros / aten::arange made in forward: no handle, no flops"),
    "param": zero("aten::movedim and aten::expand have no handle (fvcore's flops count no parameters)"),
    "logsoftmax": zero("aten::log_softmax has no handle (reported unsupported)"),
    "matmul": fvcore_matmul,
    "einsum": fvcore_einsum,
    "attention": zero("aten::scaled_dot_product_attention has no handle (reported unsupported)"),
    "mha": fvcore_mha,
    "interpolate": fvcore_interpolate,
    **dict.fromkeys(("unfold", "fold"), zero("aten::im2col and aten::col2im have no handle (reported unsupported)")),
}
