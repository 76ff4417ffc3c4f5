"""``convcalc layer ... --draw FILE.svg``: a layer's sliding window in the style of Dumoulin and Visin's
conv_arithmetic: the grid the window slides over (input, padding per side, a transposed conv's inserted zeros), the
kernel's taps with their dilation gaps, the output grid, one frame per output position. Animated with SVG's own
animation (``<animate>``, no script), or with ``frames`` a static filmstrip. What each frame reads comes from
:mod:`convcalc.report.window_plan`.

Every frame is a ``<g class="frame" data-output="o_1,...">`` holding one ``<rect class="tap" data-cell="c_1,...">``
per cell its window reads, so that a test (or a reader) can check the picture against the arithmetic."""

from __future__ import annotations

from convcalc.core.resolved import LayerResult
from convcalc.report import svg
from convcalc.report.numbers import format_shape
from convcalc.report.window_plan import INPUT, OUTSIDE, PAD, ZERO, AxisPlan, WindowPlan, window_plan

SECONDS_PER_FRAME = 0.6
MAX_CHANNELS = 32  # channel squares drawn per side of the groups strip
KIND_FILL = {INPUT: svg.INPUT_FILL, PAD: svg.PAD_FILL, ZERO: svg.ZERO_FILL, OUTSIDE: "#ffffff"}
KIND_STROKE = {INPUT: "#6f8fb0", PAD: "#aaaaaa", ZERO: "#d08c8c", OUTSIDE: "#cccccc"}


def draw_window(result: LayerResult, frames: bool = False) -> str:
    """The picture of one conv, deconv or pooling layer (1-D or 2-D) as an SVG document."""
    plan = window_plan(result)
    cell = cell_size(plan, frames)
    grid_w, grid_h = grid_extent(plan, cell)
    heading = layer_heading(plan)
    notes = size_notes(plan)
    top = 46 + 14 * len(notes)
    body = [svg.text(12, 20, heading, "title")]
    body += [svg.text(12, 38 + 14 * i, note, "small") for i, note in enumerate(notes)]
    grid = grid_parts(plan, cell, titled=not frames)
    if frames:
        columns = plan.axes[-1].shown_outputs if len(plan.axes) == 2 else min(plan.frame_count, 4)
        panel_w, panel_h = grid_w + 24, grid_h + 24
        body.append(svg.element("defs", {}, [svg.group(grid, id="cc-window-grid")]))
        for index, output in enumerate(plan.outputs):
            x = 12 + (index % columns) * panel_w
            y = top + (index // columns) * panel_h
            shown = [svg.element("use", {"href": "#cc-window-grid"}), frame(plan, cell, output, 0, 1, animate=False)]
            body.append(svg.group(shown, class_="panel", transform=f"translate({svg.number(x)},{svg.number(y)})"))
        width = 24 + columns * panel_w
        height = top + -(-plan.frame_count // columns) * panel_h
    else:
        count = plan.frame_count
        shown = grid + [frame(plan, cell, output, i, count, animate=True) for i, output in enumerate(plan.outputs)]
        body.append(svg.group(shown, class_="panel", transform=f"translate(12,{svg.number(top)})"))
        width, height = 24 + grid_w, top + grid_h + 12
    strip_y = height + 6
    strip, strip_h = channel_strip(plan, 12, strip_y)
    legend_y = strip_y + strip_h
    body += strip
    body += legend(plan, 12, legend_y)
    width = max(width, 520, 24 + 5.8 * max((len(line) for line in notes), default=0), 24 + 8.5 * len(heading))
    return svg.document(width, legend_y + 26, body, heading, " ".join(notes))


def cell_size(plan: WindowPlan, frames: bool) -> float:
    """Pixels per cell: large for small grids, smaller for the corner of a large one and in a filmstrip."""
    cells = max(axis.high - axis.low for axis in plan.axes)
    size = max(10.0, min(28.0, 300.0 / cells))
    return size * (0.55 if frames else 1.0)


def grid_extent(plan: WindowPlan, cell: float) -> tuple[float, float]:
    """Width and height of one panel: the input grid, a gap, the output grid."""
    rows_in, cols_in = shape2(plan, [a.high - a.low for a in plan.axes])
    rows_out, cols_out = shape2(plan, [a.shown_outputs for a in plan.axes])
    cut_x = cell if plan.axes[-1].cut else 0
    return cols_in * cell + cell * 2 + cols_out * cell + cut_x + cell, max(rows_in, rows_out) * cell + 18


def shape2(plan: WindowPlan, values: list[int]) -> tuple[int, int]:
    """(rows, columns) of a 1-D (one row) or 2-D grid."""
    return (1, values[0]) if len(plan.axes) == 1 else (values[0], values[1])


def place(plan: WindowPlan, cell: tuple[int, ...]) -> tuple[int, int]:
    """(row, column) of a grid cell from its coordinates (padding before at negative cells)."""
    if len(plan.axes) == 1:
        return 0, cell[0] - plan.axes[0].low
    return cell[0] - plan.axes[0].low, cell[1] - plan.axes[1].low


def output_x(plan: WindowPlan, cell: float) -> float:
    """Where the output grid starts: right of the input grid, two cells apart."""
    return (shape2(plan, [a.high - a.low for a in plan.axes])[1] + 2) * cell


def grid_parts(plan: WindowPlan, cell: float, titled: bool) -> list[str]:
    """The input grid (every cell coloured by kind, with a tooltip when ``titled``) and the output grid, at 0,0."""
    parts = []
    for position in plan.cells():
        row, col = place(plan, position)
        kind = plan.kind(position)
        attrs = {"x": float(col * cell), "y": float(row * cell), "width": float(cell), "height": float(cell),
                 "fill": KIND_FILL[kind], "stroke": KIND_STROKE[kind], "stroke-width": 0.6, "class": f"cell {kind}",
                 "stroke-dasharray": "2,2" if kind in (PAD, OUTSIDE) else None,
                 "data-cell": ",".join(map(str, position))}  # fmt: skip
        parts.append(svg.element("rect", attrs, [svg.title(cell_tip(plan, position, kind))] if titled else ()))
    out_x = output_x(plan, cell)
    rows_out, cols_out = shape2(plan, [a.shown_outputs for a in plan.axes])
    for output in plan.outputs:
        row, col = (0, output[0]) if len(plan.axes) == 1 else output
        parts.append(svg.rect(out_x + col * cell, row * cell, cell, cell, svg.OUTPUT_FILL, stroke="#7aa36a",
                              stroke_width=0.6, class_="out", data_output=",".join(map(str, output))))  # fmt: skip
    rows_in = shape2(plan, [a.high - a.low for a in plan.axes])[0]
    parts.append(svg.text(0, rows_in * cell + 12, grid_label(plan), "small"))
    real_out = "x".join(str(a.out) for a in plan.axes)
    parts.append(svg.text(out_x, rows_out * cell + 12, f"output {real_out}", "small"))
    if plan.axes[-1].cut:
        parts.append(svg.text(out_x + cols_out * cell + 3, cell * 0.7, "…", "label muted"))
    if len(plan.axes) == 2 and plan.axes[0].cut:
        parts.append(svg.text(out_x - cell * 0.6, rows_out * cell, "⋮", "label muted"))
    if plan.axes[-1].high < max(plan.axes[-1].span + plan.axes[-1].after, plan.axes[-1].span):
        parts.append(svg.text(shape2(plan, [a.high - a.low for a in plan.axes])[1] * cell + 3, cell * 0.7, "…",
                              "label muted"))  # fmt: skip
    return parts


def grid_label(plan: WindowPlan) -> str:
    """What the left grid is: the input, its padding per side, a transposed conv's inserted zeros."""
    real_in = "x".join(str(a.size) for a in plan.axes)
    if plan.axes[0].transposed:
        inserted = "x".join(str(a.span) for a in plan.axes)
        pads = "x".join(f"{a.before}" if a.before == a.after else f"{a.before}+{a.after}" for a in plan.axes)
        return f"input {real_in}, zeros inserted: {inserted}, padded {pads}"
    return f"input {real_in}, padding {pad_words(plan)}"


def pad_words(plan: WindowPlan) -> str:
    """'1', '1x2' per dimension, or '0 before, 1 after' when a dimension's sides differ."""
    pads = {(a.before, a.after) for a in plan.axes}
    if len(pads) == 1:
        before, after = pads.pop()
        return str(before) if before == after else f"{before} before, {after} after"
    return " | ".join(f"{a.before}" if a.before == a.after else f"{a.before} before, {a.after} after" for a in plan.axes)


def frame(plan: WindowPlan, cell: float, output: tuple[int, ...], index: int, count: int, animate: bool) -> str:
    """One output position: the cells its window reads (dark, semi-transparent), the window's outline from first to
    last tap (dilation gaps show as unmarked cells inside it), and the output cell."""
    reads = plan.reads(output)
    x0 = y0 = 0.0
    out_x = output_x(plan, cell)
    children = []
    rows = [place(plan, c)[0] for c in reads]
    cols = [place(plan, c)[1] for c in reads]
    children.append(svg.rect(x0 + min(cols) * cell, y0 + min(rows) * cell, (max(cols) - min(cols) + 1) * cell,
                             (max(rows) - min(rows) + 1) * cell, "none", stroke=svg.TAP_FILL, stroke_width=2,
                             class_="window"))  # fmt: skip
    for position, row, col in zip(reads, rows, cols):
        children.append(svg.rect(x0 + col * cell + 2, y0 + row * cell + 2, cell - 4, cell - 4, svg.TAP_FILL,
                                 fill_opacity=0.55, class_="tap", data_cell=",".join(map(str, position))))  # fmt: skip
    row, col = (0, output[0]) if len(plan.axes) == 1 else output
    children.append(svg.rect(out_x + col * cell + 1, y0 + row * cell + 1, cell - 2, cell - 2, svg.HIT_FILL,
                             fill_opacity=0.8, class_="hit"))  # fmt: skip
    name = "output " + ",".join(map(str, output))
    children.insert(0, svg.title(f"{name} reads cells " + " ".join("(" + ",".join(map(str, c)) + ")" for c in reads)))
    if animate and count > 1:
        children.append(blink(index, count))
    visible = "visible" if index == 0 or not animate else "hidden"
    return svg.group(children, class_="frame", data_output=",".join(map(str, output)), visibility=visible)


def blink(index: int, count: int) -> str:
    """SMIL: visible during its share of the loop (discrete key times index/count and (index+1)/count)."""
    if index == 0:
        values, times = "visible;hidden", f"0;{1 / count:.6f}"
    elif index == count - 1:
        values, times = "hidden;visible", f"0;{index / count:.6f}"
    else:
        values, times = "hidden;visible;hidden", f"0;{index / count:.6f};{(index + 1) / count:.6f}"
    return svg.element("animate", {
        "attributeName": "visibility", "values": values, "keyTimes": times, "calcMode": "discrete",
        "dur": f"{count * SECONDS_PER_FRAME:.1f}s", "repeatCount": "indefinite",
    })  # fmt: skip


def cell_tip(plan: WindowPlan, position: tuple[int, ...], kind: str) -> str:
    indices = [axis.input_index(c) for axis, c in zip(plan.axes, position)]
    if kind == INPUT:
        return "input " + ",".join(str(i) for i in indices)
    return {PAD: "padding (zero)", ZERO: "inserted zero (stride of the transposed conv)",
            OUTSIDE: "past the padding (ceil mode: the window is cut here)"}[kind]  # fmt: skip


def axis_words(axis: AxisPlan) -> str:
    w = axis.window
    text = f"k={w.kernel} s={w.stride}"
    text += f" p={w.pad[0]}" if w.pad[0] == w.pad[1] else f" p={w.pad[0]}+{w.pad[1]}"
    if w.dilation > 1:
        text += f" d={w.dilation}"
    if axis.output_padding:
        text += f" output_padding={axis.output_padding}"
    return text


def layer_heading(plan: WindowPlan) -> str:
    per_dim = [axis_words(axis) for axis in plan.axes]
    windows = per_dim[0] if len(set(per_dim)) == 1 else " | ".join(per_dim)
    groups = f", groups {plan.groups}" if plan.groups > 1 else ""
    shapes = f"{format_shape(plan.input_shape)} -> {format_shape(plan.output_shape)}"
    return f"{plan.op} {windows}{groups}: {shapes}"


def size_notes(plan: WindowPlan) -> list[str]:
    """The true sizes, and what is drawn when only a corner is."""
    notes = []
    if plan.axes[0].transposed:
        notes.append("drawn as a stride-1 conv over the input with s-1 zeros inserted between its positions, "
                     "padded d(k-1)-p per side (+output_padding after)")  # fmt: skip
    if plan.cut:
        drawn = "x".join(str(a.high - a.low) for a in plan.axes)
        outs = "x".join(str(a.shown_outputs) for a in plan.axes)
        real_in = "x".join(str(a.size) for a in plan.axes)
        real_out = "x".join(str(a.out) for a in plan.axes)
        notes.append(f"the corner: {drawn} cells of the {real_in} input (with padding) and {outs} of the "
                     f"{real_out} outputs are drawn")  # fmt: skip
    return notes


def channel_strip(plan: WindowPlan, x0: float, y0: float) -> tuple[list[str], float]:
    """Input and output channels as squares coloured by group (a conv's group g reads input channels
    [g*C_in/G, (g+1)*C_in/G) and writes output channels [g*C_out/G, (g+1)*C_out/G)); pooling works per channel."""
    if plan.op not in ("conv", "deconv"):
        return [svg.text(x0, y0 + 12, f"{plan.op}: each of the {plan.channels_in} channels pooled on its own", "small")], 22
    parts = []
    size = 10.0
    for row, (label, channels) in enumerate((("in", plan.channels_in), ("out", plan.channels_out))):
        y = y0 + row * (size + 6)
        parts.append(svg.text(x0, y + size - 1, f"{label} {channels}", "small"))
        per_group = channels // plan.groups
        for c in range(min(channels, MAX_CHANNELS)):
            g = c // per_group
            parts.append(svg.rect(x0 + 48 + c * (size + 1), y, size, size, svg.colour(g), class_="channel",
                                  data_group=g))  # fmt: skip
        if channels > MAX_CHANNELS:
            parts.append(svg.text(x0 + 52 + MAX_CHANNELS * (size + 1), y + size - 1, f"… {channels}", "small muted"))
    words = (f"groups {plan.groups}: each output channel reads the {plan.channels_in // plan.groups} input channels "
             "of its group" if plan.groups > 1 else f"each output channel reads all {plan.channels_in} input channels")  # fmt: skip
    parts.append(svg.text(x0, y0 + 2 * (size + 6) + 10, words, "small"))
    return parts, 2 * (size + 6) + 18


def legend(plan: WindowPlan, x0: float, y0: float) -> list[str]:
    items = [(svg.INPUT_FILL, "input"), (svg.PAD_FILL, "padding")]
    if isinstance(plan, WindowPlan) and plan.axes[0].transposed:
        items.append((svg.ZERO_FILL, "inserted zero"))
    items += [(svg.TAP_FILL, "kernel tap"), (svg.OUTPUT_FILL, "output"), (svg.HIT_FILL, "computed now")]
    parts, x = [], x0
    for fill, words in items:
        parts.append(svg.rect(x, y0 + 4, 12, 12, fill, stroke="#999", stroke_width=0.5))
        parts.append(svg.text(x + 16, y0 + 14, words, "small"))
        x += 24 + 6.5 * len(words)
    return parts

