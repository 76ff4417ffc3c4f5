"""Fitting text to a terminal: its width, text measured in terminal cells, names elided in the middle, columns of
plain text and the folding of a table too wide for the terminal. rich is imported only to measure or ask."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def terminal_width() -> int | None:
    """The width tables must fit: $COLUMNS when set, the terminal's when stdout is one, else None (no limit)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        from rich.console import Console

        return Console().width
    return None


def plain_stdout() -> bool:
    """Whether rich would write stdout as plain text (no styles, no escape codes): stdout is no terminal, and nothing
    makes rich treat it as one (TTY_COMPATIBLE, FORCE_COLOR, a notebook, IDLE). Then text is printed without rich,
    which saves importing it (~12 ms); the characters are the same."""
    environ = os.environ
    if "FORCE_COLOR" in environ or environ.get("TTY_COMPATIBLE", "") != "" or "IPython" in sys.modules:
        return False
    if getattr(sys.stdin, "__module__", "").startswith("idlelib"):
        return False
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


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


def join_parts(parts: list[str], width: int | None) -> list[str]:
    """Parts on one line; a part that would pass ``width`` starts a new, indented line."""
    lines = [parts[0]]
    for part in parts[1:]:
        if width is not None and len(lines[-1] + part) > width:
            lines.append("  " + part.lstrip(",; "))
        else:
            lines[-1] += part
    return lines
