"""``convcalc check``: expectations written in a spec, checked as a CI gate; and ``--update``, which writes the
current numbers into the spec's ``expect:`` fields by editing the text line by line (comments and layout kept).

Expectations: on a layer, ``expect: 14x14x6`` (its output shape); at the top level, ``expect:`` with ``output``
(shape), ``params``, ``macs``, ``flops`` and ``receptive_field`` (the largest field among the layers that keep a
spatial grid, per dimension), each an exact value or a string with an operator and an optional SI suffix
(``"<= 100k"``, ``"< 1.5G"``, ``">= 200"``, ``"== 61706"``). No typer, no rich: the CLI prints what this returns.

What is a spec is decided on the parsed content, never on the text's shape: a YAML or JSON document that is a
mapping with ``input`` or ``layers``. A file named that is no spec is an error; one found by a search (a folder, a
glob) is skipped. A run that finds no spec fails (nothing was checked), and a FIFO or device is never opened to read.
"""

from __future__ import annotations

import codecs
import glob
import json
import operator
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from convcalc.core.notation import Shape, format_shape, parse_shape
from convcalc.errors import ConvCalcError, SpecError

EXPECT_KEYS = ("output", "params", "macs", "flops", "receptive_field")
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}  # fmt: skip
NEGATION = {"<=": ">", ">=": "<", "==": "!=", "!=": "==", "<": ">=", ">": "<="}
SUFFIXES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COMPARISON = re.compile(r"\s*(<=|>=|==|!=|<|>)?\s*(.*?)\s*")
_NUMBER = re.compile(r"([+-]?(?:\d[\d_,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMGT]?)")


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

SEARCHED = (".yaml", ".yml", ".json")  # what a folder search reads; the content decides what is a spec
NOT_A_SPEC = "not a spec (a spec is a YAML or JSON mapping with 'input' and 'layers')"


@dataclass(frozen=True)
class Source:
    """A file's text as read: without its BOM, line endings untouched; ``bom`` and ``newline`` say how to write it
    back the same way."""

    text: str
    bom: bool = False
    newline: str = "\n"

    def encode(self, text: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode("utf-8")


@dataclass
class FileResult:
    file: str
    checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    error: SpecError | None = None
    skipped: bool = False  # found by a search, and its content is no spec

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
    allow_empty: bool = False  # a run that finds no spec passes (else it is an error: nothing was checked)
    searched: tuple[str, ...] = ()  # the paths given, for the "no specs found" message

    @property
    def specs(self) -> list[FileResult]:
        return [result for result in self.files if not result.skipped]

    @property
    def failures(self) -> list[Failure]:
        return [failure for result in self.files for failure in result.failures]

    @property
    def errors(self) -> list[FileResult]:
        return [result for result in self.files if result.error is not None]

    @property
    def empty(self) -> bool:
        """No spec found (and none that failed to load): nothing was checked."""
        return not self.specs

    @property
    def exit_code(self) -> int:
        if self.errors or (self.empty and not self.allow_empty):
            return 2
        return 1 if self.failures else 0

    def no_specs_message(self) -> str:
        return no_specs_message(self.searched, len(self.files))

    def summary(self) -> str:
        if self.empty and not self.allow_empty:
            return self.no_specs_message()
        specs = [result for result in self.specs if result.error is None]  # the invalid are counted apart
        checked = sum(result.checked for result in specs)
        text = f"{len(specs)} spec{'s' * (len(specs) != 1)}, {checked} expectation{'s' * (checked != 1)}"
        if self.failures:
            text += f", {len(self.failures)} failed"
        elif checked:
            text += ", all hold"
        if self.errors:
            text += f", {len(self.errors)} invalid"
        skipped = len(self.files) - len(self.specs)
        if skipped:
            text += f" ({skipped_text(skipped)})"
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
            "specs": len(self.specs),
            "checked": sum(result.checked for result in self.files),
            "failed": len(self.failures),
            "invalid": len(self.errors),
            "error": self.no_specs_message() if self.empty and not self.allow_empty else None,
            "exit_code": self.exit_code,
        }


def no_specs_message(searched: Sequence[str], skipped: int = 0) -> str:
    """The one line of a run that found nothing to check."""
    where = f" in {', '.join(searched)}" if searched else ""
    others = f"; {skipped_text(skipped)}" if skipped else ""
    return f"no specs found{where}{others} (--allow-empty to accept that)"


def skipped_text(count: int) -> str:
    return f"{count} other file{'s' * (count != 1)} skipped: not {'a spec' if count == 1 else 'specs'}"


def refuse_irregular(path: str) -> None:
    """A FIFO, device or socket is never read (reading could block for ever): a SpecError at once."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: reading it reports that
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise SpecError("not a regular file", path)


def search(folder: str) -> list[str]:
    """The ``*.yaml``, ``*.yml`` and ``*.json`` files under ``folder``, sorted; hidden folders and symbolic links to
    folders are not entered. A FIFO or device with such a name is refused."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if name.endswith(SEARCHED):
                path = os.path.normpath(os.path.join(root, name))
                refuse_irregular(path)
                found.append(path)
    return found


def collect(paths: Sequence[str]) -> list[tuple[str, bool]]:
    """Files to check, in order, each once: (path, named), ``named`` false for files found by a search (in a folder
    or by a glob, which convcalc expands, ``**`` too). A path that matches nothing stays in the list, so reading it
    reports the error. Anything named that is neither a regular file nor a folder is refused (SpecError)."""
    found: list[tuple[str, bool]] = []
    seen: set[str] = set()

    def add(path: str, named: bool) -> None:
        if path not in seen:
            seen.add(path)
            found.append((path, named))

    for given in paths:
        if not os.path.lexists(given) and glob.has_magic(given):
            matches = sorted(glob.glob(given, recursive=True))
            for match in matches:
                if os.path.isdir(match):
                    for path in search(match):
                        add(path, False)
                else:
                    refuse_irregular(match)
                    add(match, False)
            if not matches:
                add(given, True)
        elif os.path.isdir(given):
            for path in search(given):
                add(path, False)
        else:
            refuse_irregular(given)
            add(given, True)
    return found


def read_source(path: str) -> Source:
    """Read a regular file of at most MAX_FILE_BYTES as UTF-8 (a BOM allowed), without blocking on a FIFO."""
    from convcalc.spec.loader import read_spec_bytes

    return decode(read_spec_bytes(path), path)


def decode(data: bytes, path: str | None = None) -> Source:
    """UTF-8 text (a BOM noted and removed); the newline is the first line's (``\\r\\n`` or ``\\n``)."""
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("the file is not UTF-8 text", path) from None
    first = text.find("\n")
    return Source(text, bom, "\r\n" if first > 0 and text[first - 1] == "\r" else "\n")


def read_text(path: str) -> str:
    """The text of a spec file (see read_source)."""
    return read_source(path).text


SPEC_KEYS = frozenset({"input", "layers"})


def is_spec(text: str, file: str | None = None) -> bool:
    """Whether the parsed YAML (or JSON) ``text`` is a spec: a document that is a mapping with the key ``input`` or
    ``layers`` (with only one of them it is a spec with an error, which loading reports). Only the parser's events
    are read, nothing is built, so any YAML is safe here: tags, anchors, several documents. A file that does not
    parse is a SpecError: whether it was meant as a spec cannot be told."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    open_nodes: list[list[Any]] = []  # per open collection: [is a mapping, children so far]
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.NodeEvent):  # scalar, alias, start of a sequence or mapping
                top = open_nodes[0] if len(open_nodes) == 1 else None
                if top and top[0] and top[1] % 2 == 0 and isinstance(event, yaml.ScalarEvent) and event.value in SPEC_KEYS:
                    return True
                if isinstance(event, yaml.CollectionStartEvent):
                    open_nodes.append([isinstance(event, yaml.MappingStartEvent), 0])
                elif open_nodes:
                    open_nodes[-1][1] += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                open_nodes.pop()
                if open_nodes:
                    open_nodes[-1][1] += 1
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", file, mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise SpecError(f"YAML error: {error}", file) from None
    return False


def check_file(path: str, named: bool = True) -> FileResult:
    """Load, analyze and check one spec. A file found by a search whose content is no spec is skipped (pre-commit
    and folder searches meet workflows, compose files ...); a file named that is no spec is an error."""
    from convcalc.graph.analysis import analyze
    from convcalc.spec.loader import load_text

    result = FileResult(path)
    try:
        text = read_source(path).text
        if not is_spec(text, path):
            if named:
                raise SpecError(NOT_A_SPEC, path)
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


def check_paths(paths: Sequence[str], allow_empty: bool = False, named_non_specs: bool = True) -> CheckResult:
    """Check every spec in ``paths`` (files, folders, globs). ``named_non_specs=False`` skips named files that are no
    spec as a search does (for pre-commit, which names every YAML file). Raises SpecError for a FIFO or device."""
    files = [check_file(path, named and named_non_specs) for path, named in collect(paths)]
    return CheckResult(files, allow_empty, tuple(paths))


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
    """(stdout lines, stderr lines): one line per failed expectation then the summary; spec errors on stderr, and
    "no specs found" alone when nothing was checked."""
    if result.empty and not result.allow_empty:
        return [], [result.no_specs_message()]
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
    spec: bool = True  # false: found by a search and no spec, left alone


@dataclass(frozen=True)
class PlannedUpdate:
    """What --update will write to one file: ``data`` (None: nothing to write)."""

    result: UpdateResult
    data: bytes | None


def plan_update(path: str, named: bool = True) -> PlannedUpdate:
    """Work out one file's new bytes without writing (same BOM and line endings). A named file that is no spec is
    a SpecError; one found by a search is left alone."""
    source = read_source(path)
    if not is_spec(source.text, path):
        if named:
            raise SpecError(NOT_A_SPEC, path)
        return PlannedUpdate(UpdateResult(path, 0, [], False, spec=False), None)
    new_text, written, skipped = update_text(source.text, path, source.newline)
    changed = new_text != source.text
    if changed:
        verify_update(source.text, new_text, path)
    return PlannedUpdate(UpdateResult(path, written, skipped, changed), source.encode(new_text) if changed else None)


def _outcome(text: str, file: str) -> tuple[list[tuple[str, str]], set[tuple[str, str | None, str]] | None]:
    """A spec's layers (name, op) and its failed expectations (None when an expectation cannot be read)."""
    from convcalc.graph.analysis import analyze
    from convcalc.spec.loader import load_text

    network = load_text(text, file)
    report = _analyze(network, analyze)
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


def update_file(path: str) -> UpdateResult:
    """Write the current numbers into the ``expect:`` fields of one spec file (only if something changes)."""
    plan = plan_update(path)
    if plan.data is not None:
        write_bytes(path, plan.data)
    return plan.result


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
    from convcalc.graph.analysis import analyze
    from convcalc.spec.loader import load_text
    from convcalc.spec.yamlnodes import Located, load_yaml

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
        edit = _layer_edit(lines, node, shape, newline)
        if edit is None:
            if node.key_lines or node.expect is not None:
                skipped.append(f"{node.name}: layout not recognised")
            continue
        index, replacement = edit
        edits[index] = replacement
        written += 1
    written += _top_edit(lines, data, network, report, edits, Located, newline)
    out: list[str] = []
    for index, line in enumerate(lines):
        out.extend(edits[index](line) if index in edits else [line])
    return "".join(out), written, skipped


LINE_BREAKS = "\r\n\x85\u2028\u2029"


def _end_line(line: str, newline: str) -> str:
    return line if line.endswith(tuple(LINE_BREAKS)) else line + newline


def split_comment(line: str) -> tuple[str, str, str]:
    """``(code, comment, newline)``: the comment starts at a ``#`` outside quotes after whitespace (with that
    whitespace); the newline is kept apart."""
    newline = line[len(line.rstrip(LINE_BREAKS)) :]
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
    """Set ``key: value`` in the one-line flow mapping opening at ``code[brace]``; None if it does not close. In a
    mapping written as JSON (keys in double quotes) the key and value are written as JSON too."""
    found = _flow_entries(code, brace)
    if found is None:
        return None
    close, entries = found
    names = [code[begin:end].split(":", 1)[0].strip() for begin, end in entries]
    as_json = bool(names) and all(name.startswith('"') for name in names)
    for (begin, end), name in zip(entries, names):
        if name.strip("'\"") == key:
            entry = code[begin:end]
            lead = entry[: len(entry) - len(entry.lstrip())]
            trail = entry[len(entry.rstrip()) :]
            return code[:begin] + f"{lead}{name}: {_json_value(value) if as_json else value}{trail}" + code[end:]
    pair = f"{json.dumps(key)}: {_json_value(value)}" if as_json else f"{key}: {value}"
    if entries:
        begin, end = entries[-1]
        content_end = begin + len(code[begin:end].rstrip())
        return code[:content_end] + f", {pair}" + code[content_end:]
    return code[:brace] + f"{{{pair}}}" + code[close + 1 :]


def _json_value(value: str) -> str:
    """A YAML scalar as JSON: kept when it already is JSON (``10``, ``"== 5"``), else quoted (``8x8x1``)."""
    try:
        json.loads(value)
    except ValueError:
        return json.dumps(value)
    return value


_FLOW_ITEM = re.compile(r"^\s*-\s+[^\s{}\[\]#:'\"][^{}\[\]#:'\"]*?\s*:\s*(\{)")
_BLOCK_ITEM = re.compile(r"^\s*-\s+[^\s{}\[\]#:'\"][^{}\[\]#:'\"]*?\s*:$")
_KEY_LINE = re.compile(r"^(\s*)(['\"]?[\w.-]+['\"]?\s*:)(\s*)(.*)$")


def _layer_edit(
    lines: list[str], node: Any, shape: str, newline: str = "\n"
) -> tuple[int, Callable[[str], list[str]]] | None:
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
            return [_end_line(line, newline), f"{indent}expect: {shape}{newline}"]

        return last, append_block

    def insert_block(line: str) -> list[str]:
        return [f"{indent}expect: {shape}{newline}", line]

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


def _refreshed(key: str, old: Any, report: Any) -> str | None:
    """The YAML text of an exact top-level expectation with the current value, in the form written (``"== N"`` or a
    plain number); None for a bound (``<=``, ``!=`` ...) or a value that cannot be refreshed."""
    try:
        comparison = parse_comparison(old, key, per_dim=key == "receptive_field")
    except ValueError:
        return None
    if comparison.op != "==":
        return None
    explicit = _COMPARISON.fullmatch(comparison.text).group(1) is not None  # type: ignore[union-attr]
    if key == "receptive_field":
        sizes = largest_field(report)
        if sizes is None or any(Fraction(size).denominator != 1 for size in sizes):
            return None
        per_dim = isinstance(comparison.bound, tuple) or len(set(sizes)) > 1
        number = "x".join(str(int(size)) for size in sizes) if per_dim else str(int(sizes[0]))
    else:
        number = str(getattr(report, key))
    return json.dumps(f"== {number}") if explicit else number


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


def _top_edit(
    lines: list[str], data: Any, network: Any, report: Any, edits: dict[int, Any], located: type, newline: str = "\n"
) -> int:
    values = _top_values(network, report)
    if "expect" not in data:
        anchor = data.line_of("input") - 1
        if isinstance(data.get("input"), list) and getattr(data["input"], "line", 0) != anchor + 1:
            anchor = data.line_of("layers") - 2  # insert before `layers:` instead
            block = [f"expect:{newline}"] + [f"  {key}: {value}{newline}" for key, value in values.items()]
            previous = edits.get(anchor + 1)
            edits[anchor + 1] = lambda line: block + (previous(line) if previous else [line])
            return len(values)
        block = [f"expect:{newline}"] + [f"  {key}: {value}{newline}" for key, value in values.items()]
        previous = edits.get(anchor)
        edits[anchor] = lambda line: (previous(line) if previous else [_end_line(line, newline)]) + block
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
            missing.append(f"{indent or '  '}{key}: {value}{newline}")
    if missing:
        previous = edits.get(index)
        edits[index] = lambda line: (previous(line) if previous else [line]) + missing
    return len(values)


def format_updates(results: Iterable[UpdateResult]) -> list[str]:
    """One line per file (updated, unchanged or skipped), then the layers that got no expectation."""
    lines = []
    for result in results:
        if not result.spec:
            lines.append(f"{result.file}: skipped, not a spec")
            continue
        state = "updated" if result.changed else "unchanged"
        lines.append(f"{result.file}: {state}, {result.written} expectation{'s' * (result.written != 1)}")
        lines.extend(f"  skipped {reason}" for reason in result.skipped)
    return lines
