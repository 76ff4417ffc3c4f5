"""What each op of a network does to its inputs: output shape, parameters, buffers, MACs, FLOPs, local field.

One small handler per op kind, dispatched through :data:`OPS`. Handlers take the op's validated arguments (a dict
with canonical keys) and the input shapes (channels last, batch excluded), and return an :class:`OpResult`.
Counts are per sample. Weighted layers reuse :mod:`convcalc.core.layer`, so one formula serves ``layer`` and ``net``.

Conventions beyond those of :mod:`convcalc.core.counts`: batch norm has 2C trainable params (scale, shift) and 2C buffers
(running mean, variance), and 2 FLOPs per element; an activation is 1 FLOP per element (softmax 3: exp, sum,
divide); ``add``, ``sub``, ``mul``, ``div`` are one FLOP per output element for every operand after the first
(inputs and a constant), unary math (exp, log, sqrt, ...) 1 per element; a ``param`` is free, its elements params;
concat, flatten, pad, dropout and identity cost nothing; nearest upsampling costs nothing, (bi/tri)linear 2^R
multiplies and 2^R - 1 adds per element. Products of activations (matmul, einsum, attention, mha) count their
multiply-accumulates as PyTorch's FlopCounterMode does (its total / 2, attention through the math backend), FLOPs 2
per MAC plus softmax and scaling (docs/spec.md, "Linear algebra and attention").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import partial
from math import prod
from typing import Any, Literal

from convcalc.core import layer as layers
from convcalc.core.notation import Shape, format_shape
from convcalc.core.resolve import (
    check_elements,
    conv_spec,
    deconv_spec,
    linear_spec,
    per_dim,
    pool_spec,
    resolve_padding,
    spatial_and_channels,
)
from convcalc.core.resolved import LayerResult, LayerSpec
from convcalc.errors import InputError, ShapeError
from convcalc.ops.catalogue import ACTIVATIONS, UNARY

FieldKind = Literal["window", "global", "merge", "unknown"]


@dataclass(frozen=True)
class AxisSource:
    """Where one output axis of a layout op comes from: the input ``axes`` merged (row-major; one axis: moved or
    kept; none: a new axis), and, when ``parts`` is given, that merged axis split into ``parts`` sizes, this being
    part ``part``. The analysis follows the input's grid axes through it (convcalc/graph/layout.py)."""

    axes: tuple[int, ...] = ()
    part: int = 0
    parts: tuple[int, ...] = ()


@dataclass(frozen=True)
class OpResult:
    """One op applied to its inputs. ``receptive_field``/``jump``/``start`` are its local field per spatial dimension,
    in units of its input (the same three words as a layer's and a network's field): output unit i sees
    ``receptive_field`` inputs starting at ``start + i*jump``."""

    output_shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    field: FieldKind = "window"
    receptive_field: tuple[int, ...] = ()
    jump: tuple[Fraction, ...] = ()
    start: tuple[Fraction, ...] = ()
    warnings: tuple[str, ...] = ()
    layer: LayerResult | None = None  # the resolved layer (padding, windows) behind a conv, deconv or pooling
    pads: tuple[tuple[int, int], ...] = ()  # pad and crop: the (before, after) positions added or removed per dim
    field_note: str = ""  # with field="unknown": why the receptive field cannot be tracked through this op
    # several outputs (split, chunk): every output's shape, ``output_shape`` being the first; empty for one output
    output_shapes: tuple[Shape, ...] = ()
    output_starts: tuple[tuple[Fraction, ...], ...] = ()  # several outputs: each one's local ``start`` (else ``start``)
    # layout ops: where each output axis comes from (empty: the output's axes are the input's, one for one)
    regroup: tuple[AxisSource, ...] = ()
    # ops whose inputs play different parts (matmul, einsum, attention): per input, "window" (the output at a position
    # reads it at that position only), "global" (every output reads all its positions) or why its field is unknown;
    # the analysis settles ``field`` from them, leaving out inputs that see no input position (a param: x @ W is a
    # linear, pointwise)
    operand_fields: tuple[str, ...] = ()

    @property
    def shapes(self) -> tuple[Shape, ...]:
        """Every output's shape (one for most ops)."""
        return self.output_shapes or (self.output_shape,)

    def start_of(self, output: int) -> tuple[Fraction, ...]:
        """The local field's start of one output (a split along a grid axis shifts the later pieces)."""
        return self.output_starts[output] if self.output_starts else self.start


def pointwise(shape: Shape, flops_per_element: int = 0, params: int = 0, buffers: int = 0) -> OpResult:
    """An op that keeps the shape and looks at one position at a time."""
    rank = max(len(shape) - 1, 0)
    return OpResult(
        output_shape=shape,
        params=params,
        buffers=buffers,
        flops=flops_per_element * prod(shape),
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=(Fraction(0),) * rank,
        field="window" if rank else "global",
    )


def from_layer(result: LayerResult) -> OpResult:
    return OpResult(
        output_shape=result.output_shape,
        params=result.params,
        macs=result.macs,
        flops=result.flops,
        receptive_field=result.receptive_field,
        jump=result.jump,
        start=result.start,
        warnings=result.warnings,
        field="window" if result.receptive_field else "global",
        layer=result,
    )


def one_input(shapes: list[Shape]) -> Shape:
    if len(shapes) != 1:
        raise InputError(f"takes one input, got {len(shapes)}", "from")
    return shapes[0]


def windowed(build: Callable[..., LayerSpec], keys: tuple[str, ...]) -> Callable[[dict[str, Any], list[Shape]], OpResult]:
    """A handler for a windowed op: its validated arguments named in ``keys`` resolved against the input into the
    same spec type the one-layer API builds (:mod:`convcalc.core.resolve`), then computed."""

    def handler(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
        shape = one_input(shapes)
        return from_layer(layers.compute(build(shape, **{key: args[key] for key in keys if key in args}), shape))

    return handler


op_conv = windowed(conv_spec, ("out", "k", "s", "p", "d", "g", "bias"))
op_deconv = windowed(deconv_spec, ("out", "k", "s", "p", "d", "g", "bias", "output_padding"))
op_maxpool = windowed(partial(pool_spec, "max"), ("k", "s", "p", "d", "ceil"))
op_avgpool = windowed(partial(pool_spec, "avg"), ("k", "s", "p", "ceil"))


def op_linear(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    result = from_layer(layers.compute(linear_spec(args["out"], args.get("bias", True)), shape))
    rank = len(shape) - 1  # a linear layer on (..., C) works per position: a 1x1 field
    return OpResult(
        output_shape=result.output_shape,
        params=result.params,
        macs=result.macs,
        flops=result.flops,
        field="window" if rank else "global",
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=(Fraction(0),) * rank,
    )


def adaptive_bins(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling bins: [floor(i*n/out), ceil((i+1)*n/out)) for i < out."""
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _adaptive(kind: str, args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    spatial, channels = spatial_and_channels(one_input(shapes), kind)
    sizes = per_dim(args["size"], len(spatial), "size", 1)
    bins = [adaptive_bins(n, out) for n, out in zip(spatial, sizes)]
    window_elements = prod(sum(hi - lo for lo, hi in dim) for dim in bins)  # sum over output positions of bin size
    out_shape = sizes + (channels,)
    flops = channels * (window_elements if kind.endswith("avgpool") else window_elements - prod(sizes))
    return OpResult(
        output_shape=out_shape,
        flops=flops,
        receptive_field=tuple(max(hi - lo for lo, hi in dim) for dim in bins),
        jump=tuple(Fraction(n, out) for n, out in zip(spatial, sizes)),
        start=(Fraction(0),) * len(spatial),
    )


def op_adaptive_avgpool(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return _adaptive("adaptive_avgpool", args, shapes)


def op_adaptive_maxpool(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return _adaptive("adaptive_maxpool", args, shapes)


def _global(kind: str, shapes: list[Shape]) -> OpResult:
    spatial, channels = spatial_and_channels(one_input(shapes), kind)
    window = prod(spatial)
    flops = channels * (window if kind == "global_avgpool" else window - 1)
    return OpResult(output_shape=(channels,), flops=flops, field="global")


def op_global_avgpool(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return _global("global_avgpool", shapes)


def op_global_maxpool(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return _global("global_maxpool", shapes)


def op_bn(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    channels = shape[-1]
    affine = args.get("affine", True)
    stats = args.get("track_running_stats", True)
    result = pointwise(shape, 2, params=2 * channels if affine else 0, buffers=2 * channels if stats else 0)
    # without running statistics PyTorch normalises with the batch's own, in eval too: every position counts
    return result if stats or len(shape) < 2 else replace(result, field="global")


# -- reductions and normalisations (issue 11): 0 MACs, FLOPs per element as the catalogue's cost says ---------------


def mixing(shape: Shape, out_shape: Shape, grid_axes: set[int], what: str, **counts: int) -> OpResult:
    """The result of an op whose every output reads the inputs along ``grid_axes`` of the input (statistics or a
    reduction over them) and one position along the other grid axes: pointwise when it mixes no grid axis, the whole
    input when it mixes every one, unknown when it mixes some (a field is one window over all grid axes)."""
    rank = len(shape) - 1
    if not rank or len(grid_axes) == rank:
        return OpResult(output_shape=out_shape, field="global", **counts)
    if grid_axes:
        mixed = ", ".join(map(str, sorted(grid_axes)))
        apart = ", ".join(str(axis) for axis in range(rank) if axis not in grid_axes)
        note = f"{what} over grid axis {mixed} but not {apart}: no one window describes the field"
        return OpResult(output_shape=out_shape, field="unknown", field_note=note, **counts)
    return OpResult(
        output_shape=out_shape,
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=(Fraction(0),) * rank,
        **counts,
    )


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


def op_activation(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return pointwise(one_input(shapes), 1)


def op_prelu(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    count = args.get("num_parameters", 1)
    if count not in (1, shape[-1]):
        raise ShapeError(f"num_parameters must be 1 or the channel count {shape[-1]}, got {count}", "num_parameters")
    return pointwise(shape, 1, params=count)


def op_softmax(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """softmax and logsoftmax over the logical axis ``dim`` (default -1): pointwise over the channels; over a grid
    axis every output reads that whole axis (the whole input with one grid axis, else unknown)."""
    shape = one_input(shapes)
    axis = logical_axis(args.get("dim", -1), len(shape))
    if axis == len(shape) - 1:
        return pointwise(shape, 3)
    return mixing(shape, shape, {axis}, "softmax", flops=3 * prod(shape))


def op_free(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """identity, dropout: no change, no cost."""
    return pointwise(one_input(shapes), 0)


UPSAMPLE_FIELD = {"nearest": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


def op_upsample(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    spatial, channels = spatial_and_channels(one_input(shapes), "upsample")
    scale = per_dim(args["scale"], len(spatial), "scale", 1)
    mode = args.get("mode", "nearest")
    out_shape = tuple(n * f for n, f in zip(spatial, scale)) + (channels,)
    rank = len(spatial)
    flops = 0 if mode == "nearest" else (2 ** (rank + 1) - 1) * prod(out_shape)
    span = UPSAMPLE_FIELD[mode]
    return OpResult(
        output_shape=out_shape,
        flops=flops,
        receptive_field=(span,) * rank,
        jump=tuple(Fraction(1, f) for f in scale),
        start=(Fraction(0),) * rank,
    )


# -- pointwise math (issue 11): binary ops with broadcasting, unary ops, learnable tensors -------------------------


def broadcast(op: str, shapes: list[Shape]) -> Shape:
    """PyTorch's broadcasting of batch-free shapes: aligned from the last axis, each size equal or 1 (a missing
    leading axis counts as 1); anything else is refused as PyTorch refuses it."""
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in shapes]
    out = tuple(max(sizes) for sizes in zip(*padded))
    if any(size not in (1, biggest) for shape in padded for size, biggest in zip(shape, out)):
        raise ShapeError(f"{op} needs equal sizes (or 1 to broadcast), got " + ", ".join(map(format_shape, shapes)), "from")
    return out


def binary(op: str) -> Callable[[dict[str, Any], list[Shape]], OpResult]:
    """add, sub, mul, div: the inputs broadcast together (a param is an input like any other), then the constant
    ``value`` if given; one FLOP per output element for every operand after the first. No weights: 0 MACs."""

    def handler(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
        operands = len(shapes) + ("value" in args)
        if not shapes or operands < 2:
            raise InputError(f"{op} needs at least two inputs, got {len(shapes)} (or one and a constant value)", "from")
        out = broadcast(op, shapes)
        return OpResult(output_shape=out, flops=(operands - 1) * prod(out), field="merge")

    handler.__name__ = f"op_{op}"
    return handler


op_add = binary("add")
op_sub = binary("sub")
op_mul = binary("mul")
op_div = binary("div")


UNARY_OPS = tuple(name for name, *_ in UNARY if name != "clamp")  # clamp checks its bounds first


def op_unary(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """exp, log, sqrt, rsqrt, pow, neg, abs, clamp, reciprocal, square, sign: 1 FLOP per element, as an activation."""
    return pointwise(one_input(shapes), 1)


def op_clamp(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.clamp: PyTorch refuses a clamp with neither bound."""
    if "min" not in args and "max" not in args:
        raise InputError("clamp needs min, max or both", "min")
    return op_unary(args, shapes)


def param_shape(args: dict[str, Any]) -> Shape:
    shape = args["shape"]
    return (shape,) if isinstance(shape, int) else tuple(shape)


def op_param(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """A learnable tensor: no input, its elements are params; its field is empty (it sees no input position)."""
    if shapes:
        raise InputError(f"param takes no input, got {len(shapes)}", "from")
    shape = param_shape(args)
    check_elements(shape, 1, "shape")
    return OpResult(output_shape=shape, params=prod(shape), field="window")


def op_crop(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """Remove positions at the borders (the inverse of pad; U-Net's unpadded skip connections)."""
    spatial, channels = spatial_and_channels(one_input(shapes), "crop")
    pads, _ = resolve_padding(args["p"], spatial, (1,) * len(spatial), (1,) * len(spatial), (1,) * len(spatial))
    out = tuple(n - lo - hi for n, (lo, hi) in zip(spatial, pads))
    if any(size < 1 for size in out):
        raise ShapeError(f"cropping {[list(p) for p in pads]} leaves nothing of {format_shape(spatial)}", "p")
    rank = len(spatial)
    return OpResult(
        output_shape=out + (channels,),
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=tuple(Fraction(lo) for lo, _ in pads),
        pads=tuple(pads),
    )


# -- several outputs and joining on any axis (split, chunk, stack, concat): free, fields exact or unknown ----------


def logical_axis(dim: int, rank: int, param: str = "dim") -> int:
    """A logical axis (batch excluded, negative from the end) as 0..rank-1; out of range is refused as PyTorch does."""
    if not -rank <= dim < rank:
        raise ShapeError(f"axis {dim} is out of range for a tensor of {rank} axes (expected {-rank} to {rank - 1})", param)
    return dim % rank


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


# -- linear algebra and attention (issue 11): matmul, einsum, attention, mha -----------------------------------------
# Every product is written as einsum letters over convcalc's logical axes (batch left out, channels last): MACs are
# the sizes of the output's and the contracted letters multiplied, as PyTorch's FlopCounterMode counts the bmm it
# runs; fields come from where each operand's grid letters go (operand_field).


def operand_field(op: str, which: str, letters: str, shape: Shape, out_letters: str, out_shape: Shape) -> str:
    """How the output's positions read one operand: "window" when its grid letters are the output's, axis for axis
    and size for size (matmul's first operand, attention's queries); "global" when none of them is a grid letter of
    the output (they are summed, or become the output's channels: every output reads all of its positions); else
    the reason the field is unknown."""
    grid, out_grid = letters[:-1], out_letters[:-1]
    if not out_grid or not any(letter in out_grid for letter in grid):
        return "global"
    sizes = dict(zip(out_letters, out_shape))
    if grid == out_grid and all(n == sizes[letter] for letter, n in zip(grid, shape)):
        return "window"
    return f"{op} maps the grid axes of its {which} to other output axes (or broadcasts them): no one window describes the field"


def settled(operands: tuple[str, ...]) -> FieldKind:
    """The field kind of an op from its operands' (before the analysis leaves out inputs that see nothing)."""
    if any(kind not in ("window", "global") for kind in operands):
        return "unknown"
    return "global" if "global" in operands else "merge"


def _note(operands: tuple[str, ...]) -> str:
    return next((kind for kind in operands if kind not in ("window", "global")), "")


def product_result(op: str, letters: list[str], shapes: list[Shape], out_letters: str, out_shape: Shape,
                   macs: int, flops: int, names: tuple[str, ...], **counts: int) -> OpResult:  # fmt: skip
    operands = tuple(
        operand_field(op, name, word, shape, out_letters, out_shape) for name, word, shape in zip(names, letters, shapes)
    )
    kind = settled(operands)
    return OpResult(output_shape=out_shape, macs=macs, flops=flops, field=kind, field_note=_note(operands),
                    operand_fields=operands, **counts)  # fmt: skip


def broadcast_axes(op: str, shapes: list[Shape], what: str) -> Shape:
    """PyTorch's broadcasting of leading (batch) axes, right-aligned: equal sizes or 1."""
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in shapes]
    out = tuple(max(sizes) for sizes in zip(*padded))
    if any(n not in (1, biggest) for shape in padded for n, biggest in zip(shape, out)):
        listed = ", ".join(f"({', '.join(map(str, shape))})" for shape in shapes)
        raise ShapeError(f"{op}: the {what} do not broadcast (equal sizes or 1, aligned from the right): {listed}", "from")
    return out


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def batch_letters(shape: Shape, rank: int) -> str:
    """Letters for the leading axes of ``shape`` among ``rank`` broadcast leading axes (right-aligned)."""
    return LETTERS[rank - len(shape) : rank] if len(shape) else ""


def op_matmul(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.matmul per sample: (..., n, k) x (..., k, m) -> (..., n, m), the leading axes broadcast. Both operands
    need two axes (a vector times a matrix is a ``linear``). MACs: output elements x k (FlopCounterMode's bmm)."""
    if len(shapes) != 2:
        raise InputError(f"matmul takes two inputs (from: [a, b]), got {len(shapes)}", "from")
    a, b = shapes
    if len(a) < 2 or len(b) < 2:
        raise ShapeError(f"matmul needs two axes or more per operand, got {format_shape(a)} and {format_shape(b)} "
                         "(a vector of features times a weight matrix is a linear)", "from")  # fmt: skip
    if a[-1] != b[-2]:
        raise ShapeError(f"matmul needs the first operand's last axis to match the second's axis -2, got "
                         f"{format_shape(a)} and {format_shape(b)} ({a[-1]} != {b[-2]})", "from")  # fmt: skip
    batch = broadcast_axes("matmul", [a[:-2], b[:-2]], "leading axes")
    out = batch + (a[-2], b[-1])
    macs = prod(out) * a[-1]
    lead = len(batch)
    letters = [batch_letters(a[:-2], lead) + "NK", batch_letters(b[:-2], lead) + "KM"]
    return product_result("matmul", letters, [a, b], LETTERS[:lead] + "NM", out, macs, 2 * macs,
                          ("first operand", "second operand"))  # fmt: skip


def parse_einsum(equation: str, shapes: list[Shape]) -> tuple[list[str], str, dict[str, int]]:
    """The operands' letters, the output's letters and every letter's size, refusing what PyTorch refuses and what
    convcalc does not support: not two operands, an ellipsis, a letter twice in one operand (a diagonal), no output
    letters (one number per sample is no convcalc tensor)."""
    text = equation.replace(" ", "")
    if "." in text:
        raise ShapeError("einsum: an ellipsis (...) is not supported; write every axis out with a letter", "equation")
    left, arrow, right = text.partition("->")
    operands = left.split(",")
    if len(operands) != 2 or len(shapes) != 2:
        raise InputError(f"einsum supports two operands, got {len(operands)} in {equation!r} and {len(shapes)} inputs", "equation")
    bad = next((char for char in text.replace("->", "").replace(",", "") if not char.isascii() or not char.isalpha()), None)
    if bad is not None:
        raise ShapeError(f"einsum: subscripts are letters a-z, A-Z, got {bad!r} in {equation!r}", "equation")
    for k, (word, shape) in enumerate(zip(operands, shapes)):
        if len(word) != len(shape):
            raise ShapeError(f"einsum: operand {k} has {len(word)} subscripts ({word!r}) but {len(shape)} axes "
                             f"({format_shape(shape)})", "equation")  # fmt: skip
        if len(set(word)) != len(word):
            raise ShapeError(f"einsum: a letter twice in operand {k} ({word!r}, a diagonal) is not supported", "equation")
    if not arrow:  # implicit output: the letters that appear once, sorted (upper case first), as PyTorch does
        right = "".join(sorted(letter for letter in set(left) - {","} if left.count(letter) == 1))
    if len(set(right)) != len(right):
        raise ShapeError(f"einsum: an output letter appears more than once in {right!r}", "equation")
    missing = [letter for letter in right if letter not in left]
    if missing:
        raise ShapeError(f"einsum: output letter {missing[0]!r} appears in no operand", "equation")
    if not right:
        raise ShapeError("einsum without output letters gives one number per sample, which is no convcalc tensor",
                         "equation")  # fmt: skip
    sizes: dict[str, int] = {}
    for k, (word, shape) in enumerate(zip(operands, shapes)):
        for letter, n in zip(word, shape):
            seen = sizes.get(letter, n)
            if n != seen and 1 not in (n, seen):
                raise ShapeError(f"einsum: letter {letter!r} has size {n} in operand {k} but {seen} before (sizes must "
                                 "be equal or 1)", "equation")  # fmt: skip
            sizes[letter] = max(seen, n)
    return operands, right, sizes


def op_einsum(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.einsum of two operands over convcalc's logical axes. As PyTorch runs it: letters found in one operand
    only (or of size 1 in one, larger in the other) and not in the output are summed first, letters of size 1 in
    both dropped; the remaining contracted letters make one bmm, output elements x their sizes MACs; without any,
    the operands are multiplied (0 MACs)."""
    operands, out_letters, sizes = parse_einsum(args["equation"], shapes)
    a, b = operands
    own = dict(zip(a, shapes[0])), dict(zip(b, shapes[1]))
    contracted = [l for l in a if l in b and l not in out_letters and own[0][l] == own[1][l] > 1]  # noqa: E741
    out = tuple(sizes[letter] for letter in out_letters)
    summed = sum(prod(shape) - prod(n for l, n in zip(word, shape) if l in out_letters or l in contracted)  # noqa: E741
                 for word, shape in zip(operands, shapes))  # fmt: skip
    macs = prod(out) * prod(sizes[letter] for letter in contracted) if contracted else 0
    flops = (2 * macs if contracted else prod(out)) + summed
    return product_result("einsum", operands, shapes, out_letters, out, macs, flops, ("operand 0", "operand 1"))


def _attention_inputs(op: str, shapes: list[Shape]) -> None:
    if any(len(shape) < 2 for shape in shapes):
        raise ShapeError(f"{op} needs (positions, features) or more axes per input, got "
                         + ", ".join(map(format_shape, shapes)), "from")  # fmt: skip


def op_attention(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """F.scaled_dot_product_attention per sample: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev), the
    leading axes broadcast; ``heads`` splits E and Ev into heads first (as nn.MultiheadAttention does) and joins
    them after. A fourth input is an additive mask broadcast to the scores (..., [heads,] L, S). MACs: L x S x
    (E + Ev) per leading index, whatever the heads (q.kT and attention.v, h x L x S x d each)."""
    if len(shapes) not in (3, 4):
        raise InputError(f"attention takes q, k, v (and a mask): from: [q, k, v], got {len(shapes)} inputs", "from")
    _attention_inputs("attention", shapes[:3])
    q, k, v = shapes[:3]
    if q[-1] != k[-1]:
        raise ShapeError(f"attention needs q and k with the same features, got {format_shape(q)} and {format_shape(k)}", "from")
    if k[-2] != v[-2]:
        raise ShapeError(f"attention needs k and v with the same positions, got {format_shape(k)} and {format_shape(v)}", "from")
    heads = args.get("heads", 1)
    for name, shape in (("q", q), ("v", v)):
        if shape[-1] % heads:
            raise ShapeError(f"{heads} heads do not divide {name}'s {shape[-1]} features", "heads")
    batch = broadcast_axes("attention", [q[:-2], k[:-2], v[:-2]], "leading axes of q, k and v")
    length, keys = q[-2], k[-2]
    out = batch + (length, v[-1])
    scores = batch + ((heads,) if "heads" in args else ()) + (length, keys)
    letters = [batch_letters(s[:-2], len(batch)) + word for s, word in ((q, "LE"), (k, "SE"), (v, "SV"))]
    names = ("queries", "keys", "values")
    if len(shapes) == 4:
        mask = shapes[3]
        if args.get("causal"):
            raise InputError("attention takes a mask or causal: true, not both (PyTorch refuses both)", "causal")
        padded = (1,) * (len(scores) - len(mask)) + tuple(mask)
        if len(mask) > len(scores) or any(n not in (1, size) for n, size in zip(padded, scores)):
            raise ShapeError(f"attention's mask {format_shape(mask)} does not broadcast to the scores "
                             f"{format_shape(scores)}", "from")  # fmt: skip
        grid = LETTERS[: len(scores) - 2] + "LS"
        letters.append(grid[len(grid) - len(mask) :])
        names += ("mask",)
    macs = prod(batch) * length * keys * (q[-1] + v[-1])
    flops = 2 * macs + (4 + (len(shapes) == 4)) * prod(scores)
    return product_result("attention", letters, list(shapes), LETTERS[: len(batch)] + "LV", out, macs, flops, names)


def op_mha(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.MultiheadAttention (batch_first): self-attention of one input, or ``from: [q, kv]`` or ``[q, k, v]``;
    each of shape (L, features). Params as PyTorch counts them: in_proj_weight 3E x E when kdim = vdim = E (else
    q, k, v weights E x E, E x kdim, E x vdim), in_proj_bias 3E, out_proj E x E + E, bias_k and bias_v E each."""
    if len(shapes) not in (1, 2, 3):
        raise InputError(f"mha takes one input (self-attention), [q, kv] or [q, k, v], got {len(shapes)}", "from")
    q, k, v = (shapes * 3)[:3] if len(shapes) == 1 else (shapes[0], shapes[1], shapes[-1])
    if any(len(shape) != 2 for shape in (q, k, v)):
        raise ShapeError("mha takes sequences (positions, features) like nn.MultiheadAttention's batched 3-D input, "
                         "got " + ", ".join(map(format_shape, shapes)), "from")  # fmt: skip
    embed = q[-1]
    if args.get("embed_dim", embed) != embed:
        raise ShapeError(f"embed_dim {args['embed_dim']} is not the query's {embed} features", "embed_dim")
    heads = args["heads"]
    if embed % heads:
        raise ShapeError(f"embed_dim {embed} must be divisible by heads ({heads})", "heads")
    kdim, vdim = args.get("kdim", embed), args.get("vdim", embed)
    for name, shape, size in (("key", k, kdim), ("value", v, vdim)):
        if shape[-1] != size:
            raise ShapeError(f"the {name} has {shape[-1]} features, mha expects {'kdim' if name == 'key' else 'vdim'} "
                             f"{size}", "kdim" if name == "key" else "vdim")  # fmt: skip
    if k[0] != v[0]:
        raise ShapeError(f"mha needs key and value with the same positions, got {format_shape(k)} and {format_shape(v)}", "from")
    bias = args.get("bias", True)
    extra = args.get("add_bias_kv", False)
    length, keys = q[0], k[0] + extra + args.get("add_zero_attn", False)
    params = embed * (embed + kdim + vdim) + 3 * embed * bias + embed * embed + embed * bias + 2 * embed * extra
    projections = (length * embed + k[0] * kdim + v[0] * vdim) * embed + length * embed * embed
    macs = projections + length * keys * 2 * embed
    flops = 2 * macs + (2 * length + 2 * k[0]) * embed * bias + 4 * heads * length * keys
    if len(shapes) == 1:  # self-attention: every output reads every position of its one input
        return OpResult(output_shape=q, params=params, macs=macs, flops=flops, field="global", operand_fields=("global",))
    letters, names = (["LE", "SK"], ("queries", "keys and values")) if len(shapes) == 2 else (
        ["LE", "SK", "SV"], ("queries", "keys", "values"))  # fmt: skip
    return product_result("mha", letters, list(shapes), "LE", q, macs, flops, names, params=params)


OPS: dict[str, Callable[[dict[str, Any], list[Shape]], OpResult]] = {
    "conv": op_conv,
    "deconv": op_deconv,
    "maxpool": op_maxpool,
    "avgpool": op_avgpool,
    "adaptive_avgpool": op_adaptive_avgpool,
    "adaptive_maxpool": op_adaptive_maxpool,
    "global_avgpool": op_global_avgpool,
    "global_maxpool": op_global_maxpool,
    "linear": op_linear,
    "bn": op_bn,
    "mean": op_mean,
    "sum": op_sum,
    "amax": op_amax,
    "amin": op_amin,
    "var": op_var,
    "norm": op_norm,
    "layernorm": op_layernorm,
    "rmsnorm": op_rmsnorm,
    "groupnorm": op_groupnorm,
    "instancenorm": op_instancenorm,
    "lrn": op_lrn,
    "prelu": op_prelu,
    "softmax": op_softmax,
    "dropout": op_free,
    "identity": op_free,
    "upsample": op_upsample,
    "add": op_add,
    "sub": op_sub,
    "mul": op_mul,
    "div": op_div,
    **dict.fromkeys(UNARY_OPS, op_unary),
    "clamp": op_clamp,
    "param": op_param,
    "concat": op_concat,
    "crop": op_crop,
    "stack": op_stack,
    "split": op_split,
    "chunk": op_chunk,
    "logsoftmax": op_softmax,
    "matmul": op_matmul,
    "einsum": op_einsum,
    "attention": op_attention,
    "mha": op_mha,
    **{name: op_activation for name in ACTIVATIONS},
}




# -- layout ops (issue 11): free; they move, regroup, slice or pad values on convcalc's logical axes. Each says where
# its output axes come from (``regroup``) and its window on the input's axes; graph/layout.py follows the grid. ------


def _identity_window(rank: int) -> dict[str, Any]:
    return {"receptive_field": (1,) * rank, "jump": (Fraction(1),) * rank, "start": (Fraction(0),) * rank}


def regrouped(shape: Shape, out: Shape, sources: list[AxisSource], **window: Any) -> OpResult:
    """A layout op's result: no cost, the output axes' sources, and its window on the input's grid axes (identity
    unless given)."""
    return OpResult(output_shape=out, regroup=tuple(sources), **(_identity_window(len(shape) - 1) | window))


def op_flatten(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.flatten(start, end) on logical axes. Every axis (the default, as before: nn.Flatten of everything but the
    batch; features counted channels last) gives a feature vector that sees the whole input; fewer axes are a
    regrouping the analysis follows (the grid axes flattened into tokens: each token's field is its position's)."""
    shape = one_input(shapes)
    n = len(shape)
    start, end = logical_axis(args.get("start", 0), n, "start"), logical_axis(args.get("end", -1), n, "end")
    if start > end:
        raise ShapeError(f"flatten start {args.get('start', 0)} comes after end {args.get('end', -1)}", "start")
    if start == 0 and end == n - 1:
        return OpResult(output_shape=(prod(shape),), field="global")
    out = shape[:start] + (prod(shape[start : end + 1]),) + shape[end + 1 :]
    sources = [AxisSource((a,)) for a in range(start)] + [AxisSource(tuple(range(start, end + 1)))]
    return regrouped(shape, out, sources + [AxisSource((a,)) for a in range(end + 1, n)])


def permutation(op: str, args: dict[str, Any], n: int) -> list[int]:
    """permute, transpose, movedim as one permutation of the logical axes (output axis i is input axis perm[i])."""
    if op == "permute":
        dims = [logical_axis(d, n, "dims") for d in args["dims"]]
        if len(dims) != n or len(set(dims)) != n:
            raise ShapeError(f"permute needs every one of the {n} axes once, got dims {list(args['dims'])}", "dims")
        return dims
    if op == "transpose":
        a, b = logical_axis(args["dim0"], n, "dim0"), logical_axis(args["dim1"], n, "dim1")
        perm = list(range(n))
        perm[a], perm[b] = b, a
        return perm
    source, destination = logical_axis(args["source"], n, "source"), logical_axis(args["destination"], n, "destination")
    perm = [axis for axis in range(n) if axis != source]
    perm.insert(destination, source)
    return perm


def _permuting(op: str) -> Callable[[dict[str, Any], list[Shape]], OpResult]:
    def handler(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
        shape = one_input(shapes)
        perm = permutation(op, args, len(shape))
        return regrouped(shape, tuple(shape[a] for a in perm), [AxisSource((a,)) for a in perm])

    handler.__name__ = f"op_{op}"
    return handler


op_permute = _permuting("permute")
op_transpose = _permuting("transpose")
op_movedim = _permuting("movedim")


def resolve_sizes(sizes: list[int], total: int, what: str, param: str) -> tuple[int, ...]:
    """A shape with at most one -1 (worked out from ``total`` elements), refusing what PyTorch refuses."""
    if sizes.count(-1) > 1:
        raise ShapeError(f"only one size can be -1, got {list(sizes)}", param)
    if any(n == 0 for n in sizes):
        raise ShapeError(f"sizes must be >= 1 (or -1), got {list(sizes)}: a convcalc tensor has no empty axis", param)
    known = prod(n for n in sizes if n != -1)
    if total % known or (-1 not in sizes and known != total):
        raise ShapeError(f"{what} {list(sizes)} does not fit {total} elements", param)
    return tuple(total // known if n == -1 else n for n in sizes)


def reshape_groups(src: Shape, dst: Shape) -> list[AxisSource]:
    """The output axes of a reshape as merges and splits of consecutive input axes (sizes of 1 come and go)."""
    groups: list[AxisSource] = []
    i = j = 0
    while j < len(dst):
        if dst[j] == 1:
            groups.append(AxisSource((i,)) if i < len(src) and src[i] == 1 else AxisSource(()))
            i, j = i + (i < len(src) and src[i] == 1), j + 1
            continue
        while src[i] == 1:
            i += 1
        i0, j0, a, b = i, j, src[i], dst[j]
        i, j = i + 1, j + 1
        while a != b:
            if a < b:
                a, i = a * src[i], i + 1
            else:
                b, j = b * dst[j], j + 1
        parts = tuple(dst[j0:j]) if j - j0 > 1 else ()
        groups += [AxisSource(tuple(range(i0, i)), p, parts) for p in range(j - j0)]
    return groups


def op_reshape(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.reshape / view on the batch-free, channels-last tensor (PyTorch's -1 allowed once)."""
    shape = one_input(shapes)
    out = resolve_sizes(list(args["shape"]), prod(shape), "shape", "shape")
    return regrouped(shape, out, reshape_groups(shape, out))


def op_unflatten(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.unflatten: axis ``dim`` split into ``sizes``."""
    shape = one_input(shapes)
    axis = logical_axis(args["dim"], len(shape))
    sizes = resolve_sizes(list(args["sizes"]), shape[axis], f"sizes of axis {args['dim']} ({shape[axis]})", "sizes")
    out = shape[:axis] + sizes + shape[axis + 1 :]
    parts = [AxisSource((axis,), p, sizes if len(sizes) > 1 else ()) for p in range(len(sizes))]
    sources = [AxisSource((a,)) for a in range(axis)] + parts + [AxisSource((a,)) for a in range(axis + 1, len(shape))]
    return regrouped(shape, out, sources)


def op_squeeze(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.squeeze: the axes of size 1 among ``dims`` (default all) go; a named axis of another size stays, as in
    PyTorch. Removing every axis is refused (one number per sample is no convcalc tensor)."""
    shape = one_input(shapes)
    named = reduced_axes(args["dims"], len(shape)) if "dims" in args else range(len(shape))
    gone = {a for a in named if shape[a] == 1}
    if len(gone) == len(shape):
        raise ShapeError(f"squeeze would remove every axis of {format_shape(shape)}", "dims")
    kept = [a for a in range(len(shape)) if a not in gone]
    return regrouped(shape, tuple(shape[a] for a in kept), [AxisSource((a,)) for a in kept])


def op_unsqueeze(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.unsqueeze: a new axis of size 1 at ``dim`` of the output (-1: after the channels)."""
    shape = one_input(shapes)
    axis = logical_axis(args["dim"], len(shape) + 1)
    sources = [AxisSource((a,)) for a in range(len(shape))]
    sources.insert(axis, AxisSource(()))
    return regrouped(shape, shape[:axis] + (1,) + shape[axis:], sources)


def op_expand(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """Tensor.expand: axes of size 1 broadcast to ``shape`` (-1 keeps a size), new leading axes allowed. A grid axis
    of size 1 broadcast has jump 0: every output along it reads the same input position."""
    shape = one_input(shapes)
    sizes = list(args["shape"])
    new = len(sizes) - len(shape)
    if new < 0:
        raise ShapeError(f"expand needs at least {len(shape)} sizes (the input has {len(shape)} axes), got {sizes}", "shape")
    if any(n == -1 for n in sizes[:new]):
        raise ShapeError(f"expand: -1 is not allowed for a new leading axis, got {sizes}", "shape")
    if any(n < 1 for n in sizes[:new]):
        raise ShapeError(f"expand sizes must be >= 1, got {sizes}", "shape")
    out = list(sizes[:new])
    for axis, (n, size) in enumerate(zip(shape, sizes[new:])):
        if size not in (-1, n) and n != 1:
            raise ShapeError(f"expand: size {size} must match the existing size {n} of axis {axis} (not 1)", "shape")
        if size == 0 or size < -1:
            raise ShapeError(f"expand sizes must be >= 1 (or -1), got {sizes}", "shape")
        out.append(n if size == -1 else size)
    rank = len(shape) - 1
    jump = tuple(Fraction(0) if shape[a] == 1 and out[new + a] > 1 else Fraction(1) for a in range(rank))
    sources = [AxisSource(())] * new + [AxisSource((a,)) for a in range(len(shape))]
    return regrouped(shape, tuple(out), sources, jump=jump)


def op_channel_shuffle(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.ChannelShuffle: C = groups x C/groups channels interleaved; pointwise over the grid."""
    shape = one_input(shapes)
    if len(shape) < 2:
        raise ShapeError(f"channel_shuffle needs positions (PyTorch takes (N, C, ...) of 3 or more dims), got {format_shape(shape)}", "from")
    if shape[-1] % args["groups"]:
        raise ShapeError(f"{shape[-1]} channels cannot be divided into {args['groups']} groups", "groups")
    return pointwise(shape, 0)


def _pixel_input(op: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(f"{op} needs an HxWxC input (PyTorch's (N, C, H, W)), got {format_shape(shape)}", "from")
    return shape[0], shape[1], shape[2]


def op_pixel_shuffle(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.PixelShuffle(r): HxWx(C r^2) -> (H r)x(W r)xC; output (y, x) reads input (y // r, x // r): as a nearest
    upsampling, field 1, jump 1/r, start 0."""
    h, w, c = _pixel_input("pixel_shuffle", one_input(shapes))
    r = args["r"]
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle needs channels divisible by r^2 = {r * r}, got {c}", "r")
    return OpResult(output_shape=(h * r, w * r, c // (r * r)), receptive_field=(1, 1), jump=(Fraction(1, r),) * 2, start=(Fraction(0),) * 2)


def op_pixel_unshuffle(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.PixelUnshuffle(r): HxWxC -> (H/r)x(W/r)x(C r^2); output (y, x) reads the r x r block at (r y, r x): a window
    of r, stride r, start 0."""
    h, w, c = _pixel_input("pixel_unshuffle", one_input(shapes))
    r = args["r"]
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle needs H and W divisible by r = {r}, got {h}x{w}", "r")
    return OpResult(output_shape=(h // r, w // r, c * r * r), receptive_field=(r, r), jump=(Fraction(r),) * 2, start=(Fraction(0),) * 2)


def slice_range(args: dict[str, Any], n: int) -> tuple[int, int, int]:
    """(start, stop, step) of ``start:stop:step`` on an axis of n, as Python and PyTorch clamp them; step >= 1."""
    step = args.get("step", 1)
    if step < 1:
        raise ShapeError(f"slice step must be positive, got {step}", "step")
    start, stop, _ = slice(args.get("start"), args.get("stop"), step).indices(n)
    return start, max(stop, start), step


def op_slice(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """x[..., start:stop:step, ...] on axis ``dim``: along a grid axis a window of 1 with jump ``step`` starting at
    ``start`` (as a crop); along the channels the field is unchanged. An empty result is refused."""
    shape = one_input(shapes)
    axis = logical_axis(args.get("dim", -1), len(shape))
    start, stop, step = slice_range(args, shape[axis])
    size = -(-(stop - start) // step)
    if size < 1:
        raise ShapeError(f"slice {args.get('start', '')}:{args.get('stop', '')}:{step} of axis {args.get('dim', -1)} "
                         f"({shape[axis]}) is empty; a convcalc tensor has no empty axis", "start")  # fmt: skip
    rank = len(shape) - 1
    window = _identity_window(rank)
    if axis < rank:
        window["jump"] = tuple(Fraction(step if a == axis else 1) for a in range(rank))
        window["start"] = tuple(Fraction(start if a == axis else 0) for a in range(rank))
    return OpResult(output_shape=shape[:axis] + (size,) + shape[axis + 1 :], **window)


def roll_shifts(args: dict[str, Any], shape: Shape) -> list[tuple[int | None, int]]:
    """(axis, shift) pairs of torch.roll; axis None: the flattened tensor. Refuses what PyTorch refuses."""
    shifts = [args["shifts"]] if isinstance(args["shifts"], int) else list(args["shifts"])
    if "dims" not in args:
        if len(shifts) != 1:
            raise ShapeError(f"roll without dims takes one shift, got {shifts}", "shifts")
        return [(None, shifts[0])]
    listed = [args["dims"]] if isinstance(args["dims"], int) else list(args["dims"])
    if len(listed) != len(shifts):
        raise ShapeError(f"roll needs one shift per axis: {len(shifts)} shifts, {len(listed)} dims", "shifts")
    return [(logical_axis(d, len(shape), "dims"), s) for d, s in zip(listed, shifts)]


def op_roll(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.roll: values move around an axis and wrap. Along the channels (or by a whole turn) the field is
    unchanged; along a grid axis the positions wrap around, which no one window describes: unknown."""
    shape = one_input(shapes)
    rank = len(shape) - 1
    for axis, shift in roll_shifts(args, shape):
        n = prod(shape) if axis is None else shape[axis]
        if shift % n and rank and (axis is None or axis < rank):
            where = "the flattened tensor" if axis is None else f"grid axis {axis}"
            return OpResult(output_shape=shape, field="unknown", field_note=f"roll wraps positions around along {where}")
    return pointwise(shape, 0)


PAD_MODULES = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}


def pad_mode(args: dict[str, Any]) -> str:
    mode = args.get("mode", "constant")
    return "constant" if mode == "zeros" else mode


def padded_torch_dims(axes: list[int], n: int, mode: str) -> int:
    """How many of PyTorch's last dims (channels first, batch included) a padding module must pad to reach every
    padded axis; the non-constant modules take an input of that many dims + 1 or + 2."""
    first = min(1 if axis == n - 1 else axis + 2 for axis in axes)
    span = n + 1 - first
    return max(span, n - 1) if mode != "constant" else span


def op_pad(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """F.pad on logical axes: the grid by default (as nn.ZeroPadNd), or the axes ``dims``; ``mode`` constant (fill
    ``value``, default 0), reflect, replicate or circular. The field: constant padding of a grid axis shifts the start
    back (the padded positions read nothing); the channels leave it unchanged; reflect, replicate and circular padding
    of a grid axis read border positions again, which no one window describes: unknown."""
    shape = one_input(shapes)
    n, mode = len(shape), pad_mode(args)
    if "dims" in args:
        axes = list(reduced_axes(args["dims"], n)) if isinstance(args["dims"], int) else [logical_axis(d, n, "dims") for d in args["dims"]]
        if len(set(axes)) != len(axes):
            raise ShapeError(f"an axis appears more than once in dims {args['dims']}", "dims")
    else:
        axes = list(spatial_and_channels(shape, "pad")[0] and range(n - 1))
    sizes = tuple(shape[a] for a in axes)
    listed, _ = resolve_padding(args["p"], sizes, (1,) * len(sizes), (1,) * len(sizes), (1,) * len(sizes))
    pads = [(0, 0)] * n
    for axis, pair in zip(axes, listed):
        pads[axis] = pair
    if "value" in args and mode != "constant":
        raise InputError(f"pad mode {mode!r} takes no value (only constant padding fills one)", "value")
    for axis, (lo, hi) in enumerate(pads):
        if mode == "reflect" and max(lo, hi) >= shape[axis]:
            raise ShapeError(f"reflect padding must be smaller than the axis: padding ({lo}, {hi}) of axis {axis} of size {shape[axis]}", "p")
        if mode == "circular" and max(lo, hi) > shape[axis]:
            raise ShapeError(f"circular padding must not exceed the axis: padding ({lo}, {hi}) of axis {axis} of size {shape[axis]}", "p")
    padded = [axis for axis, pair in enumerate(pads) if any(pair)] or axes
    if padded_torch_dims(padded, n, mode) > 3:
        raise ShapeError(f"PyTorch's {mode} padding pads at most the last 3 dims; padding axes {padded} of a "
                         f"{n}-axis tensor needs {padded_torch_dims(padded, n, mode)}", "dims")  # fmt: skip
    rank = n - 1
    out = tuple(size + lo + hi for size, (lo, hi) in zip(shape, pads))
    if mode != "constant" and any(any(pair) for pair in pads[:rank]):
        note = f"{mode} padding of the grid reads border positions again: no one window describes the field"
        return OpResult(output_shape=out, field="unknown", field_note=note, pads=tuple(pads))
    return OpResult(
        output_shape=out,
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=tuple(Fraction(-lo) for lo, _ in pads[:rank]),
        pads=tuple(pads),
        field="window" if rank else "global",
    )


OPS |= {
    "flatten": op_flatten,
    "pad": op_pad,
    "permute": op_permute,
    "transpose": op_transpose,
    "movedim": op_movedim,
    "reshape": op_reshape,
    "unflatten": op_unflatten,
    "squeeze": op_squeeze,
    "unsqueeze": op_unsqueeze,
    "expand": op_expand,
    "channel_shuffle": op_channel_shuffle,
    "pixel_shuffle": op_pixel_shuffle,
    "pixel_unshuffle": op_pixel_unshuffle,
    "slice": op_slice,
    "roll": op_roll,
}
