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


def sliced_from(node: Any) -> Any:
    """The node a chain of slices (any step) starts from: the tensor a write through them changes."""
    while hasattr(node, "target") and op_name(node) == "slice":
        node = node.args[0]
    return node


def only_written(node: Any) -> bool:
    """A slice taken only to be written into (``copy_``'s target, or sliced again only for that): no layer of its
    own, since nothing reads its value."""
    return op_name(node) == "slice" and bool(node.users) and all(
        (op_name(user) == "copy_" and user.args[0] is node) or only_written(user) for user in node.users
    )


def slice_chain(target: Any) -> tuple[Any, list[tuple[int, int, int]]]:
    """The node a view was sliced from and its slices ``(dim, start, stop)``, outermost first (none: the write is
    into the whole tensor, as when the slices were full and export dropped them); None for a slice with a step."""
    chain = []
    while hasattr(target, "target") and op_name(target) == "slice":
        base = target.args[0]
        rank = len(base.meta["val"].shape)
        size = int(base.meta["val"].shape[target.args[1] % rank])
        dim = target.args[1] % rank
        start = target.args[2] if len(target.args) > 2 and target.args[2] is not None else 0
        stop = target.args[3] if len(target.args) > 3 and target.args[3] is not None else size
        step = target.args[4] if len(target.args) > 4 else None
        if step not in STEP_ONE:
            return None, []
        start, stop = (max(0, min(size, v + size if v < 0 else v)) for v in (start, stop))
        chain.append((dim, start, stop))
        target = base
    return target, chain[::-1]


def write_into_slice(b: Builder, node: Any, values: dict[Any, Any]) -> None:
    """``copy_(view, value)``: the base tensor of ``view`` gets ``value`` in the slice (``values`` updated)."""
    base_node, chain = slice_chain(node.args[0])
    base, written = values.get(base_node), b.tensor(values.get(node.args[1]))
    if base_node is None or not isinstance(base, Tensor):
        b.fail("a write into other than a slice (with step 1) of an activation has no convcalc op")
    values[base_node] = rebuilt(b, node, base, chain, written)
    values[node] = written


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
