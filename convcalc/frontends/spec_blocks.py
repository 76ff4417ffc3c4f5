"""Where an imported network repeats itself: module scopes, which of them become block instances, and the blocks.

A *scope* is a dotted prefix of layer names (``layer3.2`` for ``layer3.2.conv1``), the layers of one module. A scope
can be a block instance when its layers are contiguous in the flat order and no layer is named like the scope
itself; the tensors it reads from outside are the instance's inputs (``from: [a, b]``; inside, ``input[k]``, or
``input`` for all of them in order). Scopes of one class (``classes``; scopes of no known class are grouped by their
height in the scope tree) whose bodies align, item for item by local name with the same ops and wiring, form a
*cluster*: one block, its differing values (arguments, ``from:``, presence) turned into block arguments; members
may differ by any number of instances of a child block that all of them hold (a dense block's later layers). A
cluster becomes a block when writing it once costs fewer lines than inlining its members; otherwise its members'
layers stay in their parent. Classes are decided innermost first, so a body holds only decided children.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from convcalc.frontends.flat import FlatLayer, FlatNetwork
from convcalc.frontends.spec_values import ABSENT, ArgNamer, identifier, same_value, value_key
from convcalc.ops.catalogue import MERGES

# arguments whose absence means this value: instances that write them and instances that do not still align
DEFAULTS: dict[str, dict[str, Any]] = {
    "conv": {"s": 1, "p": 0, "d": 1, "g": 1, "bias": True},
    "deconv": {"s": 1, "p": 0, "d": 1, "g": 1, "bias": True, "output_padding": 0},
    "linear": {"bias": True},
}
PICK = re.compile(r"^(?P<name>.*?)(?P<pick>\[[+-]?[0-9]+\])$")


def split_pick(tensor: str) -> tuple[str, str]:
    """``"y[1]"`` -> ``("y", "[1]")``; ``"y"`` -> ``("y", "")``."""
    match = PICK.match(tensor)
    return (match["name"], match["pick"]) if match else (tensor, "")


@dataclass
class ScopeInfo:
    """The layers named ``path.*``: flat indices ``first``..``last`` and the outside tensors they read."""

    path: str
    depth: int
    cls: str
    first: int = -1
    last: int = -1
    count: int = 0
    inputs: list[str] = field(default_factory=list)
    valid: bool = True


@dataclass
class OpItem:
    """A layer in a body: its local name, its sources as local references, ``implicit`` when ``from:`` may be left
    out (its one source is the previous item's output)."""

    layer: FlatLayer
    local: str
    refs: tuple[str, ...]
    implicit: bool

    def key(self) -> tuple[Any, ...]:
        """What aligns items of two members: the local name (a spec's default name ``relu_7`` as ``relu_#``: it
        counts positions), the op, the arguments' names, the number of inputs (for a merge: one, or several)."""
        local = self.layer.op + "_#" if re.fullmatch(re.escape(self.layer.op) + r"_[0-9]+", self.local) else self.local
        required = sorted(key for key in self.layer.args if key not in DEFAULTS.get(self.layer.op, {}))
        arity = min(len(self.refs), 2) if self.layer.op in MERGES else len(self.refs)
        return ("op", local, self.layer.op, tuple(required), arity)


@dataclass
class InstanceItem:
    """A child block instance in a body: its member record, local name, its input as a local reference (none when
    it reads nothing from outside) and its output tensor."""

    member: Member
    local: str
    refs: tuple[str, ...]
    implicit: bool
    output: str

    def key(self) -> tuple[Any, ...]:
        return ("block", self.local, id(self.member.cluster), len(self.refs))


Item = OpItem | InstanceItem


@dataclass
class Member:
    """One block instance: its scope, the cluster (block) it belongs to and its argument values."""

    scope: ScopeInfo
    body: list[Item]
    cluster: Cluster | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cluster:
    """One block: its template (rows of items aligned by local name, one column per member) and, once
    finalised, its name, arguments with defaults and the expression of every varying field."""

    cls: str
    keys: list[tuple[Any, ...]]
    rows: list[list[Item | None]]
    members: list[Member]
    name: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    fields: list[dict[str, Any]] = field(default_factory=list)  # per row: field -> constant or "$arg"/"${...}"

    def try_add(self, member: Member) -> bool:
        """Align ``member``'s body with the template by local names; False (unchanged) when an aligned item
        differs in op, arguments' names or wiring, or when too many items would be conditional."""
        old = [key[1] for key in self.keys]
        new = [item.key()[1] for item in member.body]
        keys: list[tuple[Any, ...]] = []
        rows: list[list[Item | None]] = []
        width = len(self.members)
        a = b = 0
        for i, j, size in SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks():
            keys += self.keys[a:i]
            rows += [row + [None] for row in self.rows[a:i]]
            keys += [item.key() for item in member.body[b:j]]
            rows += [[None] * width + [item] for item in member.body[b:j]]
            for t in range(size):
                if self.keys[i + t] != member.body[j + t].key():
                    return False
                keys.append(self.keys[i + t])
                rows.append(self.rows[i + t] + [member.body[j + t]])
            a, b = i + size, j + size
        common = [row for row in rows if None not in row]
        common_blocks = {id(item.member.cluster) for row in common for item in row if isinstance(item, InstanceItem)}
        loose = sum(1 for row in rows if None in row and not more_of_the_same(row, common_blocks))
        if loose > max(2, len(common) // 3):
            return False
        self.keys, self.rows = keys, rows
        self.members.append(member)
        return True

    def worth_a_block(self) -> bool:
        """Written once plus one line per instance, against every member's items inline (where consecutive
        instances of one block may become one ``repeat``)."""
        inline = sum(inline_lines(member.body) for member in self.members)
        return len(self.members) >= 2 and len(self.rows) + 3 + len(self.members) < inline


def more_of_the_same(row: list[Item | None], blocks: set[int]) -> bool:
    """A conditional row of instances of a child block that every member has (a dense block's later layers)."""
    return all(isinstance(item, InstanceItem) and id(item.member.cluster) in blocks for item in row if item is not None)


def inline_lines(body: list[Item]) -> int:
    """About how many lines a body takes inline: one per layer, one per run of instances of one block."""
    lines = 0
    for position, item in enumerate(body):
        before = body[position - 1] if position else None
        run = isinstance(item, InstanceItem) and isinstance(before, InstanceItem) and item.implicit
        lines += 0 if run and before.member.cluster is item.member.cluster else 1  # type: ignore[union-attr]
    return lines


class BlockFinder:
    """Decides the block instances of a flat network and builds every body (see the module docstring)."""

    def __init__(self, flat: FlatNetwork) -> None:
        self.flat = flat
        self.layers = flat.layers
        self.position = {layer.name: index for index, layer in enumerate(self.layers)}
        self.scopes: dict[str, ScopeInfo] = {}
        self.chains: list[list[str]] = []  # per layer: its scopes, outermost first
        self.promoted: dict[str, Member] = {}
        self.clusters: list[Cluster] = []
        self.find_scopes()

    def find_scopes(self) -> None:
        names = set(self.position)
        for index, layer in enumerate(self.layers):
            parts = layer.name.split(".")
            chain = [".".join(parts[:depth]) for depth in range(1, len(parts))]
            self.chains.append(chain)
            for depth, path in enumerate(chain, 1):
                scope = self.scopes.get(path)
                if scope is None:
                    scope = self.scopes[path] = ScopeInfo(path, depth, self.flat.classes.get(path, ""), first=index)
                scope.last, scope.count = index, scope.count + 1
                for source in layer.inputs:
                    name = split_pick(source)[0]
                    if not name.startswith(path + ".") and source not in scope.inputs:
                        scope.inputs.append(source)
                if layer.name[len(path) + 1:] == "input":
                    scope.valid = False
        for scope in self.scopes.values():
            contiguous = scope.last - scope.first + 1 == scope.count
            plain = not any(char in scope.path for char in "$[]")
            scope.valid = scope.valid and contiguous and plain and scope.path not in names


    def find(self) -> list[Cluster]:
        """Decide every candidate scope, innermost classes first; returns the clusters that became blocks."""
        valid = [scope for scope in self.scopes.values() if scope.valid]
        for path, height in self.heights(valid).items():  # an unknown class: scopes of one height may be alike
            scope = self.scopes[path]
            scope.cls = scope.cls or f"?{height}"
        inner_classes = {(outer.path, inner.cls) for inner in valid for outer in self.ancestors(inner)}
        candidates = [scope for scope in valid if (scope.path, scope.cls) not in inner_classes]
        by_class: dict[str, list[ScopeInfo]] = {}
        for scope in sorted(candidates, key=lambda scope: scope.first):
            by_class.setdefault(scope.cls, []).append(scope)
        undecided = {scope.path for scope in candidates}
        for cls in self.class_order(candidates, by_class):
            members = [scope for scope in by_class[cls] if scope.path in undecided]
            undecided -= {scope.path for scope in members}
            for scope in members:  # anything still undecided inside is inlined for good
                undecided -= {path for path in undecided if path.startswith(scope.path + ".")}
            self.decide(cls, members)
        return self.clusters

    def class_order(self, candidates: list[ScopeInfo], by_class: dict[str, list[ScopeInfo]]) -> list[str]:
        """Classes whose instances lie inside another class's come before it; in a cycle, the lowest first."""
        heights = self.heights(candidates)
        height = {cls: max(heights[scope.path] for scope in scopes) for cls, scopes in by_class.items()}
        inside: dict[str, set[str]] = {cls: set() for cls in by_class}
        for scope in candidates:
            for outer in self.ancestors(scope):
                if outer.cls in inside and outer.cls != scope.cls and outer.path in heights:
                    inside[outer.cls].add(scope.cls)
        order: list[str] = []
        while len(order) < len(by_class):
            waiting = [cls for cls in by_class if cls not in order]
            ready = [cls for cls in waiting if inside[cls] <= set(order)] or waiting
            order.append(min(ready, key=lambda cls: height[cls]))
        return order

    def ancestors(self, scope: ScopeInfo) -> list[ScopeInfo]:
        chain = self.chains[scope.first][: scope.depth - 1]
        return [self.scopes[path] for path in chain if self.scopes[path].valid]

    def heights(self, candidates: list[ScopeInfo]) -> dict[str, int]:
        height = {scope.path: 1 for scope in candidates}
        for scope in sorted(candidates, key=lambda scope: -scope.depth):
            for outer in self.ancestors(scope):
                if outer.path in height:
                    height[outer.path] = max(height[outer.path], height[scope.path] + 1)
        return height

    def decide(self, cls: str, scopes: list[ScopeInfo]) -> None:
        clusters: list[Cluster] = []
        for scope in scopes:
            member = Member(scope, self.body(scope.path, scope.first, scope.last, tuple(scope.inputs)))
            if not any(cluster.try_add(member) for cluster in clusters):
                clusters.append(Cluster(cls, [item.key() for item in member.body], [[item] for item in member.body], [member]))
        for cluster in clusters:
            if cluster.worth_a_block():
                self.finalise(cluster)
                self.clusters.append(cluster)
                for member in cluster.members:
                    member.cluster = cluster
                    self.promoted[member.scope.path] = member

    def body(self, path: str, first: int, last: int, sources: tuple[str, ...]) -> list[Item]:
        """The items of a scope (the root: path "") whose outside inputs are ``sources``, each promoted descendant
        one instance item. An item is implicit (no ``from:``) when it reads the previous item's output, or, first
        in the scope, exactly the scope's inputs in order (a block's ``input``: all of them)."""
        depth = path.count(".") + 1 if path else 0
        items: list[Item] = []
        previous: tuple[str, ...] = sources if path else ("input",)
        outputs: dict[str, str] = {}  # the output tensor of each instance in this body -> the instance's local name
        index = first
        while index <= last:
            child = next((self.promoted[p] for p in self.chains[index][depth:] if p in self.promoted), None)
            if child is not None:
                scope = child.scope
                output = self.layers[scope.last].name
                refs = self.local_refs(tuple(scope.inputs), path, sources, outputs)
                implicit = not scope.inputs or tuple(scope.inputs) == previous
                local = self.local(scope.path, path)
                items.append(InstanceItem(child, local, refs, implicit, output))
                outputs[output] = local
                index = scope.last + 1
            else:
                layer = self.layers[index]
                refs = self.local_refs(layer.inputs, path, sources, outputs)
                implicit = layer.inputs == previous
                items.append(OpItem(layer, self.local(layer.name, path), refs, implicit))
                output = layer.name
                index += 1
            previous = (output,)
        return items

    @staticmethod
    def local(name: str, path: str) -> str:
        return name[len(path) + 1:] if path else name

    def local_refs(self, tensors: tuple[str, ...], path: str, sources: tuple[str, ...], outputs: dict[str, str]) -> tuple[str, ...]:
        """Tensors as written inside the scope ``path`` whose inputs are ``sources``: ``input`` alone for all of
        them in order (or the one), ``input[k]`` for the k-th of several, an instance's name for its output."""
        if path and len(sources) > 1 and tensors == sources:
            return ("input",)
        return tuple(self.local_ref(tensor, path, sources, outputs) for tensor in tensors)

    def local_ref(self, tensor: str, path: str, sources: tuple[str, ...], outputs: dict[str, str]) -> str:
        if path and tensor in sources:
            return "input" if len(sources) == 1 else f"input[{sources.index(tensor)}]"
        name, pick = split_pick(tensor)
        if name in outputs:
            return outputs[name] + pick
        return self.local(name, path) + pick if name != "input" else tensor

    def finalise(self, cluster: Cluster) -> None:
        """Turn every field that differs between members into a block argument (shared where equal, derived
        where a multiple, a condition on a presence flag where two-valued); defaults are the commonest values."""
        namer = ArgNamer(len(cluster.members))
        for row_index, row in enumerate(cluster.rows):
            present = [item for item in row if item is not None]
            first = present[0]
            fields: dict[str, Any] = {}
            if len(present) < len(row):
                head = identifier("with_" + first.local.split(".")[0])
                fields["if"] = namer.express([item is not None for item in row], head, boolean=True)
            for key in self.arg_keys(row):
                vector = [self.arg_value(item, key) if item is not None else ABSENT for item in row]
                default = DEFAULTS.get(first.layer.op, {}) if isinstance(first, OpItem) else {}
                if key in default and all(value is ABSENT or same_value(value, default[key]) for value in vector):
                    continue  # the default value, written by some members only
                fields[key] = namer.express(vector, identifier(key), fallback=identifier(f"{key}_{first.local}"))
            if not all(item.implicit for item in present) and len({len(item.refs) for item in present}) > 1:
                vector = [list(item.refs) if item is not None else ABSENT for item in row]  # a merge of more or fewer
                fields[("from", "all")] = namer.express(vector, identifier(f"from_{first.local}"))
            elif not all(item.implicit for item in present):
                for position in range(len(first.refs)):
                    vector = [item.refs[position] if item is not None else ABSENT for item in row]
                    hint = identifier(f"from_{first.local}")
                    fields[("from", position)] = namer.express(vector, hint, fallback=hint)
            names = [item.local if item is not None else ABSENT for item in row]
            auto = self.auto_named(cluster, row_index)
            hint = identifier(f"name_{first.local}")
            fields["name"] = None if auto else namer.express(names, hint, fallback=hint)
            cluster.fields.append(fields)
        cluster.defaults = {}
        for arg, vector in namer.args.items():
            counts = Counter(value_key(value) for value in vector)
            commonest = max(counts.values())
            cluster.defaults[arg] = next(value for value in vector if counts[value_key(value)] == commonest)
        for column, member in enumerate(cluster.members):
            member.args = {arg: vector[column] for arg, vector in namer.args.items()}

    @staticmethod
    def arg_keys(row: list[Item | None]) -> list[str]:
        """The arguments of a template item: every member's, in the first's order."""
        keys: dict[str, None] = {}
        for item in row:
            if item is not None:
                keys.update(dict.fromkeys(item.layer.args if isinstance(item, OpItem) else item.member.args))
        return list(keys)

    @staticmethod
    def arg_value(item: Item, key: str) -> Any:
        if isinstance(item, OpItem):
            return item.layer.args[key] if key in item.layer.args else DEFAULTS[item.layer.op][key]
        return item.member.args[key]

    @staticmethod
    def auto_named(cluster: Cluster, row_index: int) -> bool:
        """True when every member would name the item ``<op>_<position>`` itself (the spec's default name)."""
        for column, item in enumerate(cluster.rows[row_index]):
            if item is None:
                continue
            if not isinstance(item, OpItem):
                return False
            position = sum(1 for other in cluster.rows[:row_index] if other[column] is not None)
            if item.local != f"{item.layer.op}_{position}":
                return False
        return True

