"""The state of one ONNX graph being read into convcalc layers: every ONNX value as an activation (a layer's output,
its ONNX shape and layout), a constant (its values) or a weight (an initializer's dims, its values never read).

Layouts: ONNX activations are batch first. A ``cf`` (channels-first) value of ONNX shape (N, C, d1, ..., dk) is
convcalc's (d1, ..., dk, C): ONNX axis 1 is logical axis -1 and axis a >= 2 is logical a - 2, as
``export --to torch`` writes it; a ``nat`` value (N, d1, ..., dk), the (N, L, C) of a transformer, is convcalc's
(d1, ..., dk): axis a is logical a - 1. For a 2-D value (N, C) both are the same. Ops that read element order
(reshape) or the last axis (matmul, layernorm) take ``nat`` values; windows and channel ops take ``cf`` values; a
``permute`` layer is inserted where a value has to change layout.

The batch: ONNX axis ``batch`` of a value (0 as the file starts; a Transpose may move it: PyTorch's
``nn.MultiheadAttention`` works sequence first, (L, N, C)) is left out of convcalc's shape. A batch of size 1 (or
symbolic: the reader works at batch 1) may also be ``merged``, no axis of its own (the (L, N*H, d) of attention
heads): it then sits just before ONNX axis ``batch`` and every ONNX axis is a convcalc axis; a later Reshape that
gives it an axis of size 1 again puts it back. A channels-first value always has its batch at axis 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from convcalc.errors import SpecError
from convcalc.frontends.flat import FlatLayer

Layout = Literal["cf", "nat"]


@dataclass(frozen=True)
class Activation:
    """A tensor that depends on the network's input: ``ref`` the layer (``name`` or ``name[k]``, ``input``)."""

    ref: str
    shape: tuple[Any, ...]  # ONNX dims (the batch may be symbolic)
    layout: Layout
    batch: int = 0  # the ONNX axis of the batch (merged: the axis it sits before)
    merged: bool = False  # a batch of size 1 with no axis of its own

    @property
    def where_batch(self) -> tuple[int, bool]:
        return self.batch, self.merged


@dataclass(frozen=True)
class Weight:
    """An initializer (or a view of one: transposed, expanded) whose values are not read: its dims and its name."""

    source: str
    dims: tuple[int, ...]


def unit_size(size: Any) -> bool:
    """A batch size the reader may merge or move: 1, or symbolic (read at 1)."""
    return size == 1 or isinstance(size, str)


def logical_shape(value: Activation) -> tuple[int, ...]:
    """convcalc's shape of an activation: the batch left out, channels last for a ``cf`` value."""
    if value.merged:
        return tuple(value.shape)
    dims = tuple(value.shape[: value.batch]) + tuple(value.shape[value.batch + 1 :])
    return dims[1:] + dims[:1] if value.layout == "cf" and len(dims) > 1 else dims


def logical_axis(value: Activation, axis: int, where: str) -> int:
    """convcalc's axis (0-based, channels last) of ONNX axis ``axis`` (negative from the end) of an activation."""
    rank = len(value.shape)
    if not -rank <= axis < rank:
        raise SpecError(f"{where}: axis {axis} is out of range for a {rank}-D tensor")
    axis %= rank
    if not value.merged and axis == value.batch:
        raise SpecError(f"{where}: works on the batch axis (axis {axis}), which convcalc never counts")
    if value.layout == "cf" and rank > 2:
        return rank - 2 if axis == 1 else axis - 2
    return axis - (0 if value.merged or axis < value.batch else 1)


@dataclass
class GraphState:
    """The values read so far and the layers written; ``names`` maps an ONNX node's name to its layer name and
    module (:mod:`convcalc.frontends.onnx_names`); ``expected`` each layer's ONNX-inferred shape (channels last)."""

    file: str
    opset: int
    shapes: dict[str, tuple[Any, ...]]
    names: dict[str, tuple[str, str]]
    values: dict[str, Activation] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)  # numpy arrays or Weights
    layers: list[FlatLayer] = field(default_factory=list)
    counted: dict[str, str] = field(default_factory=dict)  # initializer -> the node whose layer counts it
    expected: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    fused_bias: dict[str, str] = field(default_factory=dict)  # MatMul output -> the bias its Add adds
    weight_uses: dict[str, int] = field(default_factory=dict)  # initializer -> how many Gemm/MatMul nodes use it
    initializers: frozenset[str] = frozenset()

    def shared(self, name: str) -> bool:
        """Whether the weight (or the initializer it is a view of) is used by more than one Gemm or MatMul."""
        value = self.constants.get(name)
        return self.weight_uses.get(value.source if isinstance(value, Weight) else name, 0) > 1

    # -- reading values -------------------------------------------------------------------------------------
    def error(self, node: Any, message: str) -> SpecError:
        return SpecError(f"ONNX node {node.name or node.output[0]!r} ({node.op_type}): {message}", self.file)

    def has(self, name: str) -> bool:
        return bool(name) and (name in self.values or name in self.constants)

    def activation(self, node: Any, name: str) -> Activation:
        if name in self.values:
            return self.values[name]
        raise self.error(node, f"input {name!r} is a constant where convcalc needs a tensor computed from the input")

    def constant(self, node: Any, name: str) -> Any:
        """A constant's values (a numpy array); an error for an activation or a weight whose values were left out."""
        value = self.constants.get(name)
        if value is None or isinstance(value, Weight):
            what = "computed from the input" if name in self.values else "not known without reading the weights"
            raise self.error(node, f"input {name!r} must be a constant known when reading, but is {what}")
        return value

    def ints(self, node: Any, name: str) -> list[int]:
        return [int(v) for v in self.constant(node, name).reshape(-1).tolist()]

    def weight_dims(self, node: Any, name: str) -> tuple[int, ...]:
        value = self.constants.get(name)
        if isinstance(value, Weight):
            return value.dims
        if value is not None:
            return tuple(int(v) for v in value.shape)
        raise self.error(node, f"input {name!r} (a weight) is computed from the input, not a constant")

    def count_once(self, node: Any, name: str) -> bool:
        """True the first time an initializer is counted; shared weights count once."""
        value = self.constants.get(name)
        source = value.source if isinstance(value, Weight) else name
        if source in self.counted:
            return False
        self.counted[source] = node.name
        return True

    def onnx_shape(self, node: Any, name: str, batch: int = 0) -> tuple[Any, ...]:
        shape = self.shapes.get(name)
        if shape is None or any(dim is None for axis, dim in enumerate(shape) if axis != batch):
            raise self.error(node, f"ONNX shape inference gives no static shape for {name!r}; set the input with --input")
        return shape

    # -- writing layers -------------------------------------------------------------------------------------
    def layer_name(self, node: Any, suffix: str = "") -> tuple[str, str]:
        base, module = self.names.get(node.name, (node.name or node.op_type.lower(), ""))
        name = f"{base}.{suffix}" if suffix else base
        unique, k = name, 1
        while unique in self.taken or unique == "input":
            unique, k = f"{name}_{k}", k + 1
        self.taken.add(unique)
        return unique, module

    def emit(self, node: Any, op: str, args: dict[str, Any], inputs: list[str], suffix: str = "") -> str:
        name, module = self.layer_name(node, suffix)
        self.layers.append(FlatLayer(name, op, args, tuple(inputs), module))
        return name

    def output(self, node: Any, op: str, args: dict[str, Any], inputs: list[Activation | str], layout: Layout,
               index: int = 0, suffix: str = "", batch: tuple[int, bool] | None = None) -> Activation:  # fmt: skip
        """Emit the layer of node output ``index`` and record it (its ONNX shape checked against convcalc's). The
        batch: ``batch``, else the first input's when the ranks agree (or it is axis 0)."""
        refs = [item.ref if isinstance(item, Activation) else item for item in inputs]
        out = node.output[index]
        if batch is None:
            first = next((item for item in inputs if isinstance(item, Activation)), None)
            shape = self.shapes.get(out)
            batch = (0, False) if first is None else first.where_batch
            if first is not None and batch != (0, False) and (shape is None or len(shape) != len(first.shape)):
                raise self.error(node, "convcalc cannot tell where its output's batch axis is")
        shape = self.onnx_shape(node, out, batch[0])
        name = self.emit(node, op, args, refs, suffix)
        value = Activation(name, shape, layout, *batch)
        self.values[out] = value
        self.expected[name] = (node.name or out, logical_shape(value))
        return value

    def alias(self, node: Any, value: Activation, index: int = 0) -> None:
        """The node's output is its input (Identity, Dropout at inference, Cast of an activation)."""
        self.values[node.output[index]] = value

    def to_layout(self, node: Any, value: Activation, layout: Layout) -> Activation:
        """The value in ``layout``: itself, or a ``permute`` layer that moves the channels (ONNX axis 1) last or
        back. A 2-D or lower value is the same in both."""
        if value.layout == layout:
            return value
        if layout == "cf" and value.where_batch != (0, False):
            where = f"merged into axis {value.batch}" if value.merged else f"at axis {value.batch}"
            raise self.error(node, f"needs its input channels first, batch first, but the batch is {where}")
        if len(value.shape) <= 2:
            return replace(value, layout=layout)
        n = len(value.shape) - 1
        dims = list(range(1, n)) + [0] if layout == "cf" else [n - 1] + list(range(n - 1))
        name = self.emit(node, "permute", {"dims": dims}, [value.ref], "to_channels_last" if layout == "cf" else "to_channels_first")
        moved = Activation(name, value.shape, layout)
        self.expected[name] = (node.name, logical_shape(moved))
        return moved

    def param(self, node: Any, name: str, shape: tuple[int, ...]) -> str:
        """A ``param`` layer for a constant operand (a layer scale, a class token, a position embedding), one per
        initializer even when several nodes use it."""
        value = self.constants.get(name)
        source = value.source if isinstance(value, Weight) else name
        key = f"param:{source}:{shape}"
        if key in self.counted:
            return self.counted[key]
        layer = self.emit(node, "param", {"shape": list(shape) or [1]}, [], f"param_{len(self.counted)}")
        self.counted[key] = layer
        self.counted.setdefault(source, node.name)
        self.expected[layer] = (node.name, tuple(shape) or (1,))
        return layer
