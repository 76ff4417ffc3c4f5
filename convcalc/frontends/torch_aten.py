"""The ATen op table: each op of a captured graph (``torch.export``'s IR, or core ATen after decompositions) as
convcalc layers, by name in :data:`HANDLERS`.

A handler takes the :class:`~convcalc.frontends.torch_capture.Builder`, the node and its arguments in schema order
(defaults filled in; graph values replaced by :class:`Tensor`, :class:`Param` or :class:`Many`) and returns the
node's value. Ops that only move dims (permute, transpose, expand to the same size) change the layout and emit
nothing; ops that PyTorch runs channels first (conv, bn, pooling, group norm, resampling) get their input in the
channels-first layout; ops on the last dim (linear, layer norm) get it with the last physical dim last. Dims are
translated through the layout (:mod:`convcalc.frontends.torch_layout`), so PyTorch's ``dim=1`` of an NCHW tensor is
``dim: -1``. Parameters consumed by a module's op (conv, linear, norms, PReLU) are counted by that layer; any other
parameter an op reads becomes a ``param`` layer; a buffer or constant operand of an elementwise op that does not
widen the result is a constant ``value`` (the same shape and FLOPs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convcalc.frontends.torch_layout import natural, permuted, removed, transposed
from convcalc.frontends.torch_values import Many, Param, Tensor

if TYPE_CHECKING:
    from convcalc.frontends.torch_capture import Builder

Handler = Callable[["Builder", Any, list[Any]], Any]


def one_or_list(values: Any) -> Any:
    """``[3, 3]`` -> 3, ``[3, 5]`` stays: one value per dimension written once when they agree."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return values[0] if len(set(values)) == 1 else values


def flag(args: dict[str, Any], key: str, value: Any, default: Any) -> None:
    if value != default:
        args[key] = value


# -- channels-first ops ---------------------------------------------------------------------------------------------


def conv_layer(b: Builder, node: Any, x: Tensor, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
               groups: int, transposed_: bool = False, output_padding: Any = 0) -> Tensor:
    """conv / deconv from the weight's shape: (out, in/g, *k), or (in, out/g, *k) transposed."""
    w = b.param(weight, "weight")
    rank = len(w.shape) - 2
    out = w.shape[1] * groups if transposed_ else w.shape[0]
    args: dict[str, Any] = {"out": out, "k": one_or_list(w.shape[2:])}
    flag(args, "s", one_or_list(stride), 1)
    if isinstance(padding, str):
        flag(args, "p", padding, "valid")
    else:
        flag(args, "p", one_or_list(list(padding) * (rank if len(padding) == 1 else 1)), 0)
    flag(args, "d", one_or_list(dilation), 1)
    flag(args, "g", groups, 1)
    if transposed_:
        flag(args, "output_padding", one_or_list(output_padding), 0)
    if bias is None:
        args["bias"] = False
    owned = [w] + ([b.param(bias, "bias")] if bias is not None else [])
    return b.channels_first_op(node, x, "deconv" if transposed_ else "conv", args, owned)


def h_conv(b: Builder, node: Any, a: list[Any]) -> Tensor:  # conv1d/2d/3d(input, weight, bias, stride, padding, dilation, groups)
    return conv_layer(b, node, a[0], a[1], a[2], a[3], a[4], a[5], a[6])


def h_convolution(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (input, w, b, stride, pad, dil, transposed, out_pad, g)
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
    flag(args, "eps", float(eps), 1e-5)
    return b.channels_first_op(node, x, "bn", args, norm_params(b, weight, bias, mean, var))


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
    flag(args, "eps", float(a[4]), 1e-5)
    return b.channels_first_op(node, a[0], "groupnorm", args, norm_params(b, a[2], a[3]))


def h_native_group_norm(b: Builder, node: Any, a: list[Any]) -> Many:  # (x, w, b, N, C, HxW, group, eps)
    args: dict[str, Any] = {"groups": a[6]}
    flag(args, "eps", float(a[7]), 1e-5)
    return Many([b.channels_first_op(node, a[0], "groupnorm", args, norm_params(b, a[1], a[2])), None, None])


def h_instance_norm(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, w, b, mean, var, use_input_stats, mom, eps, cudnn)
    args: dict[str, Any] = {}
    flag(args, "affine", a[1] is not None, False)
    flag(args, "track_running_stats", not a[5], False)
    flag(args, "eps", float(a[7]), 1e-5)
    return b.channels_first_op(node, a[0], "instancenorm", args, norm_params(b, a[1], a[2], a[3], a[4]))


def h_max_pool(b: Builder, node: Any, a: list[Any]) -> Any:  # (x, k, stride, padding, dilation, ceil_mode)
    args: dict[str, Any] = {"k": one_or_list(a[1])}
    flag(args, "s", one_or_list(a[2] or a[1]), args["k"])
    flag(args, "p", one_or_list(a[3]), 0)
    flag(args, "d", one_or_list(a[4]), 1)
    flag(args, "ceil", bool(a[5]), False)
    out = b.channels_first_op(node, a[0], "maxpool", args)
    return Many([out, None]) if isinstance(node.meta.get("val"), (tuple, list)) else out


def h_avg_pool(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, k, stride, pad, ceil, count_include_pad, divisor)
    if len(a) > 6 and a[6] is not None:
        b.fail("avg_pool with divisor_override has no convcalc op")
    args: dict[str, Any] = {"k": one_or_list(a[1])}
    flag(args, "s", one_or_list(a[2] or a[1]), args["k"])
    flag(args, "p", one_or_list(a[3]), 0)
    flag(args, "ceil", bool(a[4]), False)
    flag(args, "count_include_pad", bool(a[5]), True)
    return b.channels_first_op(node, a[0], "avgpool", args)


def h_adaptive_avg(b: Builder, node: Any, a: list[Any]) -> Tensor:
    return b.channels_first_op(node, a[0], "adaptive_avgpool", {"size": one_or_list(b.out_shape(node)[2:])})


def h_adaptive_max(b: Builder, node: Any, a: list[Any]) -> Any:
    out = b.channels_first_op(node, a[0], "adaptive_maxpool", {"size": one_or_list(b.out_shape(node)[2:])})
    return Many([out, None]) if isinstance(node.meta.get("val"), (tuple, list)) else out


def interpolation(mode: str) -> Handler:
    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        args: dict[str, Any] = {"size": one_or_list(b.out_shape(node)[2:])}
        flag(args, "mode", mode, "nearest")
        if mode not in ("nearest", "nearest-exact") and isinstance(a[2], bool):
            flag(args, "align_corners", a[2], False)
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
    if any(p < 0 for pair in pairs.values() for p in pair):
        b.fail("negative padding (cropping) has no convcalc op")
    order = sorted(pairs)
    args: dict[str, Any] = {"p": [pairs[axis] for axis in order], "dims": order}
    flag(args, "mode", mode, "constant")
    flag(args, "value", value or 0, 0)
    return b.emit_like(node, x, "pad", args, x.layout)


# -- last-axis ops --------------------------------------------------------------------------------------------------


def h_linear(b: Builder, node: Any, a: list[Any]) -> Tensor:  # (x, weight, bias)
    weight = a[1]
    if not isinstance(weight, Param):
        w_t = Tensor(weight.ref, weight.shape[::-1], transposed(weight.layout, len(weight.shape), -1, -2))
        return matmul(b, node, a[0], w_t, a[2])
    w = b.param(weight, "weight")
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
    refs = [b.natural_ref(v) for v in (left, right)]
    out_shape = b.out_shape(node)
    batch = next((v.layout.batch + len(out_shape) - len(v.shape) for v in (left, right)
                  if isinstance(v, Tensor) and v.layout.batch is not None), None)
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
        refs.append(b.natural_ref(value))
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
    flag(args, "eps", float(a[4]), 1e-5)
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
    operands = [a[0], a[1], a[2]] + ([a[3]] if a[3] is not None else [])
    refs = [b.natural_ref(v) for v in operands]
    args: dict[str, Any] = {}
    flag(args, "causal", bool(a[5]), False)
    if a[6] is not None:
        args["scale"] = float(a[6])
    out_shape = b.out_shape(node)
    return b.emit(node, "attention", args, refs, out_shape, natural(out_shape, a[0].layout.batch))


def h_prelu(b: Builder, node: Any, a: list[Any]) -> Tensor:
    w = b.param(a[1], "weight")
    args = {"num_parameters": w.shape[0]} if w.shape and w.shape[0] != 1 else {}
    return b.channels_first_op(node, a[0], "prelu", args, [w])


# -- dims through the layout ----------------------------------------------------------------------------------------


def dim_op(op: str, dim_index: int = 1, extra: Callable[[list[Any]], dict[str, Any]] | None = None) -> Handler:
    """An op with one ``dim`` argument (softmax, log_softmax, cumsum): the dim translated to the logical axis."""

    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        x = b.tensor(a[0])
        args = {"dim": x.layout.axis(a[dim_index], len(x.shape)), **(extra(a) if extra else {})}
        return b.emit_like(node, x, op, args, x.layout)

    return handler


def reduction(op: str, dims_index: int = 1, keepdim_index: int = 2, extra: Callable[[list[Any]], dict[str, Any]] | None = None) -> Handler:
    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        x = b.tensor(a[0])
        rank = len(x.shape)
        given = a[dims_index] if dims_index < len(a) else None
        phys = [d % rank for d in ([given] if isinstance(given, int) else (given or range(rank)))]
        if x.layout.batch in phys:
            b.fail(f"{op} over the batch dim has no convcalc op")
        keepdim = bool(a[keepdim_index]) if keepdim_index < len(a) and a[keepdim_index] is not None else False
        axes = sorted(x.layout.axis(d, rank) for d in phys)
        args: dict[str, Any] = {"dims": axes[0] if len(axes) == 1 else axes, **(extra(a) if extra else {})}
        flag(args, "keepdim", keepdim, False)
        layout = x.layout if keepdim else removed(x.layout, set(phys))
        return b.emit_like(node, x, op, args, layout)

    return handler


def h_split(b: Builder, node: Any, a: list[Any]) -> Many:  # split(x, size, dim) / split_with_sizes(x, sizes, dim)
    x = b.tensor(a[0])
    rank = len(x.shape)
    shapes = [tuple(t.shape) for t in node.meta["val"]]
    out = b.emit_like(node, x, "split", {"sizes": one_or_list(a[1]) if isinstance(a[1], list) else a[1],
                                         "dim": x.layout.axis(a[2], rank)}, x.layout, shape=x.shape)
    return Many([Tensor(f"{out.ref}[{k}]", shape, x.layout) for k, shape in enumerate(shapes)])


def h_chunk(b: Builder, node: Any, a: list[Any]) -> Many:
    x = b.tensor(a[0])
    shapes = [tuple(t.shape) for t in node.meta["val"]]
    out = b.emit_like(node, x, "chunk", {"chunks": a[1], "dim": x.layout.axis(a[2], len(x.shape))}, x.layout,
                      shape=x.shape)
    return Many([Tensor(f"{out.ref}[{k}]", shape, x.layout) for k, shape in enumerate(shapes)])


def h_unbind(b: Builder, node: Any, a: list[Any]) -> Many:  # unbind(x, dim): split in ones, each without the dim
    x = b.tensor(a[0])
    rank, dim = len(x.shape), a[1] % len(x.shape)
    if dim == x.layout.batch:
        return Many([Tensor(x.ref, x.shape[1:], removed(x.layout, {dim}))])
    out = b.emit_like(node, x, "split", {"sizes": 1, "dim": x.layout.axis(dim, rank)}, x.layout, shape=x.shape)
    pieces = [Tensor(f"{out.ref}[{k}]", x.shape[:dim] + (1,) + x.shape[dim + 1 :], x.layout) for k in range(x.shape[dim])]
    return Many([b.reshape(node, piece, x.shape[:dim] + x.shape[dim + 1 :]) for piece in pieces])


def h_select(b: Builder, node: Any, a: list[Any]) -> Any:  # select(x, dim, index): a slice, then the dim dropped
    x = b.value_or_param(a[0])
    rank, dim, index = len(x.shape), a[1] % len(x.shape), a[2]
    out_shape = b.out_shape(node)
    if isinstance(x, Param):
        b.fail("indexing a parameter has no convcalc op")
    if dim == x.layout.batch:
        return Tensor(x.ref, out_shape, removed(x.layout, {dim}))
    index %= x.shape[dim]
    piece = b.emit_like(node, x, "slice", {"dim": x.layout.axis(dim, rank), "start": index, "stop": index + 1},
                        x.layout, shape=x.shape[:dim] + (1,) + x.shape[dim + 1 :])
    return b.reshape(node, piece, out_shape)


def h_slice(b: Builder, node: Any, a: list[Any]) -> Tensor:  # slice(x, dim, start, end, step)
    x = b.tensor(a[0])
    rank, dim = len(x.shape), a[1] % len(x.shape)
    out_shape = b.out_shape(node)
    if out_shape == x.shape:
        return x
    if dim == x.layout.batch:
        b.fail("slicing the batch dim has no convcalc op")
    size = x.shape[dim]
    start = 0 if a[2] is None else max(0, min(size, a[2] + size if a[2] < 0 else a[2]))
    stop = size if a[3] is None else max(0, min(size, a[3] + size if a[3] < 0 else a[3]))
    args: dict[str, Any] = {"dim": x.layout.axis(dim, rank), "start": start, "stop": stop}
    flag(args, "step", a[4], 1)
    return b.emit_like(node, x, "slice", args, x.layout)


def h_cat(b: Builder, node: Any, a: list[Any]) -> Tensor:
    return b.concat(node, a[0], a[1])


def h_stack(b: Builder, node: Any, a: list[Any]) -> Tensor:  # stack(tensors, dim): each unsqueezed, then concatenated
    dim = a[1] % (len(b.out_shape(node)))
    parts = []
    for value in a[0]:
        shape = value.shape[:dim] + (1,) + value.shape[dim:]
        parts.append(b.reshape(node, value, shape) if isinstance(value, Tensor) else value.reshaped(shape))
    return b.concat(node, parts, dim)


def h_roll(b: Builder, node: Any, a: list[Any]) -> Tensor:  # roll(x, shifts, dims)
    x = b.tensor(a[0])
    if not a[2]:
        b.fail("torch.roll without dims has no convcalc op here")
    axes = [x.layout.axis(d, len(x.shape)) for d in a[2]]
    return b.emit_like(node, x, "roll", {"shifts": list(a[1]) if len(a[1]) > 1 else a[1][0],
                                         "dims": axes if len(axes) > 1 else axes[0]}, x.layout)


# -- layout only ----------------------------------------------------------------------------------------------------


def h_permute(b: Builder, node: Any, a: list[Any]) -> Any:
    value = b.value_or_param(a[0])
    if isinstance(value, Param):
        return value.permuted([d % len(value.shape) for d in a[1]])
    return Tensor(value.ref, b.out_shape(node), permuted(value.layout, list(a[1])))


def h_transpose(b: Builder, node: Any, a: list[Any]) -> Any:
    value = b.value_or_param(a[0])
    rank = len(value.shape)
    dims = list(range(rank))
    if rank >= 2:
        d0, d1 = (a[1] % rank, a[2] % rank) if len(a) >= 3 else (0, 1)
        dims[d0], dims[d1] = dims[d1], dims[d0]
    if isinstance(value, Param):
        return value.permuted(dims)
    return Tensor(value.ref, b.out_shape(node), permuted(value.layout, dims))


def h_reshape(b: Builder, node: Any, a: list[Any]) -> Any:
    value = b.value_or_param(a[0])
    out_shape = b.out_shape(node)
    if isinstance(value, Param):
        return value.reshaped(out_shape)
    return b.reshape(node, value, out_shape)


def h_expand(b: Builder, node: Any, a: list[Any]) -> Any:
    value = b.value_or_param(a[0])
    out_shape = b.out_shape(node)
    if tuple(value.shape) == out_shape:
        return value
    if isinstance(value, Param):
        return value.expanded(out_shape)
    if len(value.shape) != len(out_shape):
        value = b.reshape(node, value, (1,) * (len(out_shape) - len(value.shape)) + tuple(value.shape))
    return b.emit_like(node, value, "expand", {"shape": list(value.layout.logical(out_shape))}, value.layout,
                       shape=out_shape)


def h_index(b: Builder, node: Any, a: list[Any]) -> Param:
    """``table[index]`` of a parameter by buffers (relative position bias): the gathered tensor, whose parameters are
    the table's (counted once by a ``param`` layer of the table's shape)."""
    table = a[0]
    if not isinstance(table, Param) or any(isinstance(i, Tensor) for i in a[1] or []):
        b.fail("indexing by computed values has no convcalc op")
    return Param(table.fqn, b.out_shape(node), "gathered" if table.kind == "param" else table.kind,
                 numel=table.numel, source=table.shape if table.kind == "param" else None)


def passthrough(b: Builder, node: Any, a: list[Any]) -> Any:
    return a[0]


# -- elementwise ----------------------------------------------------------------------------------------------------


def unary(op: str, extra: Callable[[list[Any]], dict[str, Any]] | None = None) -> Handler:
    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        x = b.tensor(a[0])
        return b.emit_like(node, x, op, extra(a) if extra else {}, x.layout)

    return handler


def h_hardtanh(b: Builder, node: Any, a: list[Any]) -> Tensor:
    low, high = float(a[1]), float(a[2])
    if (low, high) == (0.0, 6.0):
        return unary("relu6")(b, node, a)
    return unary("hardtanh", lambda _: {"min_val": low, "max_val": high})(b, node, a)


def h_clamp(b: Builder, node: Any, a: list[Any]) -> Tensor:
    low, high = (a[1] if len(a) > 1 else None), (a[2] if len(a) > 2 else None)
    if isinstance(low, Tensor | Param) or isinstance(high, Tensor | Param):
        b.fail("clamp to tensor bounds has no convcalc op")
    if (low, high) == (0, 6) or (low, high) == (0.0, 6.0):
        return unary("relu6")(b, node, a)
    if low == 0 and high is None:
        return unary("relu")(b, node, a)
    args = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    return unary("clamp", lambda _: args)(b, node, a)


def binary(op: str) -> Handler:
    return lambda b, node, a: b.binary(node, op, [a[0], a[1]], b.out_shape(node))


def h_rsub(b: Builder, node: Any, a: list[Any]) -> Tensor:  # rsub(x, other) = other - x
    return b.binary(node, "sub", [a[1], a[0]], b.out_shape(node))


def h_add(b: Builder, node: Any, a: list[Any]) -> Tensor:  # add(x, other, alpha)
    if len(a) > 2 and a[2] not in (None, 1):
        b.fail("add with alpha has no convcalc op")
    return b.binary(node, "add", [a[0], a[1]], b.out_shape(node))


def h_sub(b: Builder, node: Any, a: list[Any]) -> Tensor:
    if len(a) > 2 and a[2] not in (None, 1):
        b.fail("sub with alpha has no convcalc op")
    return b.binary(node, "sub", [a[0], a[1]], b.out_shape(node))


ACTIVATIONS = {
    "relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "tanh_": "tanh",
    "silu": "silu", "silu_": "silu", "hardswish": "hardswish", "hardswish_": "hardswish", "hardsigmoid": "hardsigmoid",
    "hardsigmoid_": "hardsigmoid", "mish": "mish", "mish_": "mish", "selu": "selu", "selu_": "selu",
    "log_sigmoid": "logsigmoid", "exp": "exp", "log": "log", "sqrt": "sqrt", "rsqrt": "rsqrt", "neg": "neg",
    "abs": "abs", "reciprocal": "reciprocal", "square": "square", "sign": "sign", "erf": "gelu",
}

HANDLERS: dict[str, Handler] = {
    **{name: unary(op) for name, op in ACTIVATIONS.items()},
    "gelu": unary("gelu", lambda a: {"approximate": a[1]} if len(a) > 1 and a[1] not in (None, "none") else {}),
    "gelu_": unary("gelu", lambda a: {"approximate": a[1]} if len(a) > 1 and a[1] not in (None, "none") else {}),
    "leaky_relu": unary("leakyrelu", lambda a: {"negative_slope": float(a[1])} if a[1] != 0.01 else {}),
    "leaky_relu_": unary("leakyrelu", lambda a: {"negative_slope": float(a[1])} if a[1] != 0.01 else {}),
    "elu": unary("elu", lambda a: {"alpha": float(a[1])} if a[1] != 1 else {}),
    "elu_": unary("elu", lambda a: {"alpha": float(a[1])} if a[1] != 1 else {}),
    "celu": unary("celu"), "softplus": unary("softplus"),
    "pow": unary("pow", lambda a: {"exponent": a[1]}),
    "hardtanh": h_hardtanh, "hardtanh_": h_hardtanh, "clamp": h_clamp, "clamp_": h_clamp, "clip": h_clamp,
    "clamp_min": lambda b, node, a: h_clamp(b, node, [a[0], a[1], None]),
    "add": h_add, "add_": h_add, "sub": h_sub, "sub_": h_sub, "rsub": h_rsub,
    "mul": binary("mul"), "mul_": binary("mul"), "div": binary("div"), "div_": binary("div"),
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
    "softmax": dim_op("softmax"), "_softmax": dim_op("softmax"), "log_softmax": dim_op("logsoftmax"),
    "_log_softmax": dim_op("logsoftmax"),
    "mean": reduction("mean"), "sum": reduction("sum"), "amax": reduction("amax"), "amin": reduction("amin"),
    "var": reduction("var", extra=lambda a: {"correction": int(a[2])} if len(a) > 2 and isinstance(a[2], (int, float)) and not isinstance(a[2], bool) and a[2] != 1 else {}, keepdim_index=3),
    "linalg_vector_norm": reduction("norm", dims_index=2, keepdim_index=3, extra=lambda a: {"p": float(a[1])} if a[1] != 2 else {}),
    "split": h_split, "split_with_sizes": h_split, "chunk": h_chunk, "unbind": h_unbind,
    "select": h_select, "slice": h_slice, "cat": h_cat, "concat": h_cat, "stack": h_stack, "roll": h_roll,
    "permute": h_permute, "transpose": h_transpose, "t": h_transpose, "swapaxes": h_transpose,
    "view": h_reshape, "reshape": h_reshape, "_unsafe_view": h_reshape, "flatten": h_reshape, "unflatten": h_reshape,
    "squeeze": h_reshape, "squeeze_": h_reshape, "unsqueeze": h_reshape, "unsqueeze_": h_reshape,
    "index": h_index, "expand": h_expand, "expand_as": h_expand,
    "contiguous": passthrough, "clone": passthrough, "dropout": passthrough, "dropout_": passthrough,
    "feature_dropout": passthrough, "alpha_dropout": passthrough, "detach": passthrough, "alias": passthrough,
    "lift_fresh_copy": passthrough, "to": passthrough, "_to_copy": passthrough, "type_as": passthrough,
    "native_dropout": lambda b, node, a: Many([a[0], None]),
}

ON_TENSORS = {"permute", "transpose", "t", "swapaxes", "view", "reshape", "_unsafe_view", "flatten", "unflatten",
              "squeeze", "unsqueeze", "expand", "expand_as", "index", "linear", "addmm", "mm", "matmul", "bmm", "cat",
              "stack", "select", "contiguous", "clone", "to", "_to_copy", "detach", "alias", "lift_fresh_copy"}
"""Ops that follow parameters as they are (views, indexing) or take them as weights: every other op whose operands
are all parameters, buffers and constants computes a constant (an attention mask, a position grid)."""

CREATION = {"new_zeros", "new_ones", "new_full", "new_empty", "zeros_like", "ones_like", "full_like", "empty_like",
            "rand_like", "randn_like", "zeros", "ones", "full", "empty", "arange", "linspace", "scalar_tensor"}
"""Ops that make a tensor whose values do not depend on the input's (only, at most, its shape and dtype)."""

NO_VALUE = {"_assert_tensor_metadata", "_assert_async", "sym_constrain_range_for_size", "_assert_scalar",
            "sym_size", "sym_numel", "sym_stride", "_functional_assert_async", "_functional_sym_constrain_range"}
"""Ops that check or read shapes: already folded into the graph's constants, nothing to emit."""
