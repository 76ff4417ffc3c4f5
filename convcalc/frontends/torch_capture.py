"""Capture a PyTorch model with ``torch.export`` (eval mode, the concrete input) and lower its ATen graph to a
:class:`~convcalc.frontends.flat.FlatNetwork`.

``torch.export`` runs the model's Python once with the real input shape: control flow over shapes, ``x.shape``,
``ndim`` and asserts are resolved to constants, optional arguments keep their defaults, and what remains is a graph
of ATen ops, each tagged with the stack of modules that ran it (``nn_module_stack``). Every op is lowered through
:data:`convcalc.frontends.torch_aten.HANDLERS` by a :class:`~convcalc.frontends.torch_builder.Builder`; an op whose
operands are all parameters, buffers and constants is a constant (:func:`constant_of`), not a layer; a call of
``nn.MultiheadAttention`` is one ``mha`` layer (:mod:`convcalc.frontends.torch_mha`); a higher-order op that runs a
subgraph once (``torch.autocast``, ``set_grad_enabled`` regions) is lowered inline (:data:`INLINED`); a write into a
slice of an activation (``copy_``) gives the tensor sliced a new value (:mod:`convcalc.frontends.torch_mutation`). Layer names, output names and
unused parameters come from :mod:`convcalc.frontends.torch_naming`. Torch is imported inside functions only.
"""

from __future__ import annotations

import operator
import warnings
from math import prod
from typing import Any

from convcalc.core.notation import Shape
from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatNetwork
from convcalc.frontends.torch_builder import Builder
from convcalc.frontends.torch_layout import PhysShape, channels_first
from convcalc.frontends.torch_mha import attention_calls, lower_attention
from convcalc.frontends.torch_mutation import lowered_write
from convcalc.frontends.torch_naming import check_params, declared_outputs, op_name, unused_counts
from convcalc.frontends.torch_values import Many, Param, Tensor


def require_torch() -> Any:
    """torch, or one ConvCalcError saying how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
            import torch
    except ImportError:
        raise ConvCalcError("needs PyTorch: pip install 'convcalc[torch]'") from None
    return torch


def normalized_args(node: Any) -> list[Any]:
    """The node's arguments in schema order, defaults filled in."""
    schema = getattr(node.target, "_schema", None)
    if schema is None:
        return list(node.args)
    args = list(node.args)
    for position, argument in enumerate(schema.arguments):
        if position < len(args):
            continue
        if argument.name in node.kwargs:
            args.append(node.kwargs[argument.name])
        else:
            args.append(argument.default_value if argument.has_default_value() else None)
    return args


def flat_values(arguments: Any) -> list[Any]:
    if isinstance(arguments, (list, tuple)):
        return [v for a in arguments for v in flat_values(a)]
    return [arguments]


def constant_of(node: Any, name: str, arguments: list[Any], builder: Builder) -> Any:
    """The value of an op computed from parameters, buffers and constants only: a constant tensor (a gathered
    parameter when it reads exactly one parameter, so that the parameter is still counted once); several (a
    :class:`Many`) for an op with several outputs (meshgrid, a split). A tensor computed from several parameters,
    one of which has its elements (timm's standardized conv weight: the weight normalised, times a gain), stands for
    that one; the others (all of them when none does: Hiera's position embedding, interpolated and added to its
    tiled window embedding) are counted by ``param`` layers of their own."""
    read = [v for v in flat_values(arguments) if isinstance(v, Param) and v.kind in ("param", "gathered")]

    def one(value: Any, label: str) -> Param | None:
        if not hasattr(value, "shape"):
            return None
        shape = tuple(int(s) for s in value.shape)
        if len(read) == 1:
            table = read[0]
            return Param(table.fqn, shape, "gathered", numel=table.numel, source=table.source or table.shape)
        main = next((p for p in read if p.kind == "param" and p.numel == prod(shape)), None)
        for other in read:  # the others: counted once each by a ``param`` layer (never listed as unused)
            if (main is None or other.fqn != main.fqn) and other.fqn not in builder.counted:
                own = tuple(other.source or other.shape)
                builder.param_tensor(Param(other.fqn, own if prod(own) == other.numel else (other.numel,)))
        return Param(main.fqn, shape) if main is not None else Param(label, shape, "constant")

    value = node.meta.get("val")
    if isinstance(value, (tuple, list)):
        return Many(one(v, f"{name}:{node.name}[{k}]") for k, v in enumerate(value))
    return one(value, f"{name}:{node.name}")


def subgraph_call(program: Any, node: Any) -> tuple[Any, list[Any]] | None:
    """(graph, operand nodes) of a higher-order op that runs a subgraph once with its operands
    (``wrap_with_autocast``, ``wrap_with_set_grad_enabled``: the subgraph is the first ``get_attr`` argument, its
    operands the arguments after it); None for any other node."""
    if op_name(node) not in INLINED:
        return None
    position = next((k for k, a in enumerate(node.args) if getattr(a, "op", None) == "get_attr"), None)
    if position is None:
        return None
    module = getattr(program.graph_module, node.args[position].target, None)
    graph = getattr(module, "graph", None)
    return (graph, list(node.args[position + 1 :])) if graph is not None else None


def index_list(tensor: Any) -> tuple[int, ...] | None:
    """The elements of a 1-D integer tensor of at most 65,536 (an index list, as ``x[:, :, perm]`` lifts it)."""
    if tensor is None or tensor.dim() != 1 or tensor.numel() > 65_536 or tensor.is_floating_point() or tensor.is_complex():
        return None
    return tuple(int(v) for v in tensor.tolist())


INLINED = {"wrap_with_autocast", "wrap_with_set_grad_enabled"}
"""Higher-order ops whose subgraph runs once as it is (a dtype or grad-mode context): lowered inline."""


def lower(program: Any, input_shape: PhysShape, model: Any) -> tuple[Builder, list[Any]]:
    """Walk the exported graph through the ATen table; returns the builder and the output values."""
    import torch

    classes = {path: type(module).__name__ for path, module in model.named_modules()}
    leaves = {path for path, module in model.named_modules() if path and not any(True for _ in module.children())}
    builder = Builder(leaves, classes)
    attention = attention_calls(list(program.graph.nodes), dict(model.named_modules()))
    merged: set[Any] = set()  # the nodes of calls lowered as one layer
    signature = program.graph_signature
    params, buffers = signature.inputs_to_parameters, signature.inputs_to_buffers
    constants = getattr(signature, "inputs_to_lifted_tensor_constants", {})
    values: dict[Any, Any] = {}
    for node in program.graph.nodes:
        if node.op != "placeholder":
            continue
        shape = tuple(int(s) for s in node.meta["val"].shape) if hasattr(node.meta.get("val"), "shape") else ()
        if node.name in params:
            values[node] = Param(params[node.name], shape)
        elif node.name in buffers or node.name in constants:
            fqn = buffers.get(node.name) or constants[node.name]
            tensor = program.state_dict.get(fqn, program.constants.get(fqn))
            scalar = float(tensor.reshape(-1)[0]) if tensor is not None and tensor.numel() == 1 else None
            values[node] = Param(fqn, shape, "buffer" if node.name in buffers else "constant", scalar=scalar,
                                 values=index_list(tensor))
        else:
            values[node] = Tensor("input", shape, channels_first(len(shape)))

    def resolve(argument: Any) -> Any:
        if isinstance(argument, torch.fx.Node):
            return values.get(argument)
        if isinstance(argument, (list, tuple)):
            return [resolve(a) for a in argument]
        return argument

    def walk(graph: Any) -> list[Any]:
        """Lower the graph's nodes (its placeholders already have values); its output values."""
        outputs: list[Any] = []
        for node in graph.nodes:
            builder.node = node
            if node.op == "call_function" and node not in merged:
                call = attention.get(node)
                if call is not None and lower_attention(builder, call, values):
                    merged.update(call.nodes)
                    continue
                inline = subgraph_call(program, node)
                if inline is not None:
                    subgraph, operands = inline
                    inner = [n for n in subgraph.nodes if n.op == "placeholder"]
                    values.update({p: resolve(o) for p, o in zip(inner, operands)})
                    values[node] = Many(walk(subgraph))
                    continue
                lower_node(node)
            elif node.op == "output":
                outputs = list(resolve(node.args[0]))
            elif node.op == "get_attr":
                values[node] = None
        return outputs

    def lower_node(node: Any) -> None:
        from convcalc.frontends.torch_aten import CREATION, HANDLERS, NO_VALUE, ON_TENSORS, WEIGHT_OPS

        if node.target is operator.getitem:
            container = values.get(node.args[0])
            values[node] = container[node.args[1]] if isinstance(container, (list, Many)) else None
            return
        name = op_name(node)
        if name in NO_VALUE:
            return
        if lowered_write(builder, node, values):  # a write into an activation's slice (torch_mutation)
            return
        arguments = resolve(normalized_args(node))
        operands = flat_values(arguments)
        reads_activations = any(isinstance(v, Tensor) for v in operands)
        reads_params = any(isinstance(v, Param) and v.kind in ("param", "gathered") for v in operands)
        computes = name not in ON_TENSORS or name in WEIGHT_OPS and not reads_params
        if name in CREATION or computes and not reads_activations:
            values[node] = constant_of(node, name, arguments, builder)
            return
        handler = HANDLERS.get(name)
        if handler is None:
            builder.fail("no convcalc op for it")
        try:
            values[node] = handler(builder, node, arguments)
        except ConvCalcError:
            raise
        except Exception as error:  # a case the table does not follow: one line naming the op and the module
            builder.fail(f"not followed ({type(error).__name__}: {error})")

    return builder, walk(program.graph)


def capture(model: Any, input_shape: Shape, name: str, source: str = "") -> FlatNetwork:
    """The model (put in eval mode) exported at one input of ``input_shape`` (channels last, batch 1)."""
    torch = require_torch()
    model.eval()
    rank = len(input_shape)
    physical = (1, input_shape[-1], *input_shape[:-1]) if rank >= 1 else (1,)
    example = torch.randn(*physical)
    try:
        with warnings.catch_warnings():  # export's advice about the model's code is not the user's to act on
            warnings.simplefilter("ignore")
            program = torch.export.export(model, (example,), strict=False)
    except Exception as error:  # the model's own code failed under export: its message, one line
        message = (str(error).strip().splitlines() or [""])[0]
        raise ConvCalcError(f"torch.export cannot capture {name}: {type(error).__name__}: {message}") from None
    builder, outputs = lower(program, physical, model)
    if not builder.layers:
        raise ConvCalcError(f"{name}: the captured graph has no layers")
    declared = declared_outputs(program, outputs, builder.layers[-1].name)
    unused = unused_counts(program, model, builder.counted)
    description = (f"Imported by convcalc from {source or name} with torch.export (torch {torch.__version__}); "
                   "the model in eval mode.")
    network = FlatNetwork(name, input_shape, tuple(builder.layers), declared, unused, builder.classes, description)
    check_params(network, builder.expected, model)  # never silently wrong: each layer's params, and the total
    return network
