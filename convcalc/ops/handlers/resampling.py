"""Resampling (issue 11): ``interpolate`` as ``torch.nn.functional.interpolate`` -- to a size or by a scale, in the
modes nearest, nearest-exact, linear/bilinear/trilinear, bicubic and area -- with PyTorch's output sizes and
refusals, and a receptive field only where it is exact; ``unfold``/``fold`` as ``nn.Unfold``/``nn.Fold`` (blocks of a
2-D grid on a token axis, and back)."""

from __future__ import annotations

from fractions import Fraction
from math import floor, isfinite, prod
from typing import Any

from convcalc.core.notation import Shape
from convcalc.core.resolve import per_dim, spatial_and_channels
from convcalc.errors import InputError, ShapeError
from convcalc.ops.handlers.results import AxisSource, OpResult, one_input
from convcalc.ops.handlers.windows import adaptive_bins

LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}  # mode -> the one rank PyTorch takes
NO_ALIGN = ("nearest", "nearest-exact", "area")  # PyTorch refuses align_corners with these
MAX_SPATIAL = 3  # F.interpolate takes 3-D to 5-D inputs: 1 to 3 spatial axes


def interpolate_scales(value: Any, rank: int) -> tuple[float, ...]:
    """``scale``: one positive number, or one per spatial axis (PyTorch refuses another count)."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank
    if len(values) != rank:
        raise InputError(f"has {len(values)} values but the input has {rank} spatial dimension{'s' * (rank != 1)}",
                         "scale")  # fmt: skip
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not isfinite(v):
            raise InputError(f"must be finite numbers, got {v!r}", "scale")
    return tuple(float(v) for v in values)


def _index_ratio(n: int, out: int, scale: float | None) -> tuple[str, int] | None:
    """How PyTorch's nearest/nearest-exact index map relates output to input on one axis, when it is an exact
    integer ratio: ("up", k) when output i reads input i // k, ("down", k) when it reads i * k (+ an offset); None
    otherwise. PyTorch maps with 1/scale when a scale is given, else n/out."""
    ratio = Fraction(out, n) if scale is None else Fraction(scale)
    if ratio.denominator == 1:
        return "up", ratio.numerator
    if ratio.numerator == 1:
        return "down", ratio.denominator
    return None


def _field(mode: str, spatial: Shape, sizes: Shape, scales: tuple[float, ...] | None) -> tuple[str, tuple[Any, ...]]:
    """The local field (receptive_field, jump, start per axis) when it is exact, else ``("", note)``."""
    if mode in ("linear", "bilinear", "trilinear", "bicubic"):
        return "", (f"{mode} interpolation weighs 2 or 4 inputs per axis with position-dependent weights (some zero): "
                    "no uniform window",)  # fmt: skip
    fields, jumps, starts = [], [], []
    for axis, (n, out) in enumerate(zip(spatial, sizes)):
        if mode == "area":  # adaptive average pooling to `out`: a uniform window only for an integer ratio
            found = ("up", out // n) if out % n == 0 else ("down", n // out) if n % out == 0 else None
        else:
            found = _index_ratio(n, out, scales[axis] if scales else None)
        if found is None:
            return "", (f"{mode} interpolation from {n} to {out} positions has no integer ratio: no uniform window",)
        kind, k = found
        if kind == "up":
            fields.append(1)
            jumps.append(Fraction(1, k))
            starts.append(Fraction(0))
        else:
            fields.append(k if mode == "area" else 1)
            jumps.append(Fraction(k))
            starts.append(Fraction(k // 2 if mode == "nearest-exact" else 0))
    return "window", (tuple(fields), tuple(jumps), tuple(starts))


def op_interpolate(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    spatial, channels = spatial_and_channels(one_input(shapes), "interpolate")
    rank = len(spatial)
    mode = args.get("mode", "nearest")
    if rank > MAX_SPATIAL:
        raise ShapeError(f"interpolate takes 1 to 3 spatial dimensions (PyTorch's 3-D to 5-D inputs), got {rank}", "in")
    if mode in LINEAR_MODES and LINEAR_MODES[mode] != rank:
        raise ShapeError(f"{mode} interpolation needs {LINEAR_MODES[mode]} spatial dimension"
                         f"{'s' * (LINEAR_MODES[mode] != 1)}, got {rank}", "in")  # fmt: skip
    if "align_corners" in args and mode in NO_ALIGN:
        raise InputError(f"is only for the linear modes and bicubic, not {mode}", "align_corners")
    if ("size" in args) == ("scale" in args):
        raise InputError("give exactly one of size and scale", "size" if "size" in args else "scale")
    scales: tuple[float, ...] | None = None
    if "size" in args:
        size = args["size"]
        if isinstance(size, list) and len(size) != rank:  # PyTorch takes one size or exactly one per axis
            raise InputError(f"has {len(size)} values but the input has {rank} spatial dimension{'s' * (rank != 1)}",
                             "size")  # fmt: skip
        sizes = per_dim(size, rank, "size", 1)
    else:
        scales = interpolate_scales(args["scale"], rank)
        sizes = tuple(floor(n * s) for n, s in zip(spatial, scales))
        if any(size <= 0 for size in sizes):
            raise InputError(f"gives an output of {'x'.join(map(str, sizes))}: PyTorch needs every size > 0", "scale")
    out_shape = (*sizes, channels)
    elements = prod(out_shape)
    if mode in ("nearest", "nearest-exact"):
        flops = 0
    elif mode == "bicubic":
        flops = (2 * 4**rank - 1) * elements
    elif mode == "area":
        flops = channels * prod(sum(hi - lo for lo, hi in adaptive_bins(n, out)) for n, out in zip(spatial, sizes))
    else:
        flops = (2 ** (rank + 1) - 1) * elements
    kind, field = _field(mode, spatial, sizes, scales)
    if not kind:
        return OpResult(output_shape=out_shape, flops=flops, field="unknown", field_note=field[0])
    receptive_field, jump, start = field
    return OpResult(output_shape=out_shape, flops=flops, receptive_field=receptive_field, jump=jump, start=start)


# -- unfold and fold (nn.Unfold, nn.Fold): 2 grid axes, blocks as a token axis ------------------------------------
def _pair(args: dict[str, Any], key: str, default: int, minimum: int) -> tuple[int, int]:
    """One value or a list of exactly two (PyTorch's ``_pair``: a list of another length is refused)."""
    value = args.get(key, default)
    if isinstance(value, list) and len(value) != 2:
        raise InputError(f"needs one value or two (one per grid axis), got {len(value)}", key)
    return per_dim(value, 2, key, minimum)  # type: ignore[return-value]


def _blocks(args: dict[str, Any], grid: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """(k, d, p, s, blocks per axis) for a grid of two axes, refusing non-positive block counts as PyTorch."""
    k, d, p, s = (_pair(args, "k", 1, 1), _pair(args, "d", 1, 1), _pair(args, "p", 0, 0), _pair(args, "s", 1, 1))
    blocks = tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1 for n, ki, di, pi, si in zip(grid, k, d, p, s))
    if any(b <= 0 for b in blocks):
        raise ShapeError(f"a grid of {'x'.join(map(str, grid))} with padding {p} has no room for a block of span "
                         f"{'x'.join(str(di * (ki - 1) + 1) for ki, di in zip(k, d))}", "k")  # fmt: skip
    return k, d, p, s, blocks


def op_unfold(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    if len(shape) != 3:
        raise ShapeError(f"unfold takes a grid of 2 axes and channels (H x W x C), got {'x'.join(map(str, shape))}", "in")
    k, d, p, s, blocks = _blocks(args, shape[:2])
    out_shape = (prod(blocks), shape[2] * prod(k))
    # a window per block, as a conv's (span d(k-1)+1, stride s, from -p), then the blocks' grid flattened into L
    return OpResult(
        output_shape=out_shape,
        receptive_field=tuple(di * (ki - 1) + 1 for ki, di in zip(k, d)),
        jump=tuple(Fraction(si) for si in s),
        start=tuple(Fraction(-pi) for pi in p),
        regroup=(AxisSource(axes=(0, 1)), AxisSource(axes=(2,))),
        windowed_sizes=(*blocks, out_shape[1]),
    )


def op_fold(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    if len(shape) != 2:
        raise ShapeError(f"fold takes (L, C x kh x kw) blocks, got {'x'.join(map(str, shape))}", "in")
    size = _pair(args, "size", 1, 1)
    k, _d, _p, _s, blocks = _blocks(args, size)
    length, features = shape
    if features % prod(k):
        raise ShapeError(f"fold's {features} features are not a multiple of the kernel's {prod(k)} positions", "k")
    if length != prod(blocks):
        raise ShapeError(f"fold into {size[0]}x{size[1]} makes {prod(blocks)} blocks, the input has {length}", "size")
    return OpResult(output_shape=(*size, features // prod(k)), flops=prod(shape), field="unknown",
                    field_note="fold sums blocks from a token axis into a grid: no window per grid axis")  # fmt: skip
