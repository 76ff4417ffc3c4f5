"""How a PyTorch tensor of batch 1 is laid out as a convcalc tensor: which physical dims, in which order.

A captured tensor has a physical shape (PyTorch's, batch included, batch size 1). convcalc's tensor for it is the same
elements without the batch dim and in convcalc's logical order (channels last). A :class:`Layout` says which
physical dim each logical axis is (``perm``) and which physical dim is the batch (``batch``, dropped; None when the
batch was merged into another dim or selected away). PyTorch's ``(N, C, H, W)`` is ``Layout(0, (2, 3, 1))``: logical
``(H, W, C)``; a transformer's ``(N, L, C)`` is ``Layout(0, (1, 2))``.

Permutes and transposes only change the layout (no convcalc layer); a reshape becomes a convcalc ``reshape`` in the
current logical order when the dims it merges or splits are adjacent there in the same order (:func:`regroup`),
else the tensor is first permuted to PyTorch's own order (:func:`natural`). Pure standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

PhysShape = tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """``perm[i]`` is the physical dim of logical axis i; ``batch`` the physical dim dropped as the batch."""

    batch: int | None
    perm: tuple[int, ...]

    def logical(self, shape: PhysShape) -> tuple[int, ...]:
        """The convcalc shape of a physical ``shape`` in this layout."""
        return tuple(shape[p] for p in self.perm)

    def axis(self, dim: int, rank: int) -> int:
        """The logical axis of physical dim ``dim`` (negative dims count from the end, as in PyTorch)."""
        return self.perm.index(dim % rank)


def channels_first(rank: int) -> Layout:
    """PyTorch's ``(N, C, *grid)``: logical ``(*grid, C)``; ``(N, C)`` is ``(C,)``."""
    return Layout(0, (*range(2, rank), 1) if rank >= 2 else ())


def natural(shape: PhysShape, batch: int | None = 0) -> Layout:
    """PyTorch's own order without the batch dim (``batch`` only when that dim has size 1)."""
    if batch is not None and (batch >= len(shape) or shape[batch] != 1):
        batch = None
    return Layout(batch, tuple(d for d in range(len(shape)) if d != batch))


def permuted(layout: Layout, dims: list[int]) -> Layout:
    """The layout after ``x.permute(dims)``: new physical dim j is old dim ``dims[j]``."""
    rank = len(dims)
    new_of_old = {d % rank: j for j, d in enumerate(dims)}
    batch = None if layout.batch is None else new_of_old[layout.batch]
    return Layout(batch, tuple(new_of_old[p] for p in layout.perm))


def transposed(layout: Layout, rank: int, dim0: int, dim1: int) -> Layout:
    dims = list(range(rank))
    a, b = dim0 % rank, dim1 % rank
    dims[a], dims[b] = dims[b], dims[a]
    return permuted(layout, dims)


def permutation_to(source: Layout, target: Layout, shape: PhysShape) -> tuple[list[int] | None, tuple[int, ...]]:
    """The convcalc ``permute`` dims (None: no permute needed) that bring ``source``'s logical order to ``target``'s,
    and the logical shape it leaves (a ``reshape`` to ``target.logical(shape)`` finishes when they differ: it only
    moves size-1 axes). Axes of size 1 never need moving by a permute."""
    big_source = [p for p in source.perm if shape[p] != 1]
    big_target = [p for p in target.perm if shape[p] != 1]
    if big_source == big_target:
        return None, source.logical(shape)
    order = [p for p in target.perm if p in source.perm] + [p for p in source.perm if p not in target.perm]
    return [source.perm.index(p) for p in order], tuple(shape[p] for p in order)


def _groups(old: list[int], new: list[int]) -> list[tuple[list[int], list[int]]] | None:
    """Pair runs of ``old`` sizes with runs of ``new`` sizes of equal product (indices into each list)."""
    groups, i, j = [], 0, 0
    while i < len(old) and j < len(new):
        gi, gj = [i], [j]
        a, b = old[i], new[j]
        i, j = i + 1, j + 1
        while a != b:
            if a < b:
                if i >= len(old):
                    return None
                a, gi = a * old[i], [*gi, i]
                i += 1
            else:
                if j >= len(new):
                    return None
                b, gj = b * new[j], [*gj, j]
                j += 1
        groups.append((gi, gj))
    return groups if i == len(old) and j == len(new) else None


def regroup(layout: Layout, old_shape: PhysShape, new_shape: PhysShape) -> Layout | None:
    """The layout of ``x.reshape(new_shape)`` when that reshape is a reshape of the logical tensor too (every run of
    physical dims it merges or splits is adjacent and in order among the logical axes); None otherwise."""
    if prod(old_shape) != prod(new_shape):
        return None
    old_big = [d for d in range(len(old_shape)) if old_shape[d] != 1]
    new_big = [d for d in range(len(new_shape)) if new_shape[d] != 1]
    groups = _groups([old_shape[d] for d in old_big], [new_shape[d] for d in new_big])
    if groups is None:
        return None
    logical_big = [p for p in layout.perm if old_shape[p] != 1]
    placed: list[tuple[int, list[int]]] = []  # (logical position of the run, its new dims)
    for old_run, new_run in groups:
        dims = [old_big[k] for k in old_run]
        if any(d not in logical_big for d in dims):
            return None
        start = logical_big.index(dims[0])
        if logical_big[start : start + len(dims)] != dims:
            return None
        placed.append((start, [new_big[k] for k in new_run]))
    order = [d for _, run in sorted(placed) for d in run]
    batch = 0 if new_shape and new_shape[0] == 1 else None
    for d in range(len(new_shape)):  # size-1 dims: after the dim physically before them
        if new_shape[d] != 1 or d == batch:
            continue
        before = [k for k, p in enumerate(order) if p < d]
        order.insert(before[-1] + 1 if before else 0, d)
    return Layout(batch, tuple(order))


def padded(layout: Layout, rank: int, to_rank: int) -> Layout:
    """The layout of a tensor of ``rank`` dims seen as ``to_rank`` dims with leading 1s (PyTorch's broadcasting)."""
    shift = to_rank - rank
    return Layout(None if layout.batch is None else layout.batch + shift, tuple(p + shift for p in layout.perm))


def removed(layout: Layout, dims: set[int]) -> Layout:
    """The layout after a reduction removes physical ``dims`` (none of them the batch)."""

    def renumber(p: int) -> int:
        return p - sum(1 for d in dims if d < p)

    batch = None if layout.batch is None or layout.batch in dims else renumber(layout.batch)
    return Layout(batch, tuple(renumber(p) for p in layout.perm if p not in dims))
