"""ONNX subgraphs that are one convcalc layer, found before the walk: PyTorch's exact GELU at opsets below 20
(``x * 0.5 * (1 + erf(x / sqrt(2)))``: Div, Erf, Add, Mul, Mul) becomes one ``Gelu`` node, and a MatMul by a
constant (k, m) matrix followed by the Add of a constant (m,) vector (PyTorch's Linear on a 3-D input) one
``linear`` with a bias; a channel shuffle written as Reshape, Transpose, Reshape one ``channel_shuffle``. Node names (what groups layers into modules) come from the exporter's scopes:
``/layer1/layer1.0/conv1/Conv`` is layer ``layer1.0.conv1`` of module ``layer1.0``."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

SQRT2 = 2**0.5


def constant_near(initializers: dict[str, Any], constants: dict[str, float], name: str, target: float) -> bool:
    value = constants.get(name)
    return value is not None and abs(value - target) < 1e-4


def fuse_gelu(nodes: list[Any], constants: dict[str, float]) -> list[Any]:
    """The nodes with each exact-GELU chain replaced by one Gelu node (named as the chain's last node)."""
    from onnx import helper

    producer = {out: node for node in nodes for out in node.output}
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in nodes:
        for name in node.input:
            consumers[name].append(node)

    def other(node: Any, name: str) -> str:
        return node.input[1] if node.input[0] == name else node.input[0]

    def only(name: str, op_type: str) -> Any:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    dropped: set[int] = set()
    replaced: dict[int, Any] = {}
    for erf in (node for node in nodes if node.op_type == "Erf"):
        scale = producer.get(erf.input[0])
        if scale is None or scale.op_type not in ("Div", "Mul"):
            continue
        x = scale.input[0]
        if not constant_near({}, constants, scale.input[1], SQRT2 if scale.op_type == "Div" else 1 / SQRT2):
            continue
        plus = only(erf.output[0], "Add")
        if plus is None or not constant_near({}, constants, other(plus, erf.output[0]), 1.0):
            continue
        times = only(plus.output[0], "Mul")
        if times is None:
            continue
        operand = producer.get(other(times, plus.output[0]))
        chain = [scale, erf, plus]
        if other(times, plus.output[0]) == x:
            last = only(times.output[0], "Mul")
            if last is None or not constant_near({}, constants, other(last, times.output[0]), 0.5):
                continue
            chain.append(times)
        elif operand is not None and operand.op_type == "Mul" and x in operand.input and \
                constant_near({}, constants, other(operand, x), 0.5):  # fmt: skip
            last = times
            chain.append(operand)
        else:
            continue
        dropped.update(id(node) for node in chain)
        replaced[id(last)] = helper.make_node("Gelu", [x], [last.output[0]], name=last.name)
    return [replaced.get(id(node), node) for node in nodes if id(node) not in dropped]


def matmul_biases(nodes: list[Any], dims: dict[str, tuple[int, ...]], outputs: set[str]) -> dict[str, tuple[str, str]]:
    """MatMul output -> (bias initializer, Add output) for each MatMul by a constant (k, m) whose one user adds a
    constant (m,) vector."""
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in nodes:
        for name in node.input:
            consumers[name].append(node)
    found = {}
    for node in nodes:
        if node.op_type != "MatMul" or len(dims.get(node.input[1], ())) != 2 or node.output[0] in outputs:
            continue
        users = consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Add":
            continue
        add = users[0]
        bias = add.input[1] if add.input[0] == node.output[0] else add.input[0]
        if dims.get(bias) == (dims[node.input[1]][1],):
            found[node.output[0]] = (bias, add.output[0])
    return found


def fuse_channel_shuffle(nodes: list[Any], shapes: dict[str, tuple[Any, ...]]) -> list[Any]:
    """The nodes with each channel shuffle written as Reshape (N, C, *S) -> (N, g, C/g, *S), Transpose
    [0, 2, 1, 3, ...], Reshape back to (N, C, *S) (ShuffleNet's view, transpose, reshape) replaced by one
    ``ChannelShuffle`` node of ``groups`` g (named as the last Reshape), whose intermediates nothing else reads."""
    from onnx import helper

    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in nodes:
        for name in node.input:
            consumers[name].append(node)

    def only(name: str, op_type: str) -> Any:
        users = consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    dropped: set[int] = set()
    replaced: dict[int, Any] = {}
    for first in (node for node in nodes if node.op_type == "Reshape"):
        before, split = shapes.get(first.input[0]), shapes.get(first.output[0])
        swap = only(first.output[0], "Transpose")
        back = swap and only(swap.output[0], "Reshape")
        if not (back and before and split) or len(split) != len(before) + 1 or len(before) < 3:
            continue
        perm = next((list(a.ints) for a in swap.attribute if a.name == "perm"), [])
        rank = len(split)
        groups, per_group = split[1], split[2]
        if (perm != [0, 2, 1, *range(3, rank)] or shapes.get(back.output[0]) != before
                or not all(isinstance(v, int) for v in (*before[1:], *split[1:]))
                or split[3:] != before[2:] or groups * per_group != before[1]):  # fmt: skip
            continue
        dropped.update((id(first), id(swap)))
        replaced[id(back)] = helper.make_node("ChannelShuffle", [first.input[0]], [back.output[0]], name=back.name,
                                              groups=groups)  # fmt: skip
    return [replaced.get(id(node), node) for node in nodes if id(node) not in dropped]


SCOPE = re.compile(r"^/(.+)/([A-Za-z]+)(_\d+)?$")


def module_path(scopes: list[str]) -> list[str]:
    """Each scope's full module path: PyTorch writes ``/layer1/layer1.0/conv1``: a scope that starts with the path so
    far and a dot is that full path, any other one is a child's name."""
    paths, path = [], ""
    for part in scopes:
        path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
        paths.append(path)
    return paths


def layer_names(nodes: list[Any]) -> dict[str, tuple[str, str]]:
    """ONNX node name -> (layer name, module). A scope path with one node and no deeper scopes is a leaf module:
    the layer takes its path (``layer1.0.conv1``) and its parent is the module; otherwise the layer is a call
    inside the module (``layer1.0.add``). Names the exporter did not scope are kept as they are."""
    parsed = {}
    for node in nodes:
        match = SCOPE.match(node.name or "")
        if match:
            paths = module_path([part for part in match.group(1).split("/") if part])
            parsed[node.name] = (paths, match.group(2).lower())
    per_path: dict[str, int] = defaultdict(int)
    parents: set[str] = set()
    for paths, _ in parsed.values():
        per_path[paths[-1]] += 1
        parents.update(paths[:-1])
    names = {}
    for node in nodes:
        if node.name in parsed:
            paths, op = parsed[node.name]
            path = paths[-1]
            if per_path[path] == 1 and path not in parents:
                names[node.name] = (path, paths[-2] if len(paths) > 1 else "")
            else:
                names[node.name] = (f"{path}.{op}", path)
        elif node.name:
            names[node.name] = (node.name.strip("/").replace("/", "."), "")
    return names
