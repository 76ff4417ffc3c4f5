"""An imported network as a readable spec: repeated modules written once as blocks, instantiated with arguments and
``repeat`` (:mod:`convcalc.frontends.spec_blocks` finds them), every layer keeping its flat name.

The text is written by hand in YAML's flow style (``- conv: {out: 64, k: 3, name: conv1}``), every string YAML
would read as something else quoted. :func:`write_spec` loads what it wrote and compares it, layer by layer, with
the flat spec (:func:`convcalc.frontends.flat.to_spec_data`): should they ever differ, it writes the flat spec.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from convcalc.core.notation import format_shape
from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatNetwork, to_spec_data
from convcalc.frontends.spec_blocks import DEFAULTS, BlockFinder, Cluster, InstanceItem, Item, OpItem
from convcalc.frontends.spec_values import Expr, across_copies, same_value
from convcalc.graph.model import Network
from convcalc.ops.catalogue import canonical_op

PLAIN = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_.\-/]*|\$[A-Za-z_]\w*)$")
YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}
NUMBERED = re.compile(r"^(?P<stem>.*?)(?P<number>0|[1-9][0-9]*)$")
# escaped inside quotes: what YAML cannot hold or reads as a line break (NEL, LS, PS) or a byte-order mark
NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
OP_COLUMN = 12  # ops are padded to this width (``- conv:    {...}``) when they fit


def scalar(value: Any) -> str:
    """One value as YAML reads it back: strings plain only when YAML would not take them for anything else."""
    if isinstance(value, Expr):
        value = value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text  # YAML 1.1 wants the dot
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(str(key))}: {scalar(item)}" for key, item in value.items()) + "}"
    text = str(value)
    if PLAIN.match(text) and text.lower() not in YAML_WORDS:
        return text
    return NON_PRINTABLE.sub(lambda match: f"\\u{ord(match[0]):04x}", json.dumps(text, ensure_ascii=False))


def entry(op: str, fields: list[tuple[str, Any]], indent: str, width: int) -> str:
    """``- op: {key: value, ...}`` (a bare ``- op`` without fields), the mapping starting at column ``width``."""
    if not fields:
        return f"{indent}- {scalar(op)}"
    head = f"{scalar(op)}:".ljust(width)
    return f"{indent}- {head} " + "{" + ", ".join(f"{key}: {scalar(value)}" for key, value in fields) + "}"


def entries(rows: list[tuple[str, list[tuple[str, Any]]]], indent: str) -> list[str]:
    widest = max((len(scalar(op)) + 1 for op, _ in rows if len(scalar(op)) + 1 <= OP_COLUMN), default=0)
    return [entry(op, fields, indent, widest) for op, fields in rows]


class Writer:
    """The readable spec of one flat network."""

    def __init__(self, flat: FlatNetwork) -> None:
        self.flat = flat
        self.finder = BlockFinder(flat)
        self.clusters = self.finder.find()
        self.name_blocks()

    def name_blocks(self) -> None:
        taken: set[str] = set()
        for cluster in self.clusters:
            base = block_name(cluster)
            name, number = base, 2
            while name in taken:
                name, number = f"{base}_{number}", number + 1
            cluster.name = name
            taken.add(name)

    def text(self) -> str:
        lines = [f"name: {scalar(self.flat.name)}", f"input: {input_text(format_shape(self.flat.input_shape))}"]
        if self.flat.description:
            lines.append(f"description: {scalar(self.flat.description)}")
        if self.clusters:
            lines.append("blocks:")
            for cluster in self.clusters:
                lines += self.block_lines(cluster)
        lines.append("layers:")
        lines += entries(self.root_rows(), "  ")
        data = to_spec_data(self.flat)
        lines += tail_lines(data)
        return "\n".join(lines) + "\n"

    def block_lines(self, cluster: Cluster) -> list[str]:
        lines = [f"  {cluster.name}:"]
        if cluster.defaults:
            lines.append(f"    args: {scalar(cluster.defaults)}")
        lines.append("    layers:")
        rows = []
        for row, fields in zip(cluster.rows, cluster.fields):
            first = next(item for item in row if item is not None)
            rows.append(self.template_row(first, fields))
        return lines + entries(rows, "      ")

    def template_row(self, first: Item, fields: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
        written: list[tuple[str, Any]] = []
        if isinstance(first, OpItem):
            op = first.layer.op
            written += [(key, value) for key, value in fields.items() if isinstance(key, str) and key not in ("if", "name")]
        else:
            child = first.member.cluster
            assert child is not None
            op = child.name
            written += [(key, fields[key]) for key in child.defaults
                        if isinstance(fields[key], Expr) or not same_value(fields[key], child.defaults[key])]  # fmt: skip
        sources = [fields[key] for key in sorted(key for key in fields if isinstance(key, tuple) and key[1] != "all")]
        if ("from", "all") in fields:
            written.append(("from", fields[("from", "all")]))
        elif sources:
            written.append(("from", sources if len(sources) > 1 else sources[0]))
        if fields["name"] is not None:
            written.append(("name", fields["name"]))
        if "if" in fields:
            written.append(("if", fields["if"]))
        return op, written

    def root_rows(self) -> list[tuple[str, list[tuple[str, Any]]]]:
        items = self.finder.body("", 0, len(self.flat.layers) - 1, ())
        names = {item.local for item in items if isinstance(item, OpItem)}
        rows: list[tuple[str, list[tuple[str, Any]]]] = []
        index = 0
        while index < len(items):
            item = items[index]
            if isinstance(item, OpItem):
                rows.append(op_row(item, len(rows)))
                index += 1
                continue
            end = index + 1
            while end < len(items) and run_fields(items[index : end + 1], names) is not None:
                end += 1
            op, fields = run_fields(items[index:end], names) or ("", [])
            rows.append((op, fields))
            index = end
        return rows


def op_row(item: OpItem, position: int) -> tuple[str, list[tuple[str, Any]]]:
    layer = item.layer
    fields: list[tuple[str, Any]] = list(layer.args.items())
    if not item.implicit and item.refs:
        fields.append(("from", list(item.refs) if len(item.refs) > 1 else item.refs[0]))
    if item.local != f"{layer.op}_{position}":
        fields.append(("name", item.local))
    return layer.op, fields


def run_fields(items: list[Item], taken: set[str]) -> tuple[str, list[tuple[str, Any]]] | None:
    """The one entry of consecutive instances of one block that chain (each reads the one before) and whose names
    and arguments follow the copy index; None when they do not."""
    first = items[0]
    if not all(isinstance(item, InstanceItem) for item in items):
        return None
    copies: list[InstanceItem] = items  # type: ignore[assignment]
    cluster = copies[0].member.cluster
    assert cluster is not None
    if any(copy.member.cluster is not cluster or not copy.implicit for copy in copies[1:]):
        return None
    fields: list[tuple[str, Any]] = []
    for arg, default in cluster.defaults.items():
        value = across_copies([copy.member.args[arg] for copy in copies])
        if value is None:
            return None
        if isinstance(value, Expr) or not same_value(value, default):
            fields.append((arg, value))
    if not first.implicit:  # type: ignore[union-attr]
        refs = first.refs  # type: ignore[union-attr]
        fields.append(("from", list(refs) if len(refs) > 1 else refs[0]))
    if len(copies) == 1:
        return cluster.name, fields + [("name", copies[0].local)]
    name = copy_names([copy.local for copy in copies], taken)
    if name is None:
        return None
    return cluster.name, fields + [("repeat", len(copies)), ("name", name)]


def copy_names(names: list[str], taken: set[str]) -> Any:
    """The ``name:`` that names a repeat's copies ``names``: ``stage`` for ``stage.0``, ``stage.1``, ...; the
    template ``"block${i + 1}"`` for ``block1``, ``block2``, ...; None for names that do not count up."""
    matches = [NUMBERED.match(name) for name in names]
    if any(match is None for match in matches):
        return None
    stem, start = matches[0]["stem"], int(matches[0]["number"])  # type: ignore[index]
    if any(match["stem"] != stem or int(match["number"]) != start + k for k, match in enumerate(matches)):  # type: ignore[index]
        return None
    if stem.endswith(".") and start == 0 and stem[:-1] not in taken and stem[:-1] != "input":
        return stem[:-1]
    return Expr(stem + ("${i}" if start == 0 else f"${{i + {start}}}"))


def block_name(cluster: Cluster) -> str:
    """The block's name: its class in snake case (``Bottleneck`` -> ``bottleneck``), not an op's name."""
    if cluster.cls.startswith("?"):  # no class known: the first instance's last word (``inception3a`` -> inception)
        words = [part for part in cluster.members[0].scope.path.split(".") if not part.isdigit()]
        base = re.sub(r"[0-9]+[a-z]?$", "", words[-1]) if words else "block"
    else:
        base = cluster.cls
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()
    name = re.sub(r"[^a-z0-9_]+", "_", name).strip("_") or "block"
    if name[0].isdigit():
        name = "block_" + name
    return name + "_block" if canonical_op(name) is not None or name == "input" else name


def input_text(shape: str) -> str:
    return shape if re.fullmatch(r"[0-9]+(?:x[0-9]+)+", shape) else scalar(shape)


def tail_lines(data: dict[str, Any]) -> list[str]:
    """``outputs:`` and ``unused:`` as the flat spec has them."""
    lines = []
    if "outputs" in data:
        lines.append("outputs:")
        lines += [f"  {scalar(str(name))}: {scalar(ref)}" for name, ref in data["outputs"].items()]
    if "unused" in data:
        lines.append("unused:")
        lines += [f"  {scalar(str(path))}: {scalar(counts)}" for path, counts in data["unused"].items()]
    return lines


def flat_text(flat: FlatNetwork) -> str:
    """The flat spec (every layer with its name and ``from``) in the same style."""
    data = to_spec_data(flat)
    lines = [f"name: {scalar(data['name'])}", f"input: {input_text(data['input'])}"]
    if "description" in data:
        lines.append(f"description: {scalar(data['description'])}")
    lines.append("layers:")
    rows = [(op, list(args.items())) for layer in data["layers"] for op, args in layer.items()]
    return "\n".join(lines + entries(rows, "  ") + tail_lines(data)) + "\n"


def signature(network: Network) -> tuple[Any, ...]:
    """What makes two networks give the same numbers: every layer's name, op, arguments and inputs, the outputs
    and the unused modules."""
    nodes = tuple((node.name, node.op, without_defaults(node.op, node.args), node.inputs, node.picks) for node in network.nodes)
    outputs = tuple((output.name, output.node, output.pick) for output in network.outputs)
    return nodes, outputs, network.unused, network.input_shape


def without_defaults(op: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments without those written at their default value (``s: 1`` on a conv)."""
    defaults = DEFAULTS.get(op, {})
    return {key: value for key, value in args.items() if key not in defaults or not same_value(value, defaults[key])}


def write_spec(flat: FlatNetwork, verify: bool = True) -> str:
    """The readable spec of ``flat``: the same layers, names, shapes and numbers as :func:`to_spec_data`'s flat
    spec. With ``verify`` (the default) both are loaded and compared; the flat spec is written if they differ or if
    the flat network itself does not load."""
    from convcalc.specfile.loader import build, load_text

    if not flat.layers:
        return flat_text(flat)
    text = Writer(flat).text()
    if not verify:
        return text
    try:
        expected = signature(build(to_spec_data(flat), max_layers=10 * len(flat.layers) + 10))
        written = signature(load_text(text, max_layers=10 * len(flat.layers) + 10))
    except ConvCalcError:
        return flat_text(flat)
    return text if written == expected else flat_text(flat)
