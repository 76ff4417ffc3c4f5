"""An Ultralytics model's table as ``parse_model`` prints it (index, from, n, params, module, arguments), one row per
YAML row, beside convcalc's columns (output shape, MACs, receptive field), and the summary line ``model.info()``
prints, with both of Ultralytics' layer counts.

The model description comes from :mod:`convcalc.frontends.ultralytics_names` (``YoloModel``; read here by its
attributes: this layer does not import the front ends).
"""

from __future__ import annotations

from typing import Any

from convcalc.core.notation import format_shape, grouped
from convcalc.report.cells import field_text, output_text, total_lines
from convcalc.report.terminal import layout

COLUMNS = ("", "from", "n", "params", "module", "arguments", "output", "MACs", "RF")
RIGHT = {"", "n", "params", "MACs"}


def row_groups(model: Any, report: Any) -> list[tuple[Any, list[Any]]]:
    """Each YAML row with the report rows of its module (``model.4`` and ``model.4.*``), in the report's order."""
    groups: dict[str, list[Any]] = {row.name: [] for row in model.rows}
    for layer in report.rows:
        parts = layer.name.split(".")
        key = ".".join(parts[:2])
        if key in groups:
            groups[key].append(layer)
    return [(row, groups[row.name]) for row in model.rows]


def ultralytics_cells(model: Any, report: Any) -> list[list[str]]:
    cells = []
    for row, layers in row_groups(model, report):
        last = layers[-1] if layers else None
        module = row.module
        cells.append([
            str(row.index), str(row.source), str(row.repeats), grouped(sum(layer.params for layer in layers)),
            module, row.arguments, output_text(last) if last else "-", grouped(sum(layer.macs for layer in layers)),
            field_text(last)[0] if last else "-",
        ])  # fmt: skip
    return cells


def summary_line(model: Any, report: Any, ultralytics_macs: int | None) -> str:
    """``YOLOv8n summary: 129 layers (225 modules), 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs``: the
    layers are the leaf modules (the shared activation once), as Ultralytics 8.1 and later print them; the modules,
    containers included, are what older versions called layers; GFLOPs are 2 x Ultralytics' MACs / 1e9."""
    name = model.name.replace("yolo", "YOLO")
    flops = f", {2 * ultralytics_macs / 1e9:.1f} GFLOPs" if ultralytics_macs is not None else ""
    return (f"{name} summary: {model.leaf_layers:,} layers ({model.all_layers:,} modules), {report.params:,} parameters, "
            f"{report.trainable_params:,} gradients{flops} (Ultralytics' count at {format_shape(report.input_shape)})")  # fmt: skip


def ultralytics_table(model: Any, report: Any, ultralytics_macs: int | None, width: int | None = None) -> list[str]:
    """The title, one row per YAML row, convcalc's totals and Ultralytics' summary line."""
    title = f"{report.name}: {format_shape(report.input_shape)} (Ultralytics {model.task}, scale {model.scale or '-'})"
    table = layout(COLUMNS, ultralytics_cells(model, report), RIGHT, width)
    return [title, *table, *total_lines(report, width), summary_line(model, report, ultralytics_macs)]
