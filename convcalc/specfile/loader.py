"""Network specs: read YAML, validate (pydantic-core schemas generated from :mod:`convcalc.specfile.schema`), expand
blocks and repeats, resolve ``from:`` references and return the layers as a flat graph in topological order.

Every error is a :class:`~convcalc.errors.SpecError` carrying the file, the line and the layer's name.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convcalc.core.notation import parse_shape, per_dim_value
from convcalc.errors import ConvCalcError, SpecError
from convcalc.graph.model import NETWORK_INPUT, Network, Node
from convcalc.ops.catalogue import OP_ARG_TYPES, canonical_op, normalise, spellings
from convcalc.specfile.expressions import ExprError, substitute
from convcalc.specfile.limits import MAX_BLOCK_DEPTH, check_layer_count, current_limit
from convcalc.specfile.yamlnodes import Located, LocatedList, line_of, load_yaml

LAYER_KEYS = ("name", "from", "repeat", "if", "trainable", "expect")


# --------------------------------------------------------------------------- validation with pydantic-core

_validators: dict[str, Any] = {}
_aliases: dict[str, dict[str, str]] = {}


def validator(type_name: str) -> Any:
    if type_name not in _validators:
        from pydantic_core import SchemaValidator

        from convcalc.specfile._coreschemas import SCHEMAS

        _validators[type_name] = SchemaValidator(SCHEMAS[type_name])
        _aliases[type_name] = {
            alias[0]: name
            for name, spec in SCHEMAS[type_name].get("fields", {}).items()
            for alias in spec.get("validation_alias", [])
        }
    return _validators[type_name]


def validate(type_name: str, data: Any, file: str | None, line: int, layer: str | None) -> dict[str, Any]:
    """Validate ``data``; the first error becomes a SpecError at its key's line (an unknown key first, with the
    nearest known key, since a misspelt key also shows up as a missing one)."""
    from pydantic_core import ValidationError

    try:
        return dict(validator(type_name).validate_python(data))
    except ValidationError as error:
        problems = error.errors()
        problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
        loc = problem["loc"]
        key = loc[0] if loc else None
        where = line
        if isinstance(data, Located) and key is not None:
            where = data.line_of(key)
        if problem["type"] == "extra_forbidden":
            message = f"unknown key {key!r}{did_you_mean(str(key), known_keys(type_name))}"
        elif problem["type"] == "missing":
            message = f"missing required key {key!r}"
        else:
            label = ".".join(str(part) for part in loc if not str(part).startswith(("list[", "constrained", "int", "literal")))
            message = f"{label}: {plain_message(problem['msg'])}, got {yaml_text(problem.get('input'))}"
        raise SpecError(message, file, where, layer) from None


def known_keys(type_name: str) -> list[str]:
    """The keys a type accepts: canonical names and their aliases."""
    validator(type_name)
    return sorted(set(_aliases[type_name]) | set(_aliases[type_name].values()) | set(_field_names(type_name)))


def _field_names(type_name: str) -> list[str]:
    from convcalc.specfile._coreschemas import SCHEMAS

    return list(SCHEMAS[type_name].get("fields", {}))


def did_you_mean(word: str, choices: list[str]) -> str:
    """``; did you mean 'layers'?`` for the nearest choices, or nothing."""
    from difflib import get_close_matches

    close = get_close_matches(word, choices, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(choice) for choice in close)}?" if close else ""


def plain_message(text: str) -> str:
    """pydantic's message without its word "Input" (which reads like the spec's key ``input``)."""
    text = text.replace("Input should be", "should be").replace("a valid integer", "a whole number")
    return _lower_first(text)


def yaml_text(value: Any) -> str:
    """A value as the spec writes it: true/false/null, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------- references


class Ref:
    """Something that names a node once every layer is known (``from:`` may point forward)."""

    def resolve(self, expander: Expander) -> int:
        raise NotImplementedError


@dataclass(eq=False)
class NodeRef(Ref):
    index: int

    def resolve(self, expander: Expander) -> int:
        return self.index


@dataclass(eq=False)
class Scope:
    """The layers of the top level or of one block instance; names in it are local."""

    prefix: str
    input: Ref
    items: list[Ref] = field(default_factory=list)
    names: dict[str, Ref] = field(default_factory=dict)
    line: int = 0


@dataclass(eq=False)
class ScopeOut(Ref):
    scope: Scope

    def resolve(self, expander: Expander) -> int:
        if not self.scope.items:
            raise SpecError("block has no layers", expander.file, self.scope.line, self.scope.prefix.rstrip("."))
        return self.scope.items[-1].resolve(expander)


@dataclass(eq=False)
class Previous(Ref):
    scope: Scope
    position: int

    def resolve(self, expander: Expander) -> int:
        return (self.scope.items[self.position - 1] if self.position else self.scope.input).resolve(expander)


@dataclass(eq=False)
class Named(Ref):
    scope: Scope
    target: str | int
    position: int
    line: int
    layer: str

    def resolve(self, expander: Expander) -> int:
        target, scope = self.target, self.scope
        if isinstance(target, int) and not isinstance(target, bool):
            if target >= 0:
                raise SpecError(f"from: {target} must be a name or a negative index like -2", expander.file, self.line, self.layer)
            index = self.position + target
            if index < -1:
                raise SpecError(f"from: {target} reaches before the first layer", expander.file, self.line, self.layer)
            return (scope.items[index] if index >= 0 else scope.input).resolve(expander)
        name = str(target)
        if name == "input":
            return scope.input.resolve(expander)
        if name in scope.names:
            return scope.names[name].resolve(expander)
        if scope.prefix + name in expander.all_names:
            return expander.all_names[scope.prefix + name].resolve(expander)
        if name in expander.all_names:
            return expander.all_names[name].resolve(expander)
        raise SpecError(f"from: no layer named {name!r}", expander.file, self.line, self.layer)


# --------------------------------------------------------------------------- expansion


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
        common = {key: args[key] for key in LAYER_KEYS if key in args}
        rest = {key: value for key, value in args.items() if key not in LAYER_KEYS}
        raw_name = common.get("name")
        # a repeated layer's name may use the index: `name: "features.${i + 1}"` names each copy
        template = raw_name if "repeat" in common and isinstance(raw_name, str) and "$" in raw_name else None
        try:
            common = {key: substitute(value, names) for key, value in common.items() if key not in ("if", "name")} | (
                {"if": substitute(common["if"], names)} if "if" in common else {}
            )
            if raw_name is not None:
                common["name"] = raw_name if template else substitute(raw_name, names)
        except ExprError as error:
            raise self.fail(str(error), line, layer_hint) from None
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
        instances = []  # (instance name, arguments with the repeat index i substituted)
        for index in range(repeat):
            instance = base + (f".{index}" if repeat > 1 else "")
            try:
                if template:
                    instance = str(substitute(template, names | {"i": index}))
                instance_args = {key: per_dim_value(substitute(value, names | {"i": index})) for key, value in rest.items()}
            except ExprError as error:
                raise self.fail(str(error), line, scope.prefix + instance) from None
            taken = instance in scope.names or scope.prefix + instance in self.all_names
            if template and (taken or any(instance == other for other, _ in instances)):
                raise self.fail(f"duplicate layer name {instance!r}", key_lines.get("name", line), scope.prefix + instance)
            instances.append((instance, instance_args))
        if template:
            base = instances[-1][0]
        output: Ref = sources[0]
        if op_name in self.blocks:
            output = self.expand_block(op_name, instances, sources, line, scope, blocks, layer_trainable, depth)
        else:
            op = canonical_op(op_name)
            if op is None:
                raise self.fail(unknown_op_message(op_name, self.blocks), line, scope.prefix + base)
            lines = _canonical_lines(OP_ARG_TYPES[op], key_lines)
            for index, (instance, instance_args) in enumerate(instances):
                name = scope.prefix + instance
                if len(self.nodes) >= self.max_layers:
                    raise self.fail(f"the network expands to more than {self.max_layers:,} layers, over the limit "
                                    "(raise it with --max-layers N)", line, name)
                validated = validate(OP_ARG_TYPES[op], _located(instance_args, key_lines, line), self.file, line, name)
                node_sources = sources if index == 0 else [output]
                self.nodes.append(
                    RawNode(name, op, validated, node_sources, line, lines, blocks, layer_trainable, common.get("expect"))
                )
                output = NodeRef(len(self.nodes) - 1)
                self.all_names[name] = output
        scope.items.append(output)
        scope.names[base] = output
        self.all_names[scope.prefix + base] = output

    def expand_block(
        self, block_name: str, instances: list[tuple[str, dict[str, Any]]], sources: list[Ref], line: int,
        scope: Scope, blocks: tuple[str, ...], trainable: bool, depth: int,
    ) -> Ref:  # fmt: skip
        block = self.blocks[block_name]
        defaults = block.get("args") or {}
        if len(sources) > 1:
            raise self.fail("a block takes one input", line, scope.prefix + instances[0][0])
        previous: Ref = sources[0]
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
        return [Named(scope, target, position, line, layer) for target in targets]


def unknown_op_message(op_name: str, blocks: dict[str, Any]) -> str:
    """``unknown op 'conv2' (...); did you mean 'conv2d'?`` among the ops' spellings and the spec's blocks."""
    hint = did_you_mean(normalise(op_name), [*spellings(), *blocks])
    return f"unknown op {op_name!r}{hint} (`convcalc ops` lists them)"


def _located(args: dict[str, Any], key_lines: dict[str, int], line: int) -> Located:
    located = Located(args)
    located.line, located.key_lines = line, key_lines
    return located


def _canonical_lines(type_name: str, key_lines: dict[str, int]) -> dict[str, int]:
    validator(type_name)
    aliases = _aliases[type_name]
    return {aliases.get(key, key): value for key, value in key_lines.items()}


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


def build(data: Any, file: str | None = None, max_layers: int | None = None) -> Network:
    """Validate a loaded spec and expand it into a :class:`Network` of at most ``max_layers`` layers (default: the
    limit in force, one million unless ``--max-layers`` says otherwise)."""
    max_layers = current_limit() if max_layers is None else max_layers
    top = validate("NetSpec", data, file, line_of(data, 1), None)
    blocks = top.get("blocks") or {}
    for block_name, block in blocks.items():
        if canonical_op(block_name) is not None:
            line = data["blocks"].line_of(block_name) if isinstance(data.get("blocks"), Located) else 0
            raise SpecError(f"block name {block_name!r} is already an op", file, line)
        validate("BlockDef", block, file, line_of(block), block_name)
    input_line = data.line_of("input") if isinstance(data, Located) else 0
    raw_input = top["input"]
    try:
        if isinstance(raw_input, int):  # a feature count, as `layer --in 784`
            raw_input = [raw_input]
        input_shape = parse_shape(raw_input) if isinstance(raw_input, str) else parse_shape("x".join(map(str, raw_input)))
    except ConvCalcError as error:
        raise SpecError(f"input: {error.message}", file, input_line) from None
    # expand from the loaded data, which keeps every line number (the validated copy is plain dicts)
    block_data = {name: data["blocks"][name] for name in blocks}
    check_layer_count(data["layers"], block_data, max_layers, file)
    expander = Expander(file, block_data, max_layers)
    root = Scope(prefix="", input=NodeRef(NETWORK_INPUT), line=data.line_of("layers") if isinstance(data, Located) else 0)
    expander.expand(data["layers"], root, {}, (), True, 0)
    raw = expander.nodes
    inputs = [tuple(source.resolve(expander) for source in node.sources) for node in raw]
    order = topological(raw, inputs, file)
    position = {old: new for new, old in enumerate(order)}
    nodes = tuple(
        Node(
            index=position[old],
            name=raw[old].name,
            op=raw[old].op,
            args=raw[old].args,
            inputs=tuple(position[i] if i != NETWORK_INPUT else NETWORK_INPUT for i in inputs[old]),
            line=raw[old].line,
            key_lines=raw[old].key_lines,
            blocks=raw[old].blocks,
            trainable=raw[old].trainable,
            expect=raw[old].expect,
        )
        for old in order
    )
    expect = dict(top.get("expect") or {})
    expect_data = data.get("expect") if isinstance(data, dict) else None
    expect_lines = dict(expect_data.key_lines) if isinstance(expect_data, Located) else {}
    name = top.get("name") or (Path(file).stem if file else "network")
    return Network(name, input_shape, nodes, file, expect, expect_lines, input_line)


def load_text(text: str, file: str | None = None, max_layers: int | None = None) -> Network:
    data = load_yaml(text, file)
    if not isinstance(data, dict):
        raise SpecError("a spec is a mapping with 'input' and 'layers'", file, line_of(data, 1))
    return build(data, file, max_layers)


MAX_SPEC_BYTES = 4 * 2**20  # above any spec the loader accepts (200,000 values); bounds reading and parsing


def read_spec_bytes(path: str | Path) -> bytes:
    """The bytes of a regular file of at most MAX_SPEC_BYTES, refused at once if it is a directory, a FIFO or a
    device (opened without blocking, checked on the open file)."""
    import os
    import stat

    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise SpecError("no such file", str(path)) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a regular file", str(path)) from None
    except OSError as error:
        raise SpecError(f"cannot read the file: {error.strerror or error}", str(path)) from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = "is a directory, not a regular file" if stat.S_ISDIR(mode) else "not a regular file"
        raise SpecError(kind, str(path))
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(MAX_SPEC_BYTES + 1)
        except OSError as error:
            raise SpecError(f"cannot read the file: {error.strerror or error}", str(path)) from None
    if len(data) > MAX_SPEC_BYTES:
        limit = f"{MAX_SPEC_BYTES // 2**20} MiB" if MAX_SPEC_BYTES % 2**20 == 0 else f"{MAX_SPEC_BYTES:,} bytes"
        raise SpecError(f"larger than {limit}, too large for a spec", str(path))
    return data


def read_spec_text(path: str | Path) -> str:
    """The text of a spec file (UTF-8; a byte-order mark is allowed)."""
    try:
        return read_spec_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError("the file is not UTF-8 text", str(path)) from None


def load(path: str | Path, max_layers: int | None = None) -> Network:
    """Read and expand a spec file."""
    return load_text(read_spec_text(path), str(path), max_layers)
