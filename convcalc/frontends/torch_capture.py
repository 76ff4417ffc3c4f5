"""Capture a PyTorch model with ``torch.export`` (eval mode, the concrete input) and lower its ATen graph to a
:class:`~convcalc.frontends.flat.FlatNetwork`.

``torch.export`` runs the model's Python once with the real input shape: control flow over shapes, ``x.shape``,
``ndim`` and asserts are resolved to constants, optional arguments keep their defaults, and what remains is a graph
of ATen ops, each tagged with the stack of modules that ran it (``nn_module_stack``). Every op is lowered through
:data:`convcalc.frontends.torch_aten.HANDLERS` by a :class:`~convcalc.frontends.torch_builder.Builder`; an op whose
operands are all parameters, buffers and constants is a constant (:func:`constant_of`), not a layer; a call of
``nn.MultiheadAttention`` is one ``mha`` layer (:mod:`convcalc.frontends.torch_mha`). Layer names, output names and
unused parameters come from :mod:`convcalc.frontends.torch_naming`. Torch is imported inside functions only.
"""

from __future__ import annotations

import warnings
from typing import Any

from convcalc.core.notation import Shape
from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatNetwork
from convcalc.frontends.torch_builder import Builder
from convcalc.frontends.torch_layout import PhysShape, channels_first
from convcalc.frontends.torch_mha import attention_calls, lower_attention
from convcalc.frontends.torch_naming import declared_outputs, op_name, unused_counts
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


def constant_of(node: Any, name: str, arguments: list[Any]) -> Any:
    """The value of an op computed from parameters, buffers and constants only: a constant tensor (a gathered
    parameter when it reads exactly one parameter, so that the parameter is still counted once)."""
    value = node.meta.get("val")
    if not hasattr(value, "shape"):
        return None
    shape = tuple(int(s) for s in value.shape)
    read = [v for v in flat_values(arguments) if isinstance(v, Param) and v.kind in ("param", "gathered")]
    if len(read) == 1:
        table = read[0]
        return Param(table.fqn, shape, "gathered", numel=table.numel, source=table.source or table.shape)
    return Param(f"{name}:{node.name}", shape, "constant")


def lower(program: Any, input_shape: PhysShape, model: Any) -> tuple[Builder, list[Any]]:
    """Walk the exported graph through the ATen table; returns the builder and the output values."""
    import operator

    import torch

    from convcalc.frontends.torch_aten import CREATION, HANDLERS, NO_VALUE, ON_TENSORS

    classes = {path: type(module).__name__ for path, module in model.named_modules()}
    leaves = {path for path, module in model.named_modules() if path and not any(True for _ in module.children())}
    builder = Builder(leaves, classes)
    attention = attention_calls(list(program.graph.nodes), dict(model.named_modules()))
    merged: set[Any] = set()  # the nodes of calls lowered as one layer
    signature = program.graph_signature
    params, buffers = signature.inputs_to_parameters, signature.inputs_to_buffers
    constants = getattr(signature, "inputs_to_lifted_tensor_constants", {})
    values: dict[Any, Any] = {}

    def resolve(argument: Any) -> Any:
        if isinstance(argument, torch.fx.Node):
            return values.get(argument)
        if isinstance(argument, (list, tuple)):
            return [resolve(a) for a in argument]
        return argument

    outputs: list[Any] = []
    for node in program.graph.nodes:
        builder.node = node
        if node.op == "placeholder":
            shape = tuple(int(s) for s in node.meta["val"].shape) if hasattr(node.meta.get("val"), "shape") else ()
            if node.name in params:
                values[node] = Param(params[node.name], shape)
            elif node.name in buffers or node.name in constants:
                fqn = buffers.get(node.name) or constants[node.name]
                tensor = program.state_dict.get(fqn, program.constants.get(fqn))
                scalar = float(tensor.reshape(-1)[0]) if tensor is not None and tensor.numel() == 1 else None
                values[node] = Param(fqn, shape, "buffer" if node.name in buffers else "constant", scalar=scalar)
            else:
                values[node] = Tensor("input", shape, channels_first(len(shape)))
        elif node.op == "call_function":
            if node in merged:
                continue
            call = attention.get(node)
            if call is not None and lower_attention(builder, call, values):
                merged.update(call.nodes)
                continue
            if node.target is operator.getitem:
                container = values.get(node.args[0])
                values[node] = container[node.args[1]] if isinstance(container, (list, Many)) else None
                continue
            name = op_name(node)
            if name in NO_VALUE:
                continue
            arguments = resolve(normalized_args(node))
            reads_activations = any(isinstance(v, Tensor) for v in flat_values(arguments))
            if name in CREATION or name not in ON_TENSORS and not reads_activations:
                values[node] = constant_of(node, name, arguments)
                continue
            handler = HANDLERS.get(name)
            if handler is None:
                builder.fail("no convcalc op for it")
            try:
                values[node] = handler(builder, node, arguments)
            except ConvCalcError:
                raise
            except Exception as error:  # a case the table does not follow: one line naming the op and the module
                builder.fail(f"not followed ({type(error).__name__}: {error})")
        elif node.op == "output":
            outputs = resolve(node.args[0])
        elif node.op == "get_attr":
            values[node] = None
    return builder, list(outputs)


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
    return FlatNetwork(name, input_shape, tuple(builder.layers), declared, unused, builder.classes, description)
