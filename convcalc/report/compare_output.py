"""`net --compare` in `net`'s four formats: every convention's total, its ratio to convcalc's, and the breakdown by
category, times the batch (the conventions' rules count one sample)."""

from __future__ import annotations

from typing import Any

from convcalc.report.csv_output import csv_text
from convcalc.report.json_output import to_json
from convcalc.report.markdown import grid_cell, grid_markdown
from convcalc.report.numbers import format_shape, grouped, ratio
from convcalc.report.terminal import layout, terminal_width

Table = dict[str, dict[str, int]]  # convention -> category -> count
HEAD = ("convention", "tool", "calls it", "total", "ratio")


def scaled(table: Table, batch: int) -> Table:
    """Every convention's counts times the batch (the rules count one sample)."""
    return {name: {category: value * batch for category, value in counts.items()} for name, counts in table.items()}


def compare_title(report: Any) -> str:
    """`ResNet-50: 224x224x3, batch 1`."""
    return f"{report.name}: {format_shape(report.input_shape)}, batch {report.batch}"


def compare_summary(table: Table) -> list[dict[str, Any]]:
    """One record per convention: the tool, what it calls its number, the total and its ratio to convcalc's."""
    from convcalc.conventions.counting import TOOLS

    ours = sum(table["convcalc"].values())
    return [
        {
            "convention": name, "tool": tool.name, "version": tool.version or None, "calls_it": tool.calls_it,
            "total": sum(table[name].values()), "ratio": sum(table[name].values()) / ours if ours else None,
            "breakdown": dict(table[name]),
        }
        for name, tool in TOOLS.items()
    ]  # fmt: skip


def compare_cells(table: Table) -> tuple[list[list[str]], tuple[str, ...], list[list[str]]]:
    """The cells of the totals table (one row per convention), the breakdown's columns, and its cells (one row per
    category that any convention counts, then the totals); ``table`` already times the batch."""
    from convcalc.conventions.base import CATEGORIES
    from convcalc.conventions.counting import TOOLS

    summary = compare_summary(table)
    head = [
        [s["convention"], f"{s['tool']} {s['version']}" if s["version"] else "-", s["calls_it"], grouped(s["total"]),
         ratio(s["ratio"])]
        for s in summary
    ]  # fmt: skip
    categories = [c for c in CATEGORIES if any(table[name][c] for name in table)]
    body = [[c, *(grouped(table[name][c]) for name in TOOLS)] for c in categories]
    body.append(["total", *(grouped(s["total"]) for s in summary)])
    return head, ("category", *TOOLS), body


def compare_text(report: Any, table: Table) -> str:
    """The totals table, then the breakdown by category, each folded to the terminal's width."""
    head, columns, body = compare_cells(scaled(table, report.batch))
    width = terminal_width()
    lines = [compare_title(report), *layout(HEAD, head, {"total", "ratio"}, width), ""]
    return "\n".join(lines + layout(columns, body, set(columns[1:]), width))


def compare_json(report: Any, table: Table) -> str:
    """Every convention's total, ratio and breakdown by category, times the batch."""
    data = {
        "name": report.name,
        "input_shape": list(report.input_shape),
        "batch": report.batch,
        "conventions": compare_summary(scaled(table, report.batch)),
    }
    return to_json(data)


def compare_markdown(report: Any, table: Table) -> str:
    """The totals table, then the breakdown by category."""
    head, columns, body = compare_cells(scaled(table, report.batch))
    lines = [f"**{grid_cell(report.name)}**: {format_shape(report.input_shape)}, batch {report.batch}", ""]
    lines += grid_markdown(HEAD, head, {"total", "ratio"})
    lines.append("")
    return "\n".join(lines + grid_markdown(columns, body, set(columns[1:])))


def compare_csv(report: Any, table: Table) -> str:
    """One row per convention, every category a column, then total and ratio."""
    from convcalc.conventions.base import CATEGORIES

    header = ["convention", "tool", "version", "calls_it", "batch", *CATEGORIES, "total", "ratio"]
    rows = [
        [s["convention"], s["tool"], s["version"] or "", s["calls_it"], report.batch,
         *(s["breakdown"][c] for c in CATEGORIES), s["total"], "" if s["ratio"] is None else ratio(s["ratio"])]
        for s in compare_summary(scaled(table, report.batch))
    ]  # fmt: skip
    return csv_text(header, rows)


COMPARE_FORMATS = {"table": compare_text, "json": compare_json, "markdown": compare_markdown, "csv": compare_csv}


def compare_output(format: str, report: Any, table: Table) -> str:
    """`net --compare` in any of `net`'s formats."""
    return COMPARE_FORMATS[format](report, table)
