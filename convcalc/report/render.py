"""Rendering of results: rich tables, JSON, Markdown. Data in, text out; rich is imported only for tables."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from convcalc.core.layer import LayerResult
from convcalc.core.notation import dim_names, format_shape

SI = ((10**18, "E"), (10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def si(value: int) -> str:
    """46224000 -> '46.22M' (a reading aid next to the exact count); past 999.99E, scientific: '2.19e+28'."""
    size = abs(value)
    if size >= 1000 * SI[0][0]:
        return scientific(value)
    for position, (scale, suffix) in enumerate(SI):
        if size >= scale:
            text = f"{value / scale:.2f}"
            if abs(float(text)) < 1000:
                return text + suffix
            if position == 0:  # 999.995E and up
                return scientific(value)
            bigger, bigger_suffix = SI[position - 1]  # 999.995k is 1.00M, not 1000.00k
            return f"{value / bigger:.2f}{bigger_suffix}"
    return str(value)


def scientific(value: int) -> str:
    """Three significant digits, exactly rounded for any size: 21867813087478252 * 10**12 -> '2.19e+28'."""
    from decimal import Decimal

    return f"{Decimal(value):.2e}"


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
    return rows


# Markdown's special characters; an underscore inside a word (conv_1) is plain text on GitHub and stays readable.
MARKDOWN_SPECIAL = re.compile(r"[\\|`*\[\]<>]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(text: str) -> str:
    """Text for a GitHub Markdown table cell: |, backslashes and inline markup escaped, one line."""
    return MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), " ".join(text.splitlines()))


def fenced(lines: Sequence[str]) -> list[str]:
    """Lines as a Markdown code block, outside any table (a blank line first ends the table)."""
    fence = "```"
    while any(line.startswith(fence) for line in lines):
        fence += "`"
    return ["", fence + "text", *lines, fence]


def to_json(data: Any) -> str:
    """Indented JSON with lists of plain values kept on one line."""
    text = json.dumps(data, indent=2)
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)).replace("[ ", "[").replace(" ]", "]"), text)


def layer_json(result: LayerResult, explain: bool = False, convention: str = "convcalc") -> str:
    """The JSON contract; with ``explain``, the step-by-step lines under the key "explain"."""
    data = result.to_dict()
    data["convention"] = convention
    if explain:
        from convcalc.report.explain import explain as explain_lines

        data["explain"] = explain_lines(result, convention)
    return to_json(data)


def layer_markdown(result: LayerResult, explain: Sequence[str] = ()) -> str:
    """A two-column GitHub Markdown table; ``explain`` lines follow it in a fenced block."""
    lines = [f"| {md_escape(result.op)} | |", "|---|---|"]
    lines += [f"| {md_escape(label)} | {md_escape(value)} |" for label, value in layer_rows(result)]
    if explain:
        lines += fenced(explain)
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
    """(receptive field, jump) cells of a network row: "whole" (and jump "-") where an output unit sees every input
    position, as in the JSON (after flatten or global pooling; everywhere when the input has no spatial dimension)."""
    field = row.field
    if field is None or field.whole:
        return "whole", "-"
    return per_dim(field.size), per_dim(field.jump)


def fold(rows: tuple[Any, ...], depth: int | None) -> list[Any]:
    """Open block instances ``depth`` levels deep; fold anything deeper into one row per instance
    (``depth=0``: every top-level block instance is one row). A block's warnings name their layer."""
    if depth is None:
        return list(rows)
    from dataclasses import replace

    folded: list[Any] = []
    for row in rows:
        if len(row.blocks) <= depth:
            folded.append(row)
            continue
        key = row.blocks[depth]
        warnings = tuple(f"{row.name}: {warning}" for warning in row.warnings)
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
                warnings=last.warnings + warnings,
            )
        else:
            folded.append(replace(row, name=key, op="block", blocks=row.blocks[:depth], warnings=warnings, spec=None))
    return folded


NET_COLUMNS = ("#", "name", "op", "output", "params", "MACs", "RF", "jump")
# On a wide terminal: the input shape, kernel/stride/padding (torchinfo's Kernel Shape) and each layer's MACs share.
WIDE_COLUMNS = ("#", "name", "op", "input", "output", "k/s/p", "params", "MACs", "MACs%", "RF", "jump")
NET_RIGHT = {"#", "params", "MACs", "MACs%"}
# From the richest table to the narrowest: (columns, counts shortened to 4.09G, the narrowest the name column may
# get by eliding its middle; None: names whole). The first that fits the terminal is printed.
NET_LAYOUTS: tuple[tuple[tuple[str, ...], bool, int | None], ...] = (
    (WIDE_COLUMNS, False, None),
    (NET_COLUMNS, False, None),
    (NET_COLUMNS, True, None),
    (NET_COLUMNS[1:], True, None),
    (NET_COLUMNS[1:], True, 24),
    (("name", "op", "output", "params", "MACs", "RF"), True, 24),
    (("name", "output", "params", "MACs", "RF"), True, 16),
    (("name", "output", "params", "MACs"), True, 8),
)


def window_text(spec: Any) -> str:
    """Kernel/stride/padding of a conv, deconv or pooling row: '7x7/2/3', '3x5/1x2/2', '3x3/1/2/d2'; else '-'."""
    windows = getattr(spec, "windows", ())
    if not windows:
        return "-"

    def dims(values: list[str]) -> str:
        return values[0] if len(set(values)) == 1 else "x".join(values)

    text = "x".join(str(w.kernel) for w in windows)
    text += "/" + dims([str(w.stride) for w in windows])
    text += "/" + dims([str(a) if a == b else f"{a}+{b}" for a, b in (w.pad for w in windows)])
    if any(w.dilation > 1 for w in windows):
        text += "/d" + dims([str(w.dilation) for w in windows])
    return text


def input_text(row: Any) -> str:
    """The input shape of a row; a merge of more than two inputs shows the first and '+…'."""
    shapes = [format_shape(shape) for shape in row.input_shapes]
    if not shapes:
        return "-"
    return "+".join(shapes) if len(shapes) <= 2 else shapes[0] + "+…"


def share(part: int, total: int) -> str:
    """A layer's share of the total, as ptflops prints it: '12.34%'."""
    return f"{100 * part / total:.2f}%" if total else "-"


def row_cells(number: int, row: Any, short: bool = False, total_macs: int = 0) -> dict[str, str]:
    """Every cell a network table can show for one row, by column name."""
    rf, jump = field_text(row)
    counted = si if short else "{:,}".format
    return {
        "#": str(number), "name": row.name, "op": row.op, "input": input_text(row),
        "output": format_shape(row.output_shape), "k/s/p": window_text(row.spec), "params": counted(row.params),
        "MACs": counted(row.macs), "MACs%": share(row.macs, total_macs), "RF": rf, "jump": jump,
    }  # fmt: skip


def net_cells(
    rows: list[Any], columns: tuple[str, ...] = NET_COLUMNS, short: bool = False, total_macs: int = 0
) -> list[list[str]]:
    return [[cells[c] for c in columns] for cells in (row_cells(n, row, short, total_macs) for n, row in enumerate(rows))]


def cells_wide(text: str) -> int:
    """Terminal cells of a text: a CJK character takes two (rich's measure)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def shorten(text: str, room: int) -> str:
    """At most ``room`` cells, the middle elided: 'features.denseblock4.denselayer16.conv2' -> 'features.de…er16.conv2'."""
    if cells_wide(text) <= room:
        return text
    keep = max(room - 1, 0)
    head, tail = "", ""
    for char in text:
        if cells_wide(head + char) > keep // 2:
            break
        head += char
    for char in reversed(text):
        if cells_wide(head + char + tail) > keep:
            break
        tail = char + tail
    return head + "…" + tail


def column_widths(columns: Sequence[str], cells: list[list[str]]) -> list[int]:
    return [max([cells_wide(column)] + [cells_wide(row[i]) for row in cells]) for i, column in enumerate(columns)]


def net_table_cells(rows: list[Any], total_macs: int, width: int | None) -> tuple[tuple[str, ...], list[list[str]]]:
    """The richest columns that fit ``width`` (None: today's columns, exact counts)."""
    if width is None:
        return NET_COLUMNS, net_cells(rows)
    columns, cells, name, room = NET_COLUMNS, [], 0, width
    by_name: dict[bool, list[dict[str, str]]] = {}
    for columns, short, narrowest in NET_LAYOUTS:
        if short not in by_name:
            by_name[short] = [row_cells(n, row, short, total_macs) for n, row in enumerate(rows)]
        cells = [[row[c] for c in columns] for row in by_name[short]]
        widths = column_widths(columns, cells)
        spare = width - sum(widths) - 2 * (len(columns) - 1)
        if spare >= 0:
            return columns, cells
        name = columns.index("name")
        room = widths[name] + spare
        if narrowest is not None and room >= narrowest:
            break
    return columns, [row[:name] + [shorten(row[name], max(room, 4))] + row[name + 1 :] for row in cells]


def total_parts(report: Any) -> list[list[str]]:
    """The totals' lines, each in parts that may go on lines of their own (a part starts with its separator)."""
    totals = report.totals()
    frozen = totals["non_trainable_params"]
    params = [f"Params: {count(totals['params'])}"]
    if frozen:
        params.append(f", trainable {totals['trainable_params']:,}, frozen {frozen:,}")
    if totals["buffers"]:
        params.append(f"; buffers (BN statistics): {totals['buffers']:,}")
    macs = ["MACs" if report.convention == "convcalc" else f"MACs as {report.convention} counts them"]
    macs[0] += f": {count(totals['macs'])}"
    macs.append(f"   FLOPs: {count(totals['flops'])}")
    if report.batch > 1:
        macs.append(f"   batch {report.batch}")
    memory = [
        f"Memory ({report.dtype}): activations {mib(totals['activation_bytes'])}",
        f", parameters and buffers {mib(totals['param_bytes'])}",
    ]
    return [params, macs, memory]


def join_parts(parts: list[str], width: int | None) -> list[str]:
    """Parts on one line; a part that would pass ``width`` starts a new, indented line."""
    lines = [parts[0]]
    for part in parts[1:]:
        if width is not None and len(lines[-1] + part) > width:
            lines.append("  " + part.lstrip(",; "))
        else:
            lines[-1] += part
    return lines


def total_lines(report: Any, width: int | None = None) -> list[str]:
    return [line for parts in total_parts(report) for line in join_parts(parts, width)]


def mib(size: int) -> str:
    return f"{size / 2**20:,.2f} MiB" if size >= 2**20 else f"{size / 2**10:,.1f} KiB"


SKIPS = "input positions are in no window"  # the stride pattern of a 1x1 stride-2 downsample, deliberate


def warning_lines(named: Sequence[tuple[str, Sequence[str]]], detailed: bool = False) -> list[str]:
    """Warnings for stderr, from (layer name, warnings) pairs ("" for `layer`'s one layer). Layers that skip input
    positions make one summary line unless ``detailed``; every other warning is shown in full."""
    lines: list[str] = []
    skipping = 0
    for name, warnings in named:
        prefix = f"convcalc: warning: {name}: " if name else "convcalc: warning: "
        skipping += any(SKIPS in warning for warning in warnings)
        lines += [prefix + warning for warning in warnings if detailed or SKIPS not in warning]
    if skipping and not detailed:
        if len(named) == 1 and not named[0][0]:
            who = "the layer skips"
        else:
            who = "1 layer skips" if skipping == 1 else f"{skipping} layers skip"
        lines.append(f"convcalc: warning: {who} input pixels; see --warnings")
    return lines


def print_warnings(named: Sequence[tuple[str, Sequence[str]]], detailed: bool = False) -> None:
    """Warnings go to stderr, never into the output."""
    for line in warning_lines(named, detailed):
        print(line, file=sys.stderr)


def terminal_width() -> int | None:
    """The width tables must fit: $COLUMNS when set, the terminal's when stdout is one, else None (no limit)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        from rich.console import Console

        return Console().width
    return None


def layout(
    columns: tuple[str, ...], cells: list[list[str]], right: set[str], width: int | None = None
) -> list[str]:
    """Fixed-width text columns, measured in terminal cells (a network has hundreds of rows; rich.Table costs
    ~0.3 ms a row, this ~3 us). With ``width``, a wider table is folded: the first column with as many of the
    others as fit, block after block."""
    widths = column_widths(columns, cells)
    if width is not None:
        groups = column_groups(widths, width)
        if len(groups) > 1:
            lines: list[str] = []
            for group in groups:
                picked = [[row[i] for i in group] for row in cells]
                lines += [""] * bool(lines) + layout(tuple(columns[i] for i in group), picked, right)
            return lines

    def line(values: list[str] | tuple[str, ...]) -> str:
        padded = []
        for value, size, column in zip(values, widths, columns):
            gap = " " * (size - cells_wide(value))
            padded.append(gap + value if column in right else value + gap)
        return "  ".join(padded).rstrip()

    return [line(columns)] + [line(row) for row in cells]


def column_groups(widths: list[int], width: int) -> list[list[int]]:
    """Column indexes in blocks that fit ``width``, each starting with the first (key) column."""
    groups = [[0]]
    for index in range(1, len(widths)):
        group = groups[-1]
        if len(group) > 1 and sum(widths[i] + 2 for i in group) + widths[index] > width:
            groups.append([0])
        groups[-1].append(index)
    return groups


def net_table(report: Any, depth: int | None, width: int | None = None) -> list[str]:
    """The title, the per-layer table and the totals, fitted to ``width`` (None: no limit)."""
    rows = fold(report.rows, depth)
    columns, cells = net_table_cells(rows, report.macs, width)
    title = f"{report.name}: {format_shape(report.input_shape)} -> {format_shape(report.output_shape)}"
    return [title if width is None else shorten(title, width), *layout(columns, cells, NET_RIGHT), *total_lines(report, width)]


def print_net_table(report: Any, depth: int | None) -> None:
    from rich.console import Console
    from rich.text import Text

    title, header, *rest = net_table(report, depth, terminal_width())
    text = Text(title + "\n")
    text.append(header + "\n", style="bold")
    text.append("\n".join(rest))
    Console(highlight=False, markup=False, emoji=False).print(text, soft_wrap=True)


def net_markdown(report: Any, depth: int | None) -> str:
    rows = fold(report.rows, depth)
    title = f"**{md_escape(report.name)}**: {format_shape(report.input_shape)} -> {format_shape(report.output_shape)}"
    lines = [title, ""]
    lines.append("| " + " | ".join(NET_COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if c in ("#", "params", "MACs") else "---" for c in NET_COLUMNS) + "|")
    lines += ["| " + " | ".join(md_escape(cell) for cell in cells) + " |" for cells in net_cells(rows)]
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


def net_json(report: Any, depth: int | None = None) -> str:
    """The JSON contract (convcalc.report.schema.net_schema); with ``depth``, blocks nested deeper are folded into
    one row each, as in the other formats."""
    data: dict[str, Any] = {}
    for key, value in report.to_dict().items():
        if key == "layers":
            data["depth"] = depth
            value = value if depth is None else [row.to_dict() for row in fold(report.rows, depth)]
        data[key] = value
    return to_json(data)


def zoo_lines(entries: Sequence[tuple[str, str, str, int, int]], width: int | None = None) -> list[str]:
    """`convcalc zoo`: (name, title, input, params, MACs) per example, one line each; to fit ``width`` the counts
    are shortened (4.09G), then the titles left out."""
    lines = [
        f"{name:<18} {title:<24} input {shape:<14} params {params:>13,}  MACs {macs:>15,}"
        for name, title, shape, params, macs in entries
    ]
    for with_title in (True, False):
        if width is None or max(map(cells_wide, lines), default=0) <= width:
            break
        cells = [[name, title, "input", shape, "params", si(params), "MACs", si(macs)]
                 for name, title, shape, params, macs in entries]  # fmt: skip
        columns = ("name", "title", "i", "input", "p", "params", "m", "MACs")
        chosen = [0, 1, 2, 3, 4, 5, 6, 7] if with_title else [0, 2, 3, 4, 5, 6, 7]
        lines = layout(tuple(columns[i] for i in chosen), [[row[i] for i in chosen] for row in cells], {"params", "MACs"})[1:]
    return lines


def differences_text(differences: list[Any]) -> str:
    """The table of `net --verify` differences between convcalc and PyTorch."""
    cells = [[d.layer, d.what, d.convcalc, d.torch] for d in differences]
    lines = layout(("layer", "what", "convcalc", "PyTorch"), cells, set())
    return "\n".join(lines + [f"{len(differences)} difference(s) between convcalc and PyTorch"])


def compare_text(report: Any, table: dict[str, dict[str, int]]) -> str:
    """`net --compare`: each convention's total and ratio to convcalc's, then the breakdown by category."""
    from convcalc.conventions.counters import CATEGORIES, TOOLS

    table = scaled(table, report.batch)
    ours = sum(table["convcalc"].values())
    head = [
        [name, f"{tool.name} {tool.version}".strip() if tool.version else "-", tool.calls_it,
         f"{sum(table[name].values()):,}", f"{sum(table[name].values()) / ours:.7f}" if ours else "-"]
        for name, tool in TOOLS.items()
    ]  # fmt: skip
    lines = [compare_title(report)]
    width = terminal_width()
    lines += layout(("convention", "tool", "calls it", "total", "ratio"), head, {"total", "ratio"}, width)
    lines.append("")
    categories = [c for c in CATEGORIES if any(table[name][c] for name in table)]
    body = [[c, *(f"{table[name][c]:,}" for name in TOOLS)] for c in categories]
    body.append(["total", *(f"{sum(table[name].values()):,}" for name in TOOLS)])
    lines += layout(("category", *TOOLS), body, set(TOOLS), width)
    return "\n".join(lines)


def scaled(table: dict[str, dict[str, int]], batch: int) -> dict[str, dict[str, int]]:
    """Every convention's counts times the batch (the rules count one sample)."""
    return {name: {category: value * batch for category, value in counts.items()} for name, counts in table.items()}


def compare_title(report: Any) -> str:
    """`ResNet-50: 224x224x3, batch 1`."""
    return f"{report.name}: {format_shape(report.input_shape)}, batch {report.batch}"


def compare_summary(table: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One record per convention: the tool, what it calls its number, the total and its ratio to convcalc's."""
    from convcalc.conventions.counters import TOOLS

    ours = sum(table["convcalc"].values())
    return [
        {
            "convention": name, "tool": tool.name, "version": tool.version or None, "calls_it": tool.calls_it,
            "total": sum(table[name].values()), "ratio": sum(table[name].values()) / ours if ours else None,
            "breakdown": dict(table[name]),
        }
        for name, tool in TOOLS.items()
    ]  # fmt: skip


def compare_json(report: Any, table: dict[str, dict[str, int]]) -> str:
    """`net --compare --format json`: every convention's total, ratio and breakdown by category, times the batch."""
    data = {
        "name": report.name,
        "input_shape": list(report.input_shape),
        "batch": report.batch,
        "conventions": compare_summary(scaled(table, report.batch)),
    }
    return to_json(data)


def grid_cell(text: str) -> str:
    """Text for a cell of a GitHub Markdown table: a | would end the cell, a backslash escape it."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").splitlines())


def grid_markdown(columns: tuple[str, ...], cells: list[list[str]], right: set[str]) -> list[str]:
    """A GitHub Markdown table, numbers right-aligned."""
    lines = ["| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---:" if c in right else "---" for c in columns) + "|")
    return lines + ["| " + " | ".join(grid_cell(cell) for cell in row) + " |" for row in cells]


def compare_markdown(report: Any, table: dict[str, dict[str, int]]) -> str:
    """`net --compare --format markdown`: the totals table, then the breakdown by category."""
    from convcalc.conventions.counters import CATEGORIES, TOOLS

    table = scaled(table, report.batch)
    summary = compare_summary(table)
    head = [
        [s["convention"], f"{s['tool']} {s['version']}" if s["version"] else "-", s["calls_it"], f"{s['total']:,}",
         "-" if s["ratio"] is None else f"{s['ratio']:.7f}"]
        for s in summary
    ]  # fmt: skip
    categories = [c for c in CATEGORIES if any(table[name][c] for name in table)]
    body = [[c, *(f"{table[name][c]:,}" for name in TOOLS)] for c in categories]
    body.append(["total", *(f"{s['total']:,}" for s in summary)])
    lines = [f"**{grid_cell(report.name)}**: {format_shape(report.input_shape)}, batch {report.batch}", ""]
    lines += grid_markdown(("convention", "tool", "calls it", "total", "ratio"), head, {"total", "ratio"})
    lines.append("")
    return "\n".join(lines + grid_markdown(("category", *TOOLS), body, set(TOOLS)))


def compare_csv(report: Any, table: dict[str, dict[str, int]]) -> str:
    """`net --compare --format csv`: one row per convention, every category a column, then total and ratio."""
    import csv
    import io

    from convcalc.conventions.counters import CATEGORIES

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["convention", "tool", "version", "calls_it", "batch", *CATEGORIES, "total", "ratio"])
    for s in compare_summary(scaled(table, report.batch)):
        writer.writerow(
            [s["convention"], s["tool"], s["version"] or "", s["calls_it"], report.batch,
             *(s["breakdown"][c] for c in CATEGORIES), s["total"], "" if s["ratio"] is None else f"{s['ratio']:.7f}"]
        )  # fmt: skip
    return buffer.getvalue().rstrip("\n")


COMPARE_FORMATS = {"table": compare_text, "json": compare_json, "markdown": compare_markdown, "csv": compare_csv}


def compare_output(format: str, report: Any, table: dict[str, dict[str, int]]) -> str:
    """`net --compare` in any of `net`'s formats."""
    return COMPARE_FORMATS[format](report, table)


# --------------------------------------------------------------------------- net --verify, net --explain


def verify_agreement(report: Any, checked: int) -> str:
    """The one line `net --verify` prints when PyTorch agrees."""
    return f"{report.name}: PyTorch agrees on the output shape and params of all {checked} layers ({report.params:,} params)."


def verify_text(report: Any, differences: list[Any], checked: int) -> str:
    """`net --verify`: the agreement line, or the table of differences."""
    return differences_text(differences) if differences else verify_agreement(report, checked)


def verify_json(report: Any, differences: list[Any], checked: int) -> str:
    """`net --verify --format json`: whether PyTorch agrees, how many layers it checked, and every difference."""
    data = {
        "name": report.name,
        "agrees": not differences,
        "layers_checked": checked,
        "params": report.params,
        "differences": [{"layer": d.layer, "what": d.what, "convcalc": d.convcalc, "torch": d.torch} for d in differences],
    }
    return to_json(data)


def verify_markdown(report: Any, differences: list[Any], checked: int) -> str:
    if not differences:
        return verify_agreement(report, checked)
    cells = [[d.layer, d.what, d.convcalc, d.torch] for d in differences]
    lines = grid_markdown(("layer", "what", "convcalc", "PyTorch"), cells, set())
    return "\n".join([*lines, "", f"{len(differences)} difference(s) between convcalc and PyTorch"])


def verify_csv(report: Any, differences: list[Any], checked: int) -> str:
    """One row per difference (none: PyTorch agrees; the exit code says so too)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["layer", "what", "convcalc", "torch"])
    writer.writerows([d.layer, d.what, d.convcalc, d.torch] for d in differences)
    return buffer.getvalue().rstrip("\n")


VERIFY_FORMATS = {"table": verify_text, "json": verify_json, "markdown": verify_markdown, "csv": verify_csv}


def verify_output(format: str, report: Any, differences: list[Any], checked: int) -> str:
    """`net --verify` in any of `net`'s formats."""
    return VERIFY_FORMATS[format](report, differences, checked)


def explain_output(format: str, report: Any, recursion: Any) -> str:
    """`net --explain LAYER`: the lines (table), a fenced block (markdown) or the recursion as data (json)."""
    from convcalc.graph.analysis import backward_dict, backward_lines

    if format == "json":
        return to_json({"name": report.name, **backward_dict(recursion)})
    text = "\n".join(backward_lines(recursion))
    return f"```text\n{text}\n```" if format == "markdown" else text
