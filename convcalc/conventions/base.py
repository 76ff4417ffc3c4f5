"""What a counting rule sees of a layer, and what every convention's rules share.

A rule (:data:`Rule`) maps one :class:`Layer` at batch 1 to counts by :data:`CATEGORIES`; each tool's rules live in
their own module (:mod:`convcalc.conventions.convcalc_rules`, ``torchinfo_rules``, ``fvcore_rules``,
``ptflops_rules``, ``thop_rules``) and :mod:`convcalc.conventions.counting` applies them to a report.

Pure Python: nothing here imports torch or the tools.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING, Any

from convcalc.core.notation import Shape
from convcalc.core.resolved import ConvSpec, LayerResult, LinearSpec, PoolSpec
from convcalc.ops.catalogue import Category, ops_in

if TYPE_CHECKING:  # the network modules load only when a network is counted (`convcalc layer` needs none)
    from convcalc.graph.analysis import Row

CATEGORIES = ("conv weights", "bias", "linear", "normalisation", "activation", "pooling", "elementwise add", "other")


@dataclass(frozen=True)
class Tool:
    """A counter: the version whose rules a convention follows, what it calls its number and how to get it."""

    name: str
    version: str
    calls_it: str
    call: str


@dataclass(frozen=True)
class Layer:
    """One layer at batch 1, as the rules see it. Shapes are convcalc's: channels last, batch excluded."""

    op: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    args: Mapping[str, Any] = field(default_factory=dict)
    kernel: tuple[int, ...] = ()
    pads: tuple[tuple[int, int], ...] = ()  # (before, after) per dimension: conv, deconv, pooling
    groups: int = 1
    bias: bool = False

    @property
    def input_shape(self) -> Shape:
        return self.input_shapes[0]

    @property
    def in_elements(self) -> int:
        return prod(self.input_shape)

    @property
    def out_elements(self) -> int:
        return prod(self.output_shape)

    @property
    def in_positions(self) -> int:
        """Input elements per channel (spatial positions, or rows before a linear layer)."""
        return prod(self.input_shape[:-1])

    @property
    def out_positions(self) -> int:
        return prod(self.output_shape[:-1])

    @property
    def in_channels(self) -> int:
        return self.input_shape[-1]

    @property
    def out_channels(self) -> int:
        return self.output_shape[-1]

    @property
    def torch_in_elements(self) -> int:
        """Input elements as the PyTorch module sees them: PyTorch pads symmetrically only, so a window layer with
        any uneven padding is exported as an explicit pad, then the layer on the padded input."""
        if all(lo == hi for lo, hi in self.pads):
            return self.in_elements
        return prod(n + lo + hi for n, (lo, hi) in zip(self.input_shape[:-1], self.pads)) * self.in_channels

    @property
    def weights(self) -> int:
        """Weight count of a conv, transposed conv or linear layer: prod(k) * C_in * C_out / g."""
        return prod(self.kernel) * self.in_channels * self.out_channels // self.groups


def _spec_facts(spec: object) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...], int, bool]:
    """(kernel, padding, groups, bias) of a resolved layer spec; empty kernel and padding for other layers."""
    kernel: tuple[int, ...] = ()
    pads: tuple[tuple[int, int], ...] = ()
    if isinstance(spec, (ConvSpec, PoolSpec)):
        kernel = tuple(w.kernel for w in spec.windows)
        pads = tuple(w.pad for w in spec.windows)
    groups = spec.groups if isinstance(spec, ConvSpec) else 1
    bias = spec.bias if isinstance(spec, (ConvSpec, LinearSpec)) else False
    return kernel, pads, groups, bias


def layer_of_row(row: Row) -> Layer:
    """The rules' view of one layer of an analysed network: its node's arguments, input shapes and op result, as
    the report keeps them (nothing is recomputed)."""
    node, result = row.node, row.result
    assert node is not None and result is not None, "rows made by analyze() carry their node and result"
    kernel, pads, groups, bias = _spec_facts(result.layer.spec if result.layer is not None else None)
    if node.op == "linear":
        bias = node.args.get("bias", True)
    return Layer(node.op, row.input_shapes, result.output_shape, node.args, kernel, pads, groups, bias)


def layer_of_result(result: LayerResult) -> Layer:
    """The rules' view of one layer computed by ``convcalc layer`` (conv, deconv, maxpool, avgpool, linear)."""
    kernel, pads, groups, bias = _spec_facts(result.spec)
    return Layer(result.op, (result.input_shape,), result.output_shape, {}, kernel, pads, groups, bias)


Rule = Callable[[Layer], dict[str, int]]

POOLING = ops_in(Category.POOLING)
RESHAPES = ops_in(Category.LAYOUT)  # move or copy values: no tool counts them


def zero(why: str) -> Rule:
    """A rule for ops a tool counts as 0, saying why."""

    def rule(layer: Layer) -> dict[str, int]:
        return {}

    rule.__doc__ = f"0: {why}"
    return rule
