"""One layer: its output shape, counts and receptive field from its resolved spec, and the public one-layer API
(resolve the arguments against the input shape with :mod:`convcalc.core.resolve`, then compute).

Public API (also exported from ``convcalc``)::

    >>> from convcalc import conv
    >>> conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2).output_shape
    (642, 320, 5)

Every function returns a frozen :class:`LayerResult`; bad arguments raise :class:`~convcalc.errors.ConvCalcError`
naming the argument (``k``, ``s``, ``p``, ``d``, ``g``, ``out``, ``output_padding``, ``in``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from math import prod
from typing import Any

from convcalc.core import counts as counts
from convcalc.core.notation import Shape, dim_names
from convcalc.core.resolve import (
    IntOrInts,
    PaddingArg,
    as_shape,
    check_elements,
    check_groups,
    conv_spec,
    deconv_spec,
    linear_spec,
    pool_spec,
    spatial_and_channels,
)
from convcalc.core.resolved import ConvSpec, LayerResult, LayerSpec, LinearSpec, PoolSpec
from convcalc.core.windows import (
    Window,
    conv_length,
    deconv_field,
    deconv_first_input,
    deconv_length,
    pool_length,
    uncovered_inputs,
)
from convcalc.errors import InputError

# --------------------------------------------------------------------------- computation per kind


def dim_labels(spatial: Shape) -> tuple[str, ...]:
    """'H: ' prefixes for messages about one dimension (none for 1-D)."""
    return ("",) if len(spatial) == 1 else tuple(f"{name}: " for name in dim_names(len(spatial)))


def _coverage_warnings(spatial: Shape, windows: tuple[Window, ...], out_spatial: Shape) -> tuple[str, ...]:
    warnings = []
    for name, n, w, out in zip(dim_names(len(spatial)), spatial, windows, out_spatial):
        missed = uncovered_inputs(n, w, out)
        if missed:
            step = f"stride {w.stride}" + (f", dilation {w.dilation}" if w.dilation > 1 else "")
            warnings.append(f"{name}: {missed} of {n} input positions are in no window ({step})")
    return tuple(warnings)


def compute_conv(spec: ConvSpec, shape: Shape) -> LayerResult:
    spatial, c_in = spatial_and_channels(shape, spec.op)
    check_groups(c_in, spec.out, spec.groups)
    kernel = tuple(w.kernel for w in spec.windows)
    warnings: tuple[str, ...] = ()
    if spec.transposed:
        out_spatial = tuple(
            deconv_length(n, w, op, dim)
            for n, w, op, dim in zip(spatial, spec.windows, spec.output_padding, dim_labels(spatial))
        )
        macs = counts.deconv_macs(spatial, c_in, spec.out, spec.groups, kernel)
        params = counts.deconv_params(kernel, c_in, spec.out, spec.groups, spec.bias)
        field = tuple(deconv_field(w.kernel, w.stride, w.dilation) for w in spec.windows)
        jump = tuple(Fraction(1, w.stride) for w in spec.windows)
        start = tuple(
            Fraction(deconv_first_input(w.kernel, w.stride, w.dilation, w.pad[0])) for w in spec.windows
        )
    else:
        out_spatial = tuple(conv_length(n, w, dim) for n, w, dim in zip(spatial, spec.windows, dim_labels(spatial)))
        macs = counts.conv_macs(out_spatial, c_in, spec.out, spec.groups, kernel)
        params = counts.conv_params(kernel, c_in, spec.out, spec.groups, spec.bias)
        field = tuple(w.span for w in spec.windows)
        jump = tuple(Fraction(w.stride) for w in spec.windows)
        start = tuple(Fraction(-w.pad[0]) for w in spec.windows)
        warnings = _coverage_warnings(spatial, spec.windows, out_spatial)
        if spec.same and any(w.stride > 1 for w in spec.windows):
            warnings += ("padding 'same' with stride > 1 follows TensorFlow; PyTorch refuses it",)
    out_shape = out_spatial + (spec.out,)
    return LayerResult(
        op=spec.op,
        input_shape=shape,
        output_shape=out_shape,
        params=params,
        macs=macs,
        flops=counts.weight_flops(macs, prod(out_shape), spec.bias),
        receptive_field=field,
        jump=jump,
        start=start,
        warnings=warnings,
        spec=spec,
    )


def compute_pool(spec: PoolSpec, shape: Shape) -> LayerResult:
    spatial, channels = spatial_and_channels(shape, spec.op)
    out_spatial = tuple(
        pool_length(n, w, spec.ceil_mode, dim) for n, w, dim in zip(spatial, spec.windows, dim_labels(spatial))
    )
    out_shape = out_spatial + (channels,)
    kernel = tuple(w.kernel for w in spec.windows)
    flops = (counts.maxpool_flops if spec.kind == "max" else counts.avgpool_flops)(kernel, prod(out_shape))
    warnings = _coverage_warnings(spatial, spec.windows, out_spatial)
    return LayerResult(
        op=spec.op,
        input_shape=shape,
        output_shape=out_shape,
        params=0,
        macs=0,
        flops=flops,
        receptive_field=tuple(w.span for w in spec.windows),
        jump=tuple(Fraction(w.stride) for w in spec.windows),
        start=tuple(Fraction(-w.pad[0]) for w in spec.windows),
        warnings=warnings,
        spec=spec,
    )


def compute_linear(spec: LinearSpec, shape: Shape) -> LayerResult:
    features = shape[-1]
    rows = prod(shape[:-1])
    out_shape = shape[:-1] + (spec.out,)
    macs = counts.linear_macs(rows, features, spec.out)
    return LayerResult(
        op="linear",
        input_shape=shape,
        output_shape=out_shape,
        params=counts.linear_params(features, spec.out, spec.bias),
        macs=macs,
        flops=counts.weight_flops(macs, prod(out_shape), spec.bias),
        receptive_field=(),
        jump=(),
        start=(),
        spec=spec,
    )


COMPUTE: dict[type, Callable[[Any, Shape], LayerResult]] = {
    ConvSpec: compute_conv,
    PoolSpec: compute_pool,
    LinearSpec: compute_linear,
}


def compute(spec: LayerSpec, shape: Shape, batch: int = 1) -> LayerResult:
    """Apply a resolved layer to an input shape; MACs and FLOPs are multiplied by ``batch``."""
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise InputError(f"must be >= 1, got {batch}", "batch")
    check_elements(shape, batch, "in")
    result = COMPUTE[type(spec)](spec, shape)
    check_elements(result.output_shape, batch, "in")
    if batch == 1:
        return result
    return replace(result, macs=result.macs * batch, flops=result.flops * batch, batch=batch)


# --------------------------------------------------------------------------- public API


def conv(
    input_shape: str | Sequence[int],
    out: int | None = None,
    k: IntOrInts = 3,
    s: IntOrInts = 1,
    p: PaddingArg = 0,
    d: IntOrInts = 1,
    g: int = 1,
    bias: bool = True,
    batch: int = 1,
) -> LayerResult:
    """Convolution (1-D, 2-D, 3-D, ...): out = floor((n + 2p - d(k-1) - 1)/s) + 1 per dimension.
    Params = prod(k) * (C_in/g) * C_out (+ C_out bias); MACs = output elements * (C_in/g) * prod(k)."""
    shape = as_shape(input_shape)
    return compute(conv_spec(shape, k, out, s, p, d, g, bias), shape, batch)


def deconv(
    input_shape: str | Sequence[int],
    out: int | None = None,
    k: IntOrInts = 3,
    s: IntOrInts = 1,
    p: PaddingArg = 0,
    d: IntOrInts = 1,
    g: int = 1,
    output_padding: IntOrInts = 0,
    bias: bool = True,
    batch: int = 1,
) -> LayerResult:
    """Transposed convolution: out = (n-1)s - 2p + d(k-1) + output_padding + 1 per dimension,
    output_padding < max(s, d) as in PyTorch. Params = prod(k) * C_in * (C_out/g) (+ C_out);
    MACs are counted per input position: input elements * (C_out/g) * prod(k)."""
    shape = as_shape(input_shape)
    return compute(deconv_spec(shape, k, out, s, p, d, g, output_padding, bias), shape, batch)


def maxpool(
    input_shape: str | Sequence[int],
    k: IntOrInts = 2,
    s: IntOrInts | None = None,
    p: PaddingArg = 0,
    d: IntOrInts = 1,
    ceil: bool = False,
    batch: int = 1,
) -> LayerResult:
    """Max pooling as PyTorch's MaxPoolNd: stride defaults to the kernel, padding <= k // 2, ``ceil`` rounds the
    size up unless the last window would start past the input and left padding. FLOPs: prod(k)-1 comparisons
    per output element; no MACs, no params."""
    shape = as_shape(input_shape)
    return compute(pool_spec("max", shape, k, s, p, d, ceil), shape, batch)


def avgpool(
    input_shape: str | Sequence[int],
    k: IntOrInts = 2,
    s: IntOrInts | None = None,
    p: PaddingArg = 0,
    ceil: bool = False,
    batch: int = 1,
) -> LayerResult:
    """Average pooling as PyTorch's AvgPoolNd (no dilation). FLOPs: prod(k) per output element."""
    shape = as_shape(input_shape)
    return compute(pool_spec("avg", shape, k, s, p, 1, ceil), shape, batch)


def linear(input_shape: str | Sequence[int] | int, out: int, bias: bool = True, batch: int = 1) -> LayerResult:
    """Fully connected on the last axis: params = in*out (+ out); MACs = rows * in * out."""
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        if input_shape < 1:
            raise InputError(f"must be >= 1 features, got {input_shape}", "in")
        shape: Shape = (input_shape,)
    else:
        shape = as_shape(input_shape)
    return compute(linear_spec(out, bias), shape, batch)
