"""``convcalc check --update``: write the current numbers into a spec's ``expect:`` fields by editing its text line
by line, so comments, layout, line endings and the BOM are kept. Every file is planned and verified before any is
written, and each is replaced through a temporary file beside it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from convcalc.check.discovery import collect, read_spec_source
from convcalc.check.expectations import check_network, largest_field, load_and_analyze, parse_comparison
from convcalc.check.yaml_lines import (
    BLOCK_ITEM,
    FLOW_ITEM,
    KEY_LINE,
    Edit,
    end_line,
    replace_value_edit,
    set_in_flow,
    split_comment,
)
from convcalc.core.notation import format_shape
from convcalc.errors import SpecError

# --------------------------------------------------------------------------- files


@dataclass
class UpdateResult:
    """What --update did (or will do) to one file."""

    file: str
    written: int  # expectations written (layers and top level)
    skipped: list[str]  # layers that could not get an expectation, with the reason
    changed: bool
    spec: bool = True  # false: found by a search and no spec, left alone


@dataclass(frozen=True)
class PlannedUpdate:
    """What --update will write to one file: ``data`` (None: nothing to write)."""

    result: UpdateResult
    data: bytes | None


def plan_update(path: str, named: bool = True) -> PlannedUpdate:
    """Work out one file's new bytes without writing (same BOM and line endings). A named file that is no spec is
    a SpecError; one found by a search is left alone."""
    source = read_spec_source(path, named)
    if source is None:
        return PlannedUpdate(UpdateResult(path, 0, [], False, spec=False), None)
    new_text, written, skipped = update_text(source.text, path, source.newline)
    changed = new_text != source.text
    if changed:
        verify_update(source.text, new_text, path)
    return PlannedUpdate(UpdateResult(path, written, skipped, changed), source.encode(new_text) if changed else None)


def _outcome(text: str, file: str) -> tuple[list[tuple[str, str]], set[tuple[str, str | None, str]] | None]:
    """A spec's layers (name, op) and its failed expectations (None when an expectation cannot be read)."""
    network, report = load_and_analyze(text, file)
    layers = [(node.name, node.op) for node in network.nodes]
    try:
        _, failures = check_network(network, report)
    except SpecError:
        return layers, None
    return layers, {(failure.key, failure.layer, failure.message) for failure in failures}


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def verify_update(old: str, new: str, file: str) -> None:
    """The updated text must load to the same layers and fail no expectation the old one passed: else a SpecError,
    and nothing is written (a layout --update does not know, such as a spec written as one JSON object)."""
    if _is_json(old) and not _is_json(new):
        raise SpecError("--update cannot edit this layout (the JSON would become YAML); nothing written", file)
    old_layers, old_failures = _outcome(old, file)
    try:
        new_layers, new_failures = _outcome(new, file)
    except SpecError as error:
        raise SpecError(f"--update cannot edit this layout ({error.message}); nothing written", file) from None
    broken = old_failures is not None and (new_failures is None or not new_failures <= old_failures)
    if new_layers != old_layers or broken:
        raise SpecError("--update cannot edit this layout (the result would not hold); nothing written", file)


def write_bytes(path: str, data: bytes) -> None:
    """Replace the file's content through a temporary file beside it, so a failed write loses nothing."""
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".convcalc-", dir=folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            shutil.copymode(target, temporary)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise SpecError(f"cannot write the file: {error.strerror or error}", path) from None


def update_paths(paths: Sequence[str], named_non_specs: bool = True) -> list[UpdateResult]:
    """--update for files, folders and globs: every file is planned first, so an invalid spec or a named file that
    is no spec stops the run before anything is written (SpecError)."""
    plans = [plan_update(path, named and named_non_specs) for path, named in collect(paths)]
    for plan in plans:
        if plan.data is not None:
            write_bytes(plan.result.file, plan.data)
    return [plan.result for plan in plans]


# --------------------------------------------------------------------------- the text


def update_text(text: str, file: str | None = None, newline: str = "\n") -> tuple[str, int, list[str]]:
    """The spec's text with current output shapes in every layer's ``expect:`` and the top-level ``expect:`` set to
    the output shape and ``params`` (added as ``"== N"`` when absent). Of the top-level ``params``, ``macs``,
    ``flops`` and ``receptive_field`` only exact values (``"== N"`` or a plain number, kept in the form written)
    are refreshed; bounds (``"<= 100k"``, ``"!= 0"``) are left alone. Returns (text, expectations written, layers
    skipped with why). Lines added end with ``newline``.

    Layers get an expectation when written on one line in flow style (``- conv: {out: 6, k: 5}``: inserted inside the
    braces) or with block-style arguments (an ``expect:`` line at the arguments' indentation). Bare ops
    (``- relu``), layers inside blocks and layers with ``repeat`` are skipped: their line stands for several layers
    or none can hold the key. Comments and everything else in the file are kept byte for byte."""
    from convcalc.specfile.yamlnodes import load_yaml

    network, report = load_and_analyze(text, file)
    data = load_yaml(text, file)
    lines = text.splitlines(keepends=True)
    edits, written, skipped = _layer_edits(lines, network, report, newline)
    written += _top_edit(lines, data, network, report, edits, newline)
    out: list[str] = []
    for index, line in enumerate(lines):
        out.extend(edits[index](line) if index in edits else [line])
    return "".join(out), written, skipped


def _layer_edits(lines: list[str], network: Any, report: Any, newline: str) -> tuple[dict[int, Edit], int, list[str]]:
    """Each layer's ``expect:`` set to its output shape where its line can hold one: (edits by 0-based line index,
    expectations written, layers skipped with why)."""
    edits: dict[int, Edit] = {}
    skipped: list[str] = []
    written = 0
    per_line = Counter(node.line for node in network.nodes if not node.blocks)
    for node, row in zip(network.nodes, report.rows):
        if node.blocks:
            continue
        if per_line[node.line] > 1:
            skipped.append(f"{node.name}: repeat (one line, several layers)")
            continue
        edit = _layer_edit(lines, node, format_shape(row.output_shape), newline)
        if edit is None:
            if node.key_lines or node.expect is not None:
                skipped.append(f"{node.name}: layout not recognised")
            continue
        index, replacement = edit
        edits[index] = replacement
        written += 1
    return edits, written, skipped


def _layer_edit(lines: list[str], node: Any, shape: str, newline: str = "\n") -> tuple[int, Edit] | None:
    """The edit that sets one layer's ``expect: shape``; None for a layout not recognised."""
    index = node.line - 1
    if not 0 <= index < len(lines):
        return None
    code, _, _ = split_comment(lines[index])
    flow = FLOW_ITEM.match(code)
    if flow:
        return _flow_layer_edit(code, index, flow.start(1), shape)
    if not BLOCK_ITEM.match(code):
        return None
    return _block_layer_edit(lines, node, shape, newline)


def _flow_layer_edit(code: str, index: int, brace: int, shape: str) -> tuple[int, Edit] | None:
    """``- conv: {out: 6, k: 5}``: the expectation goes inside the braces."""
    if set_in_flow(code, brace, "expect", shape) is None:
        return None

    def edit_flow(line: str) -> list[str]:
        code, comment, newline = split_comment(line)
        return [set_in_flow(code, brace, "expect", shape) + comment + newline]  # type: ignore[operator]

    return index, edit_flow


def _block_layer_edit(lines: list[str], node: Any, shape: str, newline: str) -> tuple[int, Edit] | None:
    """Block-style arguments: an ``expect:`` line replaced, appended after the last argument, or (when that one
    spans several lines) inserted before the first."""
    arg_lines = [line for line in node.key_lines.values() if line > node.line]
    if not arg_lines or len(arg_lines) != len(node.key_lines):
        return None
    if "expect" in node.key_lines:
        return replace_value_edit(lines, node.key_lines["expect"] - 1, shape)
    first = min(arg_lines) - 1
    match = KEY_LINE.match(split_comment(lines[first])[0])
    if not match:
        return None
    indent = match.group(1)
    last = max(arg_lines) - 1
    last_match = KEY_LINE.match(split_comment(lines[last])[0])
    value = last_match.group(4) if last_match else ""
    one_line = value and not value.startswith(("|", ">", "&", "!", "'", '"')) and (
        not value.startswith(("{", "[")) or value.endswith(("}", "]"))
    )
    if last_match and last_match.group(1) == indent and one_line:
        return last, lambda line: [end_line(line, newline), f"{indent}expect: {shape}{newline}"]
    return first, lambda line: [f"{indent}expect: {shape}{newline}", line]


def _refreshed(key: str, old: Any, report: Any) -> str | None:
    """The YAML text of an exact top-level expectation with the current value, in the form written (``"== N"`` or a
    plain number); None for a bound (``<=``, ``!=`` ...) or a value that cannot be refreshed."""
    try:
        comparison = parse_comparison(old, key, per_dim=key == "receptive_field")
    except ValueError:
        return None
    if comparison.op != "==":
        return None
    if key == "receptive_field":
        sizes = largest_field(report)
        if sizes is None or any(Fraction(size).denominator != 1 for size in sizes):
            return None
        per_dim = isinstance(comparison.bound, tuple) or len(set(sizes)) > 1
        number = "x".join(str(int(size)) for size in sizes) if per_dim else str(int(sizes[0]))
    else:
        number = str(getattr(report, key))
    return json.dumps(f"== {number}") if comparison.explicit else number


def _top_values(network: Any, report: Any) -> dict[str, str]:
    """The top-level expectations --update writes, as YAML text: the output shape, ``params`` when absent, and every
    exact value refreshed; hand-written bounds are not touched."""
    values = {"output": format_shape(report.output_shape)}
    if "params" not in network.expect:
        values["params"] = json.dumps(f"== {report.params}")
    for key in ("params", "macs", "flops", "receptive_field"):
        if key in network.expect:
            text = _refreshed(key, network.expect[key], report)
            if text is not None:
                values[key] = text
    return values


def _top_edit(lines: list[str], data: Any, network: Any, report: Any, edits: dict[int, Edit], newline: str) -> int:
    """Add the top-level ``expect:`` edits to ``edits``; returns how many expectations they write."""
    values = _top_values(network, report)
    if "expect" not in data:
        _add_top_expect(data, values, edits, newline)
        return len(values)
    index = data.line_of("expect") - 1
    code, _, _ = split_comment(lines[index])
    brace = code.find("{", code.index(":") + 1) if ":" in code else -1
    if brace >= 0 and code[code.index(":") + 1 : brace].strip() == "":
        edits[index] = _flow_expect_edit(code, brace, values, network.file, index)
    else:
        _block_expect_edits(lines, index, values, network, edits, newline)
    return len(values)


def _add_top_expect(data: Any, values: dict[str, str], edits: dict[int, Edit], newline: str) -> None:
    """A new ``expect:`` block after the ``input:`` line, or before ``layers:`` when the input spans several lines."""
    block = [f"expect:{newline}"] + [f"  {key}: {value}{newline}" for key, value in values.items()]
    anchor = data.line_of("input") - 1
    if isinstance(data.get("input"), list) and getattr(data["input"], "line", 0) != anchor + 1:
        before = data.line_of("layers") - 1
        previous = edits.get(before)
        edits[before] = lambda line: block + (previous(line) if previous else [line])
        return
    previous = edits.get(anchor)
    edits[anchor] = lambda line: (previous(line) if previous else [end_line(line, newline)]) + block


def _flow_expect_edit(code: str, brace: int, values: dict[str, str], file: str | None, index: int) -> Edit:
    """``expect: {...}`` on one line: every value set inside the braces."""
    new_code = code
    for key, value in values.items():
        updated = set_in_flow(new_code, brace, key, value)
        if updated is None:
            raise SpecError("expect: a flow mapping written over several lines cannot be updated", file, index + 1)
        new_code = updated

    def edit_flow(line: str) -> list[str]:
        _, comment, newline = split_comment(line)
        return [new_code + comment + newline]

    return edit_flow


def _block_expect_edits(
    lines: list[str], index: int, values: dict[str, str], network: Any, edits: dict[int, Edit], newline: str
) -> None:
    """A block ``expect:`` (at line ``index``): the values present replaced, the others appended at its indentation."""
    expect_lines = network.expect_lines
    indent = None
    for line_number in expect_lines.values():
        match = KEY_LINE.match(split_comment(lines[line_number - 1])[0])
        if match:
            indent = match.group(1)
            break
    missing = []
    for key, value in values.items():
        if key in expect_lines:
            edit = replace_value_edit(lines, expect_lines[key] - 1, value)
            if edit is None:
                raise SpecError(f"expect: {key}: cannot update a value written over several lines", network.file, expect_lines[key])
            edits[edit[0]] = edit[1]
        else:
            missing.append(f"{indent or '  '}{key}: {value}{newline}")
    if missing:
        previous = edits.get(index)
        edits[index] = lambda line: (previous(line) if previous else [line]) + missing
