"""``convcalc net SPEC --explain LAYER --draw FILE.svg``: the receptive field of that layer's output unit 0, and of
its neighbour one jump further, on the input grid with the padding they reach into, the start offset and the jump
marked; and a chart of the field size per layer up to LAYER.

The numbers are the report's: the field (size r, start u) from :mod:`convcalc.graph.backward`'s recursion, the jump
j from the layer's row (unit i sees input positions [u + i*j, u + i*j + r)), the chart from each row's ``field``."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convcalc.report import svg
from convcalc.report.numbers import fraction

FIELD_FILL = "#f28e2b"
NEIGHBOUR_FILL = "#7b4ea3"
GRID_SIZE = 360.0  # pixels of the longest side of the input picture


def draw_field(report: Any, target: int, recursion: Any) -> str:
    """The picture of layer ``target``'s receptive field (a ``Backward`` from ``backward_recursion``)."""
    row = report.rows[target]
    heading = f"receptive field of {row.name} ({row.op}) in {report.name}"
    spatial = tuple(recursion.input_spatial)
    body = [svg.text(12, 20, heading, "title")]
    if not spatial:
        body.append(svg.text(12, 44, "the input has no spatial dimensions: every unit sees the whole input", "label"))
        return svg.document(560, 60, body, heading)
    if recursion.whole or recursion.unknown or row.field is None or row.field.whole or row.field.unknown:
        reason = "every unit sees the whole input" if recursion.whole or (row.field and row.field.whole) else (
            f"the field is unknown: {recursion.unknown or (row.field.unknown if row.field else '')}")
        body.append(svg.text(12, 44, reason, "label"))
        picture, height = [], 56.0
    else:
        last = slice(-2, None)  # a 3-D input: its last two dimensions (H, W)
        picture, height = field_picture(spatial[last], tuple(recursion.receptive_field)[last],
                                        tuple(recursion.start)[last], tuple(row.field.jump)[last], 12, 40)  # fmt: skip
    body += picture
    chart_y = height + 20
    body.append(svg.text(12, chart_y, f"receptive field per layer, up to {row.name}", "label"))
    body += field_chart(report.rows[: target + 1], 12, chart_y + 8, 600, 120)
    return svg.document(640, chart_y + 140, body, heading, numbers_text(recursion, row))


def numbers_text(recursion: Any, row: Any) -> str:
    if recursion.whole or recursion.unknown or row.field is None or row.field.whole or row.field.unknown:
        return ""
    size = "x".join(fraction(v) for v in recursion.receptive_field)
    start = "x".join(fraction(v) for v in recursion.start)
    jump = "x".join(fraction(v) for v in row.field.jump)
    return f"receptive field {size}, start {start}, jump {jump}"


def field_picture(
    spatial: tuple[int, ...], size: tuple[Fraction, ...], start: tuple[Fraction, ...], jump: tuple[Fraction, ...],
    x0: float, y0: float,
) -> tuple[list[str], float]:  # fmt: skip
    """The input (with the padding the fields reach), unit 0's field, the neighbour's one jump along the last
    dimension, the start and jump marked. 1-D inputs are drawn as one row. Returns the parts and the height."""
    dims = len(spatial)
    neighbour = tuple(u + (j if d == dims - 1 else 0) for d, (u, j) in enumerate(zip(start, jump)))
    low = [min(Fraction(0), u) for u in start]
    reach = [max(u + r, v + r) for u, r, v in zip(start, size, neighbour)]
    high = [max(Fraction(n), end) for n, end in zip(spatial, reach)]
    corner = max(float(e - lo) for e, lo in zip(reach, low)) < 0.4 * max(float(h - lo) for h, lo in zip(high, low))
    if corner:  # a small field on a large input: the corner that holds both fields, and a margin
        high = [min(h, end + max(r / 2, Fraction(4))) for h, end, r in zip(high, reach, size)]
    extent = max(float(h - lo) for h, lo in zip(high, low))
    scale = GRID_SIZE / extent
    top = y0 + 34  # room for the marks above
    left = x0 + 8

    def box(first: tuple[Fraction, ...], length: tuple[Fraction, ...]) -> tuple[float, float, float, float]:
        """Pixels of the interval [first, first + length) per dimension; 1-D: one band 28 px high."""
        xs = left + float(first[-1] - low[-1]) * scale
        width = float(length[-1]) * scale
        if dims == 1:
            return xs, top, width, 28.0
        return xs, top + float(first[0] - low[0]) * scale, width, float(length[0]) * scale

    zero = tuple(Fraction(0) for _ in spatial)
    whole = box(tuple(low), tuple(h - lo for h, lo in zip(high, low)))
    inside = box(zero, tuple(min(Fraction(n), h) for n, h in zip(spatial, high)))
    parts = [svg.rect(*whole, svg.PAD_FILL, class_="padding", stroke="#aaa", stroke_dasharray="3,3"),
             svg.rect(*inside, svg.INPUT_FILL, class_="input", stroke="#6f8fb0")]  # fmt: skip
    if scale >= 6:  # one line per input position
        parts += grid_lines(inside, tuple(min(n, int(h)) for n, h in zip(spatial, high)), scale)
    unit = box(start, size)
    other = box(neighbour, size)
    parts.append(svg.rect(*other, NEIGHBOUR_FILL, fill_opacity=0.18, stroke=NEIGHBOUR_FILL, stroke_width=2,
                          stroke_dasharray="5,3", class_="neighbour"))  # fmt: skip
    parts.append(svg.rect(*unit, FIELD_FILL, fill_opacity=0.35, stroke=FIELD_FILL, stroke_width=2, class_="field"))
    bottom = whole[1] + whole[3]
    parts += marks(inside, unit, other, start, jump[-1], top)
    real = "x".join(str(n) for n in spatial)
    reach = [fraction(-u) for u in start if u < 0]
    words = f"input {real}" + (" (its corner)" if corner else "") + (f"; the field reaches {reach[-1]} positions into the padding" if reach else "")
    parts.append(svg.text(x0, bottom + 16, words, "small"))
    parts.append(svg.rect(x0, bottom + 24, 12, 12, FIELD_FILL, fill_opacity=0.5))
    size_text = "x".join(fraction(v) for v in size)
    parts.append(svg.text(x0 + 16, bottom + 34, f"unit 0: field {size_text}", "small"))
    parts.append(svg.rect(x0 + 170, bottom + 24, 12, 12, NEIGHBOUR_FILL, fill_opacity=0.4))
    parts.append(svg.text(x0 + 186, bottom + 34, "unit 1 (one jump along the last dimension)", "small"))
    return parts, bottom + 44


def grid_lines(inside: tuple[float, float, float, float], spatial: tuple[int, ...], scale: float) -> list[str]:
    x, y, width, height = inside
    lines = [svg.line(x + i * scale, y, x + i * scale, y + height, "#9fb7cf", stroke_width=0.5)
             for i in range(1, spatial[-1])]  # fmt: skip
    if len(spatial) == 2:
        lines += [svg.line(x, y + i * scale, x + width, y + i * scale, "#9fb7cf", stroke_width=0.5)
                  for i in range(1, spatial[0])]  # fmt: skip
    return lines


def marks(
    inside: tuple[float, ...], unit: tuple[float, ...], other: tuple[float, ...], start: tuple[Fraction, ...],
    jump: Fraction, top: float,
) -> list[str]:  # fmt: skip
    """Above the picture: the start offset (input position 0 to the field's first position) and the jump (unit 0's
    first position to unit 1's)."""
    parts = []
    y_start, y_jump = top - 22, top - 8
    first_input, first_field, second_field = inside[0], unit[0], other[0]
    parts.append(svg.line(first_input, y_start - 4, first_input, top, svg.MUTED, stroke_width=0.8))
    parts.append(svg.line(first_field, y_start, first_input, y_start, FIELD_FILL, stroke_width=2, class_="start"))
    parts.append(svg.text(min(first_field, first_input) + 2, y_start - 3, f"start {fraction(start[-1])}", "small"))
    parts.append(svg.line(first_field, y_jump, second_field, y_jump, NEIGHBOUR_FILL, stroke_width=2, class_="jump"))
    parts.append(svg.text(max(first_field, second_field) + 4, y_jump + 4, f"jump {fraction(jump)}", "small"))
    return parts


def field_chart(rows: Any, x0: float, y0: float, width: float, height: float) -> list[str]:
    """Bars of each layer's receptive field (its first spatial dimension, the hull at merges), in order; layers
    whose field is whole, unknown or absent get no bar. The last bar is the layer asked about."""
    sizes = [(row.name, row.field.receptive_field) for row in rows if known(row.field)]
    parts = [svg.rect(x0, y0, width, height, "#fafafa", stroke="#ddd", class_="chart")]
    if not sizes:
        return parts + [svg.text(x0 + 8, y0 + 20, "no layer with a receptive field on a grid", "small")]
    largest = max(float(size[0]) for _, size in sizes)
    bar = (width - 50) / len(sizes)
    for index, (name, size) in enumerate(sizes):
        h = (height - 22) * float(size[0]) / largest
        fill = FIELD_FILL if index == len(sizes) - 1 else "#9fb7cf"
        parts.append(svg.element(
            "rect",
            {"x": float(x0 + 40 + index * bar), "y": float(y0 + height - 12 - h), "width": float(max(bar - 1, 0.6)),
             "height": float(max(h, 0.5)), "fill": fill, "class": "bar", "data-field": fraction(size[0])},
            [svg.title(f"{name}: {'x'.join(fraction(v) for v in size)}")],
        ))  # fmt: skip
    parts.append(svg.text(x0 + 4, y0 + 14, fraction(Fraction(largest)), "small"))
    parts.append(svg.text(x0 + 4, y0 + height - 12, "1", "small"))
    parts.append(svg.text(x0 + 40, y0 + height - 1, f"{len(sizes)} layers, input to output", "small muted"))
    return parts


def known(field: Any) -> bool:
    return field is not None and not field.whole and not field.unknown and bool(field.receptive_field)
