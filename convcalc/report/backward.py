"""`net --explain LAYER`: the backward receptive-field recursion from a layer to the input, as the seeds work it
(``r_(l-1) = s_l * r_l + (k_l - s_l)``, ``u_(l-1) = s_l * u_l + t_l``), in lines, a Markdown block or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from convcalc.report.json_output import to_json
from convcalc.report.numbers import fraction, json_numbers


def explain_output(format: str, report: Any, recursion: Any) -> str:
    """`net --explain LAYER`: the lines (table), a fenced block (markdown) or the recursion as data (json)."""
    if format == "json":
        return to_json({"name": report.name, **backward_dict(recursion)})
    text = "\n".join(backward_lines(recursion))
    return f"```text\n{text}\n```" if format == "markdown" else text


def backward_lines(recursion: Any) -> list[str]:
    """The recursion as explanation lines: the formula, one line per layer, the receptive field at the input."""
    lines = [f"Backward from {recursion.target!r}: r_(l-1) = s_l * r_l + (k_l - s_l), start u_(l-1) = s_l * u_l + t_l"]
    lines.append(f"  {recursion.target}: r = 1, u = 0 (one output unit)")
    for step in recursion.steps:
        if step.whole:
            lines.append(f"  {step.name} ({step.op}): sees every position of its input: the whole input")
        elif step.unknown:
            lines.append(f"  {step.name} ({step.op}): the field cannot be carried back exactly: {step.unknown}")
        elif step.merge:
            lines.append(f"  {step.name} ({step.op}): every input passes r = {_dims(step.receptive_field)}, u = {_dims(step.start)}")
        else:
            terms = "; ".join(
                f"{fraction(s)}*{fraction(r)} + ({k} - {fraction(s)}) = {fraction(back)}"
                for r, k, s, back in zip(step.receptive_field, step.kernel, step.stride, step.receptive_field_in)
            )
            lines.append(
                f"  {step.name} ({step.op}, k={_dims(step.kernel)}, s={_dims(step.stride)}): r = {terms}; "
                f"u = {_dims(step.start_in)}"
            )
    if recursion.whole:
        lines.append(f"Receptive field: the whole input ({'x'.join(map(str, recursion.input_spatial))})")
    elif recursion.unknown:
        lines.append(f"Receptive field: unknown ({recursion.unknown})")
    else:
        lines.append(f"Receptive field at the input: {_dims(recursion.receptive_field)} (start {_dims(recursion.start)})")
    return lines


def backward_field(report: Any, target: int) -> list[str]:
    """The seeds' backward recursion from layer ``target`` to the input, as explanation lines."""
    from convcalc.graph.backward import backward_recursion

    return backward_lines(backward_recursion(report, target))


def _dims(values: Sequence[Fraction | int]) -> str:
    return "x".join(fraction(v) for v in values)  # "" for no dimension (per_dim writes "-")


def backward_dict(recursion: Any) -> dict[str, Any]:
    """`net --explain`'s recursion for JSON: every step's interval before and after, exact numbers ("p/q" when
    fractional), the receptive field at the input ("whole", with null start, when a layer sees the whole input)
    and the lines."""
    steps = []
    for step in recursion.steps:
        item: dict[str, Any] = {"name": step.name, "op": step.op, "receptive_field": json_numbers(step.receptive_field), "start": json_numbers(step.start)}
        if step.whole or step.unknown:
            item["input_field"] = "whole" if step.whole else "unknown"
            if step.unknown:
                item["field_note"] = step.unknown
        else:
            item.update(input_receptive_field=json_numbers(step.receptive_field_in), input_start=json_numbers(step.start_in))
            if not step.merge:
                item.update(kernel=list(step.kernel), stride=json_numbers(step.stride))
        steps.append(item)
    return {
        "layer": recursion.target,
        "steps": steps,
        **final_field(recursion),
        "explain": backward_lines(recursion),
    }


def final_field(recursion: Any) -> dict[str, Any]:
    """The field the recursion ends in at the input: exact numbers, "whole", or "unknown" with the reason."""
    if recursion.whole:
        return {"receptive_field": "whole", "start": None}
    if recursion.unknown:
        return {"receptive_field": "unknown", "start": None, "field_note": recursion.unknown}
    return {"receptive_field": json_numbers(recursion.receptive_field), "start": json_numbers(recursion.start)}
