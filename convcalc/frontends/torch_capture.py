"""Capture a PyTorch model with ``torch.export`` (eval mode, the concrete input) and lower its ATen graph to a
:class:`~convcalc.frontends.flat.FlatNetwork`.

``torch.export`` runs the model's Python once with the real input shape: control flow over shapes, ``x.shape``,
``ndim`` and asserts are resolved to constants, optional arguments keep their defaults, and what remains is a graph
of ATen ops, each tagged with the stack of modules that ran it (``nn_module_stack``). Every op is lowered through
:data:`convcalc.frontends.torch_aten.HANDLERS`; a layer is named by the module that owns the parameters it uses
(``layer3.2.conv1``) or by the leaf module that ran it (``layer3.2.relu``), else by its module and op
(``layer3.2.add``). Parameters the forward never reads are reported as ``unused`` with their module, so the spec's
total equals ``sum(p.numel() for p in model.parameters())``. Torch is imported inside functions only.
"""

from __future__ import annotations

import re
import warnings
from math import prod
from typing import Any

from convcalc.core.notation import Shape
from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatLayer, FlatNetwork
from convcalc.frontends.torch_layout import Layout, PhysShape, channels_first, natural, padded, permutation_to, regroup
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


def source_line(node: Any) -> str:
    """``file.py:123`` and the code of the innermost frame of the node's stack trace (the model's own line)."""
    trace = node.meta.get("stack_trace") or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in \S+\n\s*(.*)', trace)
    if not frames:
        return ""
    path, line, code = frames[-1]
    return f" at {path.rsplit('/', 1)[-1]}:{line} ({code.strip()})"


def module_of(node: Any) -> tuple[str, str]:
    """(module path, class name) of the innermost module that ran the node; ("", "") at the top."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", ""
    path, kind = list(stack.values())[-1]
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    return path, name.rsplit(".", 1)[-1]


def op_name(node: Any) -> str:
    """``aten.conv2d.default`` -> ``conv2d``."""
    packet = getattr(node.target, "_overloadpacket", None)
    return packet.__name__ if packet is not None else getattr(node.target, "__name__", str(node.target))


class Builder:
    """The lowering's state: the layers so far, the names taken, the parameters counted by layers."""

    def __init__(self, leaves: set[str], classes: dict[str, str]) -> None:
        self.leaves = leaves
        self.classes = classes
        self.layers: list[FlatLayer] = []
        self.names: set[str] = {"input"}
        self.counted: set[str] = set()
        self.param_layers: dict[str, Tensor] = {}
        self.node: Any = None

    # -- errors and shapes --------------------------------------------------------------------------------------

    def fail(self, message: str) -> Any:
        node = self.node
        path, kind = module_of(node)
        where = f"module '{path}' ({kind})" if path else "the model's forward"
        raise ConvCalcError(f"aten.{op_name(node)} in {where}{source_line(node)}: {message}")

    def out_shape(self, node: Any) -> PhysShape:
        value = node.meta.get("val")
        if isinstance(value, (tuple, list)) and value and hasattr(value[0], "shape"):
            value = value[0]  # (values, indices) of max pooling: the values
        if not hasattr(value, "shape"):
            self.fail("its output is not one tensor")
        return tuple(int(size) for size in value.shape)

    def tensor(self, value: Any) -> Tensor:
        if isinstance(value, Tensor):
            return value
        if isinstance(value, Param):
            return self.param_tensor(value)
        return self.fail(f"expected a tensor, got {type(value).__name__}")

    def value_or_param(self, value: Any) -> Tensor | Param:
        if isinstance(value, (Tensor, Param)):
            return value
        return self.fail(f"expected a tensor, got {type(value).__name__}")

    def param(self, value: Any, what: str) -> Param:
        if not isinstance(value, Param):
            self.fail(f"its {what} is computed in the forward, not a parameter of the module")
        return value

    # -- layers -------------------------------------------------------------------------------------------------

    def unique(self, base: str) -> str:
        name, number = base, 1
        while name in self.names:
            name, number = f"{base}_{number}", number + 1
        self.names.add(name)
        return name

    def emit(self, node: Any, op: str, args: dict[str, Any], inputs: list[str], shape: PhysShape, layout: Layout,
             owned: list[Param] | tuple[Param, ...] = (), main: bool = True) -> Tensor:
        """Append a layer; its name: the owner of ``owned`` parameters, the leaf module, or module + op."""
        path, kind = module_of(node)
        owner = owned[0].fqn.rpartition(".")[0] if owned else ""
        if main and owner and owner not in self.names:
            name, module, cls = self.unique(owner), owner.rpartition(".")[0], self.classes.get(owner, "")
        elif main and path in self.leaves and path not in self.names:
            name, module, cls = self.unique(path), path.rpartition(".")[0], kind
        else:
            name, module, cls = self.unique(f"{path}.{op}" if path else op), path, ""
        for param in owned:
            if param.kind == "param":
                self.counted.add(param.fqn)
        self.layers.append(FlatLayer(name, op, args, tuple(inputs), module, cls))
        return Tensor(name, shape, layout)

    def emit_like(self, node: Any, x: Tensor, op: str, args: dict[str, Any], layout: Layout,
                  shape: PhysShape | None = None, owned: list[Param] | tuple[Param, ...] = ()) -> Tensor:
        return self.emit(node, op, args, [x.ref], shape or self.out_shape(node), layout, owned)

    def conform(self, x: Tensor, target: Layout) -> Tensor:
        """``x`` in the ``target`` layout: a ``permute`` where the big axes change order, a ``reshape`` where only
        size-1 axes move."""
        if x.layout == target:
            return x
        dims, shape = permutation_to(x.layout, target, x.shape)
        ref = x.ref
        if dims is not None:
            ref = self.emit(self.node, "permute", {"dims": dims}, [ref], x.shape, target, main=False).ref
        wanted = target.logical(x.shape)
        if shape != wanted:
            ref = self.emit(self.node, "reshape", {"shape": list(wanted)}, [ref], x.shape, target, main=False).ref
        return Tensor(ref, x.shape, target)

    def reshape(self, node: Any, x: Tensor | Param, new_shape: PhysShape) -> Tensor:
        """PyTorch's view/reshape/flatten/squeeze/unsqueeze: a ``reshape`` of the logical tensor (after a permute to
        PyTorch's order when the dims it merges are not adjacent in convcalc's)."""
        x = self.tensor(x)
        new_shape = tuple(new_shape)
        layout = regroup(x.layout, x.shape, new_shape)
        if layout is None:
            x = self.conform(x, natural(x.shape, x.layout.batch))
            layout = regroup(x.layout, x.shape, new_shape)
            if layout is None:
                self.fail(f"cannot follow the reshape {list(x.shape)} -> {list(new_shape)}")
        logical = layout.logical(new_shape)
        if logical == x.logical:
            return Tensor(x.ref, new_shape, layout)
        args: dict[str, Any] = {} if len(logical) == 1 else {"shape": list(logical)}
        return self.emit(node, "flatten" if len(logical) == 1 else "reshape", args, [x.ref], new_shape, layout)

    def param_tensor(self, value: Param, logical: tuple[int, ...] | None = None) -> Tensor:
        """A parameter read as an operand: a ``param`` layer named by it (once; a ``reshape`` for another view)."""
        if value.kind != "param":
            self.fail(f"the {value.kind} tensor {value.fqn} is an operand of an op other than add, sub, mul, div")
        shape = logical if logical is not None else (value.shape[1:] if len(value.shape) > 1 and value.shape[0] == 1
                                                     else value.shape)
        if prod(shape) != value.numel:
            self.fail(f"the parameter {value.fqn} is broadcast to {list(shape)}")
        layout = Layout(None, tuple(range(len(shape))))
        first = self.param_layers.get(value.fqn)
        if first is None:
            self.counted.add(value.fqn)
            name = self.unique(value.fqn)
            self.layers.append(FlatLayer(name, "param", {"shape": list(shape)}, (), value.fqn.rpartition(".")[0], ""))
            self.param_layers[value.fqn] = first = Tensor(name, tuple(shape), layout)
        if tuple(first.shape) == tuple(shape):
            return Tensor(first.ref, tuple(shape), layout)
        return self.emit(self.node, "reshape", {"shape": list(shape)}, [first.ref], tuple(shape), layout, main=False)

    def natural_ref(self, value: Any) -> str:
        """The operand in PyTorch's own dim order (matmul, attention)."""
        if isinstance(value, Param):
            return self.param_tensor(value).ref
        x = self.tensor(value)
        return self.conform(x, natural(x.shape, x.layout.batch)).ref

    def channels_first_op(self, node: Any, x: Any, op: str, args: dict[str, Any], owned: list[Param] | tuple[Param, ...] = ()) -> Tensor:
        """An op PyTorch runs on ``(N, C, *grid)``: its input in the channels-first layout, its output too."""
        x = self.tensor(x)
        x = self.conform(x, channels_first(len(x.shape)))
        shape = self.out_shape(node)
        return self.emit(node, op, args, [x.ref], shape, channels_first(len(shape)), owned)

    def last_axis_op(self, node: Any, x: Any, op: str, args: dict[str, Any], owned: list[Param] | tuple[Param, ...] = (),
                     count: int = 1) -> Tensor:
        """An op on the last ``count`` physical dims (linear, layer norm): those must be convcalc's last axes."""
        x = self.tensor(x)
        rank = len(x.shape)
        if x.layout.perm[-count:] != tuple(range(rank - count, rank)):
            x = self.conform(x, natural(x.shape, x.layout.batch))
        return self.emit(node, op, args, [x.ref], self.out_shape(node), x.layout, owned)

    def operand(self, value: Any, layout: Layout, rank: int) -> tuple[str | None, Any]:
        """(ref, None) for a tensor operand of an elementwise op in ``layout``, (None, constant) for a constant."""
        if isinstance(value, Tensor):
            shape = (1,) * (rank - len(value.shape)) + tuple(value.shape)
            lifted = Tensor(value.ref, shape, padded(value.layout, len(value.shape), rank))
            return self.conform(lifted, layout).ref, None
        if isinstance(value, Param):
            if value.scalar is not None and value.kind != "param":
                return None, value.scalar
            shape = (1,) * (rank - len(value.shape)) + tuple(value.shape)
            if value.kind == "gathered" and value.fqn not in self.param_layers:  # the table, counted once
                assert value.source is not None
                self.param_tensor(Param(value.fqn, value.source), tuple(value.source))
            if value.kind != "param":
                return None, 1.0  # a tensor that does not widen the result: same shape and FLOPs as a constant
            return self.param_tensor(value, layout.logical(shape)).ref, None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"an operand of type {type(value).__name__}")
        return None, value

    def binary(self, node: Any, op: str, operands: list[Any], out_shape: PhysShape) -> Tensor:
        """add/sub/mul/div: the operands in one layout (PyTorch's broadcasting is right-aligned on its dims,
        convcalc's on the logical axes: both are lined up in the output's layout)."""
        rank = len(out_shape)
        tensors = [v for v in operands if isinstance(v, Tensor)]
        if not tensors:
            self.fail("an elementwise op of parameters only")
        main = max(tensors, key=lambda t: (len(t.shape) == rank and tuple(t.shape) == tuple(out_shape), len(t.shape)))
        layout = padded(main.layout, len(main.shape), rank)
        refs, constant, reverse = [], None, False
        for position, value in enumerate(operands):
            if isinstance(value, Param) and value.kind != "param" and value.scalar is None:
                widened = (1,) * (rank - len(value.shape)) + tuple(value.shape)
                if any(w > m for w, m in zip(widened, (1,) * (rank - len(main.shape)) + tuple(main.shape))):
                    self.fail(f"the {value.kind} {value.fqn} widens the result")
            ref, value_constant = self.operand(value, layout, rank)
            if ref is not None:
                refs.append(ref)
            else:
                constant, reverse = value_constant, position == 0
        args: dict[str, Any] = {}
        if constant is not None:
            args["value"] = constant
            if reverse:
                args["reverse"] = True
        return self.emit(node, op, args, refs, out_shape, layout)

    def concat(self, node: Any, values: list[Any], dim: int) -> Tensor:
        out_shape = self.out_shape(node)
        rank = len(out_shape)
        dim %= rank
        first = next((v for v in values if isinstance(v, Tensor)), None)
        if first is None:
            self.fail("a concatenation of parameters only")
        layout = first.layout
        if dim == layout.batch:
            self.fail("a concatenation over the batch dim")
        refs = []
        for value in values:
            if isinstance(value, Tensor):
                refs.append(self.conform(value, layout).ref)
            else:
                refs.append(self.param_tensor(self.param(value, "operand"), layout.logical(value.shape)).ref)
        axis = layout.perm.index(dim)
        args = {} if axis == len(layout.perm) - 1 else {"dim": axis}
        return self.emit(node, "concat", args, refs, out_shape, layout)


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
            if node.target is operator.getitem:
                container = values.get(node.args[0])
                values[node] = container[node.args[1]] if isinstance(container, (list, Many)) else None
                continue
            name = op_name(node)
            if name in NO_VALUE:
                continue
            arguments = resolve(normalized_args(node))
            if name in CREATION or name not in ON_TENSORS and not any(isinstance(v, Tensor) for v in flat_values(arguments)):
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


def output_names(program: Any, count: int) -> list[str]:
    """Each flattened output's name from the forward's return: dict keys, tuple positions (``0``, ``1``)."""
    try:
        import torch.utils._pytree as pytree

        tree = pytree.tree_unflatten(list(range(count)), program.call_spec.out_spec)
        leaves = pytree.tree_flatten_with_path(tree)[0]
        names = [".".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path) for path, _ in leaves]
        return [name or "out" for name in names]
    except Exception:  # an unusual return structure: positions
        return [str(k) for k in range(count)]


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
    names = output_names(program, len(outputs))
    found = {n: v.ref for n, v in zip(names, outputs) if isinstance(v, Tensor) and v.ref != "input"}
    if not builder.layers:
        raise ConvCalcError(f"{name}: the captured graph has no layers")
    last = builder.layers[-1].name
    declared = None if list(found.values()) == [last] else found
    unused = unused_counts(program, model, builder.counted)
    description = (f"Imported by convcalc from {source or name} with torch.export (torch {torch.__version__}); "
                   "the model in eval mode.")
    return FlatNetwork(name, input_shape, tuple(builder.layers), declared, unused, builder.classes, description)


def unused_counts(program: Any, model: Any, counted: set[str]) -> dict[str, dict[str, int]]:
    """Parameters no layer counts (the forward never reads them), and buffers the graph never reads, per module."""
    unused: dict[str, dict[str, int]] = {}
    for fqn, param in model.named_parameters():
        if fqn not in counted:
            entry = unused.setdefault(fqn.rpartition(".")[0], {"params": 0})
            entry["params"] += param.numel()
    read = {program.graph_signature.inputs_to_buffers[node.name] for node in program.graph.nodes
            if node.op == "placeholder" and node.users and node.name in program.graph_signature.inputs_to_buffers}
    for fqn, buffer in model.named_buffers():
        module = fqn.rpartition(".")[0]
        if fqn not in read and not fqn.endswith("num_batches_tracked") and module in unused:
            unused[module]["buffers"] = unused[module].get("buffers", 0) + buffer.numel()
    return unused
