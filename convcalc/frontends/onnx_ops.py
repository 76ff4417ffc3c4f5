"""ONNX ops as convcalc layers: one small function per op (windows, linear algebra, normalisations, activations,
pointwise math), registered in ``ONNX_OPS``; the layout ops, reductions and resampling are in
:mod:`convcalc.frontends.onnx_layout_ops`. Each function reads the node's attributes (and, for opsets where an
attribute became an input, that input), the inputs' ONNX shapes, and writes the layer through
:class:`~convcalc.frontends.onnx_graph.GraphState`.

Parameters come from initializers only where the ONNX op has weights: Conv, ConvTranspose, Gemm, MatMul with a
constant operand, BatchNormalization (scale and B; mean and var are buffers), the layer, group and instance norms,
PRelu; a constant operand of add/mul/sub/div/concat is a ``param`` layer (a layer scale, a position embedding).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convcalc.frontends.onnx_graph import Activation, GraphState, Weight, logical_axis, logical_shape

OnnxOp = Callable[[GraphState, Any, dict[str, Any]], None]


def has_input(node: Any, index: int) -> bool:
    return len(node.input) > index and bool(node.input[index])


def pads_arg(begins: list[int], ends: list[int]) -> Any:
    """convcalc's ``p``: one int per dimension when both sides are equal, else a [before, after] pair per one."""
    if begins == ends:
        return list(begins)
    return [[b, e] for b, e in zip(begins, ends)]


def same_pads(spatial: list[int], kernel: list[int], strides: list[int], dilations: list[int], upper: bool) -> tuple[list[int], list[int]]:
    """auto_pad SAME_UPPER / SAME_LOWER: out = ceil(n / s); total = max((out - 1)s + d(k - 1) + 1 - n, 0); the odd
    pixel at the end (UPPER) or at the beginning (LOWER)."""
    begins, ends = [], []
    for n, k, s, d in zip(spatial, kernel, strides, dilations):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        small = total // 2
        begins.append(small if upper else total - small)
        ends.append(total - small if upper else small)
    return begins, ends


def window_args(state: GraphState, node: Any, attrs: dict[str, Any], x: Activation, kernel: list[int]) -> dict[str, Any]:
    """k, s, d, p of Conv and the pools: ``pads`` is [x1_begin, x2_begin, ..., x1_end, x2_end]; ``auto_pad``
    NOTSET (the pads), VALID (none), SAME_UPPER or SAME_LOWER (worked out from the input's size)."""
    n = len(kernel)
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        spatial = [int(v) for v in x.shape[2:]]
        begins, ends = same_pads(spatial, kernel, strides, dilations, auto_pad == "SAME_UPPER")
    elif auto_pad == "VALID":
        begins, ends = [0] * n, [0] * n
    elif auto_pad in ("NOTSET", ""):
        pads = list(attrs.get("pads", [0] * 2 * n))
        begins, ends = pads[:n], pads[n:]
    else:
        raise state.error(node, f"auto_pad {auto_pad!r} is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
    return {"k": kernel, "s": strides, "d": dilations, "p": pads_arg(begins, ends)}


def conv(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Conv: weight (M, C/group, k1, ..., kn) -> conv {out: M, k, s, d, p, g, bias}."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    dims = state.weight_dims(node, node.input[1])
    kernel = list(attrs.get("kernel_shape", dims[2:]))
    if not state.count_once(node, node.input[1]):
        raise state.error(node, f"weight {node.input[1]!r} is shared with node {state.counted[node.input[1]]!r}; "
                                "convcalc gives every conv its own weights")  # fmt: skip
    args = window_args(state, node, attrs, x, kernel) | {"out": dims[0], "g": int(attrs.get("group", 1))}
    args["bias"] = has_input(node, 2)
    state.output(node, "conv", args, [x], "cf")


def conv_transpose(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """ConvTranspose: weight (C, M/group, k...); out = s(n - 1) + output_padding + d(k - 1) + 1 - pad_begin -
    pad_end. ``output_shape`` (or auto_pad SAME_*: n s) gives the total padding, split as ONNX does (SAME_UPPER: the
    larger half at the end). Unequal sides become p = the larger and output_padding + the difference."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    dims = state.weight_dims(node, node.input[1])
    kernel = list(attrs.get("kernel_shape", dims[2:]))
    n = len(kernel)
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    extra = list(attrs.get("output_padding", [0] * n))
    spatial = [int(v) for v in x.shape[2:]]
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    wanted = list(attrs["output_shape"])[-n:] if "output_shape" in attrs else None
    if wanted is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        wanted = [size * s for size, s in zip(spatial, strides)]
    if wanted is not None:
        totals = [s * (size - 1) + op + (k - 1) * d + 1 - w
                  for size, s, op, k, d, w in zip(spatial, strides, extra, kernel, dilations, wanted)]  # fmt: skip
        if min(totals) < 0:
            raise state.error(node, f"output_shape {wanted} is larger than the transposed conv makes")
        upper = auto_pad != "SAME_LOWER"  # ONNX: SAME_UPPER and output_shape put the smaller half first
        begins = [t // 2 if upper else t - t // 2 for t in totals]
        ends = [t - b for t, b in zip(totals, begins)]
    elif auto_pad == "VALID":
        begins, ends = [0] * n, [0] * n
    else:
        pads = list(attrs.get("pads", [0] * 2 * n))
        begins, ends = pads[:n], pads[n:]
    group = int(attrs.get("group", 1))
    state.count_once(node, node.input[1])
    args: dict[str, Any] = {"out": dims[1] * group, "k": kernel, "s": strides, "d": dilations, "g": group}
    args["p"] = [max(b, e) for b, e in zip(begins, ends)]
    padding = [op + abs(b - e) for op, b, e in zip(extra, begins, ends)]
    if any(padding):
        args["output_padding"] = padding
    args["bias"] = has_input(node, 2)
    state.output(node, "deconv", args, [x], "cf")


def max_pool(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """MaxPool: kernel_shape, strides (ONNX's default 1, not the kernel), pads, dilations, ceil_mode."""
    if len(node.output) > 1 and node.output[1]:
        raise state.error(node, "its second output (the indices) has no convcalc op")
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    args = window_args(state, node, attrs, x, list(attrs["kernel_shape"]))
    args["ceil"] = bool(attrs.get("ceil_mode", 0))
    state.output(node, "maxpool", args, [x], "cf")


def average_pool(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """AveragePool: as MaxPool, with count_include_pad (default 0, PyTorch's default is 1); dilations must be 1."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    args = window_args(state, node, attrs, x, list(attrs["kernel_shape"]))
    if any(d != 1 for d in args.pop("d")):
        raise state.error(node, "dilated average pooling has no convcalc op (avgpool has no dilation)")
    args["ceil"] = bool(attrs.get("ceil_mode", 0))
    args["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
    state.output(node, "avgpool", args, [x], "cf")


def global_pool(op: str) -> OnnxOp:
    """GlobalAveragePool, GlobalMaxPool: (N, C, 1, ..., 1), kept 1s: adaptive pooling to size 1 (same counts)."""

    def handler(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
        x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
        state.output(node, op, {"size": [1] * (len(x.shape) - 2)}, [x], "cf")

    return handler


def linear_layer(state: GraphState, node: Any, x: Activation, weight: str, out: int, bias: str | None) -> None:
    """x (.., k) @ W (k, out) [+ b]: a ``linear`` layer, or for a weight already counted (tied weights) a
    ``matmul`` with the one ``param`` of that weight (and an ``add`` of the bias)."""
    x = state.to_layout(node, x, "nat")
    if x.where_batch == (len(x.shape) - 1, False):
        raise state.error(node, "contracts the batch axis (it is the last axis of the product's first operand)")
    k = int(x.shape[-1])
    if not state.shared(weight) and state.count_once(node, weight):
        if bias is not None:
            state.count_once(node, bias)
        state.output(node, "linear", {"out": out, "bias": bias is not None}, [x], "nat")
        return
    shared = state.param(node, weight, (k, out))
    if bias is None:
        state.output(node, "matmul", {}, [x, shared], "nat")
        return
    product = state.emit(node, "matmul", {}, [x.ref, shared], "matmul")
    state.output(node, "add", {}, [product, state.param(node, bias, (out,))], "nat")


def gemm(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Gemm: Y = alpha A' B' + beta C, A the activation (N, K) (transA must be 0: the batch stays the rows), B a
    constant (K, M), or (M, K) with transB = 1; C the bias."""
    if node.input[0] not in state.values:
        raise state.error(node, "A is a constant: the output's rows would not be the batch")
    if attrs.get("transA", 0):
        raise state.error(node, "transA = 1 makes the batch the columns of A; convcalc keeps the batch first")
    x = state.activation(node, node.input[0])
    if node.input[1] in state.values:
        other = state.activation(node, node.input[1])
        if attrs.get("transB", 0):
            raise state.error(node, "transB = 1 on a computed B has no convcalc op")
        state.output(node, "matmul", {}, [state.to_layout(node, x, "nat"), other], "nat")
        return
    dims = state.weight_dims(node, node.input[1])
    out = dims[0] if attrs.get("transB", 0) else dims[1]
    linear_layer(state, node, x, node.input[1], out, node.input[2] if has_input(node, 2) else None)


def matmul(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """MatMul (numpy's, the leading axes broadcast): with a constant 2-D B (k, m), a ``linear`` on the last axis
    (followed by an Add of a constant (m,) vector: its bias, PyTorch's Linear on a 3-D input); with two computed
    operands, or a constant of more axes, ``matmul``."""
    a_known, b_known = node.input[0] in state.values, node.input[1] in state.values
    if a_known and not b_known and len(state.weight_dims(node, node.input[1])) == 2:
        dims = state.weight_dims(node, node.input[1])
        bias = state.fused_bias.get(node.output[0])
        linear_layer(state, node, state.activation(node, node.input[0]), node.input[1], dims[1], bias)
        return
    operands: list[Activation | str] = []
    for name in node.input[:2]:
        if name in state.values:
            operands.append(state.to_layout(node, state.activation(node, name), "nat"))
        else:
            operands.append(state.param(node, name, state.weight_dims(node, name)))
    if not (a_known or b_known):
        raise state.error(node, "both operands are constants: nothing is computed from the input")
    computed = [item for item in operands if isinstance(item, Activation)]
    rank = len(computed[0].shape)
    if any(item.where_batch != (0, False) for item in computed) and (
            len({item.where_batch for item in computed}) > 1 or computed[0].batch >= rank - (1 if computed[0].merged else 2)
            or any(len(item.shape) != rank for item in computed)):  # fmt: skip
        raise state.error(node, "the batch axis is not one of the leading (broadcast) axes of both operands")
    state.output(node, "matmul", {}, operands, "nat")


def batch_norm(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """BatchNormalization (inference): scale and B are params (2C), mean and var buffers (2C)."""
    if len(node.output) > 1 and any(node.output[1:]):
        raise state.error(node, "training mode (running statistics as outputs) has no convcalc op")
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    for name in node.input[1:5]:
        state.count_once(node, name)
    state.output(node, "bn", {"eps": float(attrs.get("epsilon", 1e-5))}, [x], "cf")


def instance_norm(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """InstanceNormalization: statistics per channel over every position; scale and B are params (2C)."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    for name in node.input[1:3]:
        state.count_once(node, name)
    state.output(node, "instancenorm", {"affine": True, "eps": float(attrs.get("epsilon", 1e-5))}, [x], "cf")


def group_norm(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """GroupNormalization (opsets 18, 21): num_groups, scale and bias (C each since opset 21)."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    for name in node.input[1:3]:
        state.count_once(node, name)
    args = {"groups": int(attrs["num_groups"]), "affine": True, "eps": float(attrs.get("epsilon", 1e-5))}
    state.output(node, "groupnorm", args, [x], "cf")


def layer_norm(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """LayerNormalization (opset 17): over the axes from ``axis`` (default -1) to the last; Scale and B params."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "nat")
    axis = int(attrs.get("axis", -1)) % len(x.shape)
    if axis <= x.batch and not x.merged:
        raise state.error(node, "normalises over the batch axis")
    shape = [int(v) for v in x.shape[axis:]]
    affine = state.count_once(node, node.input[1])
    bias = has_input(node, 2) and state.count_once(node, node.input[2])
    args = {"shape": shape, "elementwise_affine": affine, "bias": bias, "eps": float(attrs.get("epsilon", 1e-5))}
    state.output(node, "layernorm", args, [x], "nat")


def lrn(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    args = {"size": int(attrs["size"]), "alpha": float(attrs.get("alpha", 1e-4)), "beta": float(attrs.get("beta", 0.75)),
            "k": float(attrs.get("bias", 1.0))}  # fmt: skip
    state.output(node, "lrn", args, [x], "cf")


def prelu(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """PRelu: slope (1,) or (C, 1, ..., 1): one or C params."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    dims = state.weight_dims(node, node.input[1])
    count = 1
    for size in dims:
        count *= size
    state.count_once(node, node.input[1])
    state.output(node, "prelu", {"num_parameters": count}, [x], "cf")


def elementwise(op: str, **fixed: Any) -> OnnxOp:
    """An activation or unary function: the same layout out as in; ``alpha`` -> ``negative_slope`` for LeakyRelu."""

    def handler(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
        x = state.activation(node, node.input[0])
        args = dict(fixed)
        if op == "leakyrelu":
            args["negative_slope"] = float(attrs.get("alpha", 0.01))
        if op == "gelu" and attrs.get("approximate", b"none") in (b"tanh", "tanh"):
            args["approximate"] = "tanh"
        state.output(node, op, args, [x], x.layout)

    return handler


def scalar(state: GraphState, node: Any, name: str) -> float | None:
    """A constant operand's one value (None when it has more than one element or is not known)."""
    value = state.constants.get(name)
    if value is None or isinstance(value, Weight) or value.size != 1:
        return None
    number = value.reshape(-1)[0].item()
    return int(number) if float(number).is_integer() and value.dtype.kind in "iu" else float(number)


def clip(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Clip: min and max attributes (opset < 11) or inputs; [0, 6] is relu6, [0, inf) relu."""
    x = state.activation(node, node.input[0])
    low = attrs.get("min") if "min" in attrs else scalar(state, node, node.input[1]) if has_input(node, 1) else None
    high = attrs.get("max") if "max" in attrs else scalar(state, node, node.input[2]) if has_input(node, 2) else None
    if low == 0 and high == 6:
        state.output(node, "relu6", {}, [x], x.layout)
    elif low == 0 and high is None:
        state.output(node, "relu", {}, [x], x.layout)
    else:
        bounds = {key: value for key, value in (("min", low), ("max", high)) if value is not None}
        state.output(node, "clamp", bounds, [x], x.layout) if bounds else state.alias(node, x)


def softmax(op: str) -> OnnxOp:
    """Softmax, LogSoftmax on ``axis`` (before opset 13 on the axes from ``axis`` on, flattened: the same when they
    are the last axis)."""

    def handler(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
        x = state.activation(node, node.input[0])
        axis = int(attrs.get("axis", -1 if state.opset >= 13 else 1)) % len(x.shape)
        if state.opset < 13 and any(int(size) != 1 for size in x.shape[axis + 1 :]):
            raise state.error(node, f"before opset 13 softmax works on axes {axis}.. flattened; convcalc takes one axis")
        where = f"ONNX node {node.name!r} ({node.op_type})"
        state.output(node, op, {"dim": logical_axis(x, axis, where)}, [x], x.layout)

    return handler


BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}


def binary(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Add, Sub, Mul, Div with numpy broadcasting: two computed operands (in one layout), or one and a constant: a
    single number is ``value`` (``reverse`` when it comes first), a tensor a ``param`` of its channels-last shape."""
    op = BINARY[node.op_type]
    computed = [name for name in node.input if name in state.values]
    if not computed:
        raise state.error(node, "both operands are constants: nothing is computed from the input")
    first = state.activation(node, computed[0])
    layout = first.layout
    if len(computed) == 2:
        second = state.to_layout(node, state.activation(node, computed[1]), layout)
        if second.where_batch != first.where_batch and len(second.shape) == len(first.shape):
            raise state.error(node, "its operands have their batch axes in different places")
        state.output(node, op, {}, [first, second], layout)
        return
    other = node.input[1] if node.input[0] == computed[0] else node.input[0]
    args: dict[str, Any] = {"reverse": True} if other == node.input[0] and op in ("sub", "div") else {}
    number = scalar(state, node, other)
    if number is not None:
        state.output(node, op, args | {"value": number}, [first], layout)
        return
    dims = state.weight_dims(node, other)
    rank = len(first.shape)
    if len(dims) > rank:
        raise state.error(node, f"constant {other!r} has more axes than the tensor")
    full = (1,) * (rank - len(dims)) + tuple(dims)
    if not first.merged and full[first.batch] != 1:
        raise state.error(node, f"constant {other!r} varies along the batch axis")
    shape = logical_shape(Activation("", full, layout, *first.where_batch))
    parameter = state.param(node, other, shape)
    operands = [parameter, first] if other == node.input[0] else [first, parameter]
    state.output(node, op, {}, operands, layout)


def power(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    x = state.activation(node, node.input[0])
    exponent = scalar(state, node, node.input[1])
    if exponent is None:
        raise state.error(node, "the exponent must be one constant number")
    op, args = ("square", {}) if exponent == 2 else ("sqrt", {}) if exponent == 0.5 else ("pow", {"exponent": exponent})
    state.output(node, op, args, [x], x.layout)


ACTIVATIONS = {
    "Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leakyrelu", "Elu": "elu", "Selu": "selu",
    "Celu": "celu", "Softplus": "softplus", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish", "Mish": "mish",
    "Gelu": "gelu", "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Neg": "neg", "Abs": "abs",
    "Reciprocal": "reciprocal", "Sign": "sign",
}  # fmt: skip

ONNX_OPS: dict[str, OnnxOp] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_pool("adaptive_avgpool"),
    "GlobalMaxPool": global_pool("adaptive_maxpool"),
    "Gemm": gemm,
    "MatMul": matmul,
    "BatchNormalization": batch_norm,
    "InstanceNormalization": instance_norm,
    "GroupNormalization": group_norm,
    "LayerNormalization": layer_norm,
    "LRN": lrn,
    "PRelu": prelu,
    "Clip": clip,
    "Softmax": softmax("softmax"),
    "LogSoftmax": softmax("logsoftmax"),
    "Pow": power,
    **{name: elementwise(op) for name, op in ACTIVATIONS.items()},
    **dict.fromkeys(BINARY, binary),
}
