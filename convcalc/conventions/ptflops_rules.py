"""ptflops 0.7.5: ``get_model_complexity_info(model, (C, H, W), as_strings=False)[0]`` with its default backend,
``pytorch``, and functional counting on (its README says ``aten`` is the default, its code does not): a hook per
module in ``MODULES_MAPPING`` plus the patched functionals its ``forward`` calls."""

from __future__ import annotations

from math import prod

from convcalc.conventions.base import POOLING, RESHAPES, Layer, Rule, Tool, zero
from convcalc.ops.catalogue import ACTIVATIONS, UNARY_MATH

TOOL = Tool(
    "ptflops",
    "0.7.5",
    "MACs",
    "ptflops.get_model_complexity_info(model, (C, H, W), as_strings=False, backend='pytorch')[0]",
)


def ptflops_conv(layer: Layer) -> dict[str, int]:
    """``conv_flops_counter_hook``: prod(k) x C_in x (C_out/g) per output position, plus one add per output
    element for the bias."""
    counts = {"conv weights": layer.out_positions * layer.weights}
    if layer.bias:
        counts["bias"] = layer.out_elements
    return counts


def ptflops_deconv(layer: Layer) -> dict[str, int]:
    """``conv_flops_counter_hook(transpose=True)``: the weights per *input* position (as ours), plus one add per
    output element for the bias."""
    counts = {"conv weights": layer.in_positions * layer.weights}
    if layer.bias:
        counts["bias"] = layer.out_elements
    return counts


def ptflops_linear(layer: Layer) -> dict[str, int]:
    """``linear_flops_counter_hook``: (in x out + out) per row, every row of a (..., in) input."""
    counts = {"linear": layer.in_positions * layer.in_channels * layer.out_channels}
    if layer.bias:
        counts["bias"] = layer.in_positions * layer.out_channels
    return counts


def ptflops_bn(layer: Layer) -> dict[str, int]:
    """``bn_flops_counter_hook``: input elements, x2 with ``affine``."""
    return {"normalisation": layer.in_elements * (2 if layer.args.get("affine", True) else 1)}


def ptflops_activation(times: int) -> Rule:
    """A rule counting ``times`` x the elements."""

    def rule(layer: Layer) -> dict[str, int]:
        return {"activation": times * layer.in_elements}

    rule.__doc__ = (
        f"{times} x the elements: ``relu_flops_counter_hook`` (output elements) on ReLU, PReLU, ELU, LeakyReLU, "
        "ReLU6 and GELU modules, plus the patched functional (input elements) when the module's forward calls "
        "F.relu, F.prelu, F.elu, F.gelu, F.silu or F.softmax. So ReLU, PReLU, ELU, GELU: 2; LeakyReLU, ReLU6 "
        "(F.hardtanh): 1, module only; SiLU, Softmax: 1, functional only."
    )
    return rule


PTFLOPS_ACTIVATIONS = {"relu": 2, "prelu": 2, "elu": 2, "gelu": 2, "leakyrelu": 1, "relu6": 1, "silu": 1, "swish": 1,
                       "softmax": 1}  # fmt: skip


def ptflops_pool(layer: Layer) -> dict[str, int]:
    """``pool_flops_counter_hook`` (input elements) on every Max/Avg/AdaptiveMax/AdaptiveAvg pooling module, plus
    the patched functional ``F.max_pool2d``, ``F.adaptive_avg_pool2d``, ... (input elements) that its ``forward``
    calls: 2 x input elements (of the padded input when the padding is uneven: see ``Layer.torch_in_elements``)."""
    return {"pooling": 2 * layer.torch_in_elements}


def ptflops_upsample(layer: Layer) -> dict[str, int]:
    """``upsample_flops_counter_hook`` (output elements) plus the patched ``F.interpolate`` (input elements x the
    scale factors = output elements): 2 x output elements, whatever the mode."""
    return {"other": 2 * layer.out_elements}


def ptflops_interpolate(layer: Layer) -> dict[str, int]:
    """The patched ``F.interpolate`` (no module): with a size, N x C x prod(size) = output elements; with a scale
    (exported one per axis), input elements x the product of the scales each truncated to an integer (numpy's
    ``prod(..., dtype=int64)``: by 1.5 counts 1 per input, by 0.5 counts 0). Area mode adds the patched
    ``F.adaptive_avg_poolNd`` it calls: input elements."""
    scale = layer.args.get("scale")
    if scale is None:
        counts = {"other": layer.out_elements}
    else:
        scales = scale if isinstance(scale, list) else [scale] * (len(layer.input_shape) - 1)
        counts = {"other": layer.in_elements * prod(int(s) for s in scales)}
    if layer.args.get("mode") == "area":
        counts["pooling"] = layer.in_elements
    return counts


def ptflops_norm(layer: Layer) -> dict[str, int]:
    """``bn_flops_counter_hook`` on LayerNorm, GroupNorm and InstanceNormNd: input elements, x2 when the module has
    an ``affine`` attribute that is true -- GroupNorm's and InstanceNorm's ``affine``; LayerNorm has none (it
    calls it ``elementwise_affine``), so a layer norm is input elements either way."""
    affine = layer.op != "layernorm" and layer.args.get("affine", layer.op == "groupnorm")
    return {"normalisation": layer.in_elements * (2 if affine else 1)}


def ptflops_lrn(layer: Layer) -> dict[str, int]:
    """No hook for LocalResponseNorm, but its ``F.local_response_norm`` calls three patched functions on
    elementwise tensors -- ``input.mul(input)``, ``.mul(alpha)``, ``.add(k)``: 3 x input elements -- and
    ``F.avg_pool2d``/``avg_pool3d`` on the squares padded to C + size - 1 channels: (C + size - 1) x positions."""
    size = layer.args["size"]
    return {"normalisation": 3 * layer.in_elements + (layer.in_channels + size - 1) * layer.in_positions}


def ptflops_matmul(layer: Layer) -> dict[str, int]:
    """The patched ``torch.matmul``: ``_matmul_tensor_flops_hook``, prod(first operand's shape as passed) x m."""
    return {"linear": prod(layer.input_shapes[0]) * layer.input_shapes[1][-1]}


def ptflops_mha(layer: Layer) -> dict[str, int]:
    """``multihead_attention_counter_hook`` (the module's hook; inside, F.linear and F.scaled_dot_product_attention
    are not patched), from the inputs' lengths and features (qdim = E, kdim, vdim): q scaling qlen x E; projections
    qlen E^2 + klen kdim^2 + vlen vdim^2 (sic: the key's and value's own features squared); in_proj_bias (qlen +
    klen + vlen) x E; per head qlen klen (E/h + 1 + vdim//h); the output qlen x vdim x (vdim + 1), "bias always
    enabled". add_bias_kv and add_zero_attn are not seen."""
    q, k, v = (layer.input_shapes * 3)[:3] if len(layer.input_shapes) == 1 else (
        layer.input_shapes[0], layer.input_shapes[1], layer.input_shapes[-1])  # fmt: skip
    (qlen, qdim), (klen, kdim), (vlen, vdim) = q, k, v
    heads = layer.args["heads"]
    counts = {
        "linear": qlen * qdim * qdim + klen * kdim * kdim + vlen * vdim * vdim + qlen * vdim * vdim,
        "bias": qlen * vdim + ((qlen + klen + vlen) * qdim if layer.args.get("bias", True) else 0),
        "other": qlen * qdim + heads * qlen * klen * (qdim // heads + 1 + vdim // heads),
    }
    return counts


RULES: dict[str, Rule] = {
    "conv": ptflops_conv,
    "deconv": ptflops_deconv,
    "linear": ptflops_linear,
    "bn": ptflops_bn,
    **dict.fromkeys(
        (op for op in ACTIVATIONS if op not in PTFLOPS_ACTIVATIONS),
        zero("neither a module in MODULES_MAPPING nor a patched functional (sigmoid, tanh, selu, mish, ...)"),
    ),
    **{op: ptflops_activation(times) for op, times in PTFLOPS_ACTIVATIONS.items()},
    **dict.fromkeys(POOLING, ptflops_pool),
    "upsample": ptflops_upsample,
    "add": zero("x + y calls Tensor.__add__ (or __iadd__ for +=), not the patched torch.add / Tensor.add"),
    "mul": zero("x * y calls Tensor.__mul__, not the patched torch.mul / Tensor.mul"),
    **dict.fromkeys(RESHAPES, zero("not in MODULES_MAPPING, no patched functional")),
    **dict.fromkeys(("layernorm", "groupnorm", "instancenorm"), ptflops_norm),
    "rmsnorm": zero("RMSNorm is not in MODULES_MAPPING and F.rms_norm is not patched"),
    "lrn": ptflops_lrn,
    **dict.fromkeys(("mean", "sum", "amax", "amin", "var", "norm"), zero("Tensor.mean, sum, amax, amin, var and torch.linalg.vector_norm are not patched")),
    "sub": zero("x - y calls Tensor.__sub__ (or __rsub__), not a patched function"),
    "div": zero("x / y calls Tensor.__truediv__ (or __rtruediv__), not a patched function"),
    **dict.fromkeys(UNARY_MATH, zero("torch.exp, log, sqrt, rsqrt, pow, neg, abs, clamp, reciprocal, square, sign: "
                                     "no module, not patched")),
    "constant": zero("no module, no patched function (a buffer is in no params count)"),
    "param": zero("no module, no patched function (its params count includes it: it sums model.parameters())"),
    "logsoftmax": zero("LogSoftmax is not in MODULES_MAPPING and F.log_softmax is not patched"),
    "matmul": ptflops_matmul,
    "einsum": zero("torch.einsum is not patched"),
    "attention": zero("F.scaled_dot_product_attention is not patched"),
    "mha": ptflops_mha,
    "interpolate": ptflops_interpolate,
    **dict.fromkeys(("unfold", "fold"), zero("nn.Unfold and nn.Fold are not in MODULES_MAPPING; F.unfold and F.fold "
                                             "are not patched")),
}
