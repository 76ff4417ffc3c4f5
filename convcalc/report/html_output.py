"""``convcalc net SPEC --format html``: one self-contained HTML page (no external file, font or script to fetch;
it works offline): the totals, the counting convention, the network diagram, the per-layer table with bars of each
row's params and MACs (plain CSS: the page works without script; a few lines of optional script sort the table by
a column when its heading is clicked) and the receptive-field growth chart."""

from __future__ import annotations

from html import escape
from typing import Any

from convcalc.report import svg
from convcalc.report.cells import WIDE_COLUMNS, row_cells, total_lines
from convcalc.report.folding import fold
from convcalc.report.formats import CONVENTION
from convcalc.report.numbers import format_shape

NUMERIC = {"#": "index", "params": "params", "MACs": "macs", "MACs%": "macs"}

STYLE = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.totals li{margin:2px 0}.convention{color:#555;font-size:13px;max-width:900px}
.figure{overflow-x:auto;border:1px solid #ddd;padding:4px;background:#fff}
table{border-collapse:collapse;font-size:12px}th,td{padding:3px 8px;border-bottom:1px solid #eee;white-space:nowrap}
th{background:#f3f3f3;position:sticky;top:0;text-align:left}th.sortable{cursor:pointer}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{height:9px;min-width:1px;display:inline-block;vertical-align:middle}
.bar.params{background:#4e79a7}.bar.macs{background:#f28e2b}td.bars{width:220px}
.warnings{color:#8a4b00;font-size:13px}
"""

# Optional: click a heading to sort by it (numbers by their data-value); the page reads the same without it.
SORT_SCRIPT = """
document.querySelectorAll("table.layers th").forEach(function (th, column) {
  th.classList.add("sortable");
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], rows = Array.from(body.rows);
    var down = th.dataset.order !== "down"; th.dataset.order = down ? "down" : "up";
    function key(row) { var cell = row.cells[column]; var v = cell.dataset.value;
      return v === undefined ? cell.textContent : Number(v); }
    rows.sort(function (a, b) { var x = key(a), y = key(b);
      var order = (typeof x === "number") ? x - y : String(x).localeCompare(String(y));
      return down ? -order : order; });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def net_html(report: Any, depth: int | None = None) -> str:
    """The whole page."""
    from convcalc.report.draw_field import field_chart
    from convcalc.report.draw_network import draw_network

    rows = fold(report.rows, depth)
    name = escape(report.name)
    shapes = f"{format_shape(report.input_shape)} → {format_shape(report.output_shape)}"
    chart = svg.document(640, 150, field_chart(report.rows, 12, 10, 600, 120), "receptive field per layer")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        f'<head><meta charset="utf-8"><meta name="generator" content="convcalc"><title>{name}</title>',
        f"<style>{STYLE}</style></head>",
        "<body>",
        f"<h1>{name}</h1>",
        f"<p>{escape(shapes)}" + (f", blocks folded at depth {depth}" if depth is not None else "") + "</p>",
        '<ul class="totals">' + "".join(f"<li>{escape(line)}</li>" for line in total_lines(report)) + "</ul>",
        f'<p class="convention">{escape(CONVENTION, quote=False)}</p>',
        "<h2>Network</h2>",
        f'<div class="figure">{svg.inline(draw_network(report, depth))}</div>',
        "<h2>Layers</h2>",
        layer_table(rows, report.macs),
        "<h2>Receptive field per layer</h2>",
        '<p class="convention">Each layer\'s receptive field in input positions (first spatial dimension; the hull '
        "where branches merge), input to output; layers that see the whole input have no bar.</p>",
        f'<div class="figure">{svg.inline(chart)}</div>',
        warnings_html(rows),
        f"<script>{SORT_SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def layer_table(rows: list[Any], total_macs: int) -> str:
    """The per-layer table: the wide table's columns, then bars of params and MACs relative to the largest row."""
    most_params = max((row.params for row in rows), default=0) or 1
    most_macs = max((row.macs for row in rows), default=0) or 1
    head = "".join(f"<th>{escape(column)}</th>" for column in WIDE_COLUMNS) + "<th>params | MACs</th>"
    lines = [f'<table class="layers"><thead><tr>{head}</tr></thead><tbody>']
    for number, row in enumerate(rows):
        cells = row_cells(number, row, False, total_macs)
        values = {"index": number, "params": row.params, "macs": row.macs}
        tds = []
        for column in WIDE_COLUMNS:
            if column in NUMERIC:
                tds.append(f'<td class="num" data-value="{values[NUMERIC[column]]}">{escape(cells[column])}</td>')
            else:
                tds.append(f"<td>{escape(cells[column])}</td>")
        bars = (f'<span class="bar params" style="width:{100 * row.params / most_params:.1f}px"></span> '
                f'<span class="bar macs" style="width:{100 * row.macs / most_macs:.1f}px"></span>')  # fmt: skip
        tds.append(f'<td class="bars" data-value="{row.macs}">{bars}</td>')
        lines.append("<tr>" + "".join(tds) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def warnings_html(rows: list[Any]) -> str:
    items = [f"<li>{escape(row.name)}: {escape(warning)}</li>" for row in rows for warning in row.warnings]
    if not items:
        return ""
    return '<h2>Warnings</h2><ul class="warnings">' + "".join(items) + "</ul>"
