"""A whole network: walk the graph once in topological order, computing each layer's numbers and its receptive
field by the forward recursion (linear in the number of layers), and the totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from math import prod
from typing import Any

from convcalc.core.notation import Shape
from convcalc.core.receptive import Field, forward, merge
from convcalc.core.resolve import MAX_ELEMENTS, check_elements
from convcalc.core.resolved import LayerSpec
from convcalc.errors import ConvCalcError, InputError, ShapeError, SpecError
from convcalc.graph import layout
from convcalc.graph.model import NETWORK_INPUT, Network, Node, Unused
from convcalc.ops.catalogue import MERGES
from convcalc.ops.handlers import OPS, OpResult, settled

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
    # several outputs (split, chunk): every output's shape and field (``output_shape``/``field`` are the first's)
    output_shapes: tuple[Shape, ...] = ()
    output_fields: tuple[Field | None, ...] = dataclass_field(default=(), compare=False, repr=False)
    # (node index, output index) of every input, picks applied (an op of several inputs takes every output of an
    # unindexed layer): what ``inputs`` names
    sources: tuple[tuple[int, int], ...] = dataclass_field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class NetOutput:
    """One output of a network: its name (``outputs:``), the layer it is (``name[k]`` for one of several) and its
    shape and field."""

    name: str
    layer: str
    shape: Shape
    field: Field | None
    source: tuple[int, int] = dataclass_field(default=(NETWORK_INPUT, 0), compare=False)  # (node, output index)


@dataclass(frozen=True)
class Report:
    """The numbers of a whole network, one row per layer in topological order, and the totals. ``outputs`` are the
    declared outputs (empty: the last layer's output is the network's); ``unused`` the modules the forward never
    runs, whose parameters and buffers the totals include."""

    name: str
    input_shape: Shape
    rows: tuple[Row, ...]
    batch: int
    dtype: str
    convention: str = "convcalc"  # how `macs` are counted (see convcalc.conventions.counting)
    file: str | None = None  # the spec it was read from
    outputs: tuple[NetOutput, ...] = ()
    unused: tuple[Unused, ...] = ()

    @property
    def output_shape(self) -> Shape:
        """The (first) output's shape."""
        if self.outputs:
            return self.outputs[0].shape
        return self.rows[-1].output_shape if self.rows else self.input_shape

    @property
    def unused_params(self) -> int:
        return sum(module.params for module in self.unused)

    @property
    def unused_buffers(self) -> int:
        return sum(module.buffers for module in self.unused)

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows) + self.unused_params

    @property
    def trainable_params(self) -> int:
        return sum(row.params for row in self.rows if row.trainable) + self.unused_params

    @property
    def buffers(self) -> int:
        return sum(row.buffers for row in self.rows) + self.unused_buffers

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def flops(self) -> int:
        return sum(row.flops for row in self.rows)

    @property
    def activation_bytes(self) -> int:
        """Every layer's output kept once (as a training forward pass keeps them), times the batch."""
        elements = sum(prod(shape) for row in self.rows for shape in (row.output_shapes or (row.output_shape,)))
        return elements * self.batch * DTYPE_BYTES[self.dtype]

    @property
    def param_bytes(self) -> int:
        return (self.params + self.buffers) * DTYPE_BYTES[self.dtype]

    def totals(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.params - self.trainable_params,
            "buffers": self.buffers,
            "unused_params": self.unused_params,
            "unused_buffers": self.unused_buffers,
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
    sources: tuple[tuple[int, int], ...] = ()  # (node index, output index) of every input


def pick_outputs(network: Network, node: Node, counts: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """(node, output) of every input of ``node``: ``from: name[k]`` picks output k (negative from the end); an
    unindexed layer of several outputs gives all of them to an op that takes several inputs (concat, add, stack,
    ...) and is an error for any other op. ``counts`` are the earlier nodes' numbers of outputs."""
    picked: list[tuple[int, int]] = []
    for index, pick in node.sources():
        count = 1 if index == NETWORK_INPUT else counts[index]
        name = "input" if index == NETWORK_INPUT else network.nodes[index].name
        if pick is None and count > 1 and node.op not in MERGES:
            which = f"layer {name!r}" if "from" in node.key_lines else f"the previous layer {name!r}"
            raise InputError(f"from: {which} has {count} outputs; pick one: {name}[0] to {name}[{count - 1}] "
                             "(only an op of several inputs, like concat, takes them all)", "from")  # fmt: skip
        if pick is None:
            picked += [(index, k) for k in range(count)]
            continue
        if not -count <= pick < count:
            which = f"layer {name!r} has {count} outputs ({name}[0] to {name}[{count - 1}])" if count > 1 else (
                f"{'the input' if index == NETWORK_INPUT else f'layer {name!r}'} has one output ({name}[0])")  # fmt: skip
            raise InputError(f"from: {name}[{pick}]: {which}", "from")
        picked.append((index, pick % count))
    return tuple(picked)


def walk(network: Network) -> list[Step]:
    """Apply every op in topological order; errors name the file, line and layer. Only :func:`analyze` walks:
    every other reader takes the report's rows, which carry the same node, input shapes and result."""
    outputs: list[tuple[Shape, ...]] = []
    counts: list[int] = []  # how many outputs each node has, kept as the walk goes (linear in the layers)
    steps: list[Step] = []
    for node in network.nodes:
        try:
            sources = pick_outputs(network, node, counts)
            in_shapes = tuple(network.input_shape if i == NETWORK_INPUT else outputs[i][k] for i, k in sources)
            result = OPS[node.op](node.args, list(in_shapes))
            for shape in result.shapes:
                check_elements(shape, 1, "in")
            if result.params > MAX_ELEMENTS:  # PyTorch could not allocate the weights either
                raise ShapeError(f"{result.params:.3e} weights; PyTorch refuses a tensor of more than {MAX_ELEMENTS:.3e}")
        except ConvCalcError as error:
            raise node_error(network, node, error) from None
        outputs.append(result.shapes)
        counts.append(len(result.shapes))
        steps.append(Step(node, in_shapes, result, sources))
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
    no_input = [Field.empty(rank) if rank else None]  # a param's input fields: it sees no input position
    fields: list[tuple[Field | None, ...]] = []  # every node's outputs' fields
    rows: list[Row] = []
    for step in walk(network):
        node, result = step.node, step.result
        in_fields = [input_field if i == NETWORK_INPUT else fields[i][k] for i, k in step.sources] or no_input
        result = settle(result, in_fields)
        field, warnings = layer_field(result, in_fields, node.op, step.input_shapes)
        several = len(result.shapes) > 1
        out_fields = (field,) * len(result.shapes)
        if result.output_starts:  # a split along a grid axis: each piece starts at its offset
            out_fields = tuple(
                layer_field(replace(result, start=start), in_fields, node.op, step.input_shapes)[0] for start in result.output_starts
            )
            if in_fields[0] is not None and in_fields[0].axes is not None and field is not None:  # (--explain's frame)
                field = layout.unknown(field, "a split along an axis of a tensor whose grid axes were regrouped")
                out_fields = (field,) * len(out_fields)
        fields.append(out_fields)
        rows.append(
            Row(
                index=node.index,
                name=node.name,
                op=node.op,
                inputs=tuple(source_name(network, i, k, fields) for i, k in step.sources),
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
                output_shapes=result.shapes if several else (),
                output_fields=out_fields if several else (),
                sources=step.sources,
            )
        )
    outputs = network_outputs(network, rows, input_field)
    return Report(network.name, network.input_shape, tuple(rows), batch, dtype, file=network.file, outputs=outputs,
                  unused=network.unused)  # fmt: skip


def network_outputs(network: Network, rows: Sequence[Row], input_field: Field | None) -> tuple[NetOutput, ...]:
    """The declared outputs with their shapes and fields; an output without an index on a layer of several outputs
    stands for all of them (``name[0]``, ``name[1]``, ...)."""
    found: list[NetOutput] = []
    for output in network.outputs:
        if output.node == NETWORK_INPUT:
            found.append(NetOutput(output.name, "input", network.input_shape, input_field, (NETWORK_INPUT, 0)))
            continue
        row = rows[output.node]
        shapes = row.output_shapes or (row.output_shape,)
        fields = row.output_fields or (row.field,)
        picks = range(len(shapes)) if output.pick is None else [output.pick]
        for pick in picks:
            if not -len(shapes) <= pick < len(shapes):
                raise SpecError(f"outputs: {row.name}[{pick}]: layer {row.name!r} has {len(shapes)} output"
                                f"{'s' if len(shapes) > 1 else ''}", network.file, output.line)  # fmt: skip
            several = len(shapes) > 1
            name = output.name if not several or output.pick is not None else f"{output.name}[{pick}]"
            layer = f"{row.name}[{pick % len(shapes)}]" if several else row.name
            found.append(NetOutput(name, layer, shapes[pick], fields[pick], (output.node, pick % len(shapes))))
    return tuple(found)


def source_name(network: Network, index: int, output: int, fields: Sequence[tuple[Any, ...]]) -> str:
    """An input's name in a report: the layer's, with ``[k]`` when it has several outputs."""
    if index == NETWORK_INPUT:
        return "input"
    name = network.nodes[index].name
    return f"{name}[{output}]" if len(fields[index]) > 1 else name


def settle(result: OpResult, in_fields: Sequence[Field | None]) -> OpResult:
    """The field kind of an op whose inputs play different parts (``operand_fields``: matmul, einsum, attention,
    mha) from the inputs that see some input position: one that sees none (a param: ``x @ W`` is a linear, pointwise)
    is left out."""
    if not result.operand_fields or len(in_fields) != len(result.operand_fields):
        return result
    kept = tuple(kind for kind, f in zip(result.operand_fields, in_fields) if f is None or not f.is_empty)
    if not kept:
        return result
    note = next((kind for kind in kept if kind not in ("window", "global")), "")
    return replace(result, field=settled(kept), field_note=note)


def layer_field(
    result: OpResult, in_fields: Sequence[Field | None], op: str, in_shapes: Sequence[Shape] = ()
) -> tuple[Field | None, tuple[str, ...]]:
    if in_fields[0] is None:
        return None, ()
    fields = [f for f in in_fields if f is not None]
    if all(f.is_empty for f in fields):  # a param, or computed from params alone: it sees no input position
        return fields[0], ()
    if op in MERGES and result.field not in ("unknown", "global"):
        grid = result.output_shape[:-1]
        broadcast = [shape[:-1] != grid and all(n == 1 for n in shape[:-1]) for shape in in_shapes]
        field, aligned = merge(fields, broadcast)
        field = merged_layout(field, fields, result, in_shapes)
        return field, () if aligned else ("the merged paths have different jumps (misaligned fields)",)
    if result.field == "global":
        whole = next((f for f in fields if not f.is_empty), fields[0])  # (a param sees nothing)
        return Field(whole.receptive_field, whole.jump, whole.start, whole=True), ()
    if result.field == "unknown" and not (fields[0].whole or fields[0].unknown):
        known = fields[0]
        return Field(known.receptive_field, known.jump, known.start, unknown=result.field_note or op), ()
    if in_shapes:  # through the tensor's layout: its grid axes may have been regrouped (graph/layout.py)
        return layout.through(fields[0], result, in_shapes[0]), ()
    return forward(fields[0], result.receptive_field, result.jump, result.start), ()


def merged_layout(field: Field, fields: Sequence[Field], result: OpResult, in_shapes: Sequence[Shape]) -> Field:
    """A merge's field with its inputs' layout (graph/layout.py): unknown when they hold the grid differently; then
    through the op's regrouping (stack's new axis)."""
    if field.whole or field.unknown:
        return field
    kept = [(f, shape) for f, shape in zip(fields, in_shapes) if not f.is_empty]
    if not kept or all(f.axes is None for f, _ in kept) and not result.regroup:
        return field
    if len({layout.grid_axes(f) for f, _ in kept}) > 1:
        return layout.unknown(field, "the merged inputs hold the input's grid axes differently")
    first, shape = next(((f, s) for f, s in kept if len(s) == len(result.output_shape)), kept[0])
    return layout.relayout(replace(field, axes=first.axes), result, shape)
