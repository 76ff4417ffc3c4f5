"""Tables for a terminal: one layer (a rich table), a network (plain columns fitted to the terminal's width, from
the richest layout that fits to the narrowest) and the list of bundled examples."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from convcalc.core.resolved import LayerResult
from convcalc.report.cells import (
    NET_COLUMNS,
    NET_RIGHT,
    WIDE_COLUMNS,
    layer_rows,
    net_cells,
    network_output_text,
    row_cells,
    total_lines,
)
from convcalc.report.folding import fold
from convcalc.report.numbers import format_shape, si
from convcalc.report.terminal import cells_wide, column_widths, layout, plain_stdout, shorten, terminal_width

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


def net_table(report: Any, depth: int | None, width: int | None = None) -> list[str]:
    """The title, the per-layer table and the totals, fitted to ``width`` (None: no limit)."""
    rows = fold(report.rows, depth)
    columns, cells = net_table_cells(rows, report.macs, width)
    title = f"{report.name}: {format_shape(report.input_shape)} -> {network_output_text(report)}"
    return [title if width is None else shorten(title, width), *layout(columns, cells, NET_RIGHT), *total_lines(report, width)]


def print_net_table(report: Any, depth: int | None) -> None:
    """The table on stdout, its header bold on a terminal. Not on a terminal, printable text is written as is (what
    rich would write, and flushed as rich does); rich is needed only for styles or to strip control characters."""
    title, header, *rest = net_table(report, depth, terminal_width())
    if plain_stdout() and all(line.isprintable() for line in (title, header, *rest)):
        sys.stdout.write(f"{title}\n{header}\n" + "\n".join(rest) + "\n")
        sys.stdout.flush()
        return
    from rich.console import Console
    from rich.text import Text

    text = Text(title + "\n")
    text.append(header + "\n", style="bold")
    text.append("\n".join(rest))
    Console(highlight=False, markup=False, emoji=False).print(text, soft_wrap=True)


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
