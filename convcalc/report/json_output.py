"""The JSON contract of `layer` and `net` (schemas: convcalc.report.schema): the same keys for what both know,
exact numbers (an int, or "p/q" when fractional), shapes channels last without the batch, and "whole" for the
receptive field of a layer that sees every input position. Also the layout every JSON output shares."""

from __future__ import annotations

import json
import re
from typing import Any

from convcalc.core.resolved import ConvSpec, LayerResult, LayerSpec, LinearSpec, PoolSpec
from convcalc.report.folding import fold
from convcalc.report.numbers import json_numbers

PLAIN_LIST = re.compile(r'\[(?:[^\[\]{}"]|"(?:[^"\\]|\\.)*")*\]')  # a list of numbers or strings (which may hold brackets)


def to_json(data: Any) -> str:
    """Indented JSON with lists of plain values kept on one line."""
    text = json.dumps(data, indent=2)
    return PLAIN_LIST.sub(lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(0)[1:-1]).strip() + "]", text)


# Every output unit sees every position of the input (after flatten, global pooling, a linear layer on flat input).
WHOLE_FIELD: dict[str, Any] = {"receptive_field": "whole", "jump": None, "start": None}


def field_json(size: Any, jump: Any, start: Any) -> dict[str, Any]:
    """Receptive field, jump and start per spatial dimension, as exact JSON numbers."""
    return {"receptive_field": json_numbers(size), "jump": json_numbers(jump), "start": json_numbers(start)}


def spec_json(spec: LayerSpec | None) -> dict[str, Any]:
    """The resolved arguments of a windowed layer: kernel, stride, dilation, padding, groups, output_padding."""
    data: dict[str, Any] = {}
    if isinstance(spec, (ConvSpec, PoolSpec)):
        data["kernel"] = [w.kernel for w in spec.windows]
        data["stride"] = [w.stride for w in spec.windows]
        data["dilation"] = [w.dilation for w in spec.windows]
        data["padding"] = [list(w.pad) for w in spec.windows]
    if isinstance(spec, ConvSpec):
        data["groups"] = spec.groups
        if spec.transposed:
            data["output_padding"] = list(spec.output_padding)
    return data


def layer_field_json(result: LayerResult) -> dict[str, Any]:
    """A layer's field; a linear layer works per position: a 1x1 field on (..., C) input, the whole input on flat
    input."""
    if isinstance(result.spec, LinearSpec):
        rank = len(result.input_shape) - 1
        if rank == 0:
            return dict(WHOLE_FIELD)
        return {"receptive_field": [1] * rank, "jump": [1] * rank, "start": [0] * rank}
    return field_json(result.receptive_field, result.jump, result.start)


def layer_dict(result: LayerResult) -> dict[str, Any]:
    """`layer --format json` without its convention: shapes, counts, field, batch, warnings, resolved arguments."""
    data: dict[str, Any] = {
        "op": result.op,
        "input_shape": list(result.input_shape),
        "output_shape": list(result.output_shape),
        "params": result.params,
        "macs": result.macs,
        "flops": result.flops,
    }
    data.update(layer_field_json(result))
    data["batch"] = result.batch
    data["warnings"] = list(result.warnings)
    data.update(spec_json(result.spec))
    return data


def layer_json(result: LayerResult, explain: bool = False, convention: str = "convcalc") -> str:
    """The JSON contract; with ``explain``, the step-by-step lines under the key "explain"."""
    data = layer_dict(result)
    data["convention"] = str(convention)
    if explain:
        from convcalc.report.explain import explain as explain_lines

        data["explain"] = explain_lines(result, convention)
    return to_json(data)


def field_dict(field: Any) -> dict[str, Any]:
    """A network row's receptive field as `layer` writes it; "whole" (jump and start null) when an output unit sees
    every input position: after flatten or global pooling, and everywhere in a network whose input has no spatial
    dimensions (a fully connected layer on flat input)."""
    if field is None or field.whole:
        return dict(WHOLE_FIELD)
    if field.unknown:
        return {"receptive_field": "unknown", "jump": None, "start": None, "field_note": field.unknown}
    return field_json(field.receptive_field, field.jump, field.start)


def row_dict(row: Any) -> dict[str, Any]:
    """One row of `net --format json`; the same keys as `layer` for what both know (see the README)."""
    data: dict[str, Any] = {"name": row.name, "op": row.op, "inputs": list(row.inputs)}
    if row.input_shapes:
        data["input_shape"] = list(row.input_shapes[0])
    if len(row.input_shapes) > 1:
        data["input_shapes"] = [list(shape) for shape in row.input_shapes]
    data.update(
        output_shape=list(row.output_shape), params=row.params, buffers=row.buffers, macs=row.macs, flops=row.flops,
    )  # fmt: skip
    data.update(field_dict(row.field))
    if row.output_shapes:  # several outputs (split, chunk): the keys above are the first's
        data["output_shapes"] = [list(shape) for shape in row.output_shapes]
        data["output_fields"] = [field_dict(field) for field in row.output_fields]
    data.update(spec_json(row.spec))
    data["trainable"] = row.trainable
    data["warnings"] = list(row.warnings)
    data["line"] = row.line
    return data


def report_dict(report: Any, depth: int | None = None) -> dict[str, Any]:
    """`net --format json` as data: the network, every row (blocks nested deeper than ``depth`` folded into one row
    each, as in the other formats) and the totals."""
    data: dict[str, Any] = {
        "name": report.name,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape),
        "batch": report.batch,
        "dtype": str(report.dtype),
        "convention": str(report.convention),
    }
    data["depth"] = depth
    data["layers"] = [row_dict(row) for row in fold(report.rows, depth)]
    data["outputs"] = outputs_list(report)
    data["unused"] = [{"module": m.module, "params": m.params, "buffers": m.buffers} for m in report.unused]
    data["total"] = report.totals()
    return data


def outputs_list(report: Any) -> list[dict[str, Any]]:
    """Every output of the network: the declared ones (``outputs:``), else the last layer's."""
    if report.outputs:
        return [{"name": o.name, "layer": o.layer, "shape": list(o.shape)} | field_dict(o.field) for o in report.outputs]
    if not report.rows:
        return []
    last = report.rows[-1]
    return [{"name": last.name, "layer": last.name, "shape": list(last.output_shape)} | field_dict(last.field)]


def net_json(report: Any, depth: int | None = None) -> str:
    """The JSON contract (convcalc.report.schema.net_schema); with ``depth``, blocks nested deeper are folded into
    one row each, as in the other formats."""
    return to_json(report_dict(report, depth))
