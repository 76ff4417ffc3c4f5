"""A write into a slice of an activation (``attn[:, :, 1:, 1:] += rel_pos``: ATen's ``copy_`` into a view made by
``slice``), lowered as the graph-level change it is: the tensor the view was taken from gets a new value, built from
the vocabulary's ``split`` and ``concat``, and the nodes that read that tensor afterwards read the new value.

Along each sliced dim, outermost first, the tensor is split into the part before the slice, the slice and the part
after it; the innermost slice is replaced by the written value (broadcast to it with ``expand`` if smaller), and the
parts are joined again in order; a write into the whole tensor (``attn[:, :, 0:, 0:] = ...``, whose full slices
export drops) replaces it. That moves no element and adds nothing: the op that computed the written value (the
``add`` of ``+=``) was lowered before, on the slice alone, as PyTorch runs it. A slice with a step, or a write into
anything other than an activation, is refused in one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.frontends.torch_naming import op_name
from convcalc.frontends.torch_values import Tensor

if TYPE_CHECKING:
    from convcalc.frontends.torch_builder import Builder

STEP_ONE = (None, 1)


def lowered_write(b: Builder, node: Any, values: dict[Any, Any]) -> bool:
    """Lower ``node`` if it belongs to a write into an activation: a ``copy_`` through slices (anything but slices
    of step 1 refused), or a slice taken only for it (no layer). False for anything else, a write into a constant or
    buffer included (computed like any op on constants)."""
    name = op_name(node)
    if name not in ("slice", "copy_"):
        return False
    base_node, chain = slice_chain(node.args[0])
    if not isinstance(values.get(base_node), Tensor):
        return False
    if name == "slice":
        return only_written(node)
    written = b.tensor(values.get(node.args[1]))
    if chain is None:
        b.fail("a write into other than a slice (with step 1) of an activation has no convcalc op")
    values[base_node] = rebuilt(b, node, values[base_node], chain, written)
    values[node] = written
    return True


def only_written(node: Any) -> bool:
    """A slice taken only to be written into (``copy_``'s target, or sliced again only for that): no layer of its
    own, since nothing reads its value."""
    return op_name(node) == "slice" and bool(node.users) and all(
        (op_name(user) == "copy_" and user.args[0] is node) or only_written(user) for user in node.users
    )


def slice_chain(target: Any) -> tuple[Any, list[tuple[int, int, int]] | None]:
    """The node a view was sliced from (``target`` itself when it is no slice: a write into the whole tensor, as when
    the slices were full and export dropped them) and its slices ``(dim, start, stop)``, outermost first; None for
    the slices when one has a step."""
    chain: list[tuple[int, int, int]] | None = []
    while hasattr(target, "target") and op_name(target) == "slice":
        base = target.args[0]
        rank = len(base.meta["val"].shape)
        dim = target.args[1] % rank
        size = int(base.meta["val"].shape[dim])
        start = target.args[2] if len(target.args) > 2 and target.args[2] is not None else 0
        stop = target.args[3] if len(target.args) > 3 and target.args[3] is not None else size
        step = target.args[4] if len(target.args) > 4 else None
        if step not in STEP_ONE:
            chain = None
        elif chain is not None:
            start, stop = (max(0, min(size, v + size if v < 0 else v)) for v in (start, stop))
            chain.append((dim, start, stop))
        target = base
    return target, None if chain is None else chain[::-1]


def rebuilt(b: Builder, node: Any, x: Tensor, chain: list[tuple[int, int, int]], written: Tensor) -> Tensor:
    """``x`` with its slice ``chain`` replaced by ``written``."""
    if not chain:
        if len(written.shape) != len(x.shape):
            b.fail(f"writing a tensor of {len(written.shape)} dims into a slice of {len(x.shape)} has no convcalc op")
        if tuple(written.shape) != tuple(x.shape):
            written = b.emit(node, "expand", {"shape": list(written.layout.logical(x.shape))}, [written.ref], x.shape,
                             written.layout, main=False)
        return b.conform(written, x.layout)
    (dim, start, stop), rest = chain[0], chain[1:]
    if dim == x.layout.batch:
        b.fail("a write into a slice of the batch dim has no convcalc op")
    sizes = [size for size in (start, stop - start, x.shape[dim] - stop) if size]
    shapes = [x.shape[:dim] + (size,) + x.shape[dim + 1 :] for size in sizes]
    axis = x.layout.axis(dim, len(x.shape))
    if len(sizes) == 1:
        return rebuilt(b, node, x, rest, written)
    parts = b.emit(node, "split", {"sizes": sizes, "dim": axis}, [x.ref], x.shape, x.layout, main=False)
    pieces = [Tensor(f"{parts.ref}[{k}]", shape, x.layout) for k, shape in enumerate(shapes)]
    middle = 1 if start else 0
    pieces[middle] = rebuilt(b, node, pieces[middle], rest, written)
    args = {} if axis == len(x.layout.perm) - 1 else {"dim": axis}
    return b.emit(node, "concat", args, [piece.ref for piece in pieces], x.shape, x.layout, main=False)
