"""What each op of a network does to its inputs: output shape, parameters, buffers, MACs, FLOPs, local field.

One small handler per op kind, dispatched through :data:`OPS`. Handlers take the op's validated arguments (a dict
with canonical keys) and the input shapes (channels last, batch excluded), and return an :class:`OpResult`.
Counts are per sample. Weighted layers reuse :mod:`convcalc.core.layer`, so one formula serves ``layer`` and ``net``.

Conventions beyond those of :mod:`convcalc.core.counts`: batch norm has 2C trainable params (scale, shift) and 2C buffers
(running mean, variance), and 2 FLOPs per element; an activation is 1 FLOP per element (softmax 3: exp, sum,
divide); ``add`` is one add per output element for every input after the first; concat, flatten, pad, dropout and
identity cost nothing; nearest upsampling costs nothing, (bi/tri)linear 2^R multiplies and 2^R - 1 adds per element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from math import prod
from typing import Any, Literal

from convcalc.core import layer as layers
from convcalc.core.notation import Shape, format_shape
from convcalc.core.resolve import (
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
from convcalc.ops.catalogue import ACTIVATIONS

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
    return pointwise(shape, 2, params=2 * channels if affine else 0, buffers=2 * channels if stats else 0)


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


def op_add(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    if len(shapes) < 2:
        raise InputError(f"add needs at least two inputs, got {len(shapes)}", "from")
    if any(shape != shapes[0] for shape in shapes):
        raise ShapeError("add needs equal shapes, got " + ", ".join(map(format_shape, shapes)), "from")
    return OpResult(output_shape=shapes[0], flops=(len(shapes) - 1) * prod(shapes[0]), field="merge")


def op_mul(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """Elementwise product (a gate, squeeze-and-excitation): shapes must be equal or 1 where they differ
    (broadcast, as in PyTorch); one multiply per output element for every input after the first."""
    if len(shapes) < 2:
        raise InputError(f"mul needs at least two inputs, got {len(shapes)}", "from")
    if any(len(shape) != len(shapes[0]) for shape in shapes):
        raise ShapeError("mul needs inputs of the same rank, got " + ", ".join(map(format_shape, shapes)), "from")
    out = tuple(max(sizes) for sizes in zip(*shapes))
    if any(size not in (1, biggest) for shape in shapes for size, biggest in zip(shape, out)):
        raise ShapeError("mul needs equal sizes (or 1 to broadcast), got " + ", ".join(map(format_shape, shapes)), "from")
    return OpResult(output_shape=out, flops=(len(shapes) - 1) * prod(out), field="merge")


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


def op_concat(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    if not shapes:
        raise InputError("concat needs at least one input", "from")
    if any(shape[:-1] != shapes[0][:-1] for shape in shapes):
        raise ShapeError(
            "concat needs equal sizes but for the channels, got " + ", ".join(map(format_shape, shapes)), "from"
        )
    return OpResult(output_shape=shapes[0][:-1] + (sum(shape[-1] for shape in shapes),), field="merge")


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
    "prelu": op_prelu,
    "softmax": op_softmax,
    "dropout": op_free,
    "identity": op_free,
    "upsample": op_upsample,
    "pad": op_pad,
    "add": op_add,
    "mul": op_mul,
    "concat": op_concat,
    "crop": op_crop,
    **{name: op_activation for name in ACTIVATIONS},
}


