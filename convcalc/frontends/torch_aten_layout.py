"""The ATen ops that move, pick, merge, reduce or map elements, as convcalc layers: their entries of the one
dispatch table (:data:`LAYOUT_HANDLERS`, merged into :data:`convcalc.frontends.torch_aten.HANDLERS`), and the
argument helpers both halves of the table share.

Conventions (those of :mod:`convcalc.frontends.torch_aten`): a handler takes the builder, the node and the node's
arguments in schema order; PyTorch's dims are physical (batch included) and are written as convcalc's logical axes
through the value's layout (``dim=1`` of an NCHW tensor is ``dim: -1``). Permutes, transposes and expands to the same
size only change the layout and emit nothing; a reshape is a convcalc ``reshape`` in the current logical order
(:meth:`~convcalc.frontends.torch_builder.Builder.reshape`). A view of a parameter stays a parameter (counted once,
where an op reads it). Elementwise ops line their operands up in the output's layout
(:meth:`~convcalc.frontends.torch_builder.Builder.binary`); an op over the batch dim has no convcalc op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convcalc.frontends.torch_layout import Layout, permuted, removed
from convcalc.frontends.torch_values import Many, Param, Tensor

if TYPE_CHECKING:
    from convcalc.frontends.torch_builder import Builder

Handler = Callable[["Builder", Any, list[Any]], Any]
"""``handler(builder, node, arguments)`` -> the node's value (:class:`Tensor`, :class:`Param`, :class:`Many`)."""

ArgsOf = Callable[[list[Any]], dict[str, Any]]
"""The convcalc arguments a handler factory reads from the ATen arguments (``gelu``'s ``approximate``)."""


def one_or_list(values: Any) -> Any:
    """``[3, 3]`` -> 3, ``[3, 5]`` stays: one value per dimension written once when they agree."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return values[0] if len(set(values)) == 1 else values


def set_unless_default(args: dict[str, Any], key: str, value: Any, default: Any) -> None:
    """``args[key] = value`` unless it is the op's default (the spec writes only what differs)."""
    if value != default:
        args[key] = value


# -- dims through the layout ----------------------------------------------------------------------------------------


def dim_op(op: str, dim_index: int = 1, extra: ArgsOf | None = None) -> Handler:
    """An op with one ``dim`` argument (softmax, log_softmax, cumsum): the dim translated to the logical axis."""

    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        x = b.tensor(a[0])
        args = {"dim": x.layout.axis(a[dim_index], len(x.shape)), **(extra(a) if extra else {})}
        return b.emit_like(node, x, op, args, x.layout)

    return handler


def reduction(op: str, dims_index: int = 1, keepdim_index: int = 2, extra: ArgsOf | None = None) -> Handler:
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
        set_unless_default(args, "keepdim", keepdim, False)
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
    piece_shape = x.shape[:dim] + (1,) + x.shape[dim + 1 :]
    pieces = [Tensor(f"{out.ref}[{k}]", piece_shape, x.layout) for k in range(x.shape[dim])]
    return Many([b.reshape(node, piece, x.shape[:dim] + x.shape[dim + 1 :]) for piece in pieces])


def h_select(b: Builder, node: Any, a: list[Any]) -> Any:  # select(x, dim, index): a slice, then the dim dropped
    x = b.value_or_param(a[0])
    rank, dim, index = len(x.shape), a[1] % len(x.shape), a[2]
    out_shape = b.out_shape(node)
    if isinstance(x, Param):
        return picked(x, out_shape)
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
    if 0 in out_shape:  # an empty slice (no prefix tokens: ``x[:, :0]``): nothing, dropped where it is joined
        return Param(f"empty:{node.name}", out_shape, "constant")
    if dim == x.layout.batch:
        b.fail("slicing the batch dim has no convcalc op")
    size = x.shape[dim]
    start = 0 if a[2] is None else max(0, min(size, a[2] + size if a[2] < 0 else a[2]))
    stop = size if a[3] is None else max(0, min(size, a[3] + size if a[3] < 0 else a[3]))
    args: dict[str, Any] = {"dim": x.layout.axis(dim, rank), "start": start, "stop": stop}
    set_unless_default(args, "step", a[4], 1)
    return b.emit_like(node, x, "slice", args, x.layout)


def h_cat(b: Builder, node: Any, a: list[Any]) -> Tensor | Param:
    """``torch.cat`` through :meth:`Builder.concat` (which makes a cat of buffers and constants a constant)."""
    pieces = [v for v in a[0] if 0 not in getattr(v, "shape", ())]  # empty pieces add nothing
    if len(pieces) == 1 and tuple(pieces[0].shape) == b.out_shape(node):
        return pieces[0]
    return b.concat(node, pieces, a[1])


def h_stack(b: Builder, node: Any, a: list[Any]) -> Tensor | Param:  # stack(tensors, dim): unsqueezed, concatenated
    if all(isinstance(v, Param) and v.kind in ("buffer", "constant") for v in a[0]):
        return Param(f"stack:{node.name}", b.out_shape(node), "constant")
    dim = a[1] % (len(b.out_shape(node)))
    parts = []
    for value in a[0]:
        shape = value.shape[:dim] + (1,) + value.shape[dim:]
        parts.append(unsqueezed(b, node, value, dim) if isinstance(value, Tensor) else value.reshaped(shape))
    return b.concat(node, parts, dim)


def unsqueezed(b: Builder, node: Any, x: Tensor, dim: int) -> Tensor:
    """``x.unsqueeze(dim)`` with the new dim a logical axis (never the batch, even when it comes first): placed
    after the logical axis of the physical dim before it, or first."""
    def shifted(p: int) -> int:
        return p + 1 if p >= dim else p

    perm = [shifted(p) for p in x.layout.perm]
    before = [k for k, p in enumerate(perm) if p < dim]
    perm.insert(before[-1] + 1 if before else 0, dim)
    layout = Layout(None if x.layout.batch is None else shifted(x.layout.batch), tuple(perm))
    shape = x.shape[:dim] + (1,) + x.shape[dim:]
    return b.emit(node, "reshape", {"shape": list(layout.logical(shape))}, [x.ref], shape, layout, main=False)


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


def selected(b: Builder, node: Any, x: Tensor, dim: int, index: Param) -> Tensor:
    """``x`` at the positions of a constant index list along PyTorch dim ``dim``: an ``index_select`` (negative
    positions counted from the end, as PyTorch's indexing does)."""
    rank = len(x.shape)
    dim %= rank
    if index.values is None or dim == x.layout.batch:
        b.fail("indexing an activation by other than a constant list of positions on one dim has no convcalc op")
    size = x.shape[dim]
    positions = [v + size if v < 0 else v for v in index.values]
    return b.emit_like(node, x, "index_select", {"index": positions, "dim": x.layout.axis(dim, rank)}, x.layout)


def h_index_select(b: Builder, node: Any, a: list[Any]) -> Any:  # index_select(x, dim, index)
    x, dim, index = a[0], a[1], a[2]
    if isinstance(x, Tensor) and isinstance(index, Param):
        return selected(b, node, x, dim, index)
    return h_index(b, node, [x, [None] * (dim % len(x.shape)) + [index]])


def h_index(b: Builder, node: Any, a: list[Any]) -> Param | Tensor:
    """``table[index]`` of a parameter by buffers (relative position bias): the gathered tensor, whose parameters are
    the table's (counted once by a ``param`` layer of the table's shape); ``x[:, :, perm]`` of an activation by a
    constant list of positions: an ``index_select``."""
    table = a[0]
    if isinstance(table, Tensor) and b.is_fixed(table) and not any(isinstance(i, Tensor) for i in a[1] or []):
        return Param(f"index:{node.name}", b.out_shape(node), "constant")  # of layers that never read the input
    indices = list(a[1] or [])
    given = [(dim, i) for dim, i in enumerate(indices) if i is not None]
    if isinstance(table, Tensor) and len(given) == 1 and isinstance(given[0][1], Param):
        return selected(b, node, table, given[0][0], given[0][1])
    if not isinstance(table, Param) or any(isinstance(i, Tensor) for i in a[1] or []):
        b.fail("indexing by computed values has no convcalc op")
    return picked(table, b.out_shape(node))


def picked(table: Param, shape: tuple[int, ...]) -> Param:
    """Elements of a parameter, buffer or constant picked by constant indices (``table[index]``, ``table[0]``): a
    gathered parameter (its table counted once, by a ``param`` layer of the table's shape), or a buffer or constant."""
    if table.kind in ("param", "gathered"):
        return Param(table.fqn, shape, "gathered", numel=table.numel, source=table.source or table.shape)
    return Param(table.fqn, shape, table.kind)


def passthrough(b: Builder, node: Any, a: list[Any]) -> Any:
    return a[0]


# -- elementwise ----------------------------------------------------------------------------------------------------


def unary(op: str, extra: ArgsOf | None = None) -> Handler:
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
    low, high = (bound(a[1]) if len(a) > 1 else None), (bound(a[2]) if len(a) > 2 else None)
    if isinstance(low, Tensor | Param) or isinstance(high, Tensor | Param):
        b.fail("clamp to tensor bounds has no convcalc op")
    if low is None and high is None:  # clamp to -inf..inf (gemma4's unset ClippableLinear bounds): x itself
        return b.tensor(a[0])
    if (low, high) == (0, 6) or (low, high) == (0.0, 6.0):
        return unary("relu6")(b, node, a)
    if low == 0 and high is None:
        return unary("relu")(b, node, a)
    args = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    return unary("clamp", lambda _: args)(b, node, a)


def bound(value: Any) -> Any:
    """A clamp bound: a one-element buffer or constant as its number, an infinite one as None (no bound)."""
    if isinstance(value, Param) and value.kind != "param" and value.scalar is not None:
        value = value.scalar
    return None if isinstance(value, float) and math.isinf(value) else value


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




def gelu_args(a: list[Any]) -> dict[str, Any]:
    """gelu(x, approximate): ``approximate: tanh`` when not PyTorch's exact ``none``."""
    return {"approximate": a[1]} if len(a) > 1 and a[1] not in (None, "none") else {}


def var_args(a: list[Any]) -> dict[str, Any]:
    """var(x, dim, correction, keepdim): ``correction`` when a number other than 1 (Bessel's)."""
    correction = a[2] if len(a) > 2 else None
    is_number = isinstance(correction, (int, float)) and not isinstance(correction, bool)
    return {"correction": int(correction)} if is_number and correction != 1 else {}


def norm_args(a: list[Any]) -> dict[str, Any]:
    """linalg_vector_norm(x, ord, dim, keepdim): ``p`` when not 2."""
    return {"p": float(a[1])} if a[1] != 2 else {}


ACTIVATIONS = {
    "relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "tanh_": "tanh",
    "silu": "silu", "silu_": "silu", "hardswish": "hardswish", "hardswish_": "hardswish", "hardsigmoid": "hardsigmoid",
    "hardsigmoid_": "hardsigmoid", "mish": "mish", "mish_": "mish", "selu": "selu", "selu_": "selu",
    "log_sigmoid": "logsigmoid", "exp": "exp", "log": "log", "sqrt": "sqrt", "rsqrt": "rsqrt", "neg": "neg",
    "abs": "abs", "reciprocal": "reciprocal", "square": "square", "sign": "sign", "erf": "gelu",
}
"""ATen's argument-free elementwise ops (and their in-place forms) and the convcalc op of each."""

LAYOUT_HANDLERS: dict[str, Handler] = {
    **{name: unary(op) for name, op in ACTIVATIONS.items()},
    "gelu": unary("gelu", gelu_args), "gelu_": unary("gelu", gelu_args),
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
    "softmax": dim_op("softmax"), "_softmax": dim_op("softmax"), "log_softmax": dim_op("logsoftmax"),
    "_log_softmax": dim_op("logsoftmax"),
    "mean": reduction("mean"), "sum": reduction("sum"), "amax": reduction("amax"), "amin": reduction("amin"),
    "var": reduction("var", keepdim_index=3, extra=var_args),
    "linalg_vector_norm": reduction("norm", dims_index=2, keepdim_index=3, extra=norm_args),
    "split": h_split, "split_with_sizes": h_split, "chunk": h_chunk, "unbind": h_unbind,
    "select": h_select, "slice": h_slice, "cat": h_cat, "concat": h_cat, "stack": h_stack, "roll": h_roll,
    "permute": h_permute, "transpose": h_transpose, "t": h_transpose, "swapaxes": h_transpose,
    "view": h_reshape, "reshape": h_reshape, "view_as": h_reshape, "reshape_as": h_reshape, "_unsafe_view": h_reshape, "flatten": h_reshape, "unflatten": h_reshape,
    "squeeze": h_reshape, "squeeze_": h_reshape, "unsqueeze": h_reshape, "unsqueeze_": h_reshape,
    "index": h_index, "index_select": h_index_select, "expand": h_expand, "expand_as": h_expand,
    "contiguous": passthrough, "clone": passthrough, "dropout": passthrough, "dropout_": passthrough,
    "feature_dropout": passthrough, "alpha_dropout": passthrough, "detach": passthrough, "detach_": passthrough, "alias": passthrough,
    "lift_fresh_copy": passthrough, "to": passthrough, "_to_copy": passthrough, "type_as": passthrough,
    "native_dropout": lambda b, node, a: Many([a[0], None]),
}
"""Elementwise ops, dims through the layout, reductions, splits and merges, views, and ops that change nothing in
eval mode (dropout, copies)."""
