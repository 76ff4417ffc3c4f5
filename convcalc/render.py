"""Rendering of results: rich tables, JSON, Markdown. Data in, text out; rich is imported only for tables."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

from convcalc.layers import LayerResult
from convcalc.notation import dim_names, format_shape

SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def si(value: int) -> str:
    """46224000 -> '46.22M' (a reading aid next to the exact count)."""
    for scale, suffix in SI:
        if abs(value) >= scale:
            return f"{value / scale:.2f}{suffix}"
    return str(value)


def count(value: int) -> str:
    """Exact, with thousands separators, and an SI reading when large: '46,224,000 (46.22M)'."""
    return f"{value:,} ({si(value)})" if abs(value) >= 1000 else f"{value:,}"


def fraction(value: Fraction | int) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def per_dim(values: tuple[Any, ...]) -> str:
    return "x".join(fraction(v) for v in values) if values else "-"


def layer_rows(result: LayerResult) -> list[tuple[str, str]]:
    """(label, value) pairs shared by the table and Markdown renderings."""
    rank = len(result.receptive_field)
    dims = "x".join(dim_names(rank)) if rank else ""
    rows = [
        ("Input", format_shape(result.input_shape) + (f"  ({dims}xC)" if dims else "")),
        ("Output", format_shape(result.output_shape) + (f"  ({dims}xC)" if dims else "")),
        ("Params", count(result.params)),
        ("MACs", count(result.macs) + (f"  (batch {result.batch})" if result.batch > 1 else "")),
        ("FLOPs", count(result.flops)),
    ]
    if rank:
        rows += [("Receptive field", per_dim(result.receptive_field)), ("Jump", per_dim(result.jump))]
        spec = result.spec
        windows = getattr(spec, "windows", ())
        if windows:
            rows.append(("Padding", "x".join(f"{a}" if a == b else f"{a}+{b}" for a, b in (w.pad for w in windows))))
    rows += [("Warning", w) for w in result.warnings]
    return rows


def to_json(data: Any) -> str:
    """Indented JSON with lists of plain values kept on one line."""
    text = json.dumps(data, indent=2)
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)).replace("[ ", "[").replace(" ]", "]"), text)


def layer_json(result: LayerResult) -> str:
    return to_json(result.to_dict())


def layer_markdown(result: LayerResult) -> str:
    lines = [f"| {result.op} | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in layer_rows(result)]
    return "\n".join(lines)


def print_layer_table(result: LayerResult) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    rank = len(result.receptive_field)
    title = f"{result.op}" + (f", {rank}-D" if rank else "")
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in layer_rows(result):
        table.add_row(label, Text(value, style="yellow" if label == "Warning" else ""))
    Console().print(table)
