"""Which axes of a tensor hold the input's grid, through layout ops, so that receptive fields stay exact or unknown.

The analysis tracks a :class:`~convcalc.core.receptive.Field` per input grid axis and assumes, by default, that a
tensor's axes are the input's grid axes in order, then the channels (``Field.axes`` is None). Layout ops (flatten,
reshape, permute, squeeze, ...) may change that: ``Field.axes`` then lists, per tensor axis, the input grid axes it
holds as (grid axis, size) factors, row-major (grid axis -1: values that are no grid position, such as channels).
A ViT's patch grid flattened into tokens, ``(14, 14, 768) -> (196, 768)``, is ``(((0, 14), (1, 14)), ((-1, 768),))``:
each token's field is its patch's, exact; a later op that keeps tokens apart keeps it; one that mixes every token
makes it the whole input; a window over the merged token axis (a conv, a pooling) has no window in the input: unknown.

Rules (each failure is a one-line reason, and the field becomes unknown):
- an op's window on a tensor axis applies to the grid axis that axis holds; on an axis holding no grid axis it
  changes nothing; on an axis merging several grid axes only a window of 1 (pointwise) is defined;
- the last axis (the channels, which linear, softmax, layernorm mix) must hold no grid axis;
- an axis may not merge a grid axis with channel values, and splitting an axis must not cut a grid axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from convcalc.core.notation import Shape
from convcalc.core.receptive import Field, forward
from convcalc.ops.handlers import AxisSource, OpResult

Atom = tuple[int, int]  # (grid axis of the network input, or -1; size)
Layout = tuple[tuple[Atom, ...], ...]
Window = tuple[tuple[int, ...], tuple[Fraction, ...], tuple[Fraction, ...]]


def standard(shape: Shape) -> Layout:
    """The default layout of a tensor: grid axes in order, then the channels."""
    return tuple(((axis, n),) for axis, n in enumerate(shape[:-1])) + (((-1, shape[-1]),),)


def current(field: Field, shape: Shape) -> Layout | str:
    """The layout of a tensor of ``shape`` with this field, sizes as they are now; a reason when they disagree."""
    rank = len(field.receptive_field)
    if field.axes is None:
        if len(shape) != rank + 1:
            return f"the tensor {'x'.join(map(str, shape))} no longer has the input's {rank} grid axes and the channels"
        return standard(shape)
    if len(field.axes) != len(shape):
        return "the tensor's axes no longer match the grid axes the analysis followed"
    out = []
    for atoms, n in zip(field.axes, shape):
        if len(atoms) == 1:
            out.append(((atoms[0][0], n),))
            continue
        if _size(atoms) != n:
            return "an op changed the size of an axis that merges grid axes"
        out.append(atoms)
    return tuple(out)


def _size(atoms: Sequence[Atom]) -> int:
    size = 1
    for _, n in atoms:
        size *= n
    return size


def _grid(atoms: Sequence[Atom]) -> list[Atom]:
    """The grid factors of an axis that matter: of size > 1, or the only one."""
    grid = [atom for atom in atoms if atom[0] >= 0]
    return [atom for atom in grid if atom[1] > 1] or grid[:1]


def grid_window(result: OpResult, layout: Layout, rank: int) -> Window | str:
    """The op's window (given per tensor axis before the channels) as a window per input grid axis."""
    if len(result.receptive_field) != len(layout) - 1:
        return "the op's window does not match the tensor's axes"
    k, s, t = [1] * rank, [Fraction(1)] * rank, [Fraction(0)] * rank
    for axis, (atoms, size, jump, start) in enumerate(zip(layout, result.receptive_field, result.jump, result.start)):
        grid = _grid(atoms)
        if not grid:
            continue  # an axis of channel values: moving along it reads no other position
        if len(grid) > 1:
            if (size, jump, start) != (1, 1, 0):
                merged = ", ".join(str(g) for g, _ in grid)
                return f"a window over axis {axis}, which merges grid axes {merged} (a flattened grid): no one window in the input"
            continue
        g = grid[0][0]
        k[g], s[g], t[g] = size, Fraction(jump), Fraction(start)
    return tuple(k), tuple(s), tuple(t)


def split_atoms(atoms: Sequence[Atom], parts: Sequence[int]) -> list[tuple[Atom, ...]] | str:
    """An axis's factors cut into ``parts`` sizes: channel values may be cut anywhere, a grid axis only whole."""
    queue = [atom for atom in atoms if atom[1] > 1]
    pieces: list[tuple[Atom, ...]] = []
    for size in parts:
        got: list[Atom] = []
        have = 1
        while have < size:
            if not queue:
                return f"the sizes {list(parts)} do not fit the axis"
            g, n = queue.pop(0)
            need = size // have
            if size % have == 0 and n <= need and need % n == 0:
                got.append((g, n))
                have *= n
            elif g < 0 and size % have == 0 and n % need == 0:
                got.append((-1, need))
                queue.insert(0, (-1, n // need))
                have = size
            else:
                return f"the op cuts grid axis {g} ({n} positions) into pieces of {size}: positions regroup"
        pieces.append(tuple(got) or ((-1, 1),))
    return pieces


def regroup(layout: Layout, sources: Sequence[AxisSource]) -> Layout | str:
    """The output layout of a layout op from its input's."""
    out: list[tuple[Atom, ...]] = []
    for source in sources:
        atoms = tuple(atom for axis in source.axes for atom in layout[axis]) or ((-1, 1),)
        if source.parts:
            pieces = split_atoms(atoms, source.parts)
            if isinstance(pieces, str):
                return pieces
            atoms = pieces[source.part]
        out.append(atoms)
    return tuple(out)


def settle(layout: Layout, shape: Shape, rank: int) -> Layout | None | str:
    """The layout checked and in its plain form: None when it is the standard one; a reason when the grid cannot be
    followed (a grid axis among the channels, or merged with channel values)."""
    out = []
    for axis, atoms in enumerate(layout):
        big = [atom for atom in atoms if atom[1] > 1]
        grid = [g for g, _ in big if g >= 0]
        if grid and axis == len(layout) - 1:
            return f"grid axis {grid[0]} is now in the last axis, which ops treat as the channels"
        if grid and len(grid) < len(big):
            return f"axis {axis} merges grid axis {grid[0]} with channel values"
        if len(atoms) == 1:
            out.append(((atoms[0][0], shape[axis]),))
        else:
            kept = tuple(big) or tuple(atom for atom in atoms if atom[0] >= 0)[:1] or ((-1, 1),)
            out.append(kept if len(kept) > 1 or kept[0][0] < 0 else ((kept[0][0], shape[axis]),))
    layout = tuple(out)
    if len(shape) == rank + 1 and layout == standard(shape):
        return None
    return layout


def through(field: Field, result: OpResult, shape: Shape) -> Field:
    """The field after a windowed or layout op with one input of ``shape`` (a field that is whole or unknown stays)."""
    if field.whole or field.unknown:
        return field
    rank = len(field.receptive_field)
    out_shape = result.output_shape
    if field.axes is None and not result.regroup and len(shape) == len(out_shape) == rank + 1:
        return forward(field, result.receptive_field, result.jump, result.start)  # the usual case, fast
    layout = current(field, shape)
    if isinstance(layout, str):
        return unknown(field, layout)
    window = grid_window(result, layout, rank)
    if isinstance(window, str):
        return unknown(field, window)
    moved = forward(replace(field, axes=None), *window)
    if result.regroup:
        if result.windowed_sizes:  # unfold: the window changed the sizes of the axes it regroups
            layout = tuple(
                ((atoms[0][0], size),) if len(atoms) == 1 else atoms for atoms, size in zip(layout, result.windowed_sizes)
            )
        layout = regroup(layout, result.regroup)  # type: ignore[assignment]
        if isinstance(layout, str):
            return unknown(field, layout)
    elif len(out_shape) != len(shape):
        return unknown(field, "the op changes the number of axes of a tensor whose grid axes were regrouped")
    settled = settle(layout, out_shape, rank)
    if isinstance(settled, str):
        return unknown(field, settled)
    return replace(moved, axes=settled)


def relayout(field: Field, result: OpResult, shape: Shape) -> Field:
    """The merged field of a merge op (concat, stack, add, ...) moved through the op's regrouping (stack's new axis)."""
    if field.whole or field.unknown or field.is_empty or not result.regroup:
        return field
    layout = current(field, shape)
    layout = layout if isinstance(layout, str) else regroup(layout, result.regroup)
    settled = layout if isinstance(layout, str) else settle(layout, result.output_shape, len(field.receptive_field))
    return unknown(field, settled) if isinstance(settled, str) else replace(field, axes=settled)


def grid_axes(field: Field) -> tuple[tuple[int, ...], ...] | None:
    """The layout without sizes: whether two fields' tensors hold the grid the same way."""
    return None if field.axes is None else tuple(tuple(g for g, n in atoms if g >= 0 and n > 1) for atoms in field.axes)


def unknown(field: Field, reason: str) -> Field:
    return Field(field.receptive_field, field.jump, field.start, unknown=reason)
