"""CSV: one header row, then one row per record; exact numbers, no thousands separators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from convcalc.report.cells import field_text, output_text
from convcalc.report.folding import fold


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The header and the rows as CSV, without a last newline (print adds it)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().rstrip("\n")


NET_HEADER = ("index", "name", "op", "output_shape", "params", "buffers", "macs", "flops", "receptive_field", "jump")


def net_csv(report: Any, depth: int | None) -> str:
    """`net --format csv`: one row per layer (blocks nested deeper than ``depth`` folded)."""
    rows = []
    for number, row in enumerate(fold(report.rows, depth)):
        rf, jump = field_text(row)
        rows.append([number, row.name, row.op, output_text(row), row.params, row.buffers, row.macs, row.flops, rf, jump])
    return csv_text(NET_HEADER, rows)
