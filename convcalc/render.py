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


def layer_json(result: LayerResult, explain: bool = False, convention: str = "convcalc") -> str:
    """The JSON contract; with ``explain``, the step-by-step lines under the key "explain"."""
    data = result.to_dict()
    data["convention"] = convention
    if explain:
        from convcalc.explain import explain as explain_lines

        data["explain"] = explain_lines(result)
    return to_json(data)


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


# --------------------------------------------------------------------------- networks


def field_text(row: Any) -> tuple[str, str]:
    """(receptive field, jump) cells of a network row."""
    field = row.field
    if field is None:
        return "-", "-"
    if field.whole:
        return "whole", "-"
    return per_dim(field.size), per_dim(field.jump)


def fold(rows: tuple[Any, ...], depth: int | None) -> list[Any]:
    """Open block instances ``depth`` levels deep; fold anything deeper into one row per instance
    (``depth=0``: every top-level block instance is one row)."""
    if depth is None:
        return list(rows)
    from dataclasses import replace

    folded: list[Any] = []
    for row in rows:
        if len(row.blocks) <= depth:
            folded.append(row)
            continue
        key = row.blocks[depth]
        last = folded[-1] if folded else None
        if last is not None and last.op == "block" and last.name == key:
            folded[-1] = replace(
                last,
                output_shape=row.output_shape,
                params=last.params + row.params,
                buffers=last.buffers + row.buffers,
                macs=last.macs + row.macs,
                flops=last.flops + row.flops,
                field=row.field,
                warnings=last.warnings + row.warnings,
            )
        else:
            folded.append(replace(row, name=key, op="block", blocks=row.blocks[:depth]))
    return folded


NET_COLUMNS = ("#", "name", "op", "output", "params", "MACs", "RF", "jump")


def net_cells(rows: list[Any]) -> list[list[str]]:
    cells = []
    for number, row in enumerate(rows):
        rf, jump = field_text(row)
        cells.append(
            [str(number), row.name, row.op, format_shape(row.output_shape), f"{row.params:,}", f"{row.macs:,}", rf, jump]
        )
    return cells


def total_lines(report: Any) -> list[str]:
    totals = report.totals()
    frozen = totals["non_trainable_params"]
    return [
        f"Params: {totals['params']:,} ({si(totals['params'])})"
        + (f", trainable {totals['trainable_params']:,}, frozen {frozen:,}" if frozen else "")
        + (f"; buffers (BN statistics): {totals['buffers']:,}" if totals["buffers"] else ""),
        ("MACs" if report.convention == "convcalc" else f"MACs as {report.convention} counts them")
        + f": {totals['macs']:,} ({si(totals['macs'])})   FLOPs: {totals['flops']:,} ({si(totals['flops'])})"
        + (f"   batch {report.batch}" if report.batch > 1 else ""),
        f"Memory ({report.dtype}): activations {mib(totals['activation_bytes'])}, "
        f"parameters and buffers {mib(totals['param_bytes'])}",
    ]


def mib(size: int) -> str:
    return f"{size / 2**20:,.2f} MiB" if size >= 2**20 else f"{size / 2**10:,.1f} KiB"


def net_warnings(rows: list[Any]) -> list[str]:
    return [f"{row.name}: " + "; ".join(row.warnings) for row in rows if row.warnings]


def layout(columns: tuple[str, ...], cells: list[list[str]], right: set[str]) -> list[str]:
    """Fixed-width text columns (a network has hundreds of rows; rich.Table costs ~0.3 ms a row, this ~3 us)."""
    widths = [max([len(column)] + [len(row[i]) for row in cells]) for i, column in enumerate(columns)]

    def line(values: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            value.rjust(width) if column in right else value.ljust(width)
            for value, width, column in zip(values, widths, columns)
        ).rstrip()

    return [line(columns)] + [line(row) for row in cells]


def print_net_table(report: Any, depth: int | None) -> None:
    from rich.console import Console
    from rich.text import Text

    rows = fold(report.rows, depth)
    header, *body = layout(NET_COLUMNS, net_cells(rows), {"#", "params", "MACs"})
    title = f"{report.name}: {format_shape(report.input_shape)} -> {format_shape(report.output_shape)}"
    text = Text(title + "\n")
    text.append(header + "\n", style="bold")
    text.append("\n".join(body) + "\n")
    text.append("\n".join(total_lines(report)))
    for warning in net_warnings(rows):
        text.append("\nWarning: " + warning, style="yellow")
    Console(highlight=False, markup=False, emoji=False).print(text, soft_wrap=True)


def net_markdown(report: Any, depth: int | None) -> str:
    rows = fold(report.rows, depth)
    lines = [f"**{report.name}**: {format_shape(report.input_shape)} -> {format_shape(report.output_shape)}", ""]
    lines.append("| " + " | ".join(NET_COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if c in ("#", "params", "MACs") else "---" for c in NET_COLUMNS) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in net_cells(rows)]
    lines.append("")
    lines += [line + "  " for line in total_lines(report)]
    return "\n".join(lines)


def net_csv(report: Any, depth: int | None) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "name", "op", "output_shape", "params", "buffers", "macs", "flops", "receptive_field", "jump"])
    for number, row in enumerate(fold(report.rows, depth)):
        rf, jump = field_text(row)
        writer.writerow([number, row.name, row.op, format_shape(row.output_shape), row.params, row.buffers, row.macs, row.flops, rf, jump])
    return buffer.getvalue().rstrip("\n")


def net_json(report: Any) -> str:
    return to_json(report.to_dict())


def differences_text(differences: list[Any]) -> str:
    """The table of `net --verify` differences between convcalc and PyTorch."""
    cells = [[d.layer, d.what, d.convcalc, d.torch] for d in differences]
    lines = layout(("layer", "what", "convcalc", "PyTorch"), cells, set())
    return "\n".join(lines + [f"{len(differences)} difference(s) between convcalc and PyTorch"])


def compare_text(report: Any, table: dict[str, dict[str, int]]) -> str:
    """`net --compare`: each convention's total and ratio to convcalc's, then the breakdown by category."""
    from convcalc.conventions import CATEGORIES, TOOLS

    ours = sum(table["convcalc"].values())
    head = [
        [name, f"{tool.name} {tool.version}".strip() if tool.version else "-", tool.calls_it,
         f"{sum(table[name].values()):,}", f"{sum(table[name].values()) / ours:.7f}" if ours else "-"]
        for name, tool in TOOLS.items()
    ]  # fmt: skip
    lines = [f"{report.name}: {format_shape(report.input_shape)}, batch 1"]
    lines += layout(("convention", "tool", "calls it", "total", "ratio"), head, {"total", "ratio"})
    lines.append("")
    categories = [c for c in CATEGORIES if any(table[name][c] for name in table)]
    body = [[c, *(f"{table[name][c]:,}" for name in TOOLS)] for c in categories]
    body.append(["total", *(f"{sum(table[name].values()):,}" for name in TOOLS)])
    lines += layout(("category", *TOOLS), body, set(TOOLS))
    return "\n".join(lines)
