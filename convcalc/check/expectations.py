"""Expectations written in a spec, and checking a network's report against them.

On a layer, ``expect: 14x14x6`` (its output shape); at the top level, ``expect:`` with ``output`` (shape),
``params``, ``macs``, ``flops`` and ``receptive_field`` (the largest field among the layers that keep a spatial
grid, per dimension), each an exact value or a string with an operator and an optional SI suffix (``"<= 100k"``,
``"< 1.5G"``, ``">= 200"``, ``"== 61706"``). No typer, no rich: the CLI renders what this returns
(``convcalc.report.check_output``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from convcalc.check.discovery import NOT_A_SPEC, collect, read_spec_source
from convcalc.core.notation import Shape, format_shape, grouped, json_decimal, parse_shape, rounded
from convcalc.errors import ConvCalcError, SpecError

EXPECT_KEYS = ("output", "params", "macs", "flops", "receptive_field")
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}  # fmt: skip
NEGATION = {"<=": ">", ">=": "<", "==": "!=", "!=": "==", "<": ">=", ">": "<="}
SUFFIXES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COMPARISON = re.compile(r"\s*(<=|>=|==|!=|<|>)?\s*(.*?)\s*")
_NUMBER = re.compile(r"([+-]?(?:\d[\d_,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMGT]?)")


# --------------------------------------------------------------------------- reading expectations


@dataclass(frozen=True)
class Comparison:
    """``op`` applied as ``actual op bound``; ``text`` is the expectation as written."""

    op: str
    bound: Fraction | tuple[Fraction, ...]  # a tuple: one bound per dimension (receptive_field "212x212")
    text: str

    def holds(self, actual: Fraction | int) -> bool:
        return OPERATORS[self.op](actual, self.bound)

    @property
    def written_bound(self) -> str:
        """The bound as written, without the operator: ``"100k"`` of ``"<= 100k"``."""
        return _COMPARISON.fullmatch(self.text).group(2)  # type: ignore[union-attr]

    @property
    def explicit(self) -> bool:
        """Whether the operator is written (``"== 5"``) rather than implied (``5``)."""
        return _COMPARISON.fullmatch(self.text).group(1) is not None  # type: ignore[union-attr]


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


def parse_command_line_expectation(text: str) -> tuple[str, str]:
    """``--expect 'params <= 3.2M'``: a top-level key (``output``, ``params``, ``macs``, ``flops``,
    ``receptive_field``) then its value as ``expect:`` takes it (``output 1000``, ``macs < 1.5G``). Checked here,
    so a mistake is an error before any file is read. Raises ConvCalcError naming ``expect``."""
    key, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if key not in EXPECT_KEYS:
        raise ConvCalcError(f"{text!r}: starts with {key!r}; the keys: {', '.join(EXPECT_KEYS)}", "expect")
    if not rest:
        raise ConvCalcError(f"{text!r}: no value after {key!r} (like 'params <= 3.2M')", "expect")
    try:
        if key == "output":
            expected_shape(rest.removeprefix("==").strip())
            rest = rest.removeprefix("==").strip()
        else:
            parse_comparison(rest, key, per_dim=key == "receptive_field")
    except (ValueError, ConvCalcError) as error:
        raise ConvCalcError(f"{text!r}: {getattr(error, 'message', error)}", "expect") from None
    return key, rest


# --------------------------------------------------------------------------- checking one network


@dataclass(frozen=True)
class Failure:
    """One expectation that does not hold, where it is written and what was found."""

    file: str
    line: int | None
    key: str  # "layer", "output", "params", ...
    message: str
    layer: str | None = None
    actual: Any = None
    expected: Any = None


def largest_field(report: Any) -> tuple[Fraction, ...] | None:
    """Per dimension, the largest receptive field among the layers that keep a spatial grid."""
    fields = [row.field.receptive_field for row in report.rows
              if row.field is not None and not row.field.whole and not row.field.unknown]  # fmt: skip
    if not fields:
        return None
    return tuple(max(sizes) for sizes in zip(*fields))


def load_and_analyze(text: str, file: str | None = None) -> tuple[Any, Any]:
    """(network, report) of a spec's text; an analysis error becomes a SpecError of the file."""
    from convcalc.frontends.sources import network_of_data
    from convcalc.graph.analysis import analyze
    from convcalc.specfile.limits import current_limit
    from convcalc.specfile.yamlnodes import load_yaml

    network = network_of_data(load_yaml(text, file), file or "spec", current_limit())  # a spec, or one naming a YOLO YAML
    try:
        return network, analyze(network)
    except SpecError:
        raise
    except ConvCalcError as error:
        raise SpecError(error.message, network.file) from None


def check_network(network: Any, report: Any) -> tuple[int, list[Failure]]:
    """Check every expectation of ``network`` against its ``report``; returns (how many were checked, failures).
    Bad expectation syntax is a SpecError at its line."""
    checked = 0
    found: list[Failure | None] = []
    for node, row in zip(network.nodes, report.rows):
        if node.expect is not None:
            checked += 1
            found.append(_layer_failure(network, node, row))
    for key, value in network.expect.items():
        checked += 1
        found.append(_top_failure(network, report, key, value))
    return checked, [failure for failure in found if failure is not None]


def _layer_failure(network: Any, node: Any, row: Any) -> Failure | None:
    """A layer's ``expect:`` (its output shape) against the row of its report."""
    line = node.line_of("expect")
    try:
        want = expected_shape(node.expect)
    except ConvCalcError as error:
        raise SpecError(f"expect: {error.message}", network.file, line, node.name) from None
    if tuple(want) == tuple(row.output_shape):
        return None
    return Failure(
        network.file or "<spec>", line, "layer",
        f"layer '{node.name}' outputs {format_shape(row.output_shape)}, expected {format_shape(want)}",
        node.name, list(row.output_shape), list(want),
    )  # fmt: skip


def _top_failure(network: Any, report: Any, key: str, value: Any) -> Failure | None:
    """One key of the top-level ``expect:`` against the report."""
    line = network.expect_lines.get(key)
    if key not in EXPECT_KEYS:
        raise SpecError(f"expect: unknown key {key!r} (the keys: {', '.join(EXPECT_KEYS)})", network.file, line)
    if key == "output":
        return _output_failure(network, report, value, line)
    try:
        comparison = parse_comparison(value, key, per_dim=key == "receptive_field")
    except ValueError as error:
        raise SpecError(f"expect: {error}", network.file, line) from None
    if key == "receptive_field":
        return _field_failure(network, report, comparison, line)
    actual = getattr(report, key)
    if comparison.holds(actual):
        return None
    return Failure(
        network.file or "<spec>", line, key,
        f"{key} {grouped(actual)} {NEGATION[comparison.op]} {comparison.written_bound} (expected {comparison.text})",
        None, actual, comparison.text,
    )  # fmt: skip


def _output_failure(network: Any, report: Any, value: Any, line: int | None) -> Failure | None:
    try:
        want = expected_shape(value)
    except ConvCalcError as error:
        raise SpecError(f"expect: output: {error.message}", network.file, line) from None
    if tuple(want) == tuple(report.output_shape):
        return None
    return Failure(
        network.file or "<spec>", line, "output",
        f"output {format_shape(report.output_shape)}, expected {format_shape(want)}",
        None, list(report.output_shape), list(want),
    )  # fmt: skip


def _field_failure(network: Any, report: Any, comparison: Comparison, line: int | None) -> Failure | None:
    """``receptive_field``: one bound for every dimension, or one per dimension (``"== 32x32"``)."""
    sizes = largest_field(report)
    if sizes is None:
        raise SpecError("expect: receptive_field: no layer keeps a spatial grid", network.file, line)
    bounds = comparison.bound if isinstance(comparison.bound, tuple) else (comparison.bound,) * len(sizes)
    if len(bounds) != len(sizes):
        raise SpecError(
            f"expect: receptive_field: {comparison.text!r} has {len(bounds)} sizes, the network "
            f"{len(sizes)} spatial dimensions", network.file, line,
        )  # fmt: skip
    if all(OPERATORS[comparison.op](size, bound) for size, bound in zip(sizes, bounds)):
        return None
    shown = "x".join(rounded(size) for size in sizes)
    return Failure(
        network.file or "<spec>", line, "receptive_field", f"receptive_field {shown}, expected {comparison.text}",
        None, [json_decimal(size) for size in sizes], comparison.text,
    )  # fmt: skip


# --------------------------------------------------------------------------- checking files


@dataclass
class FileResult:
    """One file of a run: what was checked and failed, or the error that stopped it, or skipped (no spec)."""

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
    """A run over files, folders and globs; ``exit_code`` is 0 (all hold), 1 (one fails) or 2 (invalid, or empty)."""

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


def load_front_end(path: str, options: Any = None, fuse: bool = False) -> tuple[Any, Any]:
    """(network, report) of a network file a front end reads (an ONNX model, an Ultralytics model YAML), with the
    command line's ``SourceOptions`` (``--scale``, ``--nc``) and ``--fuse``."""
    from convcalc.frontends.sources import load_network
    from convcalc.graph.analysis import analyze
    from convcalc.graph.fuse import fuse_batchnorm
    from convcalc.specfile.limits import current_limit

    network = load_network(path, current_limit(), options)
    if fuse:
        network = fuse_batchnorm(network)
    try:
        return network, analyze(network)
    except SpecError:
        raise
    except ConvCalcError as error:
        raise SpecError(error.message, path) from None


def check_file(path: str, named: bool = True, expectations: dict[str, str] | None = None, options: Any = None,
               fuse: bool = False) -> FileResult:  # fmt: skip
    """Load, analyze and check one spec. A file found by a search whose content is no spec is skipped (pre-commit
    and folder searches meet workflows, compose files ...); a file named that is no spec is an error, unless it
    is a network a front end reads (an ONNX model, an Ultralytics YAML), checked against ``expectations`` (the
    command line's ``--expect``, which every file is checked against besides its own ``expect:``), built with
    ``options`` (``--scale``, ``--nc``) and ``fuse``. A named ``yolov8n.yaml`` that is not on disk is Ultralytics'
    name for ``yolov8.yaml`` next to it at scale n, as ``net`` reads it."""
    from dataclasses import replace

    from convcalc.frontends.sources import source_kind
    from convcalc.frontends.ultralytics_names import unified_path

    result = FileResult(path)
    try:
        if named and unified_path(path) is not None:
            if not expectations:
                raise SpecError("an Ultralytics model YAML has no expect: fields; give them with --expect 'params <= 3.2M'", path)
            network, report = load_front_end(path, options, fuse)
        elif named and source_kind(path) == "onnx":
            network, report = load_front_end(path, options, fuse)
        else:
            try:
                source = read_spec_source(path, named)
            except SpecError as error:
                if error.message != NOT_A_SPEC or not expectations:
                    raise
                source = None
                network, report = load_front_end(path, options, fuse)
            else:
                if source is None:
                    result.skipped = True
                    return result
                network, report = load_and_analyze(source.text, path)
        if expectations:
            lines = {key: line for key, line in network.expect_lines.items() if key not in expectations}
            network = replace(network, expect={**network.expect, **expectations}, expect_lines=lines)
        result.checked, result.failures = check_network(network, report)
        if not result.checked and not expectations and source_kind(path) == "onnx":
            raise SpecError("an ONNX model has no expect: fields; give them with --expect 'params <= 3.2M'", path)
    except SpecError as error:
        result.error = error
    return result


def check_paths(paths: Sequence[str], allow_empty: bool = False, named_non_specs: bool = True,
                expectations: dict[str, str] | None = None, options: Any = None, fuse: bool = False) -> CheckResult:  # fmt: skip
    """Check every spec in ``paths`` (files, folders, globs). ``named_non_specs=False`` skips named files that are no
    spec as a search does (for pre-commit, which names every YAML file). Raises SpecError for a FIFO or device.
    ``expectations`` (``--expect``) apply to every file; ``options`` (``--scale``, ``--nc``) and ``fuse`` to the files
    a front end reads (Ultralytics YAMLs, ONNX models)."""
    files = [check_file(path, named and named_non_specs, expectations, options, fuse) for path, named in collect(paths)]
    return CheckResult(files, allow_empty, tuple(paths))
