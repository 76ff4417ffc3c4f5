"""GitHub Markdown: escaped table cells, tables with numbers right-aligned, fenced blocks; `layer` and `net` as
Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from convcalc.core.resolved import LayerResult
from convcalc.report.cells import NET_COLUMNS, layer_rows, net_cells, network_output_text, total_lines
from convcalc.report.folding import fold
from convcalc.report.numbers import format_shape

# Markdown's special characters; an underscore inside a word (conv_1) is plain text on GitHub and stays readable.
MARKDOWN_SPECIAL = re.compile(r"[\\|`*\[\]<>]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(text: str) -> str:
    """Text for a GitHub Markdown table cell: |, backslashes and inline markup escaped, one line."""
    return MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), " ".join(text.splitlines()))


def grid_cell(text: str) -> str:
    """Text for a cell of a GitHub Markdown table: a | would end the cell, a backslash escape it."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").splitlines())


def grid_markdown(columns: tuple[str, ...], cells: list[list[str]], right: set[str]) -> list[str]:
    """A GitHub Markdown table, numbers right-aligned."""
    lines = ["| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---:" if c in right else "---" for c in columns) + "|")
    return lines + ["| " + " | ".join(grid_cell(cell) for cell in row) + " |" for row in cells]


def fenced(lines: Sequence[str]) -> list[str]:
    """Lines as a Markdown code block, outside any table (a blank line first ends the table)."""
    fence = "```"
    while any(line.startswith(fence) for line in lines):
        fence += "`"
    return ["", fence + "text", *lines, fence]


def layer_markdown(result: LayerResult, explain: Sequence[str] = ()) -> str:
    """A two-column GitHub Markdown table; ``explain`` lines follow it in a fenced block."""
    lines = [f"| {md_escape(result.op)} | |", "|---|---|"]
    lines += [f"| {md_escape(label)} | {md_escape(value)} |" for label, value in layer_rows(result)]
    if explain:
        lines += fenced(explain)
    return "\n".join(lines)


def net_markdown(report: Any, depth: int | None) -> str:
    """The title, the per-layer table (the columns of a table without a terminal) and the totals."""
    rows = fold(report.rows, depth)
    title = f"**{md_escape(report.name)}**: {format_shape(report.input_shape)} -> {network_output_text(report)}"
    lines = [title, ""]
    lines.append("| " + " | ".join(NET_COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if c in ("#", "params", "MACs") else "---" for c in NET_COLUMNS) + "|")
    lines += ["| " + " | ".join(md_escape(cell) for cell in cells) + " |" for cells in net_cells(rows)]
    lines.append("")
    lines += [line + "  " for line in total_lines(report)]
    return "\n".join(lines)
