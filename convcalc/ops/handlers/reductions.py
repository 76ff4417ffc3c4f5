"""Reductions over logical axes (batch excluded, -1 the channels): mean, sum, amax, amin, var, norm."""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

from convcalc.core.notation import Shape
from convcalc.errors import ShapeError
from convcalc.ops.handlers.results import OpResult, logical_axis, mixing, one_input


def reduced_axes(dims: int | list[int], rank: int) -> tuple[int, ...]:
    """The reduced axes as 0..rank-1, sorted; out of range or repeated axes are refused, as PyTorch refuses them."""
    listed = [dims] if isinstance(dims, int) else list(dims)
    axes = [logical_axis(dim, rank, "dims") for dim in listed]
    if len(set(axes)) != len(axes):
        twice = next(dim for dim, axis in zip(listed, axes) if axes.count(axis) > 1)
        raise ShapeError(f"axis {twice} appears more than once in dims {listed}", "dims")
    return tuple(sorted(axes))


REDUCTION_FLOPS: dict[str, Callable[[int, int], int]] = {  # (input elements, output elements) -> FLOPs
    "mean": lambda n, out: n,
    "sum": lambda n, out: n - out,
    "amax": lambda n, out: n - out,
    "amin": lambda n, out: n - out,
    "var": lambda n, out: 4 * n,
    "norm": lambda n, out: 2 * n,
}


def reduction(kind: str, args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """A reduction over the logical axes ``dims`` (batch excluded, -1 the channels). Reducing every grid axis gives
    the whole input as the field; the channels only, a pointwise field; some grid axes only, an unknown one. Without
    ``keepdim`` the reduced axes go; a tensor whose channel axis goes has a grid axis as its new last axis, so its
    field is unknown too. Reducing every axis without ``keepdim`` (one number per sample) is refused."""
    shape = one_input(shapes)
    rank = len(shape) - 1
    axes = reduced_axes(args["dims"], len(shape))
    keep = args.get("keepdim", False)
    out = tuple(1 if axis in axes else n for axis, n in enumerate(shape)) if keep else tuple(
        n for axis, n in enumerate(shape) if axis not in axes
    )
    if not out:
        raise ShapeError(
            f"{kind} over every axis without keepdim leaves one number per sample, which is no convcalc tensor; "
            "use keepdim: true", "dims",
        )  # fmt: skip
    flops = REDUCTION_FLOPS[kind](prod(shape), prod(out))
    grid = {axis for axis in axes if axis < rank}
    if rank and rank in axes and not keep and len(grid) < rank:
        note = f"{kind} removes the channel axis: the last grid axis becomes the channel axis"
        return OpResult(output_shape=out, flops=flops, field="unknown", field_note=note)
    return mixing(shape, out, grid, kind, flops=flops)


def op_mean(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return reduction("mean", args, shapes)


def op_sum(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return reduction("sum", args, shapes)


def op_amax(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return reduction("amax", args, shapes)


def op_amin(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return reduction("amin", args, shapes)


def op_var(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return reduction("var", args, shapes)


def op_norm(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return reduction("norm", args, shapes)
