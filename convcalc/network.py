"""A whole network: walk the graph once in topological order, computing each layer's numbers and its receptive
field by the forward recursion (linear in the number of layers), and the totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

from convcalc.errors import ConvCalcError, SpecError
from convcalc.layers import json_number
from convcalc.notation import Shape
from convcalc.ops import MERGES, OPS, OpResult
from convcalc.receptive import Field, backward_step, forward, merge
from convcalc.spec import NETWORK_INPUT, Network, Node

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

    def to_dict(self, input_spatial: Shape) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "op": self.op,
            "inputs": list(self.inputs),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
        }
        data.update(field_dict(self.field, input_spatial))
        data["trainable"] = self.trainable
        data["warnings"] = list(self.warnings)
        data["line"] = self.line
        return data


def field_dict(field: Field | None, input_spatial: Shape) -> dict[str, Any]:
    if field is None:
        return {"receptive_field": [], "jump": [], "start": []}
    if field.whole:
        return {"receptive_field": list(input_spatial), "jump": [None] * len(input_spatial), "start": [0] * len(input_spatial)}
    return {
        "receptive_field": [json_number(r) for r in field.size],
        "jump": [json_number(j) for j in field.jump],
        "start": [json_number(u) for u in field.start],
    }


@dataclass(frozen=True)
class Report:
    """The numbers of a whole network, one row per layer in topological order, and the totals."""

    name: str
    input_shape: Shape
    rows: tuple[Row, ...]
    batch: int
    dtype: str
    convention: str = "convcalc"  # how `macs` are counted (see convcalc.conventions)

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

    def to_dict(self) -> dict[str, Any]:
        spatial = self.input_shape[:-1]
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "convention": self.convention,
            "layers": [row.to_dict(spatial) for row in self.rows],
            "total": self.totals(),
        }


def node_error(network: Network, node: Node, error: ConvCalcError) -> SpecError:
    key = {"in": "from"}.get(error.param or "", error.param)
    message = f"{key}: {error.message}" if key and key != "from" else error.message
    return SpecError(message, network.file, node.line_of(key), node.name)


@dataclass(frozen=True)
class Step:
    """One node with its input shapes and what its op computed."""

    node: Node
    input_shapes: tuple[Shape, ...]
    result: OpResult


def walk(network: Network) -> list[Step]:
    """Apply every op in topological order; errors name the file, line and layer."""
    shapes: list[Shape] = []
    steps: list[Step] = []
    for node in network.nodes:
        in_shapes = tuple(network.input_shape if i == NETWORK_INPUT else shapes[i] for i in node.inputs)
        try:
            result = OPS[node.op](node.args, list(in_shapes))
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
            )
        )
    return Report(network.name, network.input_shape, tuple(rows), batch, dtype)


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
        return Field(whole.size, whole.jump, whole.start, whole=True), ()
    return forward(fields[0], result.kernel, result.jump, result.offset), ()


def backward_field(network: Network, target: int) -> list[str]:
    """The seeds' backward recursion from layer ``target`` to the input, as explanation lines; returns the steps.
    Intervals (size r, start u) of output unit 0 are carried back through every path; merges take the hull."""
    results = [step.result for step in walk(network)]
    rank = len(network.input_shape) - 1
    spans: dict[int, tuple[tuple[Fraction, ...], tuple[Fraction, ...]]] = {
        target: ((Fraction(1),) * rank, (Fraction(0),) * rank)
    }
    lines = [f"Backward from {network.nodes[target].name!r}: r_(l-1) = s_l * r_l + (k_l - s_l), start u_(l-1) = s_l * u_l + t_l"]
    lines.append(f"  {network.nodes[target].name}: r = 1, u = 0 (one output unit)")
    whole = False
    for index in range(target, -1, -1):
        if index not in spans:
            continue
        size, start = spans.pop(index)
        node, result = network.nodes[index], results[index]
        if result.field == "global" and node.op not in MERGES:
            whole = True
            lines.append(f"  {node.name} ({node.op}): sees every position of its input: the whole input")
            break
        if node.op in MERGES:
            back = (size, start)
            lines.append(f"  {node.name} ({node.op}): every input passes r = {_dims(size)}, u = {_dims(start)}")
        else:
            pairs = [backward_step(r, u, k, s, t) for r, u, k, s, t in zip(size, start, result.kernel, result.jump, result.offset)]
            back = (tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))
            terms = "; ".join(
                f"{_num(s)}*{_num(r)} + ({k} - {_num(s)}) = {_num(p[0])}"
                for r, k, s, p in zip(size, result.kernel, result.jump, pairs)
            )
            lines.append(f"  {node.name} ({node.op}, k={_dims(result.kernel)}, s={_dims(result.jump)}): r = {terms}; u = {_dims(back[1])}")
        for source in node.inputs:
            if source in spans:
                old_size, old_start = spans[source]
                lo = tuple(min(a, b) for a, b in zip(old_start, back[1]))
                hi = tuple(max(a + r, b + q) for a, r, b, q in zip(old_start, old_size, back[1], back[0]))
                spans[source] = (tuple(high - low for low, high in zip(lo, hi)), lo)
            else:
                spans[source] = back
    if whole:
        lines.append(f"Receptive field: the whole input ({'x'.join(map(str, network.input_shape[:-1]))})")
    else:
        size, start = spans.get(NETWORK_INPUT, ((Fraction(1),) * rank, (Fraction(0),) * rank))
        lines.append(f"Receptive field at the input: {_dims(size)} (start {_dims(start)})")
    return lines


def _num(value: Fraction | int) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _dims(values: Sequence[Fraction | int]) -> str:
    return "x".join(_num(v) for v in values)
