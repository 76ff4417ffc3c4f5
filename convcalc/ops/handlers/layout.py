"""Layout ops: flatten, reshape, permute, transpose, movedim, unflatten, squeeze, unsqueeze, expand, the channel and
pixel shuffles, slice, roll, pad and crop. Free; each says where its output axes come from and its window on the
input's axes (graph/layout.py follows the grid through them)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import prod
from typing import Any

from convcalc.core.notation import Shape, format_shape
from convcalc.core.resolve import resolve_padding, spatial_and_channels
from convcalc.errors import InputError, ShapeError
from convcalc.ops.handlers.reductions import reduced_axes
from convcalc.ops.handlers.results import AxisSource, OpResult, logical_axis, one_input, pointwise


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


def selected_positions(args: dict[str, Any], shape: Shape) -> tuple[int, list[int]]:
    """index_select's logical axis and its positions; one outside 0..size-1 is refused, as torch.index_select does
    (negative positions too)."""
    axis = logical_axis(args.get("dim", -1), len(shape))
    size = shape[axis]
    for position in args["index"]:
        if not 0 <= position < size:
            raise ShapeError(f"index {position} is out of range for axis {args.get('dim', -1)} of size {size} "
                             f"(0 to {size - 1})", "index")
    return axis, list(args["index"])


def op_index_select(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.index_select: axis ``dim`` becomes the positions ``index``, in that order (no cost: copies). Along the
    channels the field is unchanged; along a grid axis a run of consecutive positions is a slice (its field moves by
    the run's start), and any other order (a permutation, repeats) reorders positions: unknown."""
    shape = one_input(shapes)
    axis, positions = selected_positions(args, shape)
    out = shape[:axis] + (len(positions),) + shape[axis + 1 :]
    rank = len(shape) - 1
    if axis == rank:  # the channels
        return OpResult(output_shape=out, **_identity_window(rank))
    if positions == list(range(positions[0], positions[0] + len(positions))):
        window = _identity_window(rank)
        window["start"] = tuple(Fraction(positions[0] if a == axis else 0) for a in range(rank))
        return OpResult(output_shape=out, **window)
    return OpResult(output_shape=out, field="unknown", field_note=f"index_select reorders positions along grid axis {axis}")


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
