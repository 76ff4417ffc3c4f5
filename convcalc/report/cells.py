"""What each cell of a table says, shared by the terminal tables, Markdown and CSV: a layer's (label, value) rows,
a network row's cells by column, and the totals' lines."""

from __future__ import annotations

from typing import Any

from convcalc.core.notation import dim_names
from convcalc.core.resolved import LayerResult
from convcalc.report.numbers import byte_size, count, format_shape, grouped, per_dim, share, si
from convcalc.report.terminal import join_parts

NET_COLUMNS = ("#", "name", "op", "output", "params", "MACs", "RF", "jump")
# On a wide terminal: the input shape, kernel/stride/padding (torchinfo's Kernel Shape) and each layer's MACs share.
WIDE_COLUMNS = ("#", "name", "op", "input", "output", "k/s/p", "params", "MACs", "MACs%", "RF", "jump")
NET_RIGHT = {"#", "params", "MACs", "MACs%"}


def pads_text(windows: Any) -> list[str]:
    """Padding per dimension: '2', or '0+1' when before and after differ."""
    return [f"{a}" if a == b else f"{a}+{b}" for a, b in (w.pad for w in windows)]


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
        windows = getattr(result.spec, "windows", ())
        if windows:
            rows.append(("Padding", "x".join(pads_text(windows))))
    return rows


def field_text(row: Any) -> tuple[str, str]:
    """(receptive field, jump) cells of a network row: "whole" (and jump "-") where an output unit sees every input
    position, as in the JSON (after flatten or global pooling; everywhere when the input has no spatial dimension)."""
    field = row.field
    if field is None or field.whole:
        return "whole", "-"
    if field.unknown:
        return "?", "?"
    return per_dim(field.receptive_field), per_dim(field.jump)


def window_text(spec: Any) -> str:
    """Kernel/stride/padding of a conv, deconv or pooling row: '7x7/2/3', '3x5/1x2/2', '3x3/1/2/d2'; else '-'."""
    windows = getattr(spec, "windows", ())
    if not windows:
        return "-"

    def dims(values: list[str]) -> str:
        return values[0] if len(set(values)) == 1 else "x".join(values)

    text = "x".join(str(w.kernel) for w in windows)
    text += "/" + dims([str(w.stride) for w in windows])
    text += "/" + dims(pads_text(windows))
    if any(w.dilation > 1 for w in windows):
        text += "/d" + dims([str(w.dilation) for w in windows])
    return text


def input_text(row: Any) -> str:
    """The input shape of a row; a merge of more than two inputs shows the first and '+…'."""
    shapes = [format_shape(shape) for shape in row.input_shapes]
    if not shapes:
        return "-"
    return "+".join(shapes) if len(shapes) <= 2 else shapes[0] + "+…"


def output_text(row: Any) -> str:
    """The output shape of a row; several outputs (split, chunk): '2 x 32x32x16' when equal, else each one."""
    shapes = [format_shape(shape) for shape in getattr(row, "output_shapes", ()) or (row.output_shape,)]
    if len(shapes) > 1 and len(set(shapes)) == 1:
        return f"{len(shapes)} x {shapes[0]}"
    return ", ".join(shapes)


def row_cells(number: int, row: Any, short: bool = False, total_macs: int = 0) -> dict[str, str]:
    """Every cell a network table can show for one row, by column name; ``short``: counts as 4.09G."""
    rf, jump = field_text(row)
    counted = si if short else grouped
    return {
        "#": str(number), "name": row.name, "op": row.op, "input": input_text(row),
        "output": output_text(row), "k/s/p": window_text(row.spec), "params": counted(row.params),
        "MACs": counted(row.macs), "MACs%": share(row.macs, total_macs), "RF": rf, "jump": jump,
    }  # fmt: skip


def net_cells(
    rows: list[Any], columns: tuple[str, ...] = NET_COLUMNS, short: bool = False, total_macs: int = 0
) -> list[list[str]]:
    return [[cells[c] for c in columns] for cells in (row_cells(n, row, short, total_macs) for n, row in enumerate(rows))]


def total_parts(report: Any) -> list[list[str]]:
    """The totals' lines, each in parts that may go on lines of their own (a part starts with its separator)."""
    totals = report.totals()
    frozen = totals["non_trainable_params"]
    params = [f"Params: {count(totals['params'])}"]
    if frozen:
        params.append(f", trainable {grouped(totals['trainable_params'])}, frozen {grouped(frozen)}")
    if totals["buffers"]:  # batch-norm running statistics, unless constants (registered buffers) hold some
        what = "buffers" if any(row.op == "constant" and row.buffers for row in report.rows) else "buffers (BN statistics)"
        params.append(f"; {what}: {grouped(totals['buffers'])}")
    macs = ["MACs" if report.convention == "convcalc" else f"MACs as {report.convention} counts them"]
    macs[0] += f": {count(totals['macs'])}"
    macs.append(f"   FLOPs: {count(totals['flops'])}")
    if report.batch > 1:
        macs.append(f"   batch {report.batch}")
    memory = [
        f"Memory ({report.dtype}): activations {byte_size(totals['activation_bytes'])}",
        f", parameters and buffers {byte_size(totals['param_bytes'])}",
    ]
    return [*output_parts(report), params, *unused_parts(report), macs, memory]


def network_output_text(report: Any) -> str:
    """What a title shows after the arrow: the output's shape, or how many outputs (listed under the totals)."""
    return f"{len(report.outputs)} outputs" if len(report.outputs) > 1 else format_shape(report.output_shape)


def output_parts(report: Any) -> list[list[str]]:
    """``Outputs: boxes 80x80x144 (model.22.cv2), ...`` when the spec declares outputs (one part per output)."""
    if not report.outputs:
        return []
    parts = [f"{output.name} {format_shape(output.shape)}" + (f" ({output.layer})" if output.layer != output.name else "")
             for output in report.outputs]  # fmt: skip
    return [[f"Outputs: {parts[0]}", *(f", {part}" for part in parts[1:])]]


def unused_parts(report: Any) -> list[list[str]]:
    """``Unused by forward (in Params): aux1 (3,189,864), aux2 (...)``: modules whose parameters the forward never
    uses, counted in the totals."""
    if not report.unused:
        return []
    parts = [f"{module.module or 'the model'} ({grouped(module.params)}{f', buffers {grouped(module.buffers)}' if module.buffers else ''})"
             for module in report.unused]  # fmt: skip
    head = f"Unused by forward, in Params: {grouped(report.unused_params)}: "
    return [[head + parts[0], *(f", {part}" for part in parts[1:])]]


def total_lines(report: Any, width: int | None = None) -> list[str]:
    """The totals under a network's table; with ``width``, parts that do not fit go on lines of their own."""
    return [line for parts in total_parts(report) for line in join_parts(parts, width)]
