"""What a sliding-window picture shows, worked out before any drawing: per spatial dimension, the cells of the
grid the window slides over (input, padding, the zeros a transposed conv inserts) and, for each output position,
the cells its window reads. Built from the resolved layer (:mod:`convcalc.core.resolved`: each dimension's
:class:`~convcalc.core.windows.Window`) and the sizes :mod:`convcalc.core.layer` computed.

Coordinates ("cells") are those of the grid the window slides over:

- conv and pooling: input positions, padding before at negative cells; output o reads cells o*s - p_before + j*d,
  j < k (pooling in ceil mode may read past the padding: those cells are ``outside``);
- transposed conv, drawn as a stride-1 conv over the zero-inserted input: input i sits at cell i*s, the s-1 cells
  between two inputs are inserted zeros, P = d(k-1) - p_before cells of padding come before and
  Q = d(k-1) - p_after + output_padding after (a negative amount crops); output o reads cells o - P + j*d.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from math import prod

from convcalc.core.resolved import ConvSpec, LayerResult, PoolSpec
from convcalc.core.windows import Window
from convcalc.errors import ConvCalcError

MAX_CELLS = 20  # cells drawn per dimension at most: a larger grid is drawn as its corner
MAX_OUTPUTS = 8  # output positions animated per dimension at most

INPUT, PAD, ZERO, OUTSIDE = "input", "pad", "zero", "outside"


@dataclass(frozen=True)
class AxisPlan:
    """One spatial dimension of the picture: the window, the true sizes and the part drawn."""

    window: Window
    size: int  # real input positions
    out: int  # real output positions
    transposed: bool
    output_padding: int = 0

    @property
    def before(self) -> int:
        """Cells of padding before the first input cell: p_before, or P = d(k-1) - p_before for a transposed conv."""
        w = self.window
        return w.dilation * (w.kernel - 1) - w.pad[0] if self.transposed else w.pad[0]

    @property
    def after(self) -> int:
        w = self.window
        if self.transposed:
            return w.dilation * (w.kernel - 1) - w.pad[1] + self.output_padding
        return w.pad[1]

    @property
    def span(self) -> int:
        """Input cells from the first input to the last: n, or (n-1)s + 1 with the inserted zeros."""
        return (self.size - 1) * self.window.stride + 1 if self.transposed else self.size

    @property
    def step(self) -> int:
        """How far the window moves per output position: the stride (1 over a zero-inserted input)."""
        return 1 if self.transposed else self.window.stride

    def taps(self, o: int) -> tuple[int, ...]:
        """The cells output ``o`` reads: first + j*d for j < k, first = o*step - before."""
        first = o * self.step - self.before
        return tuple(first + j * self.window.dilation for j in range(self.window.kernel))

    def kind(self, cell: int) -> str:
        """input, pad (the padding, or past the input inside it), zero (inserted by a transposed conv) or outside."""
        if 0 <= cell < self.span:
            return ZERO if self.transposed and cell % self.window.stride else INPUT
        if -self.before <= cell < self.span + self.after:
            return PAD
        return OUTSIDE

    def input_index(self, cell: int) -> int | None:
        """The input position a cell holds (None for padding and inserted zeros)."""
        if self.kind(cell) != INPUT:
            return None
        return cell // self.window.stride if self.transposed else cell

    @property
    def shown_outputs(self) -> int:
        """Output positions drawn: all of them, or the first few whose windows fit in MAX_CELLS cells."""
        shown = min(self.out, MAX_OUTPUTS)
        while shown > 1 and self.taps(shown - 1)[-1] + 1 - self.low > MAX_CELLS:
            shown -= 1
        return shown

    @property
    def low(self) -> int:
        """The first cell drawn: the padding's first, or the first input cell when the padding crops."""
        return min(-self.before, 0)

    @property
    def high(self) -> int:
        """One past the last cell drawn: the whole grid when it fits, else up to the last shown window's end (and a
        few cells more, so that the pattern shows)."""
        full = max(self.span + self.after, self.span, self.taps(self.out - 1)[-1] + 1)
        if full - self.low <= MAX_CELLS and self.out <= MAX_OUTPUTS:
            return full
        last = self.taps(self.shown_outputs - 1)[-1] + 1
        return min(full, max(last + 2, self.low + min(MAX_CELLS, 8)))

    @property
    def cut(self) -> bool:
        """Whether only a corner of this dimension is drawn."""
        full = max(self.span + self.after, self.span, self.taps(self.out - 1)[-1] + 1)
        return self.high < full or self.shown_outputs < self.out


@dataclass(frozen=True)
class WindowPlan:
    """The whole picture's content: the axes (rows first for 2-D), channels and groups, and the op."""

    op: str
    axes: tuple[AxisPlan, ...]
    channels_in: int
    channels_out: int
    groups: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    @property
    def outputs(self) -> list[tuple[int, ...]]:
        """The output positions drawn, one frame each, in row-major order."""
        return list(product(*(range(axis.shown_outputs) for axis in self.axes)))

    def cells(self) -> list[tuple[int, ...]]:
        """Every cell drawn, row-major."""
        return list(product(*(range(axis.low, axis.high) for axis in self.axes)))

    def reads(self, output: tuple[int, ...]) -> list[tuple[int, ...]]:
        """The cells the window of ``output`` reads (every tap, per dimension the taps of that dimension)."""
        return list(product(*(axis.taps(o) for axis, o in zip(self.axes, output))))

    def kind(self, cell: tuple[int, ...]) -> str:
        """A cell's kind: outside beats pad beats zero beats input over its dimensions."""
        kinds = [axis.kind(c) for axis, c in zip(self.axes, cell)]
        return next((k for k in (OUTSIDE, PAD, ZERO) if k in kinds), INPUT)

    @property
    def cut(self) -> bool:
        return any(axis.cut for axis in self.axes)

    @property
    def frame_count(self) -> int:
        return prod(axis.shown_outputs for axis in self.axes)


def window_plan(result: LayerResult) -> WindowPlan:
    """The plan of a conv, transposed conv or pooling layer of 1 or 2 spatial dimensions; else a ConvCalcError
    naming ``--draw``."""
    spec = result.spec
    if not isinstance(spec, ConvSpec | PoolSpec):
        raise ConvCalcError(f"draws sliding windows (conv, deconv, maxpool, avgpool), not {result.op}", "draw")
    rank = len(spec.windows)
    if rank not in (1, 2):
        raise ConvCalcError(f"draws 1-D and 2-D layers; this one has {rank} spatial dimensions", "draw")
    spatial_in, spatial_out = result.input_shape[:-1], result.output_shape[:-1]
    transposed = isinstance(spec, ConvSpec) and spec.transposed
    paddings = spec.output_padding if transposed and spec.output_padding else (0,) * rank
    axes = tuple(
        AxisPlan(w, n, out, transposed, extra)
        for w, n, out, extra in zip(spec.windows, spatial_in, spatial_out, paddings)
    )
    groups = spec.groups if isinstance(spec, ConvSpec) else 1
    return WindowPlan(
        result.op, axes, result.input_shape[-1], result.output_shape[-1], groups, result.input_shape,
        result.output_shape,
    )  # fmt: skip
