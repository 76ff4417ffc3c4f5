"""What each op of a network does to its inputs: output shape, parameters, buffers, MACs, FLOPs, local field.

One small handler per op kind, dispatched through :data:`OPS`. Handlers take the op's validated arguments (a dict
with canonical keys) and the input shapes (channels last, batch excluded), and return an :class:`OpResult`.
Counts are per sample. Weighted layers reuse :mod:`convcalc.core.layer`, so one formula serves ``layer`` and ``net``.

Conventions beyond those of :mod:`convcalc.core.counts`: batch norm has 2C trainable params (scale, shift) and 2C buffers
(running mean, variance), and 2 FLOPs per element; an activation is 1 FLOP per element (softmax 3: exp, sum,
divide); ``add``, ``sub``, ``mul``, ``div`` are one FLOP per output element for every operand after the first
(inputs and a constant), unary math (exp, log, sqrt, ...) 1 per element; a ``param`` is free, its elements params;
concat, flatten, pad, dropout and identity cost nothing; nearest upsampling costs nothing, (bi/tri)linear 2^R
multiplies and 2^R - 1 adds per element.
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


def op_flatten(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """Flattens everything but the batch; features are counted channels last (PyTorch flattens C x H x W: same
    count, another order)."""
    return OpResult(output_shape=(prod(one_input(shapes)),), field="global")


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
    return pointwise(one_input(shapes), 3)


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


def op_pad(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    spatial, channels = spatial_and_channels(one_input(shapes), "pad")
    pads, _ = resolve_padding(args["p"], spatial, (1,) * len(spatial), (1,) * len(spatial), (1,) * len(spatial))
    rank = len(spatial)
    return OpResult(
        output_shape=tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads)) + (channels,),
        receptive_field=(1,) * rank,
        jump=(Fraction(1),) * rank,
        start=tuple(Fraction(-lo) for lo, _ in pads),
        pads=tuple(pads),
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
    return OpResult(output_shape=out, field="merge")


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
    "flatten": op_flatten,
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
    "pad": op_pad,
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
    **{name: op_activation for name in ACTIVATIONS},
}


