"""ONNX models as convcalc networks: :func:`read_onnx` gives spec data (``convcalc net model.onnx``, ``check``),
:func:`import_onnx` a :class:`~convcalc.frontends.flat.FlatNetwork` (``convcalc import model.onnx``).

The file is read without its weights (:mod:`convcalc.frontends.onnx_proto`); shapes come from
``onnx.shape_inference.infer_shapes`` (strict, with data propagation) after ``--input`` has set the input's
dims (the batch stays as the file has it); constants are folded (:mod:`convcalc.frontends.onnx_fold`); each node
becomes layers through the op table (:mod:`convcalc.frontends.onnx_ops`, :mod:`convcalc.frontends.onnx_layout_ops`),
channels-first tensors read channels last. convcalc's own shapes are then checked against ONNX's, every
disagreement a warning naming the node. An op outside the table is a one-line error naming the node, its op type and
its domain.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcalc.core.notation import Shape, format_shape
from convcalc.errors import ConvCalcError, SpecError
from convcalc.frontends.flat import FlatNetwork, to_spec_data

if TYPE_CHECKING:
    from convcalc.frontends.options import SourceOptions

NEEDS_ONNX = "reading ONNX models needs the onnx package: pip install 'convcalc[onnx]'"
MIN_OPSET, MAX_OPSET = 11, 21


def require_onnx() -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ConvCalcError(NEEDS_ONNX) from None


def read_onnx(path: str, options: SourceOptions) -> dict[str, Any]:
    """The spec data of an ONNX model (what :func:`convcalc.specfile.loader.build` takes)."""
    return to_spec_data(import_onnx(path, options.input_shape))


def import_onnx(path: str, input_shape: Shape | None = None, name: str | None = None, check: bool = True) -> FlatNetwork:
    """An ONNX model as a flat network; ``input_shape`` (channels last, no batch) sets the input's dims. With
    ``check``, convcalc's shapes are compared with ONNX's (a warning on stderr for each disagreement)."""
    require_onnx()
    from convcalc.frontends.onnx_proto import load_model

    model = load_model(path)
    network, expected = build_network(model, path, input_shape, name or Path(path).stem)
    if check:
        for line in shape_disagreements(network, expected, path):
            print(f"convcalc: warning: {line}", file=sys.stderr)
    return network


def opset_of(model: Any, path: str) -> int:
    versions = {entry.domain or "ai.onnx": entry.version for entry in model.opset_import}
    opset = versions.get("ai.onnx")
    if opset is None:
        raise SpecError("the model imports no ONNX opset (ai.onnx)", path)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise SpecError(f"opset {opset}: convcalc reads opsets {MIN_OPSET} to {MAX_OPSET}", path)
    return opset


def set_input(model: Any, path: str, input_shape: Shape | None) -> Any:
    """The one graph input (initializers listed as inputs left out), its dims set from ``--input`` (channels last
    -> (N, C, d1, ...)); a symbolic dim other than the batch without ``--input`` is an error."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(repr(value.name) for value in inputs) or "none"
        raise SpecError(f"convcalc reads networks of one input; this model has {len(inputs)}: {names}", path)
    value = inputs[0]
    dims = value.type.tensor_type.shape.dim
    if len(dims) < 2:
        raise SpecError(f"input {value.name!r} has {len(dims)} axes; convcalc needs the batch and at least one more", path)
    if input_shape is not None:
        wanted = [input_shape[-1], *input_shape[:-1]]
        if len(wanted) != len(dims) - 1:
            raise ConvCalcError(
                f"{format_shape(input_shape)} has {len(input_shape)} dims, but input {value.name!r} of {path} has "
                f"{len(dims) - 1} besides the batch", "input")  # fmt: skip
        for dim, size in zip(list(dims)[1:], wanted):
            dim.dim_value = size
    symbolic = [dim.dim_param or "?" for dim in list(dims)[1:] if not dim.HasField("dim_value")]
    if symbolic:
        raise ConvCalcError(
            f"input {value.name!r} of {path} has symbolic dims ({', '.join(symbolic)}): give them with --input "
            "(channels last, e.g. 224x224x3)", "input")  # fmt: skip
    return value


def inferred_shapes(model: Any, path: str) -> dict[str, tuple[Any, ...]]:
    """Every value's ONNX shape by ``onnx.shape_inference.infer_shapes`` (strict, data propagation); a symbolic dim
    is its name, an unknown one None."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=True, data_prop=True)
    except Exception as error:  # onnx's InferenceError and its checker's errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SpecError(f"ONNX shape inference fails: {first}", path) from None
    shapes: dict[str, tuple[Any, ...]] = {}
    graph = inferred.graph
    for value in (*graph.input, *graph.value_info, *graph.output):
        if value.type.HasField("tensor_type") and value.type.tensor_type.HasField("shape"):
            shapes[value.name] = tuple(
                dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or None)
                for dim in value.type.tensor_type.shape.dim
            )
    for tensor in graph.initializer:
        shapes[tensor.name] = tuple(int(v) for v in tensor.dims)
    return shapes


def initializer_values(model: Any) -> dict[str, Any]:
    """Initializers: small ones as numpy arrays, the rest (payload left out, or external) as weights."""
    from onnx import TensorProto, numpy_helper

    from convcalc.frontends.onnx_graph import Weight

    values: dict[str, Any] = {}
    for tensor in model.graph.initializer:
        dims = tuple(int(v) for v in tensor.dims)
        payload = tensor.raw_data or any(
            len(getattr(tensor, key)) for key in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"))  # fmt: skip
        count = 1
        for size in dims:
            count *= size
        if tensor.data_location == TensorProto.EXTERNAL or (not payload and count):
            values[tensor.name] = Weight(tensor.name, dims)
        else:
            values[tensor.name] = numpy_helper.to_array(tensor)
    return values


CHANNEL_OPS = frozenset({"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                         "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LRN", "PRelu"})  # fmt: skip
VIEWS = frozenset({"Identity", "Transpose", "Cast", "Reshape", "Unsqueeze", "Squeeze"})


def weight_uses(nodes: list[Any], initializers: set[str]) -> dict[str, int]:
    """How many Gemm and MatMul nodes read each initializer (directly or through a view: a transpose, a reshape)."""
    source = {name: name for name in initializers}
    uses: dict[str, int] = {}
    for node in nodes:
        if node.op_type == "Identity" and node.input and node.input[0] in initializers:
            source[node.output[0]] = node.output[0]  # a parameter of its own, of equal values (see onnx_fold)
        elif node.op_type in VIEWS and node.input and node.input[0] in source:
            source[node.output[0]] = source[node.input[0]]
        elif node.op_type in ("Gemm", "MatMul"):
            for name in node.input[:2]:
                if name in source:
                    uses[source[name]] = uses.get(source[name], 0) + 1
    return uses


def normalize_perms(model: Any, path: str) -> None:
    """Transpose ``perm`` entries counted from the end (-1), which PyTorch writes for ``movedim(-1, 1)`` though ONNX
    allows none, made non-negative so that shape inference takes them; any other perm that is not a permutation of
    the axes (PyTorch's exporter, merging such a transpose with a neighbour, writes ``[1, 33, 0]``) is an error."""
    for node in model.graph.node:
        if node.op_type != "Transpose":
            continue
        for attribute in node.attribute:
            if attribute.name != "perm":
                continue
            rank = len(attribute.ints)
            perm = [p % rank if -rank <= p < 0 else p for p in attribute.ints]
            if sorted(perm) != list(range(rank)):
                raise SpecError(f"ONNX node {node.name!r} (Transpose): perm {list(attribute.ints)} is not a permutation "
                                f"of the axes 0..{rank - 1}", path)  # fmt: skip
            attribute.ints[:] = perm


def unresolved(shapes: dict[str, tuple[Any, ...]], graph_input: str) -> bool:
    """Whether some value has a dim that ONNX's inference leaves unknown, other than the input's symbolic batch."""
    batch = shapes.get(graph_input, (None,))[0]
    return any(not isinstance(dim, int) and dim != batch for dims in shapes.values() for dim in dims)


def build_network(model: Any, path: str, input_shape: Shape | None, name: str) -> tuple[FlatNetwork, dict[str, Any]]:
    """Walk the graph's nodes once (in their topological order) into layers."""
    from onnx import helper

    from convcalc.frontends import onnx_layout_ops  # noqa: F401  (registers the layout ops)
    from convcalc.frontends.onnx_fold import fold_shape_arithmetic, try_fold
    from convcalc.frontends.onnx_graph import Activation, GraphState, Weight, logical_shape
    from convcalc.frontends.onnx_ops import ONNX_OPS
    from convcalc.frontends.onnx_patterns import fuse_channel_shuffle, fuse_gelu, layer_names, matmul_biases

    opset = opset_of(model, path)
    graph_input = set_input(model, path, input_shape)
    normalize_perms(model, path)
    fold_shape_arithmetic(model)
    shapes = inferred_shapes(model, path)
    if unresolved(shapes, graph_input.name) and fold_shape_arithmetic(model, shapes):
        shapes = inferred_shapes(model, path)  # again, with the shapes that the first inference computed
    constants = initializer_values(model)
    scalars = {key: float(value.reshape(-1)[0]) for key, value in constants.items()
               if not isinstance(value, Weight) and value.size == 1 and value.dtype.kind == "f"}  # fmt: skip
    for node in model.graph.node:  # Constant nodes' scalars, for the GELU pattern
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            tensor = helper.get_attribute_value(node.attribute[0])
            if len(tensor.dims) == 0 or list(tensor.dims) == [1]:
                from onnx import numpy_helper

                scalars[node.output[0]] = float(numpy_helper.to_array(tensor).reshape(-1)[0])
    nodes = fuse_channel_shuffle(fuse_gelu(list(model.graph.node), scalars), shapes)
    outputs = [value.name for value in model.graph.output]
    dims = {key: value.dims if isinstance(value, Weight) else tuple(value.shape) for key, value in constants.items()}
    for node in nodes:  # the parameters PyTorch's exporter gives as an Identity of an equal one
        if node.op_type == "Identity" and node.input and node.input[0] in dims:
            dims[node.output[0]] = dims[node.input[0]]
    biases = matmul_biases(nodes, dims, set(outputs))
    state = GraphState(path, opset, shapes, layer_names(nodes), constants=constants, initializers=frozenset(constants))
    state.fused_bias = {out: bias for out, (bias, _) in biases.items()}
    skipped = {add_out: out for out, (_, add_out) in biases.items()}
    state.weight_uses = weight_uses(nodes, set(constants))
    input_shape_onnx = shapes.get(graph_input.name) or ()
    users = [node.op_type for node in nodes if graph_input.name in node.input]
    channels_first = len(input_shape_onnx) > 3 or any(op in CHANNEL_OPS for op in users)
    state.values[graph_input.name] = Activation("input", input_shape_onnx, "cf" if channels_first else "nat")
    for node in nodes:
        if node.domain not in ("", "ai.onnx"):
            raise SpecError(f"ONNX node {node.name!r}: op {node.op_type!r} of domain {node.domain!r} is not one convcalc reads", path)
        if node.output and node.output[0] in skipped:
            state.values[node.output[0]] = state.values[skipped[node.output[0]]]
            continue
        attrs = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        if try_fold(state, node, attrs):
            continue
        handler = ONNX_OPS.get(node.op_type)
        if handler is None:
            raise SpecError(f"ONNX node {node.name or node.output[0]!r}: op {node.op_type!r} of domain "
                            f"{node.domain or 'ai.onnx'!r} has no convcalc op", path)  # fmt: skip
        handler(state, node, attrs)
    if not state.layers:
        raise SpecError("the model computes nothing from its input", path)
    network_outputs = {}
    for out in outputs:
        value = state.values.get(out)
        if value is None or value.ref == "input":
            raise SpecError(f"output {out!r} is not computed by any layer", path)
        network_outputs[out] = value.ref
    last = state.layers[-1].name
    single = len(network_outputs) == 1 and next(iter(network_outputs.values())) == last
    start = state.values[graph_input.name]
    flat = FlatNetwork(name=name, input_shape=logical_shape(start), layers=tuple(state.layers),
                       outputs=None if single else network_outputs,
                       description=f"read from {Path(path).name} (ONNX opset {opset})")  # fmt: skip
    return flat, state.expected


def shape_disagreements(network: FlatNetwork, expected: dict[str, tuple[str, tuple[int, ...]]], path: str) -> list[str]:
    """Each layer whose shape by convcalc's rules differs from ONNX's inferred one, as a line naming the node."""
    from convcalc.graph.analysis import analyze
    from convcalc.specfile.loader import build

    report = analyze(build(to_spec_data(network), path), 1, "float32")
    lines = []
    for row in report.rows:
        node, shape = expected.get(row.name, ("", None))
        if shape is not None and tuple(row.output_shape) != tuple(shape):
            lines.append(f"ONNX node {node!r}: ONNX infers {format_shape(shape)}, convcalc's "
                         f"{row.op} gives {format_shape(row.output_shape)} (layer {row.name})")  # fmt: skip
    return lines
