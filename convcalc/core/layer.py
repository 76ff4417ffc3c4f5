"""One layer: resolve its arguments against the input shape, then compute shape, counts and receptive field.

Public API (also exported from ``convcalc``)::

    >>> from convcalc import conv
    >>> conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2).output_shape
    (642, 320, 5)

Every function returns a frozen :class:`LayerResult`; bad arguments raise :class:`~convcalc.errors.ConvCalcError`
naming the argument (``k``, ``s``, ``p``, ``d``, ``g``, ``out``, ``output_padding``, ``in``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from math import prod
from typing import Any, Literal, Union

from convcalc.core import counts as counts
from convcalc.core.notation import Shape, dim_names, parse_shape
from convcalc.core.windows import (
    Pad,
    Window,
    conv_length,
    deconv_field,
    deconv_first_input,
    deconv_length,
    pool_length,
    same_padding,
    uncovered_inputs,
)
from convcalc.errors import InputError, ShapeError

IntOrInts = Union[int, Sequence[int]]
MAX_SIZE = 2**63 - 1
PaddingArg = Union[int, str, Sequence[Union[int, Sequence[int]]]]


# --------------------------------------------------------------------------- resolved layer specs


@dataclass(frozen=True)
class ConvSpec:
    """A convolution (or, with ``transposed``, a transposed convolution), resolved for one input."""

    out: int
    windows: tuple[Window, ...]
    groups: int = 1
    bias: bool = True
    transposed: bool = False
    output_padding: tuple[int, ...] = ()
    same: bool = False  # padding came from 'same'

    @property
    def op(self) -> str:
        return "deconv" if self.transposed else "conv"


@dataclass(frozen=True)
class PoolSpec:
    """Max or average pooling over a window, per channel."""

    kind: Literal["max", "avg"]
    windows: tuple[Window, ...]
    ceil_mode: bool = False
    same: bool = False

    @property
    def op(self) -> str:
        return f"{self.kind}pool"


@dataclass(frozen=True)
class LinearSpec:
    """A fully connected layer on the last axis."""

    out: int
    bias: bool = True
    op: str = "linear"


LayerSpec = Union[ConvSpec, PoolSpec, LinearSpec]


@dataclass(frozen=True)
class LayerResult:
    """Everything convcalc knows about one layer applied to one input. Counts include the batch."""

    op: str
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    flops: int
    receptive_field: tuple[int, ...]
    jump: tuple[Fraction, ...]
    start: tuple[Fraction, ...]
    batch: int = 1
    warnings: tuple[str, ...] = ()
    spec: LayerSpec | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: shapes channels last without the batch; fractional jumps as "p/q" strings;
        the receptive field of a layer that sees the whole input is "whole" (see :func:`field_json`)."""
        data: dict[str, Any] = {
            "op": self.op,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
        }
        data.update(self.field_json())
        data["batch"] = self.batch
        data["warnings"] = list(self.warnings)
        data.update(spec_json(self.spec))
        return data

    def field_json(self) -> dict[str, Any]:
        """A linear layer works per position: a 1x1 field on (..., C) input, the whole input on flat input."""
        if isinstance(self.spec, LinearSpec):
            rank = len(self.input_shape) - 1
            if rank == 0:
                return dict(WHOLE_FIELD)
            return {"receptive_field": [1] * rank, "jump": [1] * rank, "start": [0] * rank}
        return field_json(self.receptive_field, self.jump, self.start)


# Every output unit sees every position of the input (after flatten, global pooling, a linear layer on flat input).
WHOLE_FIELD: dict[str, Any] = {"receptive_field": "whole", "jump": None, "start": None}


def field_json(size: Sequence[Any], jump: Sequence[Any], start: Sequence[Any]) -> dict[str, Any]:
    """Receptive field, jump and start per spatial dimension, as exact JSON numbers."""
    return {
        "receptive_field": [json_number(r) for r in size],
        "jump": [json_number(j) for j in jump],
        "start": [json_number(u) for u in start],
    }


def spec_json(spec: LayerSpec | None) -> dict[str, Any]:
    """The resolved arguments of a windowed layer: kernel, stride, dilation, padding, groups, output_padding."""
    data: dict[str, Any] = {}
    if isinstance(spec, (ConvSpec, PoolSpec)):
        data["kernel"] = [w.kernel for w in spec.windows]
        data["stride"] = [w.stride for w in spec.windows]
        data["dilation"] = [w.dilation for w in spec.windows]
        data["padding"] = [list(w.pad) for w in spec.windows]
    if isinstance(spec, ConvSpec):
        data["groups"] = spec.groups
        if spec.transposed:
            data["output_padding"] = list(spec.output_padding)
    return data


def json_number(value: Fraction | int) -> int | str:
    """An exact number for JSON: an int when whole, else the string ``"p/q"``."""
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# --------------------------------------------------------------------------- argument resolution


def per_dim(value: IntOrInts | None, rank: int, param: str, minimum: int, default: int | None = None) -> tuple[int, ...]:
    """One int for every spatial dimension, or exactly one per dimension."""
    if value is None:
        if default is None:
            raise InputError("is required", param)
        value = default
    if isinstance(value, int):
        values: tuple[Any, ...] = (value,) * rank
    elif isinstance(value, (list, tuple)):
        values = tuple(value)
    else:
        raise InputError(f"must be a whole number or one per dimension, got {value!r}", param)
    if len(values) == 1 and rank != 1:
        values = values * rank
    if len(values) != rank:
        raise InputError(
            f"has {len(values)} values but the input has {rank} spatial dimension{'s' * (rank != 1)}", param
        )
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise InputError(f"must be whole numbers, got {v!r}", param)
        if v < minimum:
            raise InputError(f"must be >= {minimum}, got {v}", param)
        if v > MAX_SIZE:
            raise InputError("is larger than 2**63 - 1 (PyTorch's sizes are 64-bit)", param)
    return values


def resolve_padding(
    padding: PaddingArg, spatial: Shape, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[Pad, ...], bool]:
    """Padding as (before, after) per dimension; ``'same'`` (TensorFlow's rule), ``'valid'`` (0), an int for all
    dimensions, one int per dimension, or one (before, after) pair per dimension. Returns (pads, is_same)."""
    rank = len(spatial)
    if isinstance(padding, str):
        mode = padding.strip().lower()
        if mode == "same":
            return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, stride, dilation)), True
        if mode == "valid":
            return ((0, 0),) * rank, False
        raise InputError(f"must be an int, one int per dimension (1x2), 'same' or 'valid', got {padding!r}", "p")
    if isinstance(padding, int):
        padding = (padding,)
    if not isinstance(padding, (list, tuple)):
        raise InputError(f"must be an int, one int per dimension (1x2), 'same' or 'valid', got {padding!r}", "p")
    items = list(padding)
    if len(items) == 1 and rank != 1:
        items = items * rank
    if len(items) != rank:
        raise InputError(f"has {len(items)} values but the input has {rank} spatial dimensions", "p")
    pads: list[Pad] = []
    for item in items:
        pair = (item, item) if isinstance(item, int) else tuple(item) if isinstance(item, (list, tuple)) else (item,)
        if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
            raise InputError(f"must be an int or a [before, after] pair per dimension, got {item!r}", "p")
        if min(pair) < 0:
            raise InputError(f"must be >= 0, got {min(pair)}", "p")
        if max(pair) > MAX_SIZE:
            raise InputError("is larger than 2**63 - 1 (PyTorch's sizes are 64-bit)", "p")
        pads.append((pair[0], pair[1]))
    return tuple(pads), False


MAX_ELEMENTS = (2**63 - 1) // 4  # PyTorch refuses a tensor whose float32 storage overflows 64 bits


def check_elements(shape: Shape, batch: int, param: str) -> None:
    """Refuse a tensor PyTorch cannot allocate ("Storage size calculation overflowed"): over 2**61 elements."""
    elements = batch
    for size in shape:
        elements *= size
    if elements > MAX_ELEMENTS:
        raise ShapeError(
            f"a tensor of {'x'.join(map(str, shape))}{f' (batch {batch})' if batch > 1 else ''} has {elements:.3e} "
            f"elements; PyTorch refuses more than {MAX_ELEMENTS:.3e} (its float32 storage would overflow 64 bits)",
            param,
        )


def as_shape(input_shape: str | Sequence[int]) -> Shape:
    if isinstance(input_shape, str):
        return parse_shape(input_shape)
    shape = tuple(input_shape)
    if not shape or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_SIZE for n in shape):
        raise InputError(f"must be positive sizes, got {input_shape!r}", "in")
    return shape


def spatial_and_channels(shape: Shape, op: str) -> tuple[Shape, int]:
    if len(shape) < 2:
        raise ShapeError(
            f"{op} needs at least one spatial dimension and a channel count (e.g. 100x16 or 32x32x3), "
            f"got {'x'.join(map(str, shape))}",
            "in",
        )
    return shape[:-1], shape[-1]


def build_windows(
    spatial: Shape, k: IntOrInts | None, s: IntOrInts | None, p: PaddingArg, d: IntOrInts, stride_default: IntOrInts | None
) -> tuple[tuple[Window, ...], bool]:
    rank = len(spatial)
    kernel = per_dim(k, rank, "k", 1)
    stride = per_dim(s if s is not None else stride_default, rank, "s", 1)
    dilation = per_dim(d, rank, "d", 1)
    pads, same = resolve_padding(p, spatial, kernel, stride, dilation)
    return tuple(Window(*wargs) for wargs in zip(kernel, stride, dilation, pads)), same


def check_groups(c_in: int, c_out: int, groups: int) -> None:
    if not isinstance(groups, int) or groups < 1:
        raise InputError(f"must be >= 1, got {groups}", "g")
    if c_in % groups:
        raise ShapeError(f"groups {groups} must divide the input channels {c_in}", "g")
    if c_out % groups:
        raise ShapeError(f"groups {groups} must divide the output channels {c_out}", "g")


def check_out(out: int | None, default: int) -> int:
    value = default if out is None else out
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"must be >= 1, got {value}", "out")
    if value > MAX_SIZE:
        raise InputError("is larger than 2**63 - 1 (PyTorch's sizes are 64-bit)", "out")
    return value


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
    spatial, c_in = spatial_and_channels(shape, "conv")
    windows, same = build_windows(spatial, k, s, p, d, None)
    spec = ConvSpec(out=check_out(out, c_in), windows=windows, groups=g, bias=bias, same=same)
    return compute(spec, shape, batch)


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
    spatial, c_in = spatial_and_channels(shape, "deconv")
    if isinstance(p, str):
        raise InputError(f"a transposed conv takes numeric padding only (PyTorch refuses {p!r})", "p")
    windows, _ = build_windows(spatial, k, s, p, d, None)
    extra = per_dim(output_padding, len(spatial), "output_padding", 0)
    for w, op in zip(windows, extra):
        if op >= max(w.stride, w.dilation):
            raise InputError(
                f"must be smaller than either stride {w.stride} or dilation {w.dilation}, got {op}",
                "output_padding",
            )
    spec = ConvSpec(
        out=check_out(out, c_in), windows=windows, groups=g, bias=bias, transposed=True, output_padding=extra
    )
    return compute(spec, shape, batch)


def _pool(
    kind: Literal["max", "avg"],
    input_shape: str | Sequence[int],
    k: IntOrInts,
    s: IntOrInts | None,
    p: PaddingArg,
    d: IntOrInts,
    ceil: bool,
    batch: int,
) -> LayerResult:
    shape = as_shape(input_shape)
    spatial, _ = spatial_and_channels(shape, f"{kind}pool")
    windows, same = build_windows(spatial, k, s, p, d, stride_default=k)
    for w in windows:
        if max(w.pad) > w.kernel // 2:
            raise InputError(
                f"pooling padding must be at most half the kernel size ({w.kernel} // 2 = {w.kernel // 2}), "
                f"got {max(w.pad)}",
                "p",
            )
    if kind == "avg" and len(spatial) == 3:  # PyTorch's AvgPool3d checks the unpadded input, whatever the padding
        for name, n, w in zip(dim_names(3), spatial, windows):
            if n < w.kernel:
                raise ShapeError(f"{name}: input {n} is smaller than kernel {w.kernel} (PyTorch's AvgPool3d refuses it)", "k")
    return compute(PoolSpec(kind=kind, windows=windows, ceil_mode=ceil, same=same), shape, batch)


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
    return _pool("max", input_shape, k, s, p, d, ceil, batch)


def avgpool(
    input_shape: str | Sequence[int],
    k: IntOrInts = 2,
    s: IntOrInts | None = None,
    p: PaddingArg = 0,
    ceil: bool = False,
    batch: int = 1,
) -> LayerResult:
    """Average pooling as PyTorch's AvgPoolNd (no dilation). FLOPs: prod(k) per output element."""
    return _pool("avg", input_shape, k, s, p, 1, ceil, batch)


def linear(input_shape: str | Sequence[int] | int, out: int, bias: bool = True, batch: int = 1) -> LayerResult:
    """Fully connected on the last axis: params = in*out (+ out); MACs = rows * in * out."""
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        if input_shape < 1:
            raise InputError(f"must be >= 1 features, got {input_shape}", "in")
        shape: Shape = (input_shape,)
    else:
        shape = as_shape(input_shape)
    spec = LinearSpec(out=check_out(out, 0 if out is None else out), bias=bias)
    return compute(spec, shape, batch)
