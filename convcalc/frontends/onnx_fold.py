"""Constant folding of the ONNX nodes that compute shapes and other constants (Shape -> Gather -> Concat ->
Reshape and the like), with numpy, and of views of weights: a node whose inputs are all constants gives a
constant; one that reads a weight (an initializer whose values were left out) gives a
:class:`~convcalc.frontends.onnx_graph.Weight` of its output's dims, named after that initializer so that it is
counted once (a transposed, tied weight). An Identity of an initializer is a tensor of its own: PyTorch's exporter
(eval mode) keeps one initializer of parameters that have equal values (zero biases, unit norm scales) and gives
each other parameter as an Identity of it, named as the parameter."""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

from convcalc.frontends.onnx_graph import GraphState, Weight

Folder = Callable[[Any, dict[str, Any], list[Any]], Any]


def _np() -> Any:
    import numpy

    return numpy


def constant_value(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    """Constant: value (a tensor) or value_float(s), value_int(s)."""
    np = _np()
    from onnx import numpy_helper

    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            value = attrs[key]
            return numpy_helper.to_array(value) if key == "value" else np.array(value)
    raise ValueError("a Constant without a value")


def gather(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    return _np().take(inputs[0], inputs[1], axis=int(attrs.get("axis", 0)))


def unsqueeze(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    np = _np()
    axes = list(attrs["axes"]) if "axes" in attrs else [int(a) for a in inputs[1]]
    rank = inputs[0].ndim + len(axes)
    return np.expand_dims(inputs[0], tuple(sorted(a % rank for a in axes)))


def squeeze(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    np = _np()
    axes = list(attrs["axes"]) if "axes" in attrs else [int(a) for a in inputs[1]] if len(inputs) > 1 else None
    return np.squeeze(inputs[0], None if axes is None else tuple(a % inputs[0].ndim for a in axes))


def slice_value(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    data, starts, ends = inputs[0], inputs[1], inputs[2]
    axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
    steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for axis, start, end, step in zip(axes, starts, ends, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


def reshape(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    shape = [int(v) for v in inputs[1]]
    shape = [inputs[0].shape[i] if v == 0 and not attrs.get("allowzero", 0) else v for i, v in enumerate(shape)]
    return inputs[0].reshape(shape)


def binary(function: str) -> Folder:
    return lambda node, attrs, inputs: getattr(_np(), function)(inputs[0], inputs[1])


def cast(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> Any:
    from onnx import helper

    return inputs[0].astype(helper.tensor_dtype_to_np_dtype(int(attrs["to"])))


FOLDERS: dict[str, Folder] = {
    "Constant": constant_value,
    "Identity": lambda node, attrs, inputs: inputs[0],
    "Cast": cast,
    "Gather": gather,
    "Unsqueeze": unsqueeze,
    "Squeeze": squeeze,
    "Concat": lambda node, attrs, inputs: _np().concatenate([_np().atleast_1d(v) for v in inputs], int(attrs["axis"])),
    "Slice": slice_value,
    "Reshape": reshape,
    "Transpose": lambda node, attrs, inputs: _np().transpose(inputs[0], attrs.get("perm")),
    "Add": binary("add"), "Sub": binary("subtract"), "Mul": binary("multiply"),
    "Div": lambda node, attrs, inputs: inputs[0] // inputs[1] if inputs[0].dtype.kind in "iu" else inputs[0] / inputs[1],
    "Mod": lambda node, attrs, inputs: (_np().fmod if attrs.get("fmod", 0) else _np().mod)(inputs[0], inputs[1]),
    "Equal": binary("equal"), "Min": binary("minimum"), "Max": binary("maximum"),
    "Where": lambda node, attrs, inputs: _np().where(inputs[0], inputs[1], inputs[2]),
    "ConstantOfShape": lambda node, attrs, inputs: _np().full([int(v) for v in inputs[0]],
        _np().asarray(__import__("onnx").numpy_helper.to_array(attrs["value"])).reshape(-1)[0] if "value" in attrs else 0.0),
    "Range": lambda node, attrs, inputs: _np().arange(inputs[0], inputs[1], inputs[2]),
    "Sqrt": lambda node, attrs, inputs: _np().sqrt(inputs[0]),
    "Floor": lambda node, attrs, inputs: _np().floor(inputs[0]),
    "Ceil": lambda node, attrs, inputs: _np().ceil(inputs[0]),
    "Neg": lambda node, attrs, inputs: -inputs[0],
    "Expand": lambda node, attrs, inputs: _np().broadcast_to(
        inputs[0], _np().broadcast_shapes(inputs[0].shape, tuple(int(v) for v in inputs[1]))),
}  # fmt: skip

WEIGHT_VIEWS = frozenset(FOLDERS) - {"Constant", "Shape", "Size", "ConstantOfShape", "Range"}


LARGEST_STAND_IN = 1 << 24


def folded_dims(node: Any, attrs: dict[str, Any], inputs: list[Any]) -> tuple[int, ...] | None:
    """The dims of a view of a weight whose shape ONNX's inference leaves symbolic (an Expand to ``x.shape[0]``),
    by folding zeros of the weight's dims (a stand-in of no memory, the shape inputs as they are); None when the
    stand-in would be large or the fold fails."""
    np = _np()
    stand_ins = []
    for value in inputs:
        if isinstance(value, Weight):
            if prod(value.dims) > LARGEST_STAND_IN:
                return None
            value = np.broadcast_to(np.zeros((), dtype=np.float32), value.dims)
        stand_ins.append(value)
    try:
        return tuple(int(v) for v in np.shape(FOLDERS[node.op_type](node, attrs, stand_ins)))
    except Exception:  # numpy's errors: the output is then not known, and the node becomes a layer (or an error)
        return None


def try_fold(state: GraphState, node: Any, attrs: dict[str, Any]) -> bool:
    """Record the node's outputs as constants (or weights) when all its inputs are; False when it must be a layer."""
    np = _np()
    if node.op_type == "Shape" and node.input[0] in state.values:
        dims = [1 if not isinstance(v, int) else v for v in state.shapes.get(node.input[0], ())]
        value = np.array(dims, dtype=np.int64)[attrs.get("start", 0) : attrs.get("end", None)]
        state.constants[node.output[0]] = value
        return True
    if node.op_type == "Size" and node.input[0] in state.values:
        dims = [1 if not isinstance(v, int) else v for v in state.shapes.get(node.input[0], ())]
        state.constants[node.output[0]] = np.array(int(np.prod(dims)), dtype=np.int64)
        return True
    present = [name for name in node.input if name]
    if any(name not in state.constants for name in present) or node.op_type not in FOLDERS:
        return False
    inputs = [state.constants[name] if name else None for name in node.input]
    weights = [value for value in inputs if isinstance(value, Weight)]
    if weights:
        if node.op_type not in WEIGHT_VIEWS:
            return False
        dims = state.shapes.get(node.output[0])
        if dims is None or not all(isinstance(v, int) for v in dims):
            dims = folded_dims(node, attrs, inputs)
            if dims is None:
                return False
        renamed = node.op_type == "Identity" and node.input[0] in state.initializers
        state.constants[node.output[0]] = Weight(node.output[0] if renamed else weights[0].source, tuple(dims))
        return True
    try:
        state.constants[node.output[0]] = np.asarray(FOLDERS[node.op_type](node, attrs, inputs))
    except Exception as error:  # numpy's errors on inconsistent constants
        raise state.error(node, f"cannot fold its constant inputs: {error}") from None
    return True


def fold_shape_arithmetic(model: Any, shapes: dict[str, tuple[Any, ...]] | None = None) -> bool:
    """Replace every node that computes integers from constants only (the shape arithmetic exporters write:
    ConstantOfShape, Where, Equal on shapes) by a Constant node of its value, before shape inference, whose data
    propagation does not follow all of them (an Expand to ``x.shape[0]`` would get a symbolic batch). With
    ``shapes`` (a first inference), Shape and Size of a tensor of known dims are constants too (a symbolic batch
    read as 1, as the walk does). Float constants (weights, scales) are left to the walk, which keeps their
    identity (a tied weight counts once). True when a node was replaced."""
    np = _np()
    from onnx import helper, numpy_helper

    known: dict[str, Any] = {}
    for tensor in model.graph.initializer:
        if (tensor.raw_data or tensor.int64_data or tensor.int32_data) and tensor.data_type in (6, 7):  # INT32, INT64
            known[tensor.name] = numpy_helper.to_array(tensor)
    nodes = list(model.graph.node)
    changed = False
    for index, node in enumerate(nodes):
        attrs = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        value = None
        if node.op_type in ("Shape", "Size") and shapes is not None:
            dims = shapes.get(node.input[0])
            if dims is not None and all(isinstance(v, int) for v in dims[1:]):
                whole = [v if isinstance(v, int) else 1 for v in dims]
                value = np.array(whole[attrs.get("start", 0) : attrs.get("end", None)] if node.op_type == "Shape"
                                 else prod(whole), dtype=np.int64)  # fmt: skip
        elif node.op_type in FOLDERS and all(name in known for name in node.input if name):
            try:
                value = np.asarray(FOLDERS[node.op_type](node, attrs, [known[name] if name else None for name in node.input]))
            except Exception:  # numpy's errors: left to the walk, which names the node
                continue
        if value is None or value.dtype.kind not in "iub" or value.size > 1024 or len(node.output) != 1:
            continue
        known[node.output[0]] = value
        if node.op_type != "Constant":
            tensor = numpy_helper.from_array(value.astype(np.int64) if value.dtype.kind == "u" else value)
            nodes[index] = helper.make_node("Constant", [], [node.output[0]], name=node.name, value=tensor)
            changed = True
    if changed:
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return changed
