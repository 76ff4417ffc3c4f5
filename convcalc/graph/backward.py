"""The backward recursion of one layer's receptive field (``net --explain``): from a target layer back to the
network's input, each step's field in the units of the layer before it, and the hull where branches merge. It reads
the one analysis's :class:`~convcalc.graph.analysis.Report`; it never walks the graph again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from convcalc.core.notation import Shape
from convcalc.core.receptive import Field, backward_step
from convcalc.graph import layout
from convcalc.graph.analysis import Report, Row
from convcalc.graph.model import NETWORK_INPUT
from convcalc.ops.catalogue import MERGES
from convcalc.ops.handlers import OpResult

Interval = tuple[tuple[Fraction, ...], tuple[Fraction, ...]]  # (receptive field r, start u) per spatial dimension


@dataclass(frozen=True)
class BackStep:
    """One layer of the backward recursion: the interval (r, u) of its output carried back to its input.
    ``kernel`` is empty for a merge (every input passes the interval) and for a layer that sees the whole input."""

    name: str
    op: str
    receptive_field: tuple[Fraction, ...]
    start: tuple[Fraction, ...]
    receptive_field_in: tuple[Fraction, ...] = ()
    start_in: tuple[Fraction, ...] = ()
    kernel: tuple[int, ...] = ()
    stride: tuple[Fraction, ...] = ()
    merge: bool = False
    whole: bool = False
    unknown: str = ""  # why the recursion cannot go on through this layer


@dataclass(frozen=True)
class Backward:
    """The seeds' backward recursion from one layer to the network input, and the receptive field it ends in."""

    target: str
    steps: tuple[BackStep, ...]
    receptive_field: tuple[Fraction, ...]
    start: tuple[Fraction, ...]
    whole: bool
    input_spatial: Shape
    unknown: str = ""  # why the field at the input is not known exactly


def _hull(old: Interval, new: Interval) -> Interval:
    """The smallest interval containing both (where two paths meet at a layer's output)."""
    lo = tuple(min(a, b) for a, b in zip(old[1], new[1]))
    hi = tuple(max(a + r, b + q) for a, r, b, q in zip(old[1], old[0], new[1], new[0]))
    return tuple(high - low for low, high in zip(lo, hi)), lo


def _back_step(node: Any, result: OpResult, size: tuple[Fraction, ...], start: tuple[Fraction, ...]) -> BackStep:
    """One layer's step: whole input (global), pass-through (merge), or r = s*r + (k - s), u = s*u + t."""
    if result.field == "global":
        return BackStep(node.name, node.op, size, start, whole=True)
    if result.field == "unknown":
        return BackStep(node.name, node.op, size, start, unknown=result.field_note or node.op)
    if node.op in MERGES:
        return BackStep(node.name, node.op, size, start, size, start, merge=True)
    pairs = [backward_step(r, u, k, s, t) for r, u, k, s, t in zip(size, start, result.receptive_field, result.jump, result.start)]
    return BackStep(
        node.name, node.op, size, start, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs),
        tuple(result.receptive_field), tuple(result.jump),
    )  # fmt: skip


def _in_first_output(rows: Sequence[Row], source: int, output: int, start: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
    """A start in units of output ``output`` of layer ``source``, moved to its first output's frame (the pieces of
    a split along a grid axis start at different offsets): u' = u + (t_k - t_0) / s."""
    result = rows[source].result if source != NETWORK_INPUT else None
    if result is None or not result.output_starts or not output:
        return start
    shifts = zip(result.start_of(output), result.start, result.jump)
    return tuple(u + (t_k - t_0) / s for u, (t_k, t_0, s) in zip(start, shifts))


def _sees_nothing(row: Row) -> bool:
    """Whether a layer depends on no input position (a param, or computed from params alone)."""
    return row.field is not None and row.field.is_empty


def _local_result(report: Report, row: Row) -> OpResult:
    """A row's op result as the backward recursion reads it: its window per input grid axis when its input's grid
    axes were regrouped by layout ops (graph/layout.py), and unknown where the forward walk found it so."""
    result, rank = row.result, len(report.input_shape) - 1
    assert result is not None
    inputs = [
        Field.identity(rank) if i == NETWORK_INPUT else (report.rows[i].output_fields or (report.rows[i].field,) * (k + 1))[k]
        for i, k in row.sources
    ]
    if row.field is not None and row.field.unknown and result.field != "unknown" and not any(f and f.unknown for f in inputs):
        return replace(result, field="unknown", field_note=row.field.unknown)
    if result.field != "window" or row.node is None or row.node.op in MERGES or not inputs or inputs[0] is None:
        return result
    if inputs[0].whole or (inputs[0].axes is None and len(row.input_shapes[0]) == rank + 1):
        return result
    current = layout.current(inputs[0], row.input_shapes[0])
    window = current if isinstance(current, str) else layout.grid_window(result, current, rank)
    if isinstance(window, str):
        return result
    return replace(result, receptive_field=window[0], jump=window[1], start=window[2])


def backward_recursion(report: Report, target: int) -> Backward:
    """Intervals (size r, start u) of output unit 0 of layer ``target``, carried back through every path to the
    input; merges take the hull. Reads each row's local field (receptive_field, jump, start) from the report."""
    rows = report.rows
    rank = len(report.input_shape) - 1
    one, zero = (Fraction(1),) * rank, (Fraction(0),) * rank
    spans: dict[int, Interval] = {target: (one, zero)}
    steps: list[BackStep] = []
    if _sees_nothing(rows[target]):  # a param, or made of params alone: no path to the input, an empty field
        return Backward(rows[target].name, (), zero, zero, False, report.input_shape[:-1])
    for index in range(target, -1, -1):
        if index not in spans:
            continue
        size, start = spans.pop(index)
        step = _back_step(rows[index].node, _local_result(report, rows[index]), size, start)
        steps.append(step)
        if step.whole:
            return Backward(rows[target].name, tuple(steps), (), (), True, report.input_shape[:-1])
        if step.unknown:
            return Backward(rows[target].name, tuple(steps), (), (), False, report.input_shape[:-1], step.unknown)
        for source, output in rows[index].sources:
            if source != NETWORK_INPUT and _sees_nothing(rows[source]):  # a param: no path to the input
                continue
            back = (step.receptive_field_in, _in_first_output(rows, source, output, step.start_in))
            spans[source] = _hull(spans[source], back) if source in spans else back
    size, start = spans.get(NETWORK_INPUT, (zero, zero))  # no path to the input: made of params alone
    return Backward(rows[target].name, tuple(steps), size, start, False, report.input_shape[:-1])
