"""Expansion of a validated spec: blocks and repeats become a flat list of layers, each with its arguments validated
and its ``from:`` references (:mod:`convcalc.specfile.references`) recorded; :func:`topological` then orders them.

Every error is a :class:`~convcalc.errors.SpecError` carrying the file, the line and the layer's name.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from typing import Any

from convcalc.core.notation import per_dim_value
from convcalc.errors import SpecError
from convcalc.graph.model import NETWORK_INPUT
from convcalc.ops.catalogue import MERGES, OP_ARG_TYPES, SOURCES, canonical_op, normalise, spellings
from convcalc.specfile.expressions import ExprError, substitute
from convcalc.specfile.limits import MAX_BLOCK_DEPTH
from convcalc.specfile.references import BlockInputs, Named, NodeRef, Previous, Ref, Scope, ScopeOut
from convcalc.specfile.validation import canonical_lines, did_you_mean, validate
from convcalc.specfile.yamlnodes import Located, LocatedList, line_of

LAYER_KEYS = ("name", "from", "repeat", "if", "trainable", "expect")
PICK = re.compile(r"^(?P<target>.*?)\[\s*(?P<pick>[+-]?[0-9]+)\s*\]$")  # ``from: split1[1]``, ``-1[0]``, ``input[0]``
RELATIVE = re.compile(r"^\s*-?[0-9]+\s*$")


@dataclass
class RawNode:
    name: str
    op: str
    args: dict[str, Any]
    sources: list[Ref]
    line: int
    key_lines: dict[str, int]
    blocks: tuple[str, ...]
    trainable: bool
    expect: str | None


@dataclass(frozen=True)
class EntryFacts:
    """What every node made from one spec entry shares: its line, its keys' lines, its blocks, trainable, expect."""

    line: int
    key_lines: dict[str, int]
    blocks: tuple[str, ...]
    trainable: bool
    expect: str | None


class Expander:
    def __init__(self, file: str | None, blocks: dict[str, Any], max_layers: int) -> None:
        self.file = file
        self.blocks = blocks
        self.max_layers = max_layers
        self.nodes: list[RawNode] = []
        self.all_names: dict[str, Ref] = {}

    def fail(self, message: str, line: int, layer: str | None = None) -> SpecError:
        return SpecError(message, self.file, line, layer)

    def expand(
        self,
        entries: Any,
        scope: Scope,
        names: dict[str, Any],
        blocks: tuple[str, ...],
        trainable: bool,
        depth: int,
    ) -> None:
        if depth > MAX_BLOCK_DEPTH:
            raise self.fail(f"blocks nest deeper than {MAX_BLOCK_DEPTH} (does a block use itself?)", scope.line)
        if not isinstance(entries, list):
            raise self.fail("layers must be a list", line_of(entries, scope.line))
        for position, entry in enumerate(entries):
            line = entries.line_of(position) if isinstance(entries, LocatedList) else scope.line
            self.expand_entry(entry, line, scope, names, blocks, trainable, depth)

    def expand_entry(
        self, entry: Any, line: int, scope: Scope, names: dict[str, Any], blocks: tuple[str, ...], trainable: bool, depth: int
    ) -> None:
        op_name, args = self.split_entry(entry, line)
        key_lines = dict(args.key_lines) if isinstance(args, Located) else {}
        layer_hint = args.get("name") if isinstance(args.get("name"), str) else op_name
        common, template = self.layer_keys(args, names, line, layer_hint)
        if "if" in common and not common["if"]:
            return
        repeat = common.get("repeat", 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise self.fail(f"repeat must be a whole number >= 1, got {repeat!r}", key_lines.get("repeat", line), layer_hint)
        local_name = common.get("name")
        if local_name is not None and (not isinstance(local_name, (str, int)) or isinstance(local_name, bool)):
            raise self.fail(f"name must be a string, got {local_name!r}", key_lines.get("name", line))
        position = len(scope.items)
        base = str(local_name) if local_name is not None else f"{op_name}_{position}"
        if base in scope.names or base == "input":
            raise self.fail(f"duplicate layer name {base!r}", key_lines.get("name", line), scope.prefix + base)
        layer_trainable = trainable and bool(common.get("trainable", True))
        sources = self.sources(common.get("from"), scope, position, key_lines.get("from", line), scope.prefix + base)
        if isinstance(scope.input, BlockInputs) and (op_name in self.blocks or canonical_op(op_name) in MERGES):
            sources = scope.input.spread(sources)
        rest = {key: value for key, value in args.items() if key not in LAYER_KEYS}
        instances = self.instances(base, template, rest, repeat, names, scope, key_lines.get("name", line), line)
        if template:
            base = instances[-1][0]
        if op_name in self.blocks:
            output = self.expand_block(op_name, instances, sources, line, scope, blocks, layer_trainable, depth)
        else:
            layer = EntryFacts(line, key_lines, blocks, layer_trainable, common.get("expect"))
            output = self.expand_op(op_name, instances, sources, scope.prefix + base, scope, layer)
        scope.items.append(output)
        scope.names[base] = output
        self.all_names[scope.prefix + base] = output

    def layer_keys(
        self, args: dict[str, Any], names: dict[str, Any], line: int, layer_hint: Any
    ) -> tuple[dict[str, Any], str | None]:
        """The keys every layer takes (name, from, repeat, if, ...) with the block's arguments substituted, and the
        name template of a repeated layer whose name uses the index (``name: "features.${i + 1}"`` names each copy)."""
        common = {key: args[key] for key in LAYER_KEYS if key in args}
        raw_name = common.get("name")
        template = raw_name if "repeat" in common and isinstance(raw_name, str) and "$" in raw_name else None
        try:
            common = {key: substitute(value, names) for key, value in common.items() if key not in ("if", "name")} | (
                {"if": substitute(common["if"], names)} if "if" in common else {}
            )
            if raw_name is not None:
                common["name"] = raw_name if template else substitute(raw_name, names)
        except ExprError as error:
            raise self.fail(str(error), line, layer_hint) from None
        return common, template

    def instances(
        self, base: str, template: str | None, rest: dict[str, Any], repeat: int, names: dict[str, Any], scope: Scope,
        name_line: int, line: int,
    ) -> list[tuple[str, dict[str, Any]]]:  # fmt: skip
        """(instance name, arguments with the repeat index i substituted) for each of the ``repeat`` copies."""
        instances: list[tuple[str, dict[str, Any]]] = []
        for index in range(repeat):
            instance = base + (f".{index}" if repeat > 1 else "")
            try:
                if template:
                    instance = str(substitute(template, names | {"i": index}))
                instance_args = {key: per_dim_value(substitute(value, names | {"i": index})) for key, value in rest.items()}
            except ExprError as error:
                raise self.fail(str(error), line, scope.prefix + instance) from None
            if "[" in instance or "]" in instance:  # ``from: name[k]`` picks an output: names cannot hold brackets
                raise self.fail(f"layer name {instance!r} cannot contain '[' or ']' (from: name[k] picks output k)",
                                name_line, scope.prefix + instance)  # fmt: skip
            taken = instance in scope.names or scope.prefix + instance in self.all_names
            if template and (taken or any(instance == other for other, _ in instances)):
                raise self.fail(f"duplicate layer name {instance!r}", name_line, scope.prefix + instance)
            instances.append((instance, instance_args))
        return instances

    def expand_op(
        self, op_name: str, instances: list[tuple[str, dict[str, Any]]], sources: list[Ref], layer_name: str,
        scope: Scope, layer: EntryFacts,
    ) -> Ref:  # fmt: skip
        """One node per instance, its arguments validated; the copies of a repeated layer form a chain."""
        op = canonical_op(op_name)
        if op is None:
            raise self.fail(unknown_op_message(op_name, self.blocks), layer.line, layer_name)
        lines = canonical_lines(OP_ARG_TYPES[op], layer.key_lines)
        if op in SOURCES:  # a learnable tensor (param) has no input: a written ``from:`` is a mistake
            if not isinstance(sources[0], Previous):
                raise self.fail(f"{op} takes no input (no from:)", layer.key_lines.get("from", layer.line), layer_name)
            sources = []
        output: Ref = sources[0] if sources else NodeRef(NETWORK_INPUT)
        for index, (instance, instance_args) in enumerate(instances):
            name = scope.prefix + instance
            if len(self.nodes) >= self.max_layers:
                raise self.fail(f"the network expands to more than {self.max_layers:,} layers, over the limit "
                                "(raise it with --max-layers N)", layer.line, name)
            located = _located(instance_args, layer.key_lines, layer.line)
            validated = validate(OP_ARG_TYPES[op], located, self.file, layer.line, name)
            node_sources = sources if index == 0 or not sources else [output]
            self.nodes.append(
                RawNode(name, op, validated, node_sources, layer.line, lines, layer.blocks, layer.trainable, layer.expect)
            )
            output = NodeRef(len(self.nodes) - 1)
            self.all_names[name] = output
        return output

    def expand_block(
        self, block_name: str, instances: list[tuple[str, dict[str, Any]]], sources: list[Ref], line: int,
        scope: Scope, blocks: tuple[str, ...], trainable: bool, depth: int,
    ) -> Ref:  # fmt: skip
        block = self.blocks[block_name]
        defaults = block.get("args") or {}
        previous: Ref = sources[0] if len(sources) == 1 else BlockInputs(sources, line, scope.prefix + instances[0][0])
        for instance, given in instances:
            unknown = sorted(set(given) - set(defaults))
            if unknown:
                arguments = ", ".join(defaults) or "none"
                raise self.fail(
                    f"block {block_name!r} has no argument {unknown[0]!r} (arguments: {arguments})",
                    line,
                    scope.prefix + instance,
                )
            child = Scope(prefix=scope.prefix + instance + ".", input=previous, line=line)
            self.expand(block["layers"], child, {**defaults, **given}, blocks + (scope.prefix + instance,), trainable, depth + 1)
            previous = ScopeOut(child)
            self.all_names[scope.prefix + instance] = previous
        return previous

    def split_entry(self, entry: Any, line: int) -> tuple[str, dict[str, Any]]:
        if isinstance(entry, str):
            empty = Located()
            empty.line, empty.key_lines = line, {}
            return entry, empty
        if isinstance(entry, dict) and len(entry) == 1:
            (op_name, args), = entry.items()
            if args is None:
                args = Located()
                args.line, args.key_lines = line, {}
            if not isinstance(args, dict):
                raise self.fail(f"the arguments of {op_name!r} must be a mapping like {{k: 3}}, got {args!r}", line, str(op_name))
            return str(op_name), args
        raise self.fail("a layer is `op: {args}` (one key) or a bare op name", line)

    def sources(self, value: Any, scope: Scope, position: int, line: int, layer: str) -> list[Ref]:
        if value is None:
            return [Previous(scope, position)]
        targets = value if isinstance(value, list) else [value]
        if not targets:
            raise self.fail("from: needs at least one layer", line, layer)
        for target in targets:
            if not isinstance(target, (str, int)) or isinstance(target, bool):
                raise self.fail(f"from: expected a name or a negative index, got {target!r}", line, layer)
        return [self.named(target, scope, position, line, layer) for target in targets]

    def named(self, target: str | int, scope: Scope, position: int, line: int, layer: str) -> Named:
        """One ``from:`` target; ``name[k]`` (or ``-1[k]``) picks output k of a layer with several outputs."""
        if isinstance(target, str) and ("[" in target or "]" in target):
            match = PICK.match(target.strip())
            if match is None or not match["target"] or "[" in match["target"] or "]" in match["target"]:
                raise self.fail(f"from: {target!r}: an output is picked as name[k], k a whole number (split1[1], -1[0])",
                                line, layer)  # fmt: skip
            name = match["target"].strip()
            base: str | int = int(name) if RELATIVE.match(name) else name
            return Named(scope, base, position, line, layer, int(match["pick"]))
        return Named(scope, target, position, line, layer)


def unknown_op_message(op_name: str, blocks: dict[str, Any]) -> str:
    """``unknown op 'conv2' (...); did you mean 'conv2d'?`` among the ops' spellings and the spec's blocks."""
    hint = did_you_mean(normalise(op_name), [*spellings(), *blocks])
    return f"unknown op {op_name!r}{hint} (`convcalc ops` lists them)"


def _located(args: dict[str, Any], key_lines: dict[str, int], line: int) -> Located:
    located = Located(args)
    located.line, located.key_lines = line, key_lines
    return located


def topological(nodes: list[RawNode], inputs: list[tuple[int, ...]], file: str | None) -> list[int]:
    """Kahn's algorithm, keeping the written order where the graph allows; a cycle is an error."""
    users: list[list[int]] = [[] for _ in nodes]
    waiting = [0] * len(nodes)
    for index, sources in enumerate(inputs):
        for source in sources:
            if source != NETWORK_INPUT:
                users[source].append(index)
                waiting[index] += 1
    ready = [index for index, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for user in users[index]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(order) < len(nodes):
        stuck = min((index for index, count in enumerate(waiting) if count), key=lambda i: nodes[i].line)
        names = [nodes[i].name for i, count in enumerate(waiting) if count][:4]
        raise SpecError(f"the layers form a cycle through {', '.join(names)}", file, nodes[stuck].line, nodes[stuck].name)
    return order
