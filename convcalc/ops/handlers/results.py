"""What every op handler returns and the helpers every family shares: :class:`OpResult` (output shape, counts,
local field), :class:`AxisSource` (where a layout op's output axis comes from), ``pointwise``, ``from_layer`` (a
resolved layer of :mod:`convcalc.core.layer` as a result), ``one_input``, ``mixing`` (ops whose outputs read whole
grid axes) and ``logical_axis``."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Literal

from convcalc.core.notation import Shape
from convcalc.core.resolved import LayerResult
from convcalc.errors import InputError, ShapeError

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
    # a windowed op that also regroups (unfold: blocks, then flattened): the sizes of its axes after the window,
    # before ``regroup`` (empty: the input's sizes)
    windowed_sizes: tuple[int, ...] = ()
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


# -- several outputs and joining on any axis (split, chunk, stack, concat): free, fields exact or unknown ----------


def logical_axis(dim: int, rank: int, param: str = "dim") -> int:
    """A logical axis (batch excluded, negative from the end) as 0..rank-1; out of range is refused as PyTorch does."""
    if not -rank <= dim < rank:
        raise ShapeError(f"axis {dim} is out of range for a tensor of {rank} axes (expected {-rank} to {rank - 1})", param)
    return dim % rank
