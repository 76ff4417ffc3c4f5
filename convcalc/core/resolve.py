"""Argument resolution for one layer: per-dimension values, padding ('same' worked out), windows, groups and
output channels checked, and the resolved :mod:`convcalc.core.resolved` spec built. Bad arguments raise
:class:`~convcalc.errors.ConvCalcError` naming the argument (``k``, ``s``, ``p``, ``d``, ``g``, ``out``, ``in``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Union

from convcalc.core.notation import Shape, dim_names, parse_shape
from convcalc.core.resolved import ConvSpec, LinearSpec, PoolSpec
from convcalc.core.windows import Pad, Window, same_padding
from convcalc.errors import InputError, ShapeError

IntOrInts = Union[int, Sequence[int]]
MAX_SIZE = 2**63 - 1
PaddingArg = Union[int, str, Sequence[Union[int, Sequence[int]]]]


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


def conv_spec(shape: Shape, k: IntOrInts, out: int | None = None, s: IntOrInts = 1, p: PaddingArg = 0,
              d: IntOrInts = 1, g: int = 1, bias: bool = True) -> ConvSpec:  # fmt: skip
    """A convolution's arguments resolved against its input: per-dimension windows (``same`` padding worked out)."""
    spatial, c_in = spatial_and_channels(shape, "conv")
    windows, same = build_windows(spatial, k, s, p, d, None)
    return ConvSpec(out=check_out(out, c_in), windows=windows, groups=g, bias=bias, same=same)


def deconv_spec(shape: Shape, k: IntOrInts, out: int | None = None, s: IntOrInts = 1, p: PaddingArg = 0,
                d: IntOrInts = 1, g: int = 1, output_padding: IntOrInts = 0, bias: bool = True) -> ConvSpec:  # fmt: skip
    """A transposed convolution's arguments resolved: numeric padding only, output_padding < max(s, d)."""
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
    return ConvSpec(
        out=check_out(out, c_in), windows=windows, groups=g, bias=bias, transposed=True, output_padding=extra
    )


def pool_spec(kind: Literal["max", "avg"], shape: Shape, k: IntOrInts, s: IntOrInts | None = None,
              p: PaddingArg = 0, d: IntOrInts = 1, ceil: bool = False) -> PoolSpec:  # fmt: skip
    """Pooling resolved as PyTorch does: stride defaults to the kernel, padding at most half the kernel."""
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
    return PoolSpec(kind=kind, windows=windows, ceil_mode=ceil, same=same)


def linear_spec(out: int, bias: bool = True) -> LinearSpec:
    """A fully connected layer: ``out`` features, with or without a bias."""
    return LinearSpec(out=check_out(out, 0 if out is None else out), bias=bias)
