"""Network specs: read YAML, validate (:mod:`convcalc.specfile.validation`), expand blocks and repeats and resolve
``from:`` references (:mod:`convcalc.specfile.expansion`), and return the layers as a flat graph in topological order.

Every error is a :class:`~convcalc.errors.SpecError` carrying the file, the line and the layer's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convcalc.core.notation import parse_shape
from convcalc.errors import ConvCalcError, SpecError
from convcalc.graph.model import NETWORK_INPUT, Network, Node, Output, Unused
from convcalc.ops.catalogue import canonical_op
from convcalc.specfile.expansion import Expander, topological
from convcalc.specfile.limits import check_layer_count, current_limit
from convcalc.specfile.references import NodeRef, Scope
from convcalc.specfile.validation import validate
from convcalc.specfile.yamlnodes import Located, LocatedList, line_of, load_yaml


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
    sources = [tuple(source.resolve(expander) for source in node.sources) for node in raw]
    inputs = [tuple(index for index, _ in node_sources) for node_sources in sources]
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
            picks=() if all(pick is None for _, pick in sources[old]) else tuple(pick for _, pick in sources[old]),
        )
        for old in order
    )
    expect = dict(top.get("expect") or {})
    expect_data = data.get("expect") if isinstance(data, dict) else None
    expect_lines = dict(expect_data.key_lines) if isinstance(expect_data, Located) else {}
    name = top.get("name") or (Path(file).stem if file else "network")
    outputs = declared_outputs(data, top, expander, root, position)
    unused = tuple(Unused(module, counts["params"], counts.get("buffers", 0)) for module, counts in (top.get("unused") or {}).items())
    return Network(name, input_shape, nodes, file, expect, expect_lines, input_line, outputs, unused)


def declared_outputs(data: Any, top: dict[str, Any], expander: Expander, root: Scope, position: dict[int, int]) -> tuple[Output, ...]:
    """``outputs:``, a list of references (each output named by its reference) or a mapping of names to references,
    resolved like ``from:`` at the end of the top level (``-1`` is the last layer)."""
    given = top.get("outputs")
    if given is None:
        return ()
    raw = data["outputs"]
    line = data.line_of("outputs") if isinstance(data, Located) else 0
    pairs = list(given.items()) if isinstance(given, dict) else [(str(ref), ref) for ref in given]
    outputs = []
    for index, (name, ref) in enumerate(pairs):
        at = raw.line_of(name) if isinstance(raw, Located) else raw.line_of(index) if isinstance(raw, LocatedList) else line
        try:
            node, pick = expander.named(ref, root, len(root.items), at, "").resolve(expander)
        except SpecError as error:
            raise SpecError("outputs: " + error.message.removeprefix("from: "), error.file, error.line) from None
        outputs.append(Output(name, position[node] if node != NETWORK_INPUT else NETWORK_INPUT, pick, at))
    return tuple(outputs)


def check_and_build(data: Any, file: str | None = None, max_layers: int | None = None) -> Network:
    """:func:`build` for loaded YAML that must be a mapping."""
    if not isinstance(data, dict):
        raise SpecError("a spec is a mapping with 'input' and 'layers'", file, line_of(data, 1))
    return build(data, file, max_layers)


def load_text(text: str, file: str | None = None, max_layers: int | None = None) -> Network:
    return check_and_build(load_yaml(text, file), file, max_layers)


MAX_SPEC_BYTES = 4 * 2**20  # above any spec the loader accepts (200,000 values); bounds reading and parsing


def read_spec_bytes(path: str | Path, head: int | None = None) -> bytes:
    """The bytes of a regular file of at most MAX_SPEC_BYTES, refused at once if it is a directory, a FIFO or a
    device (opened without blocking, checked on the open file). With ``head``, only the file's first ``head``
    bytes, whatever its size (what it is: :mod:`convcalc.frontends.sources`)."""
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
            data = handle.read(MAX_SPEC_BYTES + 1 if head is None else head)
        except OSError as error:
            raise SpecError(f"cannot read the file: {error.strerror or error}", str(path)) from None
    if head is None and len(data) > MAX_SPEC_BYTES:
        limit = f"{MAX_SPEC_BYTES // 2**20} MiB" if MAX_SPEC_BYTES % 2**20 == 0 else f"{MAX_SPEC_BYTES:,} bytes"
        raise SpecError(f"larger than {limit}, too large for a spec", str(path))
    return data


def read_spec_text(path: str | Path) -> str:
    """The text of a spec file (UTF-8; a byte-order mark is allowed)."""
    try:
        return read_spec_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError("the file is not UTF-8 text", str(path)) from None


def read_spec_head(path: str | Path, size: int = 16) -> bytes:
    """The first ``size`` bytes of a regular file (refused like :func:`read_spec_bytes`)."""
    return read_spec_bytes(path, size)


def parse_spec_file(path: str | Path) -> Any:
    """A YAML or JSON file's data, every value carrying its line (:mod:`convcalc.specfile.yamlnodes`)."""
    return load_yaml(read_spec_text(path), str(path))


def load(path: str | Path, max_layers: int | None = None) -> Network:
    """Read and expand a spec file."""
    return load_text(read_spec_text(path), str(path), max_layers)
