"""ATen ops that PyTorch fuses from simpler ones, written as those ops: entries of the one dispatch table
(:data:`EXTRA_HANDLERS`, merged into :data:`convcalc.frontends.torch_aten.HANDLERS`), and ``im2col`` (``F.unfold``) as
convcalc's ``unfold``.

Conventions (those of :mod:`convcalc.frontends.torch_aten`): a handler takes the builder, the node and the node's
arguments in schema order and returns the node's value. ``addcmul(x, t1, t2, value)`` is ``x + value * t1 * t2``
and ``addcdiv`` the same with ``t1 / t2``: a ``mul`` (or ``div``), a ``mul`` by the constant ``value`` when it is not
1, and an ``add``. ``repeat_interleave(x, r, dim)`` with an integer ``r`` is an ``expand`` of a new axis after
``dim`` and a ``reshape`` merging the two (PyTorch's order: each element ``r`` times in a row); repeating the batch
dim (size 1: timm's global query copied to every window) makes it a logical axis. ``repeat(x, r)`` tiles: an
``expand`` where the repeated size is 1, else a new axis before the dim, expanded and merged (whole copies in a row).
``tensor_split`` is a ``split`` at the sizes PyTorch gives its pieces, and ``col2im`` (``F.fold``) convcalc's
``fold``, whose input ``(L, C*kh*kw)`` is PyTorch's ``(N, C*kh*kw, L)`` channels first. ``max(x, dim)`` and ``min``
are ``amax`` and ``amin`` (their indices unread). ``Tensor.unfold`` (windows along one dim) is strided slices joined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.frontends.torch_aten_layout import (
    Handler,
    h_expand,
    h_split,
    one_or_list,
    reduction,
    set_unless_default,
    unsqueezed,
)
from convcalc.frontends.torch_layout import channels_first, permuted
from convcalc.frontends.torch_values import Many, Param, Tensor

if TYPE_CHECKING:
    from convcalc.frontends.torch_builder import Builder


def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's broadcast of physical shapes (right-aligned, size 1 stretches)."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(max(sizes) for sizes in zip(*padded))


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, (Tensor, Param)) else ()


def fused_add(op: str) -> Handler:
    """addcmul / addcdiv(x, t1, t2, value): ``x + value * (t1 op t2)``."""

    def handler(b: Builder, node: Any, a: list[Any]) -> Tensor:
        x, first, second = a[0], a[1], a[2]
        value = a[3] if len(a) > 3 and a[3] is not None else 1
        inner_shape = broadcast_shape(shape_of(first), shape_of(second))
        inner = b.binary(node, op, [first, second], inner_shape)
        if value != 1:
            inner = b.binary(node, "mul", [inner, value], inner_shape)
        return b.binary(node, "add", [x, inner], b.out_shape(node))

    return handler


def copies(b: Builder, node: Any, x: Tensor, axis: int, count: int) -> Tensor:
    """``x`` with a new dim of size 1 at ``axis`` (never the batch), expanded to ``count`` copies."""
    spread = unsqueezed(b, node, x, axis)
    shape = spread.shape[:axis] + (count,) + spread.shape[axis + 1 :]
    return b.emit(node, "expand", {"shape": list(spread.layout.logical(shape))}, [spread.ref], shape, spread.layout,
                  main=False)


def h_repeat_interleave(b: Builder, node: Any, a: list[Any]) -> Tensor:  # repeat_interleave(x, repeats, dim, size)
    x, repeats, dim = a[0], a[1], a[2]
    if not isinstance(x, Tensor) or not isinstance(repeats, int) or dim is None:
        b.fail("repeat_interleave other than of an activation, an integer number of times, on one dim, has no "
               "convcalc op")
    return b.reshape(node, copies(b, node, x, dim % len(x.shape) + 1, repeats), b.out_shape(node))


def h_repeat(b: Builder, node: Any, a: list[Any]) -> Any:  # repeat(x, repeats): whole copies along each dim
    """An activation's (a repeat of parameters and constants only is a computed constant, before any handler)."""
    x, repeats = b.tensor(a[0]), [int(r) for r in a[1]]
    shape = (1,) * (len(repeats) - len(x.shape)) + tuple(x.shape)
    batch = None if x.layout.batch is None else x.layout.batch + len(shape) - len(x.shape)

    def tiled_dim(dim: int, r: int, size: int) -> bool:  # tiles of more than one element, or copies of the batch
        return r > 1 and (size > 1 or dim == batch)

    if any(tiled_dim(dim, r, size) for dim, (r, size) in enumerate(zip(repeats, shape))):
        x = b.reshape(node, x, shape) if x.shape != shape else x
        for dim, (r, size) in enumerate(zip(repeats, shape)):
            if tiled_dim(dim, r, size):
                x = b.reshape(node, copies(b, node, x, dim, r), x.shape[:dim] + (r * size,) + x.shape[dim + 1 :])
    return h_expand(b, node, [x])  # the dims of size 1 (and a shape already tiled: nothing)


def h_tensor_split(b: Builder, node: Any, a: list[Any]) -> Many:  # tensor_split(x, indices or sections, dim)
    x = b.tensor(a[0])
    dim = (a[2] if len(a) > 2 and a[2] is not None else 0) % len(x.shape)
    sizes = [int(piece.shape[dim]) for piece in node.meta["val"]]
    if dim == x.layout.batch or 0 in sizes:
        b.fail("tensor_split of the batch dim, or into an empty piece, has no convcalc op")
    return h_split(b, node, [x, sizes, dim])


def h_col2im(b: Builder, node: Any, a: list[Any]) -> Tensor:  # col2im(input, output_size, kernel, dilation, pad, stride)
    """``F.fold``: convcalc's ``fold`` of PyTorch's ``(N, C*kh*kw, L)`` blocks, read channels first as ``(L, ...)``."""
    x, size, kernel, dilation, padding, stride = b.tensor(a[0]), a[1], a[2], a[3], a[4], a[5]
    if len(x.shape) != 3 or x.shape[0] != 1:
        b.fail("fold of other than one set of blocks (a batch of 1) has no convcalc op")
    x = b.conform(x, channels_first(3))
    args = {"size": one_or_list(list(size)), **block_args(kernel, dilation, padding, stride)}
    return b.emit(node, "fold", args, [x.ref], b.out_shape(node), channels_first(4))


def h_unfold(b: Builder, node: Any, a: list[Any]) -> Tensor:  # Tensor.unfold(x, dim, size, step)
    """``x.unfold(dim, size, step)``: the ``n = (L - size) // step + 1`` windows along ``dim``, each a new last dim of
    ``size`` elements (HaloNet's blocks with their halo). Offset ``k`` of every window is one strided ``slice``;
    the ``size`` slices are joined along ``dim`` (offset-major), split as ``(size, n)`` and the offsets moved last
    (a layout change, no layer). Windows that tile the dim exactly (``step == size``) are one ``reshape``."""
    x = b.tensor(a[0])
    rank = len(x.shape)
    dim, size, step = a[1] % rank, int(a[2]), int(a[3])
    if dim == x.layout.batch:
        b.fail("unfold of the batch dim has no convcalc op")
    length = x.shape[dim]
    windows = (length - size) // step + 1
    if step == size and windows * size == length:
        return b.reshape(node, x, b.out_shape(node))
    axis = x.layout.axis(dim, rank)
    piece = x.shape[:dim] + (windows,) + x.shape[dim + 1 :]
    refs = []
    for offset in range(size):
        args: dict[str, Any] = {"dim": axis, "start": offset, "stop": offset + step * (windows - 1) + 1}
        set_unless_default(args, "step", step, 1)
        refs.append(b.emit(node, "slice", args, [x.ref], piece, x.layout, main=False).ref)
    joined_shape = x.shape[:dim] + (size * windows,) + x.shape[dim + 1 :]
    joined = b.emit(node, "concat", {} if axis == len(x.layout.perm) - 1 else {"dim": axis}, refs, joined_shape,
                    x.layout, main=False)
    split = b.reshape(node, joined, x.shape[:dim] + (size, windows) + x.shape[dim + 1 :])
    order = [d for d in range(rank + 1) if d != dim] + [dim]  # the offsets' dim last
    return Tensor(split.ref, tuple(split.shape[d] for d in order), permuted(split.layout, order))


def with_indices(op: str) -> Handler:
    """``max(x, dim, keepdim)`` / ``min``: convcalc's ``amax`` / ``amin`` for the values; the indices (an argmax)
    have no op, so a model that reads them fails where it does. ``max(x, y)`` (elementwise) has no op either."""
    values = reduction(op)

    def handler(b: Builder, node: Any, a: list[Any]) -> Many:
        if len(a) < 2 or not isinstance(a[1], int):
            b.fail(f"{'max' if op == 'amax' else 'min'} other than over one dim (the values and their indices) has "
                   "no convcalc op")
        return Many([values(b, node, a), None])

    return handler


def h_im2col(b: Builder, node: Any, a: list[Any]) -> Tensor:  # im2col(input, kernel_size, dilation, padding, stride)
    """``F.unfold``: convcalc's ``unfold``, whose ``(L, C*kh*kw)`` is PyTorch's ``(N, C*kh*kw, L)`` channels first."""
    x, kernel, dilation, padding, stride = b.tensor(a[0]), a[1], a[2], a[3], a[4]
    x = b.conform(x, channels_first(len(x.shape)))
    if len(x.shape) != 4 or x.shape[0] != 1:
        b.fail("unfold of other than one 2-D feature map (a batch of 1) has no convcalc op")
    return b.emit(node, "unfold", block_args(kernel, dilation, padding, stride), [x.ref], b.out_shape(node),
                  channels_first(3))


def block_args(kernel: Any, dilation: Any, padding: Any, stride: Any) -> dict[str, Any]:
    """im2col's and col2im's window as convcalc's ``unfold``/``fold`` arguments (defaults left out)."""
    args: dict[str, Any] = {"k": one_or_list(list(kernel))}
    set_unless_default(args, "d", one_or_list(list(dilation)), 1)
    set_unless_default(args, "p", one_or_list(list(padding)), 0)
    set_unless_default(args, "s", one_or_list(list(stride)), 1)
    return args


EXTRA_HANDLERS: dict[str, Handler] = {
    "im2col": h_im2col, "col2im": h_col2im,
    "repeat": h_repeat, "tensor_split": h_tensor_split,
    "max": with_indices("amax"), "min": with_indices("amin"), "unfold": h_unfold,
    "addcmul": fused_add("mul"), "addcdiv": fused_add("div"),
    "repeat_interleave": h_repeat_interleave,
}
"""Fused elementwise ops, repeats, splits, windows along a dim and max/min over a dim, as the simpler ops they are
made of; im2col and col2im."""
