"""The ATen op table: each op of a captured graph (``torch.export``'s IR, or core ATen after decompositions) as
convcalc layers, by name in :data:`HANDLERS`, the one dispatch table. This module holds the ops with windows,
weights or normalisation (conv, pooling, resampling, padding, linear algebra, attention, norms);
:mod:`convcalc.frontends.torch_aten_layout` holds the elementwise, layout, reduction, split and merge ops, whose
entries (:data:`~convcalc.frontends.torch_aten_layout.LAYOUT_HANDLERS`) the table takes in.

A handler takes the :class:`~convcalc.frontends.torch_builder.Builder`, the node and its arguments in schema order
(defaults filled in; graph values replaced by :class:`Tensor`, :class:`Param` or :class:`Many`) and returns the
node's value. Ops that only move dims (permute, transpose, expand to the same size) change the layout and emit
nothing; ops that PyTorch runs channels first (conv, bn, pooling, group norm, resampling) get their input in the
channels-first layout; ops on the last dim (linear, layer norm) get it with the last physical dim last. Dims are
translated through the layout (:mod:`convcalc.frontends.torch_layout`), so PyTorch's ``dim=1`` of an NCHW tensor is
``dim: -1``. Parameters consumed by a module's op (conv, linear, norms, PReLU) are counted by that layer; any other
parameter an op reads becomes a ``param`` layer; a buffer or constant operand of an elementwise op that does not
widen the result is a constant ``value`` (the same shape and FLOPs). Arguments equal to the op's default are left
out (:func:`~convcalc.frontends.torch_aten_layout.set_unless_default`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.frontends.torch_aten_extra import EXTRA_HANDLERS
from convcalc.frontends.torch_aten_layout import LAYOUT_HANDLERS, Handler, one_or_list, set_unless_default
from convcalc.frontends.torch_borrowed import borrowed_conv, borrowed_linear, own_weight
from convcalc.frontends.torch_layout import Layout, natural, transposed
from convcalc.frontends.torch_values import Many, Param, Tensor, logical_rank, without_leading_one

if TYPE_CHECKING:
    from convcalc.frontends.torch_builder import Builder


# -- channels-first ops ---------------------------------------------------------------------------------------------


def conv_layer(b: Builder, node: Any, x: Tensor, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
               groups: int, transposed_: bool = False, output_padding: Any = 0) -> Tensor:
    """conv / deconv from the weight's shape: (out, in/g, *k), or (in, out/g, *k) transposed."""
    w = own_weight(b, b.param(weight, "weight"))
    if w is None:  # a buffer filter, a module called twice: no params (torch_borrowed)
        return borrowed_conv(b, node, x, weight, bias, stride, padding, dilation, groups, transposed_)
    rank = len(w.shape) - 2
    out = w.shape[1] * groups if transposed_ else w.shape[0]
    args: dict[str, Any] = {"out": out, "k": one_or_list(w.shape[2:])}
    set_unless_default(args, "s", one_or_list(stride), 1)
    if isinstance(padding, str):
        set_unless_default(args, "p", padding, "valid")
    else:
        set_unless_default(args, "p", one_or_list(list(padding) * (rank if len(padding) == 1 else 1)), 0)
    set_unless_default(args, "d", one_or_list(dilation), 1)
    set_unless_default(args, "g", groups, 1)
    if transposed_:
        set_unless_default(args, "output_padding", one_or_list(output_padding), 0)
    if bias is None:
        args["bias"] = False
    owned = [w] + ([b.param(bias, "bias")] if bias is not None else [])
    return b.channels_first_op(node, x, "deconv" if transposed_ else "conv", args, owned)


def h_conv(b: Builder, node: Any, a: list[Any]) -> Tensor:
    """conv1d/2d/3d(input, weight, bias, stride, padding, dilation, groups)."""
    return conv_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[5], a[6])


def h_convolution(b: Builder, node: Any, a: list[Any]) -> Tensor:
    """convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)."""
    return conv_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[5], a[8], a[6], a[7])


def h_conv_transpose(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (input, w, b, stride, pad, out_pad, groups, dil)
    return conv_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[7], a[6], True, a[5])


def norm_params(b: Builder, *values: Any) -> list[Param]:
    return [b.param(v, "normalisation parameter") for v in values if v is not None]


def bn_layer(b: Builder, node: Any, x: Tensor, weight: Any, bias: Any, mean: Any, var: Any, eps: float) -> Any:
    args: dict[str, Any] = {}
    if weight is None:
        args["affine"] = False
    if mean is None:
        args["track_running_stats"] = False
    set_unless_default(args, "eps", float(eps), 1e-5)
    owned = norm_params(b, weight, bias, mean, var)
    x = b.tensor(x)
    if x.shape[0] != 1:  # the batch merged with other dims (levit's bn of all tokens): those dims lead, C last
        rank = len(x.shape)
        layout = Layout(None, (0, *range(2, rank), 1))
        return b.emit(node, "bn", args, [b.conform(x, layout).ref], b.out_shape(node), layout, owned)
    return b.channels_first_op(node, x, "bn", args, owned)


def h_batch_norm(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, w, b, mean, var, training, momentum, eps, cudnn)
    return bn_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[7])


def h_bn_no_training(b: Builder, node: Any, a: list[Any]) -> Many:  # (x, w, b, mean, var, momentum, eps) -> 3 tensors
    out = bn_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[6])
    return Many([out, None, None])


def h_native_batch_norm(b: Builder, node: Any, a: list[Any]) -> Many:  # (x, w, b, mean, var, training, momentum, eps)
    return Many([bn_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[7]), None, None])


def h_group_norm(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, groups, weight, bias, eps, cudnn)
    args: dict[str, Any] = {"groups": a[1]}
    if a[2] is None:
        args["affine"] = False
    elif a[3] is None:  # a weight without bias (timm's GroupNorm1NoBias)
        args["bias"] = False
    set_unless_default(args, "eps", float(a[4]), 1e-5)
    return b.channels_first_op(node, a[0], "groupnorm", args, norm_params(b, a[2], a[3]))


def h_native_group_norm(b: Builder, node: Any, a: list[Any]) -> Many:  # (x, w, b, N, C, HxW, group, eps)
    args: dict[str, Any] = {"groups": a[6]}
    if a[1] is None:
        args["affine"] = False
    elif a[2] is None:
        args["bias"] = False
    set_unless_default(args, "eps", float(a[7]), 1e-5)
    return Many([b.channels_first_op(node, a[0], "groupnorm", args, norm_params(b, a[1], a[2])), None, None])


def h_instance_norm(b: Builder, node: Any, a: list[Any]) -> Tensor:
    """instance_norm(x, weight, bias, mean, var, use_input_stats, momentum, eps, cudnn_enabled)."""
    args: dict[str, Any] = {}
    set_unless_default(args, "affine", a[1] is not None, False)
    if a[1] is not None and a[2] is None:
        args["bias"] = False
    set_unless_default(args, "track_running_stats", not a[5], False)
    set_unless_default(args, "eps", float(a[7]), 1e-5)
    return b.channels_first_op(node, a[0], "instancenorm", args, norm_params(b, a[1], a[2], a[3], a[4]))


def h_max_pool(b: Builder, node: Any, a: list[Any]) -> Any:  # (x, k, stride, padding, dilation, ceil_mode)
    args: dict[str, Any] = {"k": one_or_list(a[1])}
    set_unless_default(args, "s", one_or_list(a[2] or a[1]), args["k"])
    set_unless_default(args, "p", one_or_list(a[3]), 0)
    set_unless_default(args, "d", one_or_list(a[4]), 1)
    set_unless_default(args, "ceil", bool(a[5]), False)
    out = b.channels_first_op(node, a[0], "maxpool", args)
    return Many([out, None]) if isinstance(node.meta.get("val"), (tuple, list)) else out


def h_avg_pool(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, k, stride, pad, ceil, count_include_pad, divisor)
    if len(a) > 6 and a[6] is not None:
        b.fail("avg_pool with divisor_override has no convcalc op")
    args: dict[str, Any] = {"k": one_or_list(a[1])}
    set_unless_default(args, "s", one_or_list(a[2] or a[1]), args["k"])
    set_unless_default(args, "p", one_or_list(a[3]), 0)
    set_unless_default(args, "ceil", bool(a[4]), False)
    set_unless_default(args, "count_include_pad", bool(a[5]), True)
    return b.channels_first_op(node, a[0], "avgpool", args)


def h_adaptive_avg(b: Builder, node: Any, a: list[Any]) -> Tensor:
    return b.channels_first_op(node, a[0], "adaptive_avgpool", {"size": one_or_list(b.out_shape(node)[2:])})


def h_adaptive_max(b: Builder, node: Any, a: list[Any]) -> Any:
    out = b.channels_first_op(node, a[0], "adaptive_maxpool", {"size": one_or_list(b.out_shape(node)[2:])})
    return Many([out, None]) if isinstance(node.meta.get("val"), (tuple, list)) else out


def interpolation(mode: str) -> Handler:
    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        args: dict[str, Any] = {"size": one_or_list(b.out_shape(node)[2:])}
        set_unless_default(args, "mode", mode, "nearest")
        if mode not in ("nearest", "nearest-exact") and isinstance(a[2], bool):
            set_unless_default(args, "align_corners", a[2], False)
        return b.channels_first_op(node, a[0], "interpolate", args)

    return handler


def h_pixel_shuffle(op: str) -> Handler:
    return lambda b, node, a: b.channels_first_op(node, a[0], op, {"r": a[1]})


def h_channel_shuffle(b: Builder, node: Any, a: list[Any]) -> Tensor:
    return b.channels_first_op(node, a[0], "channel_shuffle", {"groups": a[1]})


def h_pad(b: Builder, node: Any, a: list[Any]) -> Tensor:  # constant_pad_nd(x, pad, value) / pad(x, pad, mode, value)
    x: Tensor = b.tensor(a[0])
    pads, rank = list(a[1]), len(x.shape)
    mode = a[2] if isinstance(a[2], str) else "constant"
    value = a[3] if isinstance(a[2], str) else a[2]
    dims = [rank - 1 - k for k in range(len(pads) // 2)]
    pairs = {x.layout.axis(d, rank): [pads[2 * k], pads[2 * k + 1]] for k, d in enumerate(dims)}
    pairs = {axis: pair for axis, pair in pairs.items() if any(pair)}  # an axis padded by 0 is not padded
    if not pairs:  # a padding computed to be 0 at this input (Swin3D's windows): no layer, as PyTorch copies only
        return x
    crops = {axis: [max(0, -p) for p in pair] for axis, pair in pairs.items() if min(pair) < 0}
    if crops:  # negative padding crops (NASNet's ZeroPad2d((-1, 1, -1, 1))): a ``crop``, then the positive part
        if mode != "constant":
            b.fail(f"negative {mode} padding has no convcalc op")
        shape = list(x.shape)
        for axis, pair in crops.items():
            shape[x.layout.perm[axis]] -= sum(pair)
        x = b.emit(node, "crop", {"p": [crops[axis] for axis in sorted(crops)], "dims": sorted(crops)}, [x.ref],
                   tuple(shape), x.layout, main=False)
        pairs = {axis: [max(0, p) for p in pair] for axis, pair in pairs.items() if max(pair) > 0}
        if not pairs:
            return x
    order = sorted(pairs)
    args: dict[str, Any] = {"p": [pairs[axis] for axis in order], "dims": order}
    set_unless_default(args, "mode", mode, "constant")
    set_unless_default(args, "value", value or 0, 0)
    return b.emit_like(node, x, "pad", args, x.layout)


# -- last-axis ops --------------------------------------------------------------------------------------------------


def h_linear(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, weight, bias)
    weight = a[1]
    if not isinstance(weight, Param):
        w_t = Tensor(weight.ref, weight.shape[::-1], transposed(weight.layout, len(weight.shape), -1, -2))
        return matmul(b, node, a[0], w_t, a[2])
    if a[2] is not None and not (isinstance(a[2], Param) and a[2].kind == "param"):  # a bias computed in forward
        out = h_linear(b, node, [a[0], weight, None])  # (BEiT's cat of q_bias, zeros, v_bias): linear, then add
        return b.binary(node, "add", [out, a[2]], b.out_shape(node))
    w = own_weight(b, b.param(weight, "weight"))
    if w is None:  # a buffer, a module called twice: no params (torch_borrowed)
        return borrowed_linear(b, node, a[0], weight, a[2])
    args: dict[str, Any] = {"out": w.shape[0]}
    if a[2] is None:
        args["bias"] = False
    owned = [w] + ([b.param(a[2], "bias")] if a[2] is not None else [])
    return b.last_axis_op(node, a[0], "linear", args, owned)


def h_addmm(b: Builder, node: Any, a: list[Any]) -> Tensor:  # addmm(bias, x, weight.t())
    bias, x, weight = a[0], a[1], a[2]
    if isinstance(weight, Param) and weight.transposed and isinstance(bias, Param):
        return h_linear(b, node, [x, Param(weight.fqn, weight.shape[::-1], weight.kind), bias])
    return matmul(b, node, x, weight, bias)


def h_mm(b: Builder, node: Any, a: list[Any]) -> Tensor:
    if isinstance(a[1], Param) and a[1].transposed:
        return h_linear(b, node, [a[0], Param(a[1].fqn, a[1].shape[::-1], a[1].kind), None])
    return matmul(b, node, a[0], a[1], None)


def matmul(b: Builder, node: Any, left: Any, right: Any, bias: Any) -> Tensor:
    """torch.matmul as convcalc's ``matmul`` on both operands in PyTorch's order (a parameter operand: a ``param``)."""
    for value in (left, right):
        if isinstance(value, Tensor) and value.layout.batch is not None and value.layout.batch >= len(value.shape) - 2:
            b.fail("a product along the batch dim (PyTorch's batch is one of the dims multiplied) has no convcalc op: "
                   "a spec is batch-free")
    refs = [operand_ref(b, v) for v in (left, right)]
    out_shape = b.out_shape(node)
    batch = next((v.layout.batch + len(out_shape) - len(v.shape) for v in (left, right)
                  if isinstance(v, Tensor) and v.layout.batch is not None), None)
    if batch is None and out_shape[:1] == (1,) and len(out_shape) > max(map(logical_rank, (left, right))):
        batch = 0  # constants or parameters whose leading 1 their layers drop (gemma4's one-hot @ table)
    layout = natural(out_shape, batch)
    out = b.emit(node, "matmul", {}, refs, out_shape, layout)
    if bias is not None:
        return b.binary(node, "add", [out, bias], out_shape)
    return out


def h_matmul(b: Builder, node: Any, a: list[Any]) -> Tensor:
    return matmul(b, node, a[0], a[1], None)


def h_einsum(b: Builder, node: Any, a: list[Any]) -> Tensor:
    """torch.einsum over convcalc's axes: the operands in PyTorch's order, the batch's letter left out."""
    equation, operands = a[0].replace(" ", ""), list(a[1])
    if "..." in equation or len(operands) != 2:
        b.fail("einsum with '...' or other than two operands has no convcalc op here")
    terms, result = equation.split("->")
    batch_letters: set[str] = set()
    inputs, refs = [], []
    for term, value in zip(terms.split(","), operands):
        if isinstance(value, Tensor) and value.layout.batch is not None:
            batch_letters.add(term[value.layout.batch])
        refs.append(operand_ref(b, value))
    for term, value in zip(terms.split(","), operands):
        batch = value.layout.batch if isinstance(value, Tensor) else None
        inputs.append("".join(ch for k, ch in enumerate(term) if k != batch))
    out_shape = b.out_shape(node)
    batch_out = next((k for k, ch in enumerate(result) if ch in batch_letters and out_shape[k] == 1), None)
    out_term = "".join(ch for k, ch in enumerate(result) if k != batch_out)
    return b.emit(node, "einsum", {"equation": f"{','.join(inputs)}->{out_term}"}, refs, out_shape,
                  natural(out_shape, batch_out))


def h_layer_norm(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, normalized_shape, weight, bias, eps)
    shape = list(a[1])
    args: dict[str, Any] = {}
    if len(shape) > 1:
        args["shape"] = shape
    if a[2] is None:
        args["elementwise_affine"] = False
    elif a[3] is None:
        args["bias"] = False
    set_unless_default(args, "eps", float(a[4]), 1e-5)
    return b.last_axis_op(node, a[0], "layernorm", args, norm_params(b, a[2], a[3]), len(shape))


def h_rms_norm(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, normalized_shape, weight, eps)
    shape = list(a[1])
    args: dict[str, Any] = {"shape": shape} if len(shape) > 1 else {}
    if a[2] is None:
        args["elementwise_affine"] = False
    if a[3] is not None:
        args["eps"] = float(a[3])
    return b.last_axis_op(node, a[0], "rmsnorm", args, norm_params(b, a[2]), len(shape))


def h_sdpa(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (q, k, v, mask, dropout_p, is_causal, scale, enable_gqa)
    refs = [b.natural_ref(v) for v in (a[0], a[1], a[2])]
    if a[3] is not None:
        refs.append(operand_ref(b, a[3]))
    args: dict[str, Any] = {}
    set_unless_default(args, "causal", bool(a[5]), False)
    if a[6] is not None:
        args["scale"] = float(a[6])
    out_shape = b.out_shape(node)
    return b.emit(node, "attention", args, refs, out_shape, natural(out_shape, a[0].layout.batch))


def operand_ref(b: Builder, value: Any) -> str:
    """An operand of matmul or attention in PyTorch's dim order (:meth:`Builder.natural_ref`); one gathered from a
    parameter table (a relative position bias or embedding) counts the table once and is a ``constant`` of its own
    shape (``buffer: false``: computed in forward): the op's counts depend on the operand's shape only."""
    if not isinstance(value, Param) or value.kind != "gathered" or value.source is None:
        return b.natural_ref(value)
    b.param_tensor(Param(value.fqn, value.source), tuple(value.source))
    shape = without_leading_one(value.shape)
    return b.emit(b.node, "constant", {"shape": list(shape), "buffer": False}, [], shape, natural(shape, None),
                  main=False).ref


def h_prelu(b: Builder, node: Any, a: list[Any]) -> Tensor:
    w = b.param(a[1], "weight")
    args = {"num_parameters": w.shape[0]} if w.shape and w.shape[0] != 1 else {}
    return b.channels_first_op(node, a[0], "prelu", args, [w])


HANDLERS: dict[str, Handler] = {
    "conv1d": h_conv, "conv2d": h_conv, "conv3d": h_conv, "convolution": h_convolution,
    "conv_transpose1d": h_conv_transpose, "conv_transpose2d": h_conv_transpose, "conv_transpose3d": h_conv_transpose,
    "batch_norm": h_batch_norm, "_native_batch_norm_legit_no_training": h_bn_no_training,
    "native_batch_norm": h_native_batch_norm, "_native_batch_norm_legit": h_native_batch_norm,
    "group_norm": h_group_norm, "native_group_norm": h_native_group_norm, "instance_norm": h_instance_norm,
    "layer_norm": h_layer_norm, "rms_norm": h_rms_norm, "prelu": h_prelu, "_prelu_kernel": h_prelu,
    "max_pool1d": h_max_pool, "max_pool2d": h_max_pool, "max_pool3d": h_max_pool,
    "max_pool2d_with_indices": h_max_pool, "max_pool3d_with_indices": h_max_pool,
    "avg_pool1d": h_avg_pool, "avg_pool2d": h_avg_pool, "avg_pool3d": h_avg_pool,
    "adaptive_avg_pool1d": h_adaptive_avg, "adaptive_avg_pool2d": h_adaptive_avg, "adaptive_avg_pool3d": h_adaptive_avg,
    "_adaptive_avg_pool2d": h_adaptive_avg, "_adaptive_avg_pool3d": h_adaptive_avg,
    "adaptive_max_pool1d": h_adaptive_max, "adaptive_max_pool2d": h_adaptive_max, "adaptive_max_pool3d": h_adaptive_max,
    "upsample_nearest1d": interpolation("nearest"), "upsample_nearest2d": interpolation("nearest"),
    "upsample_nearest3d": interpolation("nearest"), "_upsample_nearest_exact2d": interpolation("nearest-exact"),
    "upsample_linear1d": interpolation("linear"), "upsample_bilinear2d": interpolation("bilinear"),
    "upsample_trilinear3d": interpolation("trilinear"), "upsample_bicubic2d": interpolation("bicubic"),
    "pixel_shuffle": h_pixel_shuffle("pixel_shuffle"), "pixel_unshuffle": h_pixel_shuffle("pixel_unshuffle"),
    "channel_shuffle": h_channel_shuffle, "native_channel_shuffle": h_channel_shuffle,
    "constant_pad_nd": h_pad, "pad": h_pad,
    "linear": h_linear, "addmm": h_addmm, "mm": h_mm, "matmul": h_matmul, "bmm": h_matmul,
    "scaled_dot_product_attention": h_sdpa, "einsum": h_einsum,
    **LAYOUT_HANDLERS, **EXTRA_HANDLERS,
}
"""Every ATen op convcalc follows, by its overload packet's name (``aten.conv2d.default`` -> ``conv2d``)."""

ON_TENSORS = {"permute", "transpose", "t", "swapaxes", "view", "reshape", "view_as", "reshape_as", "_unsafe_view", "flatten", "unflatten",
              "squeeze", "unsqueeze", "expand", "expand_as", "index", "index_select", "linear", "addmm", "mm", "matmul", "bmm", "cat",
              "stack", "select", "contiguous", "clone", "to", "_to_copy", "detach", "detach_", "alias", "lift_fresh_copy"}
ON_TENSORS |= {"conv1d", "conv2d", "conv3d", "convolution", "einsum", "scaled_dot_product_attention"}
"""Ops that follow parameters as they are (views, indexing) or take them as weights, and the products that run every
forward even on constants (FlopCounterMode counts them: EdgeNeXt's conv of its Fourier position grid): every other
op whose operands are all parameters, buffers and constants computes a constant (an attention mask, a position
grid)."""

WEIGHT_OPS = {"linear", "addmm", "mm", "matmul", "bmm"}
"""Ops of :data:`ON_TENSORS` that compute: of buffers and constants only (a rotary table's frequencies times
positions), their value is a constant too."""

CREATION = {"new_zeros", "new_ones", "new_full", "new_empty", "zeros_like", "ones_like", "full_like", "empty_like",
            "rand_like", "randn_like", "zeros", "ones", "full", "empty", "arange", "linspace", "scalar_tensor"}
"""Ops that make a tensor whose values do not depend on the input's (only, at most, its shape and dtype)."""

NO_VALUE = {"_assert_tensor_metadata", "_assert_async", "sym_constrain_range_for_size", "_assert_scalar",
            "sym_size", "sym_numel", "sym_stride", "_functional_assert_async", "_functional_sym_constrain_range"}
"""Ops that check or read shapes: already folded into the graph's constants, nothing to emit."""
