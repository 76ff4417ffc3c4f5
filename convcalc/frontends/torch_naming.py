"""What a captured graph says about the model it came from: the module and source line of each node (for layer
names and error messages), the names of the forward's outputs, and the parameters no layer counts.

Layer names follow the model's module tree (:class:`LayerNames`): a layer is named by the module that owns the
parameters it uses (``layer3.2.conv1``), else by the leaf module that ran it (``layer3.2.relu``), else by its module
and op (``layer3.2.add``); a name already taken gets ``_1``, ``_2``. Outputs are named by the forward's return
structure (dict keys, tuple positions). Parameters the forward never reads are ``unused`` with their module, so the
spec's total equals ``sum(p.numel() for p in model.parameters())``. Torch is imported inside functions only.
"""

from __future__ import annotations

import re
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatNetwork
from convcalc.frontends.torch_values import Param, Tensor


def source_line(node: Any) -> str:
    """`` at file.py:123 (code)``: the innermost frame of the node's stack trace (the model's own line); "" if none."""
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


def located(node: Any, message: str) -> str:
    """``aten.OP in module 'PATH' (CLASS) at FILE:LINE (CODE): MESSAGE``: an error naming the op and where it ran."""
    path, kind = module_of(node)
    where = f"module '{path}' ({kind})" if path else "the model's forward"
    return f"aten.{op_name(node)} in {where}{source_line(node)}: {message}"


class LayerNames:
    """The layer names taken so far, and the rule that names a new layer after the model's modules."""

    def __init__(self, leaves: set[str], classes: dict[str, str]) -> None:
        self.leaves = leaves  # module paths without children
        self.classes = classes  # module path -> class name
        self.taken: set[str] = {"input"}

    def unique(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``, ... when taken; the name is taken from then on."""
        name, number = base, 1
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        self.taken.add(name)
        return name

    def for_layer(self, node: Any, op: str, owned: list[Param] | tuple[Param, ...], main: bool) -> tuple[str, str, str]:
        """(name, module, class) of a layer of ``op`` lowered from ``node``: the first owner of ``owned`` parameters,
        or the leaf module that ran it, when not yet taken and the layer is the node's ``main`` one (not a permute or
        reshape the lowering adds); else module path + op, in that module."""
        path, kind = module_of(node)
        owner = owned[0].fqn.rpartition(".")[0] if owned else ""
        if main and owner and owner not in self.taken:
            return self.unique(owner), owner.rpartition(".")[0], self.classes.get(owner, "")
        if main and path in self.leaves and path not in self.taken:
            return self.unique(path), path.rpartition(".")[0], kind
        return self.unique(f"{path}.{op}" if path else op), path, ""


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


def declared_outputs(program: Any, outputs: list[Any], last_layer: str) -> dict[str, str] | None:
    """The spec's ``outputs:`` (name -> layer) of the forward's tensor outputs; None when the only output is the
    last layer (the spec's default output). Outputs that are the input itself or not tensors are left out."""
    names = output_names(program, len(outputs))
    found = {n: v.ref for n, v in zip(names, outputs) if isinstance(v, Tensor) and v.ref != "input"}
    return None if list(found.values()) == [last_layer] else found


def unused_counts(program: Any, model: Any, counted: set[str]) -> dict[str, dict[str, int]]:
    """Parameters no layer counts (the forward never reads them), and buffers the graph never reads, per module:
    ``{module: {"params": n, "buffers": m}}`` (buffers only for modules with unused parameters); a parameter of the
    model itself (Hiera's unused ``pos_embed_window``) is listed by its own name."""
    unused: dict[str, dict[str, int]] = {}
    aliases = model.named_parameters(remove_duplicate=False)  # a shared module's parameter has several names
    counted_ids = {id(param) for fqn, param in aliases if fqn in counted}
    for fqn, param in model.named_parameters():
        if id(param) not in counted_ids:
            entry = unused.setdefault(fqn.rpartition(".")[0] or fqn, {"params": 0})  # the model's own: by name
            entry["params"] += param.numel()
    buffers = program.graph_signature.inputs_to_buffers
    read = {buffers[node.name] for node in program.graph.nodes
            if node.op == "placeholder" and node.users and node.name in buffers}
    for fqn, buffer in model.named_buffers():
        module = fqn.rpartition(".")[0]
        if fqn not in read and not fqn.endswith("num_batches_tracked") and module in unused:
            unused[module]["buffers"] = unused[module].get("buffers", 0) + buffer.numel()
    return unused


def check_params(network: FlatNetwork, expected: dict[str, int], model: Any) -> None:
    """Refuse, in one line, a network whose params differ from the model's: each layer must count exactly the
    parameter elements the capture gave it (``expected``: each parameter tensor once, by the first layer that reads
    it; 0 for a layer that reads none), and the layers plus ``unused`` must total
    ``sum(p.numel() for p in model.parameters())``; and the network must load and analyse. The safety net behind every
    rule of the ATen table."""
    from convcalc.frontends.flat import to_spec_data
    from convcalc.graph.analysis import walk
    from convcalc.specfile.loader import build

    modules = {layer.name: layer.module for layer in network.layers}
    try:
        steps = walk(build(to_spec_data(network), f"{network.name}.yaml", 10**7))
    except ConvCalcError as error:  # never written as a spec that does not load
        layer = getattr(error, "layer", None)
        where = f"layer '{layer}' (in '{modules.get(layer) or 'the model'}')" if layer else "the captured graph"
        raise ConvCalcError(f"{network.name}: {where}: {error.message}: not imported, rather than written as a spec "
                            "that does not load") from None
    for step in steps:
        want = expected.get(step.node.name, 0)
        if step.result.params != want:
            layer, module = step.node.name, modules.get(step.node.name) or "the model's forward"
            raise ConvCalcError(f"{network.name}: layer '{layer}' ({step.node.op}, in '{module}') would count "
                                f"{step.result.params} params where the model's parameters it reads have {want} "
                                "(read before by another layer, or not parameters): not imported, rather than "
                                "imported with wrong params")
    total = sum(step.result.params for step in steps) + sum(c.get("params", 0) for c in network.unused.values())
    truth = sum(p.numel() for p in model.parameters())
    if total != truth:
        raise ConvCalcError(f"{network.name}: the layers and unused modules count {total} params, the model has "
                            f"{truth}: not imported, rather than imported with wrong params")
