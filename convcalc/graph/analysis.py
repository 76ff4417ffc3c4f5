"""A whole network: walk the graph once in topological order, computing each layer's numbers and its receptive
field by the forward recursion (linear in the number of layers), and the totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from fractions import Fraction
from math import prod
from typing import Any

from convcalc.core.notation import Shape
from convcalc.core.receptive import Field, backward_step, forward, merge
from convcalc.core.resolve import MAX_ELEMENTS, check_elements
from convcalc.core.resolved import LayerSpec
from convcalc.errors import ConvCalcError, ShapeError, SpecError
from convcalc.graph.model import NETWORK_INPUT, Network, Node
from convcalc.ops.catalogue import MERGES
from convcalc.ops.handlers import OPS, OpResult

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "uint8": 1, "int16": 2, "int32": 4}


@dataclass(frozen=True)
class Row:
    """One layer's numbers in a report. Counts include the batch; shapes exclude it."""

    index: int
    name: str
    op: str
    inputs: tuple[str, ...]
    output_shape: Shape
    params: int
    buffers: int
    macs: int
    flops: int
    field: Field | None  # None when the network input has no spatial dimensions
    trainable: bool
    warnings: tuple[str, ...]
    line: int
    blocks: tuple[str, ...]
    input_shapes: tuple[Shape, ...] = ()
    spec: LayerSpec | None = dataclass_field(default=None, compare=False, repr=False)  # resolved conv/deconv/pooling
    # what every reader of the report needs and must not recompute: the node (validated arguments, inputs as
    # indices) and its op's result at batch 1 (local field step: kernel, jump, offset; the resolved layer)
    node: Node | None = dataclass_field(default=None, compare=False, repr=False)
    result: OpResult | None = dataclass_field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Report:
    """The numbers of a whole network, one row per layer in topological order, and the totals."""

    name: str
    input_shape: Shape
    rows: tuple[Row, ...]
    batch: int
    dtype: str
    convention: str = "convcalc"  # how `macs` are counted (see convcalc.conventions.counting)
    file: str | None = None  # the spec it was read from

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape if self.rows else self.input_shape

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self) -> int:
        return sum(row.params for row in self.rows if row.trainable)

    @property
    def buffers(self) -> int:
        return sum(row.buffers for row in self.rows)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def flops(self) -> int:
        return sum(row.flops for row in self.rows)

    @property
    def activation_bytes(self) -> int:
        """Every layer's output kept once (as a training forward pass keeps them), times the batch."""
        return sum(prod(row.output_shape) for row in self.rows) * self.batch * DTYPE_BYTES[self.dtype]

    @property
    def param_bytes(self) -> int:
        return (self.params + self.buffers) * DTYPE_BYTES[self.dtype]

    def totals(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.params - self.trainable_params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
        }


def node_error(network: Network, node: Node, error: ConvCalcError) -> SpecError:
    key = {"in": "from"}.get(error.param or "", error.param)
    message = f"{key}: {error.message}" if key and key != "from" else error.message
    return SpecError(message, network.file, node.line_of(key), node.name)


@dataclass(frozen=True)
class Step:
    """One node with its input shapes and what its op computed (the part of a :class:`Row` the walk makes)."""

    node: Node
    input_shapes: tuple[Shape, ...]
    result: OpResult


def walk(network: Network) -> list[Step]:
    """Apply every op in topological order; errors name the file, line and layer. Only :func:`analyze` walks:
    every other reader takes the report's rows, which carry the same node, input shapes and result."""
    shapes: list[Shape] = []
    steps: list[Step] = []
    for node in network.nodes:
        in_shapes = tuple(network.input_shape if i == NETWORK_INPUT else shapes[i] for i in node.inputs)
        try:
            result = OPS[node.op](node.args, list(in_shapes))
            check_elements(result.output_shape, 1, "in")
            if result.params > MAX_ELEMENTS:  # PyTorch could not allocate the weights either
                raise ShapeError(f"{result.params:.3e} weights; PyTorch refuses a tensor of more than {MAX_ELEMENTS:.3e}")
        except ConvCalcError as error:
            raise node_error(network, node, error) from None
        shapes.append(result.output_shape)
        steps.append(Step(node, in_shapes, result))
    return steps


def analyze(network: Network, batch: int = 1, dtype: str = "float32") -> Report:
    """Shapes, counts and receptive fields of every layer, in one pass over the graph."""
    if not isinstance(batch, int) or batch < 1:
        raise ConvCalcError(f"must be >= 1, got {batch}", "batch")
    if dtype not in DTYPE_BYTES:
        raise ConvCalcError(f"unknown dtype {dtype!r}; choose {', '.join(DTYPE_BYTES)}", "dtype")
    try:
        check_elements(network.input_shape, 1, "input")
    except ConvCalcError as error:
        raise SpecError(f"input: {error.message}", network.file, network.input_line) from None
    check_elements(network.input_shape, batch, "batch")
    rank = len(network.input_shape) - 1
    input_field = Field.identity(rank) if rank else None
    fields: list[Field | None] = []
    rows: list[Row] = []
    for step in walk(network):
        node, result = step.node, step.result
        in_fields = [input_field if i == NETWORK_INPUT else fields[i] for i in node.inputs]
        field, warnings = layer_field(result, in_fields, node.op, step.input_shapes)
        fields.append(field)
        rows.append(
            Row(
                index=node.index,
                name=node.name,
                op=node.op,
                inputs=tuple("input" if i == NETWORK_INPUT else network.nodes[i].name for i in node.inputs),
                output_shape=result.output_shape,
                params=result.params,
                buffers=result.buffers,
                macs=result.macs * batch,
                flops=result.flops * batch,
                field=field,
                trainable=node.trainable,
                warnings=result.warnings + warnings,
                line=node.line,
                blocks=node.blocks,
                input_shapes=step.input_shapes,
                spec=result.layer.spec if result.layer is not None else None,
                node=node,
                result=result,
            )
        )
    return Report(network.name, network.input_shape, tuple(rows), batch, dtype, file=network.file)


def layer_field(
    result: OpResult, in_fields: Sequence[Field | None], op: str, in_shapes: Sequence[Shape] = ()
) -> tuple[Field | None, tuple[str, ...]]:
    if in_fields[0] is None:
        return None, ()
    fields = [f for f in in_fields if f is not None]
    if op in MERGES:
        grid = result.output_shape[:-1]
        broadcast = [shape[:-1] != grid and all(n == 1 for n in shape[:-1]) for shape in in_shapes]
        field, aligned = merge(fields, broadcast)
        return field, () if aligned else ("the merged paths have different jumps (misaligned fields)",)
    if result.field == "global":
        whole = fields[0]
        return Field(whole.receptive_field, whole.jump, whole.start, whole=True), ()
    if result.field == "unknown" and not (fields[0].whole or fields[0].unknown):
        known = fields[0]
        return Field(known.receptive_field, known.jump, known.start, unknown=result.field_note or op), ()
    return forward(fields[0], result.receptive_field, result.jump, result.start), ()


Interval = tuple[tuple[Fraction, ...], tuple[Fraction, ...]]  # (receptive field r, start u) per spatial dimension


@dataclass(frozen=True)
class BackStep:
    """One layer of the backward recursion: the interval (r, u) of its output carried back to its input.
    ``kernel`` is empty for a merge (every input passes the interval) and for a layer that sees the whole input."""

    name: str
    op: str
    receptive_field: tuple[Fraction, ...]
    start: tuple[Fraction, ...]
    receptive_field_in: tuple[Fraction, ...] = ()
    start_in: tuple[Fraction, ...] = ()
    kernel: tuple[int, ...] = ()
    stride: tuple[Fraction, ...] = ()
    merge: bool = False
    whole: bool = False
    unknown: str = ""  # why the recursion cannot go on through this layer


@dataclass(frozen=True)
class Backward:
    """The seeds' backward recursion from one layer to the network input, and the receptive field it ends in."""

    target: str
    steps: tuple[BackStep, ...]
    receptive_field: tuple[Fraction, ...]
    start: tuple[Fraction, ...]
    whole: bool
    input_spatial: Shape
    unknown: str = ""  # why the field at the input is not known exactly

def _hull(old: Interval, new: Interval) -> Interval:
    """The smallest interval containing both (where two paths meet at a layer's output)."""
    lo = tuple(min(a, b) for a, b in zip(old[1], new[1]))
    hi = tuple(max(a + r, b + q) for a, r, b, q in zip(old[1], old[0], new[1], new[0]))
    return tuple(high - low for low, high in zip(lo, hi)), lo


def _back_step(node: Any, result: OpResult, size: tuple[Fraction, ...], start: tuple[Fraction, ...]) -> BackStep:
    """One layer's step: whole input (global), pass-through (merge), or r = s*r + (k - s), u = s*u + t."""
    if result.field == "global" and node.op not in MERGES:
        return BackStep(node.name, node.op, size, start, whole=True)
    if result.field == "unknown":
        return BackStep(node.name, node.op, size, start, unknown=result.field_note or node.op)
    if node.op in MERGES:
        return BackStep(node.name, node.op, size, start, size, start, merge=True)
    pairs = [backward_step(r, u, k, s, t) for r, u, k, s, t in zip(size, start, result.receptive_field, result.jump, result.start)]
    return BackStep(
        node.name, node.op, size, start, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs),
        tuple(result.receptive_field), tuple(result.jump),
    )  # fmt: skip


def backward_recursion(report: Report, target: int) -> Backward:
    """Intervals (size r, start u) of output unit 0 of layer ``target``, carried back through every path to the
    input; merges take the hull. Reads each row's local field (receptive_field, jump, start) from the report."""
    rows = report.rows
    rank = len(report.input_shape) - 1
    one, zero = (Fraction(1),) * rank, (Fraction(0),) * rank
    spans: dict[int, Interval] = {target: (one, zero)}
    steps: list[BackStep] = []
    for index in range(target, -1, -1):
        if index not in spans:
            continue
        size, start = spans.pop(index)
        step = _back_step(rows[index].node, rows[index].result, size, start)
        steps.append(step)
        if step.whole:
            return Backward(rows[target].name, tuple(steps), (), (), True, report.input_shape[:-1])
        if step.unknown:
            return Backward(rows[target].name, tuple(steps), (), (), False, report.input_shape[:-1], step.unknown)
        for source in rows[index].node.inputs:  # type: ignore[union-attr]
            back = (step.receptive_field_in, step.start_in)
            spans[source] = _hull(spans[source], back) if source in spans else back
    size, start = spans.get(NETWORK_INPUT, (one, zero))
    return Backward(rows[target].name, tuple(steps), size, start, False, report.input_shape[:-1])

