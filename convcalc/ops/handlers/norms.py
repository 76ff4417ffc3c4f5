"""Normalisations: bn, layernorm, rmsnorm, groupnorm, instancenorm, lrn (params, buffers, FLOPs, and the grid axes
their statistics read)."""

from __future__ import annotations

from dataclasses import replace
from math import prod
from typing import Any

from convcalc.core.notation import Shape, format_shape
from convcalc.errors import ShapeError
from convcalc.ops.handlers.results import OpResult, mixing, one_input, pointwise


def op_bn(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    channels = shape[-1]
    affine = args.get("affine", True)
    stats = args.get("track_running_stats", True)
    result = pointwise(shape, 2, params=2 * channels if affine else 0, buffers=2 * channels if stats else 0)
    # without running statistics PyTorch normalises with the batch's own, in eval too: every position counts
    return result if stats or len(shape) < 2 else replace(result, field="global")


def normalized_shape(args: dict[str, Any], shape: Shape) -> tuple[int, ...]:
    """layernorm's and rmsnorm's ``shape``: the sizes of the input's last axes, channels last (default: (C,))."""
    sizes = args.get("shape", shape[-1])
    sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
    if len(sizes) > len(shape) or shape[len(shape) - len(sizes) :] != sizes:
        raise ShapeError(
            f"shape {list(sizes)} must be the sizes of the input's last axes (channels last), got input "
            f"{format_shape(shape)}", "shape",
        )  # fmt: skip
    return sizes


def _statistics_axes(shape: Shape, count: int) -> set[int]:
    """The grid axes among the last ``count`` axes of ``shape`` (the ones a norm takes its statistics over)."""
    return set(range(len(shape) - count, len(shape) - 1))


def op_layernorm(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.LayerNorm over the last axes: pointwise over the channels only, else every normalised grid axis mixed."""
    shape = one_input(shapes)
    sizes = normalized_shape(args, shape)
    affine = args.get("elementwise_affine", True)
    bias = affine and args.get("bias", True)
    params = prod(sizes) * (affine + bias)
    flops = (5 + affine + bias) * prod(shape)
    return mixing(shape, shape, _statistics_axes(shape, len(sizes)), "layernorm", params=params, flops=flops)


def op_rmsnorm(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.RMSNorm over the last axes: x / sqrt(mean(x^2) + eps) * weight."""
    shape = one_input(shapes)
    sizes = normalized_shape(args, shape)
    affine = args.get("elementwise_affine", True)
    return mixing(
        shape, shape, _statistics_axes(shape, len(sizes)), "rmsnorm",
        params=prod(sizes) * affine, flops=(3 + affine) * prod(shape),
    )  # fmt: skip


def _channels_argument(args: dict[str, Any], shape: Shape) -> int:
    channels = shape[-1]
    if args.get("channels", channels) != channels:
        raise ShapeError(f"channels {args['channels']} is not the input's {channels} (input {format_shape(shape)})", "channels")
    return channels


def op_groupnorm(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.GroupNorm: the statistics of each group of C/groups channels over every position, so every output reads
    the whole input (the field is whole)."""
    shape = one_input(shapes)
    channels = _channels_argument(args, shape)
    groups = args["groups"]
    if channels % groups:
        raise ShapeError(f"{channels} channels cannot be divided into {groups} groups", "groups")
    if channels // groups * prod(shape[:-1]) == 1:  # PyTorch refuses (at batch 1): its statistics need two values
        raise ShapeError(f"groupnorm needs more than one value per group, got {groups} groups of {format_shape(shape)}", "groups")
    affine = args.get("affine", True)
    bias = affine and args.get("bias", True)
    flops = (5 + affine + bias) * prod(shape)
    return mixing(shape, shape, set(range(len(shape) - 1)), "groupnorm", params=channels * (affine + bias), flops=flops)


def op_instancenorm(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.InstanceNormNd: each channel's statistics over every position (the field is whole); with
    ``track_running_stats``, inference uses the running statistics instead, a scale and a shift per channel as bn
    (pointwise)."""
    shape = one_input(shapes)
    channels = _channels_argument(args, shape)
    if len(shape) < 2:
        raise ShapeError(f"instancenorm needs positions to take statistics over, got {format_shape(shape)}", "from")
    affine = args.get("affine", False)
    bias = affine and args.get("bias", True)
    params = channels * (affine + bias)
    if args.get("track_running_stats", False):
        return pointwise(shape, 2, params=params, buffers=2 * channels)
    if prod(shape[:-1]) == 1:
        raise ShapeError(f"instancenorm needs more than one position, got {format_shape(shape)}", "from")
    flops = (5 + affine + bias) * prod(shape)
    return mixing(shape, shape, set(range(len(shape) - 1)), "instancenorm", params=params, flops=flops)


def op_lrn(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.LocalResponseNorm: across ``size`` neighbouring channels at one position (pointwise over the grid)."""
    shape = one_input(shapes)
    if len(shape) < 2:
        raise ShapeError(f"lrn needs positions (PyTorch takes (N, C, ...) of 3 or more dims), got {format_shape(shape)}", "from")
    return pointwise(shape, args["size"] + 4)
