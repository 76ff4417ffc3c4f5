"""``convcalc check``: expectations written in a spec, checked as a CI gate; and ``--update``, which writes the
current numbers into the spec's ``expect:`` fields by editing the text line by line (comments and layout kept).

Expectations: on a layer, ``expect: 14x14x6`` (its output shape); at the top level, ``expect:`` with ``output``
(shape), ``params``, ``macs``, ``flops`` and ``receptive_field`` (the largest field among the layers that keep a
spatial grid, per dimension), each an exact value or a string with an operator and an optional SI suffix
(``"<= 100k"``, ``"< 1.5G"``, ``">= 200"``, ``"== 61706"``). No typer, no rich: the CLI prints what this returns.
"""

from __future__ import annotations

import glob
import json
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.errors import ConvCalcError, SpecError
from convcalc.notation import Shape, format_shape, parse_shape

EXPECT_KEYS = ("output", "params", "macs", "flops", "receptive_field")
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}  # fmt: skip
NEGATION = {"<=": ">", ">=": "<", "==": "!=", "!=": "==", "<": ">=", ">": "<="}
SUFFIXES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COMPARISON = re.compile(r"\s*(<=|>=|==|!=|<|>)?\s*(.*?)\s*")
_NUMBER = re.compile(r"([+-]?(?:\d[\d_,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMGT]?)")
_SPEC_KEYS = re.compile(r"^(input|layers)\s*:", re.M)


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Comparison:
    """``op`` applied as ``actual op bound``; ``text`` is the expectation as written."""

    op: str
    bound: Fraction | tuple[Fraction, ...]  # a tuple: one bound per dimension (receptive_field "212x212")
    text: str

    def holds(self, actual: Fraction | int) -> bool:
        return OPERATORS[self.op](actual, self.bound)


def parse_number(text: str) -> Fraction:
    """``"1.5G"`` -> 1500000000 exactly; ``"100k"``, ``"61_706"``, ``"61,706"``, ``"2e6"``. Raises ValueError."""
    match = _NUMBER.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    digits, suffix = match.groups()
    try:
        value = Fraction(Decimal(digits.replace("_", "").replace(",", "")))
    except (InvalidOperation, ValueError):
        raise ValueError(text) from None
    return value * SUFFIXES[suffix]


def parse_comparison(value: Any, key: str, per_dim: bool = False) -> Comparison:
    """An exact value (``61706``) or ``"<op> <number>[kMGT]"``; with ``per_dim`` also ``"<op> 212x212"``.
    Raises ValueError with a message."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{key}: expected a number or a string like \"<= 100k\", got {value!r}")
    text = str(value).strip()
    op, rest = _COMPARISON.fullmatch(text).groups()  # type: ignore[union-attr]
    try:
        if per_dim and re.search(r"\d\s*[x×]\s*\d", rest):
            bound: Fraction | tuple[Fraction, ...] = tuple(parse_number(part) for part in re.split(r"\s*[x×]\s*", rest))
        else:
            bound = parse_number(rest)
    except ValueError:
        raise ValueError(
            f"{key}: cannot read {text!r}; write a number or an operator (<, <=, >, >=, ==, !=) and a number with "
            f"an optional suffix k, M, G or T, like \"<= 1.5M\""
        ) from None
    return Comparison(op or "==", bound, text)


def expected_shape(value: Any) -> Shape:
    """A layer's or the network's expected shape: ``14x14x6``, ``6@14x14``, ``10`` or ``[14, 14, 6]``."""
    if isinstance(value, bool):
        raise ConvCalcError(f"expected a shape such as 14x14x6, got {value!r}")
    if isinstance(value, int):
        return parse_shape(str(value))
    if isinstance(value, (list, tuple)):
        return parse_shape("x".join(map(str, value)))
    if isinstance(value, str):
        return parse_shape(value)
    raise ConvCalcError(f"expected a shape such as 14x14x6, got {value!r}")


# --------------------------------------------------------------------------- checking one network


@dataclass(frozen=True)
class Failure:
    file: str
    line: int | None
    key: str  # "layer", "output", "params", ...
    message: str
    layer: str | None = None
    actual: Any = None
    expected: Any = None

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "key": self.key, "layer": self.layer, "message": self.message,
                "actual": self.actual, "expected": self.expected}  # fmt: skip


def largest_field(report: Any) -> tuple[Fraction, ...] | None:
    """Per dimension, the largest receptive field among the layers that keep a spatial grid."""
    fields = [row.field.size for row in report.rows if row.field is not None and not row.field.whole]
    if not fields:
        return None
    return tuple(max(sizes) for sizes in zip(*fields))


def _num(value: Fraction | int) -> str:
    value = Fraction(value)
    return f"{value.numerator:,}" if value.denominator == 1 else f"{float(value):,.6g}"


def _json_num(value: Fraction | int) -> int | float:
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else float(value)


def check_network(network: Any, report: Any) -> tuple[int, list[Failure]]:
    """Check every expectation of ``network`` against its ``report``; returns (how many were checked, failures).
    Bad expectation syntax is a SpecError at its line."""
    file = network.file or "<spec>"
    failures: list[Failure] = []
    checked = 0
    for node, row in zip(network.nodes, report.rows):
        if node.expect is None:
            continue
        line = node.line_of("expect")
        try:
            want = expected_shape(node.expect)
        except ConvCalcError as error:
            raise SpecError(f"expect: {error.message}", network.file, line, node.name) from None
        checked += 1
        if tuple(want) != tuple(row.output_shape):
            failures.append(Failure(
                file, line, "layer",
                f"layer '{node.name}' outputs {format_shape(row.output_shape)}, expected {format_shape(want)}",
                node.name, list(row.output_shape), list(want),
            ))  # fmt: skip
    for key, value in network.expect.items():
        line = network.expect_lines.get(key)
        if key not in EXPECT_KEYS:
            raise SpecError(f"expect: unknown key {key!r} (the keys: {', '.join(EXPECT_KEYS)})", network.file, line)
        checked += 1
        if key == "output":
            try:
                want = expected_shape(value)
            except ConvCalcError as error:
                raise SpecError(f"expect: output: {error.message}", network.file, line) from None
            if tuple(want) != tuple(report.output_shape):
                failures.append(Failure(
                    file, line, key, f"output {format_shape(report.output_shape)}, expected {format_shape(want)}",
                    None, list(report.output_shape), list(want),
                ))  # fmt: skip
            continue
        try:
            comparison = parse_comparison(value, key, per_dim=key == "receptive_field")
        except ValueError as error:
            raise SpecError(f"expect: {error}", network.file, line) from None
        if key == "receptive_field":
            sizes = largest_field(report)
            if sizes is None:
                raise SpecError("expect: receptive_field: no layer keeps a spatial grid", network.file, line)
            bounds = comparison.bound if isinstance(comparison.bound, tuple) else (comparison.bound,) * len(sizes)
            if len(bounds) != len(sizes):
                raise SpecError(
                    f"expect: receptive_field: {comparison.text!r} has {len(bounds)} sizes, the network "
                    f"{len(sizes)} spatial dimensions", network.file, line,
                )  # fmt: skip
            if not all(OPERATORS[comparison.op](size, bound) for size, bound in zip(sizes, bounds)):
                shown = "x".join(_num(size) for size in sizes)
                failures.append(Failure(
                    file, line, key, f"receptive_field {shown}, expected {comparison.text}",
                    None, [_json_num(size) for size in sizes], comparison.text,
                ))  # fmt: skip
            continue
        actual = getattr(report, key)
        if not comparison.holds(actual):
            bound_text = _COMPARISON.fullmatch(comparison.text).group(2)  # type: ignore[union-attr]
            failures.append(Failure(
                file, line, key,
                f"{key} {actual:,} {NEGATION[comparison.op]} {bound_text} (expected {comparison.text})",
                None, actual, comparison.text,
            ))  # fmt: skip
    return checked, failures


# --------------------------------------------------------------------------- files


@dataclass
class FileResult:
    file: str
    checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    error: SpecError | None = None
    skipped: bool = False  # a YAML file that is no spec (no top-level input: or layers:)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        if self.skipped:
            return "skipped"
        return "failed" if self.failures else "ok"


@dataclass
class CheckResult:
    files: list[FileResult]

    @property
    def failures(self) -> list[Failure]:
        return [failure for result in self.files for failure in result.failures]

    @property
    def errors(self) -> list[FileResult]:
        return [result for result in self.files if result.error is not None]

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 1 if self.failures else 0

    def summary(self) -> str:
        specs = [result for result in self.files if not result.skipped]
        checked = sum(result.checked for result in specs)
        text = f"{len(specs)} spec{'s' * (len(specs) != 1)}, {checked} expectation{'s' * (checked != 1)}"
        if self.failures:
            text += f", {len(self.failures)} failed"
        elif checked:
            text += ", all hold"
        if self.errors:
            text += f", {len(self.errors)} invalid"
        skipped = len(self.files) - len(specs)
        if skipped:
            text += f" ({skipped} other YAML file{'s' * (skipped != 1)} skipped)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [
                {
                    "file": result.file,
                    "status": result.status,
                    "checked": result.checked,
                    "failures": [failure.to_dict() for failure in result.failures],
                    "error": None if result.error is None else {"line": result.error.line, "message": error_message(result.error)},
                }
                for result in self.files
            ],
            "checked": sum(result.checked for result in self.files),
            "failed": len(self.failures),
            "invalid": len(self.errors),
            "exit_code": self.exit_code,
        }


def collect(paths: Sequence[str]) -> list[tuple[str, bool]]:
    """Files to check, in order, each once: (path, named), ``named`` false for files found in a folder.
    Folders are searched recursively for ``*.yaml``/``*.yml``; globs are expanded (``**`` too). A path that
    matches nothing stays in the list, so reading it reports the error."""
    found: list[tuple[str, bool]] = []
    seen: set[str] = set()

    def add(path: str, named: bool) -> None:
        if path not in seen:
            seen.add(path)
            found.append((path, named))

    for given in paths:
        target = Path(given)
        if target.is_dir():
            for path in sorted(p for p in target.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
                add(str(path), False)
        elif not target.exists() and glob.has_magic(given):
            matches = sorted(glob.glob(given, recursive=True))
            for match in matches:
                if Path(match).is_dir():
                    for path in sorted(p for p in Path(match).rglob("*") if p.suffix in (".yaml", ".yml")):
                        add(str(path), False)
                else:
                    add(match, True)
            if not matches:
                add(given, True)
        else:
            add(given, True)
    return found


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", path) from None
    except OSError as error:
        raise SpecError(f"cannot read the file: {error.strerror or error}", path) from None
    except UnicodeDecodeError:
        raise SpecError("the file is not UTF-8 text", path) from None


def check_file(path: str, named: bool = True) -> FileResult:
    """Load, analyze and check one spec. A YAML file with neither a top-level ``input:`` nor ``layers:`` is no
    spec and is skipped (pre-commit passes every YAML file of a repository)."""
    from convcalc.network import analyze
    from convcalc.spec import load_text

    result = FileResult(path)
    try:
        text = read_text(path)
        if not _SPEC_KEYS.search(text):
            result.skipped = True
            return result
        network = load_text(text, path)
        report = _analyze(network, analyze)
        result.checked, result.failures = check_network(network, report)
    except SpecError as error:
        result.error = error
    return result


def _analyze(network: Any, analyze: Callable[[Any], Any]) -> Any:
    try:
        return analyze(network)
    except SpecError:
        raise
    except ConvCalcError as error:
        raise SpecError(error.message, network.file) from None


def check_paths(paths: Sequence[str]) -> CheckResult:
    return CheckResult([check_file(path, named) for path, named in collect(paths)])


# --------------------------------------------------------------------------- output


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_message(error: SpecError) -> str:
    """The SpecError without its file and line (they go into the location)."""
    return f"layer '{error.layer}': {error.message}" if error.layer else error.message


def error_location(result: FileResult) -> str:
    error = result.error
    assert error is not None
    return f"{result.file}:{error.line}" if error.line else result.file


def text_lines(result: CheckResult) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines): one line per failed expectation then the summary; spec errors on stderr."""
    out = [f"{failure.location()}: {failure.message}" for failure in result.failures]
    err = [f"{error_location(r)}: {error_message(r.error)}" for r in result.errors]  # type: ignore[arg-type]
    out.append(result.summary())
    return out, err


def github_lines(result: CheckResult) -> list[str]:
    """GitHub Actions workflow commands: ``::error file=F,line=N::message``, then the summary as a notice."""
    lines = []
    for file_result in result.files:
        error = file_result.error
        if error is not None:
            where = f"file={_escape_property(file_result.file)}" + (f",line={error.line}" if error.line else "")
            lines.append(f"::error {where},title=convcalc: invalid spec::{_escape_data(error_message(error))}")
        for failure in file_result.failures:
            where = f"file={_escape_property(failure.file)}" + (f",line={failure.line}" if failure.line else "")
            lines.append(f"::error {where},title=convcalc check::{_escape_data(failure.message)}")
    kind = "error" if result.exit_code else "notice"
    lines.append(f"::{kind} title=convcalc check::{_escape_data(result.summary())}")
    return lines


def json_text(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


# --------------------------------------------------------------------------- --update: edit the YAML text


@dataclass
class UpdateResult:
    file: str
    written: int  # expectations written (layers and top level)
    skipped: list[str]  # layers that could not get an expectation, with the reason
    changed: bool


def update_file(path: str) -> UpdateResult:
    """Write the current numbers into the ``expect:`` fields of one spec file (only if something changes)."""
    text = read_text(path)
    if not _SPEC_KEYS.search(text):
        return UpdateResult(path, 0, ["the whole file: not a spec (no top-level input: or layers:)"], False)
    new_text, written, skipped = update_text(text, path)
    changed = new_text != text
    if changed:
        try:
            Path(path).write_text(new_text, encoding="utf-8")
        except OSError as error:
            raise SpecError(f"cannot write the file: {error.strerror or error}", path) from None
    return UpdateResult(path, written, skipped, changed)


def update_text(text: str, file: str | None = None) -> tuple[str, int, list[str]]:
    """The spec's text with current output shapes in every layer's ``expect:`` and the top-level ``expect:`` set to
    the output shape and ``params: "== N"`` (exact ``macs``/``flops``/``receptive_field`` values are refreshed,
    bounds with ``<``/``>`` are left alone). Returns (text, expectations written, layers skipped with why).

    Layers get an expectation when written on one line in flow style (``- conv: {out: 6, k: 5}``: inserted inside the
    braces) or with block-style arguments (an ``expect:`` line at the arguments' indentation). Bare ops
    (``- relu``), layers inside blocks and layers with ``repeat`` are skipped: their line stands for several layers
    or none can hold the key. Comments and everything else in the file are kept byte for byte."""
    from convcalc.network import analyze
    from convcalc.spec import load_text
    from convcalc.yamlnodes import Located, load_yaml

    network = load_text(text, file)
    report = _analyze(network, analyze)
    data = load_yaml(text, file)
    lines = text.splitlines(keepends=True)
    edits: dict[int, Callable[[str], list[str]]] = {}  # 0-based line index -> replacement lines
    skipped: list[str] = []
    written = 0
    per_line: dict[int, int] = {}
    for node in network.nodes:
        if not node.blocks:
            per_line[node.line] = per_line.get(node.line, 0) + 1
    for node, row in zip(network.nodes, report.rows):
        if node.blocks:
            continue
        shape = format_shape(row.output_shape)
        if per_line[node.line] > 1:
            skipped.append(f"{node.name}: repeat (one line, several layers)")
            continue
        edit = _layer_edit(lines, node, shape)
        if edit is None:
            if node.key_lines or node.expect is not None:
                skipped.append(f"{node.name}: layout not recognised")
            continue
        index, replacement = edit
        edits[index] = replacement
        written += 1
    written += _top_edit(lines, data, network, report, edits, Located)
    out: list[str] = []
    for index, line in enumerate(lines):
        out.extend(edits[index](line) if index in edits else [line])
    return "".join(out), written, skipped


def split_comment(line: str) -> tuple[str, str, str]:
    """``(code, comment, newline)``: the comment starts at a ``#`` outside quotes after whitespace (with that
    whitespace); the newline is kept apart."""
    newline = line[len(line.rstrip("\r\n")) :]
    body = line[: len(line) - len(newline)]
    quote = None
    for position, char in enumerate(body):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or body[position - 1] in " \t"):
            code = body[:position].rstrip(" \t")
            return code, body[len(code) :], newline
    code = body.rstrip(" \t")
    return code, body[len(code) :], newline


def _flow_entries(code: str, start: int) -> tuple[int, list[tuple[int, int]]] | None:
    """For the flow mapping opening at ``code[start] == '{'``: (index of its '}', [(start, end) of each entry])."""
    depth, quote, entries, begin = 0, None, [], start + 1
    for position in range(start, len(code)):
        char = code[position]
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                if code[begin:position].strip():
                    entries.append((begin, position))
                return position, entries
        elif char == "," and depth == 1:
            entries.append((begin, position))
            begin = position + 1
    return None


def _set_in_flow(code: str, brace: int, key: str, value: str) -> str | None:
    """Set ``key: value`` in the one-line flow mapping opening at ``code[brace]``; None if it does not close."""
    found = _flow_entries(code, brace)
    if found is None:
        return None
    close, entries = found
    for begin, end in entries:
        entry = code[begin:end]
        name = entry.split(":", 1)[0].strip().strip("'\"")
        if name == key:
            lead = entry[: len(entry) - len(entry.lstrip())]
            trail = entry[len(entry.rstrip()) :]
            return code[:begin] + f"{lead}{key}: {value}{trail}" + code[end:]
    if entries:
        begin, end = entries[-1]
        content_end = begin + len(code[begin:end].rstrip())
        return code[:content_end] + f", {key}: {value}" + code[content_end:]
    return code[:brace] + f"{{{key}: {value}}}" + code[close + 1 :]


_FLOW_ITEM = re.compile(r"^\s*-\s+[^\s{}\[\]#:'\"][^{}\[\]#:'\"]*?\s*:\s*(\{)")
_BLOCK_ITEM = re.compile(r"^\s*-\s+[^\s{}\[\]#:'\"][^{}\[\]#:'\"]*?\s*:$")
_KEY_LINE = re.compile(r"^(\s*)(['\"]?[\w.-]+['\"]?\s*:)(\s*)(.*)$")


def _layer_edit(lines: list[str], node: Any, shape: str) -> tuple[int, Callable[[str], list[str]]] | None:
    index = node.line - 1
    if not 0 <= index < len(lines):
        return None
    code, _, _ = split_comment(lines[index])
    flow = _FLOW_ITEM.match(code)
    if flow:
        brace = flow.start(1)
        if _set_in_flow(code, brace, "expect", shape) is None:
            return None

        def edit_flow(line: str) -> list[str]:
            code, comment, newline = split_comment(line)
            return [_set_in_flow(code, brace, "expect", shape) + comment + newline]  # type: ignore[operator]

        return index, edit_flow
    if not _BLOCK_ITEM.match(code):
        return None
    arg_lines = [line for line in node.key_lines.values() if line > node.line]
    if not arg_lines or len(arg_lines) != len(node.key_lines):
        return None
    if "expect" in node.key_lines:
        return _replace_value_edit(lines, node.key_lines["expect"] - 1, shape)
    first = min(arg_lines) - 1
    match = _KEY_LINE.match(split_comment(lines[first])[0])
    if not match:
        return None
    indent = match.group(1)
    last = max(arg_lines) - 1
    last_match = _KEY_LINE.match(split_comment(lines[last])[0])
    value = last_match.group(4) if last_match else ""
    one_line = value and not value.startswith(("|", ">", "&", "!", "'", '"')) and (
        not value.startswith(("{", "[")) or value.endswith(("}", "]"))
    )
    if last_match and last_match.group(1) == indent and one_line:

        def append_block(line: str) -> list[str]:
            return [line if line.endswith("\n") else line + "\n", f"{indent}expect: {shape}\n"]

        return last, append_block

    def insert_block(line: str) -> list[str]:
        return [f"{indent}expect: {shape}\n", line]

    return first, insert_block


def _replace_value_edit(lines: list[str], index: int, value: str) -> tuple[int, Callable[[str], list[str]]] | None:
    """Replace the (one-line, scalar) value of the ``key: value`` line at ``index``, keeping its comment."""
    if not 0 <= index < len(lines):
        return None
    match = _KEY_LINE.match(split_comment(lines[index])[0])
    if not match or match.group(4).startswith(("{", "[", "|", ">", "&", "*", "!")):
        return None

    def edit(line: str) -> list[str]:
        code, comment, newline = split_comment(line)
        head = _KEY_LINE.match(code)
        assert head is not None
        return [f"{head.group(1)}{head.group(2)} {value}{comment}{newline}"]

    return index, edit


def _yaml_value(key: str, value: Any) -> str:
    if isinstance(value, str) and value[:1] in "<>=!":
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value))
    return str(value)


def _top_values(network: Any, report: Any) -> dict[str, str]:
    """The top-level expectations --update writes, as YAML text: output and params, plus refreshed exact values."""
    values = {"output": format_shape(report.output_shape), "params": json.dumps(f"== {report.params}")}
    for key, old in network.expect.items():
        if key in ("macs", "flops", "receptive_field"):
            try:
                comparison = parse_comparison(old, key, per_dim=key == "receptive_field")
            except ValueError:
                continue
            if comparison.op != "==":
                continue
            if key == "receptive_field":
                sizes = largest_field(report)
                if sizes is None or any(Fraction(s).denominator != 1 for s in sizes):
                    continue
                values[key] = "x".join(str(int(s)) for s in sizes) if isinstance(comparison.bound, tuple) else (
                    str(int(sizes[0])) if len(set(sizes)) == 1 else "x".join(str(int(s)) for s in sizes)
                )
                if "x" in values[key]:
                    values[key] = json.dumps(f"== {values[key]}")
            else:
                values[key] = json.dumps(f"== {getattr(report, key)}")
    return values


def _top_edit(lines: list[str], data: Any, network: Any, report: Any, edits: dict[int, Any], located: type) -> int:
    values = _top_values(network, report)
    if "expect" not in data:
        anchor = data.line_of("input") - 1
        if isinstance(data.get("input"), list) and getattr(data["input"], "line", 0) != anchor + 1:
            anchor = data.line_of("layers") - 2  # insert before `layers:` instead
            block = ["expect:\n"] + [f"  {key}: {value}\n" for key, value in values.items()]
            previous = edits.get(anchor + 1)
            edits[anchor + 1] = lambda line: block + (previous(line) if previous else [line])
            return len(values)
        block = ["expect:\n"] + [f"  {key}: {value}\n" for key, value in values.items()]
        previous = edits.get(anchor)
        edits[anchor] = lambda line: (previous(line) if previous else [line if line.endswith("\n") else line + "\n"]) + block
        return len(values)
    index = data.line_of("expect") - 1
    code, _, _ = split_comment(lines[index])
    brace = code.find("{", code.index(":") + 1) if ":" in code else -1
    if brace >= 0 and code[code.index(":") + 1 : brace].strip() == "":
        new_code = code
        for key, value in values.items():
            new_code = _set_in_flow(new_code, brace, key, value)  # type: ignore[arg-type]
            if new_code is None:
                raise SpecError("expect: a flow mapping written over several lines cannot be updated", network.file, index + 1)

        def edit_flow(line: str) -> list[str]:
            _, comment, newline = split_comment(line)
            return [new_code + comment + newline]  # type: ignore[operator]

        edits[index] = edit_flow
        return len(values)
    expect_lines = network.expect_lines
    indent = None
    for line_number in expect_lines.values():
        match = _KEY_LINE.match(split_comment(lines[line_number - 1])[0])
        if match:
            indent = match.group(1)
            break
    missing = []
    for key, value in values.items():
        if key in expect_lines:
            edit = _replace_value_edit(lines, expect_lines[key] - 1, value)
            if edit is None:
                raise SpecError(f"expect: {key}: cannot update a value written over several lines", network.file, expect_lines[key])
            edits[edit[0]] = edit[1]
        else:
            missing.append(f"{indent or '  '}{key}: {value}\n")
    if missing:
        previous = edits.get(index)
        edits[index] = lambda line: (previous(line) if previous else [line]) + missing
    return len(values)


def format_updates(results: Iterable[UpdateResult]) -> list[str]:
    lines = []
    for result in results:
        state = "updated" if result.changed else "unchanged"
        lines.append(f"{result.file}: {state}, {result.written} expectation{'s' * (result.written != 1)}")
        lines.extend(f"  skipped {reason}" for reason in result.skipped)
    return lines
