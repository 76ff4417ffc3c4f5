"""The resolved form of one layer (its arguments worked out for one input: per-dimension windows, groups, bias) and
the result of applying it. Plain frozen data: the one-layer API, the network ops and every reader share these types."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Union

from convcalc.core.notation import Shape
from convcalc.core.windows import Window


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
    """Everything convcalc knows about one layer applied to one input. Counts include the batch. Its JSON form:
    :func:`convcalc.report.json_output.layer_dict`."""

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


