"""Several outputs and joining on any axis: split, chunk, stack, concat (free; fields exact or unknown)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convcalc.core.notation import Shape, format_shape
from convcalc.errors import InputError, ShapeError
from convcalc.ops.handlers.results import AxisSource, OpResult, logical_axis, one_input


def _pieces(shape: Shape, axis: int, sizes: list[int]) -> OpResult:
    """Pieces of ``sizes`` along ``axis``: pointwise; along a grid axis each piece's field starts at its offset."""
    outputs = tuple(shape[:axis] + (size,) + shape[axis + 1 :] for size in sizes)
    rank = len(shape) - 1
    offsets = [sum(sizes[:k]) for k in range(len(sizes))]
    starts = tuple(tuple(Fraction(offset if d == axis else 0) for d in range(rank)) for offset in offsets)
    return OpResult(
        output_shape=outputs[0],
        output_shapes=outputs if len(outputs) > 1 else (),
        field="window" if rank else "global",
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=(Fraction(0),) * rank,
        output_starts=starts if len(outputs) > 1 and axis < rank else (),
    )


def split_sizes(n: int, size: int) -> list[int]:
    """torch.split with one size: pieces of ``size``, the last smaller (one piece when ``size`` >= n)."""
    return [size] * (n // size) + ([n % size] if n % size else [])


def op_split(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.split: one size (equal pieces, the last smaller) or every piece's size (summing to the axis)."""
    shape = one_input(shapes)
    axis = logical_axis(args.get("dim", -1), len(shape))
    n, sizes = shape[axis], args["sizes"]
    if isinstance(sizes, int):
        return _pieces(shape, axis, split_sizes(n, sizes))
    if sum(sizes) != n:
        raise ShapeError(f"split sizes {list(sizes)} sum to {sum(sizes)}, but axis {args.get('dim', -1)} has {n}", "sizes")
    return _pieces(shape, axis, list(sizes))


def op_chunk(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.chunk: pieces of ceil(n / chunks), the last smaller; fewer than ``chunks`` when they run out."""
    shape = one_input(shapes)
    axis = logical_axis(args.get("dim", -1), len(shape))
    return _pieces(shape, axis, split_sizes(shape[axis], -(-shape[axis] // args["chunks"])))


def op_stack(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.stack: equal shapes on a new axis ``dim`` of the output. The grid stays the first axes (a merge of the
    fields) unless the new axis goes among them: then the field is unknown."""
    if not shapes:
        raise InputError("stack needs at least one input", "from")
    if any(shape != shapes[0] for shape in shapes):
        raise ShapeError("stack needs equal shapes, got " + ", ".join(map(format_shape, shapes)), "from")
    axis = logical_axis(args["dim"], len(shapes[0]) + 1)
    out = shapes[0][:axis] + (len(shapes),) + shapes[0][axis:]
    if axis < len(shapes[0]) - 1:
        return OpResult(output_shape=out, field="unknown", field_note="stack puts a new axis among the grid axes")
    sources = [AxisSource((a,)) for a in range(len(shapes[0]))]  # the new axis holds no grid position
    return OpResult(output_shape=out, field="merge", regroup=tuple(sources[:axis] + [AxisSource(())] + sources[axis:]))


def op_concat(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.cat on axis ``dim`` (default -1, the channels). Along a grid axis the output's positions come from
    different inputs, so no one window describes them: the field is unknown (but with one input)."""
    if not shapes:
        raise InputError("concat needs at least one input", "from")
    if any(len(shape) != len(shapes[0]) for shape in shapes):
        raise ShapeError("concat needs inputs of the same rank, got " + ", ".join(map(format_shape, shapes)), "from")
    dim = args.get("dim", -1)
    axis = logical_axis(dim, len(shapes[0]))
    if any(shape[:axis] + shape[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :] for shape in shapes):
        but = "for the channels" if axis == len(shapes[0]) - 1 else f"on axis {dim}"
        raise ShapeError(f"concat needs equal sizes but {but}, got " + ", ".join(map(format_shape, shapes)), "from")
    out = shapes[0][:axis] + (sum(shape[axis] for shape in shapes),) + shapes[0][axis + 1 :]
    if axis < len(shapes[0]) - 1 and len(shapes) > 1:
        return OpResult(output_shape=out, field="unknown", field_note="concat along a grid axis joins positions of different inputs")
    return OpResult(output_shape=out, field="merge")
