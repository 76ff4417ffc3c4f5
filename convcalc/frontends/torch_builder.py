"""The lowering's state and the layers it writes: :class:`Builder`, which the ATen handlers
(:mod:`convcalc.frontends.torch_aten`) call to emit convcalc layers from a captured graph.

Conventions: a value's ``shape`` is PyTorch's physical shape (batch 1 included) and its layout says which physical
dims convcalc's logical axes are (:mod:`convcalc.frontends.torch_layout`). An op gets its operands in the layout it
needs through :meth:`Builder.conform` (a ``permute`` where big axes change order, a ``reshape`` where only size-1
axes move): channels first for the ops PyTorch runs on ``(N, C, *grid)``, the last physical dims last for linear
and layer norm, PyTorch's own order for matmul and attention. A parameter read as an operand of an op other than
its module's becomes one ``param`` layer (counted once; read after the layer that counts it, tied weights, a
``constant`` with ``buffer: false``); a buffer, or a constant computed from buffers and literals
only, read where it must be a tensor (a linear's input, a matmul operand, a product that widens it) becomes one
``constant`` layer (``buffer: true`` for a registered buffer, counted once; false for a computed constant). Layers are
named after the model's modules
(:class:`~convcalc.frontends.torch_naming.LayerNames`). Pure standard library.
"""

from __future__ import annotations

from math import prod
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatLayer
from convcalc.frontends.torch_layout import Layout, PhysShape, channels_first, natural, padded, permutation_to, regroup
from convcalc.frontends.torch_naming import LayerNames, located
from convcalc.frontends.torch_values import Param, Tensor, without_leading_one

WINDOW_DEFAULTS = {"k": 1, "s": 1, "p": 0, "d": 1, "output_padding": 0}
"""A sliding-window op's per-axis arguments, and their value on an axis the window does not slide over."""


class Builder:
    """The lowering's state: the layers so far, the names taken, the parameters counted by layers."""

    def __init__(self, leaves: set[str], classes: dict[str, str]) -> None:
        self.classes = classes  # module path -> class name
        self.names = LayerNames(leaves, classes)
        self.layers: list[FlatLayer] = []
        self.counted: set[str] = set()  # parameters some layer counts
        self.expected: dict[str, int] = {}  # layer -> the parameter elements it counts (each parameter once)
        self.param_layers: dict[str, Tensor] = {}  # parameter -> its ``param`` layer
        self.constant_layers: dict[str, Tensor] = {}  # buffer or computed constant -> its ``constant`` layer
        self.fixed: set[str] = set()  # layers that do not depend on the input (computed from params and constants)
        self.node: Any = None  # the node being lowered (errors and added layers name it)

    # -- errors and shapes --------------------------------------------------------------------------------------

    def fail(self, message: str) -> Any:
        """Raise one ConvCalcError naming the current node's op, module and source line."""
        raise ConvCalcError(located(self.node, message))

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

    def emit(self, node: Any, op: str, args: dict[str, Any], inputs: list[str], shape: PhysShape, layout: Layout,
             owned: list[Param] | tuple[Param, ...] = (), main: bool = True) -> Tensor:
        """Append a layer; its name: the owner of ``owned`` parameters, the leaf module, or module + op."""
        name, module, cls = self.names.for_layer(node, op, owned, main)
        fresh = {p.fqn: p.numel for p in owned if p.kind == "param" and p.fqn not in self.counted}
        self.expected[name] = sum(fresh.values())
        self.counted.update(fresh)
        self.layers.append(FlatLayer(name, op, args, tuple(inputs), module, cls))
        if inputs and all(ref.partition("[")[0] in self.fixed for ref in inputs):
            self.fixed.add(name)
        return Tensor(name, shape, layout)

    def is_fixed(self, value: Any) -> bool:
        """Whether ``value`` does not depend on the input: a parameter, buffer or constant, or a layer computed from
        those only (Swin V2's position-bias MLP of its coordinate table)."""
        return isinstance(value, Param) or isinstance(value, Tensor) and value.ref.partition("[")[0] in self.fixed

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

    def constant_tensor(self, value: Param) -> Tensor:
        """A buffer or computed constant read as a tensor: a ``constant`` layer of its shape (PyTorch's, a leading
        size-1 dim as the batch), ``buffer: true`` for a registered buffer (its elements counted once: later views
        are ``reshape``s of the first layer), false for a constant computed in forward."""
        shape = tuple(value.shape)
        layout = natural(shape, 0)
        logical = layout.logical(shape) or (1,)
        buffer = value.kind == "buffer" and prod(logical) == value.numel
        first = self.constant_layers.get(value.fqn) if buffer else None
        if first is None:
            if buffer:
                name, module = self.names.unique(value.fqn), value.fqn.rpartition(".")[0]
            else:
                name, module, _ = self.names.for_layer(self.node, "constant", (), main=False)
            args: dict[str, Any] = {"shape": list(logical)} | ({} if buffer else {"buffer": False})
            self.layers.append(FlatLayer(name, "constant", args, (), module, ""))
            self.fixed.add(name)
            first = Tensor(name, shape, layout)
            if buffer:
                self.constant_layers[value.fqn] = first
        if first.logical == logical:
            return Tensor(first.ref, shape, layout)
        return self.emit(self.node, "reshape", {"shape": list(logical)}, [first.ref], shape, layout, main=False)

    def param_tensor(self, value: Param, logical: tuple[int, ...] | None = None) -> Tensor:
        """A parameter read as an operand: a ``param`` layer named by it (once; a ``reshape`` for another view);
        a buffer or constant: a ``constant`` layer (:meth:`constant_tensor`)."""
        if value.kind in ("buffer", "constant"):
            return self.constant_tensor(value)
        if value.kind != "param":
            self.fail(f"the {value.kind} tensor {value.fqn} is an operand of an op other than add, sub, mul, div")
        shape = logical if logical is not None else without_leading_one(value.shape)
        if prod(shape) != value.numel:
            self.fail(f"the parameter {value.fqn} is broadcast to {list(shape)}")
        layout = Layout(None, tuple(range(len(shape))))
        first = self.param_layers.get(value.fqn)
        if first is None and value.fqn in self.counted:  # read again after the layer that counts it (tied weights)
            name, module, _ = self.names.for_layer(self.node, "constant", (), main=False)
            self.layers.append(FlatLayer(name, "constant", {"shape": list(shape), "buffer": False}, (), module, ""))
            self.fixed.add(name)
            self.param_layers[value.fqn] = first = Tensor(name, tuple(shape), layout)
        if first is None:
            self.counted.add(value.fqn)
            name = self.names.unique(value.fqn)
            self.expected[name] = value.numel
            self.layers.append(FlatLayer(name, "param", {"shape": list(shape)}, (), value.fqn.rpartition(".")[0], ""))
            self.fixed.add(name)
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

    def channels_first_op(self, node: Any, x: Any, op: str, args: dict[str, Any],
                          owned: list[Param] | tuple[Param, ...] = ()) -> Tensor:
        """An op PyTorch runs on ``(N, C, *grid)``: its input in the channels-first layout, its output too. When N is
        not the batch of 1 but windows or heads merged into it (Hiera's query pooling, MViT's pooled keys), a conv or
        pooling is the same op with N as one more grid axis that its window does not slide over (kernel 1, stride 1,
        no padding): the same values, params and MACs. Any other op over merged images is refused (a norm's
        statistics are per image)."""
        x = self.tensor(x)
        shape = self.out_shape(node)
        if not x.shape or x.shape[0] == 1:
            x = self.conform(x, channels_first(len(x.shape)))
            return self.emit(node, op, args, [x.ref], shape, channels_first(len(shape)), owned)
        if op not in ("conv", "deconv", "maxpool", "avgpool"):
            self.fail(f"{op} over {x.shape[0]} windows or heads merged into the batch dim has no convcalc op")
        rank = len(x.shape) - 2  # the grid's
        widened = dict(args)
        for key, default in WINDOW_DEFAULTS.items():  # absent: the default on every axis, the new one included
            value = args.get(key)
            if value is not None and not isinstance(value, str):
                widened[key] = [default, *(value if isinstance(value, list) else [value] * rank)]
        merged = Layout(None, (0, *range(2, rank + 2), 1))  # (N, C, *grid) read as (N, *grid, C): N a grid axis
        return self.emit(node, op, widened, [self.conform(x, merged).ref], shape, merged, owned)

    def last_axis_op(self, node: Any, x: Any, op: str, args: dict[str, Any],
                     owned: list[Param] | tuple[Param, ...] = (), count: int = 1) -> Tensor:
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
        if value is None:  # a value convcalc does not follow (the indices of a max): refused where it is read
            self.fail("an operand convcalc has no value for (indices, such as an argmax's, have no convcalc op)")
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
            if isinstance(value, Param) and value.kind in ("buffer", "constant") and value.scalar is None:
                widened = (1,) * (rank - len(value.shape)) + tuple(value.shape)
                if any(w > m for w, m in zip(widened, (1,) * (rank - len(main.shape)) + tuple(main.shape))):
                    value = self.constant_tensor(value)  # it widens the result: a tensor, not a constant value
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

    def concat(self, node: Any, values: list[Any], dim: int) -> Tensor | Param:
        out_shape = self.out_shape(node)
        rank = len(out_shape)
        dim %= rank
        first = next((v for v in values if isinstance(v, Tensor)), None)
        if first is None:
            if all(isinstance(v, Param) and v.kind in ("buffer", "constant") for v in values):
                return Param(f"cat:{node.name}", out_shape, "constant")  # computed from buffers and literals only
            # parameters (beit's q, k, v biases, MViT's class position): layers, counted once, in PyTorch's shape
            # (no batch: a leading 1 is the parameter's own dim, concatenated along as any other)
            values = [self.param_tensor(v, tuple(v.shape)) if v.kind == "param" else self.tensor(v) for v in values]
            first = values[0]
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
