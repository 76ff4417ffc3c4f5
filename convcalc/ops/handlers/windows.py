"""Windowed ops: conv, deconv, max and average pooling (resolved as the one-layer API resolves them), adaptive and
global pooling, upsampling, and linear (a 1x1 field on (..., C))."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import partial
from math import prod
from typing import Any

from convcalc.core import layer as layers
from convcalc.core.notation import Shape
from convcalc.core.resolve import conv_spec, deconv_spec, linear_spec, per_dim, pool_spec, spatial_and_channels
from convcalc.core.resolved import LayerSpec
from convcalc.ops.handlers.results import OpResult, from_layer, one_input


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
