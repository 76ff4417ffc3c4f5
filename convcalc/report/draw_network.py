"""``convcalc net SPEC --draw FILE.svg``: the network as the familiar LeNet/AlexNet drawing: each feature map a box
whose height grows with its spatial size and whose thickness grows with its channels (both on a log scale, so that
224x224x3 and 7x7x2048 both fit), labelled with its shape; residual (add) and concat paths that skip boxes as arcs;
blocks folded by ``--depth`` (:mod:`convcalc.report.folding`'s rule). Long networks wrap onto several lines.

Which layers get a box: every layer except those that keep their single input's shape and do no MACs (activations,
norms, dropout), which are drawn as part of the box before them."""

from __future__ import annotations

from dataclasses import dataclass
from math import log2, prod
from typing import Any

from convcalc.report import svg
from convcalc.report.numbers import format_shape, si

LINE_WIDTH = 1100.0  # pixels of boxes per line before wrapping
SLOT = 78.0  # the least horizontal room of one box and its labels
OP_FILL = {"conv": "#4e79a7", "deconv": "#76b7b2", "block": "#b07aa1", "linear": "#9c755f", "input": "#bab0ac",
           "concat": "#59a14f", "add": "#8cd17d"}  # fmt: skip
POOL_FILL = "#f28e2b"
OTHER_FILL = "#a0a0a0"
ARC_COLOURS = {"add": "#e15759", "concat": "#59a14f"}


@dataclass
class Box:
    """One drawn feature map: what it shows and, once laid out, where."""

    name: str
    op: str
    shape: tuple[int, ...]
    params: int = 0
    macs: int = 0
    x: float = 0.0
    y: float = 0.0  # top of the box's bounding shape
    line: int = 0

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.shape[:-1]

    @property
    def face(self) -> float:
        """Height of the front face: 10 + 11*log2(H + 1) for a map; a vector's grows with its length."""
        if not self.spatial:
            return 10 + 6 * log2(prod(self.shape) + 1)
        return 10 + 11 * log2(self.spatial[0] + 1)

    @property
    def thickness(self) -> float:
        """Width of the front face: 3 + 5*log2(C + 1) channels; a vector is a thin bar."""
        return 6.0 if not self.spatial else 3 + 5 * log2(self.shape[-1] + 1)

    @property
    def depth(self) -> float:
        """The oblique offset that draws the second spatial dimension (none for 1-D maps and vectors)."""
        return 0.35 * (10 + 11 * log2(self.spatial[1] + 1)) if len(self.spatial) >= 2 else 0.0

    @property
    def width(self) -> float:
        return self.thickness + self.depth

    @property
    def height(self) -> float:
        return self.face + self.depth

    @property
    def slot(self) -> float:
        return max(SLOT, self.width + 16)


def display_of(rows: tuple[Any, ...], depth: int | None) -> list[int]:
    """For every row, the index of the row it is folded into (``folding.fold``'s rule: the same block instance
    ``depth`` levels deep, consecutive)."""
    mapping: list[int] = []
    keys: list[str | None] = []
    for row in rows:
        key = row.blocks[depth] if depth is not None and len(row.blocks) > depth else None
        if key is not None and keys and keys[-1] == key:
            mapping.append(mapping[-1])
        else:
            mapping.append(len(keys))
            keys.append(key)
    return mapping


def boxes_and_edges(report: Any, depth: int | None) -> tuple[list[Box], list[tuple[int, int, str]]]:
    """The boxes (the input first) and the edges between them (source box, target box, the target's op)."""
    from convcalc.report.folding import fold

    rows = report.rows
    folded = fold(rows, depth)
    mapping = display_of(rows, depth)
    boxes = [Box("input", "input", report.input_shape)]
    box_of_display: dict[int, int] = {}
    box_of_row: dict[int, int] = {-1: 0}
    for index, row in enumerate(rows):
        display = mapping[index]
        if display not in box_of_display:
            shown = folded[display]
            sources = [source for source, _ in row.sources]
            passes = (shown.op != "block" and len(sources) == 1 and shown.macs == 0
                      and tuple(row.input_shapes[:1]) == (shown.output_shape,))  # fmt: skip
            if passes:
                box_of_display[display] = box_of_row.get(sources[0], 0)
            else:
                box_of_display[display] = len(boxes)
                boxes.append(Box(shown.name, shown.op, shown.output_shape, shown.params, shown.macs))
        box = box_of_display[display]
        box_of_row[index] = box
        if boxes[box].op == "block":  # a folded block: its last shape, its summed counts
            folded_row = folded[display]
            boxes[box].shape, boxes[box].params, boxes[box].macs = (
                folded_row.output_shape, folded_row.params, folded_row.macs)  # fmt: skip
    edges: set[tuple[int, int, str]] = set()
    for index, row in enumerate(rows):
        target = box_of_row[index]
        for source, _ in row.sources:
            origin = box_of_row.get(source, 0)
            if origin != target:
                edges.add((origin, target, row.op))
    return boxes, sorted(edges)


def layout(boxes: list[Box]) -> list[float]:
    """Place the boxes left to right, wrapping at LINE_WIDTH; returns the height of each line."""
    x, line = 0.0, 0
    for box in boxes:
        if x + box.slot > LINE_WIDTH and x > 0:
            x, line = 0.0, line + 1
        box.x, box.line = x, line
        x += box.slot
    heights = [0.0] * (line + 1)
    for box in boxes:
        heights[box.line] = max(heights[box.line], box.height)
    return heights


def draw_network(report: Any, depth: int | None = None) -> str:
    """The network diagram as an SVG document."""
    boxes, edges = boxes_and_edges(report, depth)
    heights = layout(boxes)
    arc_room = 70.0
    label_room = 40.0
    tops = []
    y = 40.0
    for height in heights:
        tops.append(y + arc_room)
        y += arc_room + height + label_room
    for box in boxes:
        box.y = tops[box.line] + heights[box.line] - box.height  # boxes stand on one base line
    width = max(box.x + box.slot for box in boxes) + 24
    heading = f"{report.name}: {format_shape(report.input_shape)} -> {format_shape(report.output_shape)}"
    folded = f", blocks folded at depth {depth}" if depth is not None else ""
    body = [svg.text(12, 22, heading + folded, "title")]
    body.append(svg.text(12, 36, f"{len(boxes) - 1} boxes: height ~ log2(spatial size), thickness ~ log2(channels);"
                                 " arcs and numbered connectors: residual (add) and concat paths", "small muted"))  # fmt: skip
    body += edges_svg(boxes, edges)
    body += [draw_box(box, tops[box.line] + heights[box.line]) for box in boxes]
    return svg.document(max(width, 600), y + 10, body, heading, f"{len(boxes) - 1} feature maps")


def draw_box(box: Box, base: float) -> str:
    """A feature map as a box: the front face (channels x H) and, for 2-D maps, the top and side faces (W)."""
    fill = OP_FILL.get(box.op, POOL_FILL if "pool" in box.op else OTHER_FILL)
    x, y, t, f, d = box.x + 8, base - box.face, box.thickness, box.face, box.depth
    parts = [svg.title(f"{box.name} ({box.op}): {format_shape(box.shape)}, params {si(box.params)}, MACs {si(box.macs)}")]
    if d:
        top = f"M{svg.number(x)},{svg.number(y)} l{svg.number(d)},{svg.number(-d)} h{svg.number(t)} l{svg.number(-d)},{svg.number(d)} z"
        side = f"M{svg.number(x + t)},{svg.number(y)} l{svg.number(d)},{svg.number(-d)} v{svg.number(f)} l{svg.number(-d)},{svg.number(d)} z"
        parts.append(svg.element("path", {"d": top, "fill": fill, "fill-opacity": 0.55, "stroke": svg.INK, "stroke-width": 0.5}))
        parts.append(svg.element("path", {"d": side, "fill": fill, "fill-opacity": 0.75, "stroke": svg.INK, "stroke-width": 0.5}))
    parts.append(svg.rect(x, y, t, f, fill, stroke=svg.INK, stroke_width=0.5))
    parts.append(svg.text(box.x + 4, base + 13, format_shape(box.shape), "small"))
    parts.append(svg.text(box.x + 4, base + 25, short(box.name), "small muted"))
    return svg.group(parts, class_="box", data_name=box.name, data_op=box.op, data_shape=format_shape(box.shape))


def short(name: str, limit: int = 12) -> str:
    """A name that fits under its box: the end of a long dotted name ('…layer4.2')."""
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


def anchor(box: Box) -> tuple[float, float]:
    """Where arcs leave and arrive: the top of the front face, in its middle."""
    return box.x + 8 + box.thickness / 2, box.y + box.depth - 2


def edges_svg(boxes: list[Box], edges: list[tuple[int, int, str]]) -> list[str]:
    """Every edge: to the next box on the same line a short arrow; a path that skips boxes an arc over them; a
    path to a later line a numbered pair of connectors (one on each box), since an arc across lines hides the
    boxes; the plain step from a line's end to the next line's start is implied by the reading order."""
    parts, used = [], [0] * len(boxes)
    connector = 0
    for a, b, op in edges:
        source, target = boxes[a], boxes[b]
        if source.line == target.line:
            parts.append(arc(source, target, a, b, op))
        elif b != a + 1:
            connector += 1
            for index, other, words in ((a, target, "to"), (b, source, "from")):
                words = f"{op} path {connector}: {words} {other.name}"
                parts.append(mark(boxes[index], used[index], connector, op, words, source.name, target.name))
                used[index] += 1
    return parts


def arc(source: Box, target: Box, a: int, b: int, op: str) -> str:
    if b == a + 1:
        y = target.y + target.height - 4
        return svg.line(source.x + 8 + source.width, y, target.x + 8, y, svg.MUTED, stroke_width=1, class_="next")
    (x1, y1), (x2, y2) = anchor(source), anchor(target)
    top = min(y1, y2) - (16 + 8 * min(b - a, 6))
    path = (f"M{svg.number(x1)},{svg.number(y1)} C{svg.number(x1)},{svg.number(top)} "
            f"{svg.number(x2)},{svg.number(top)} {svg.number(x2)},{svg.number(y2)}")  # fmt: skip
    colour = ARC_COLOURS.get(op, svg.MUTED)
    return svg.element("path", {"d": path, "fill": "none", "stroke": colour, "stroke-width": 1.4, "class": f"arc {op}",
                                "data-from": source.name, "data-to": target.name},
                       [svg.title(f"{op}: {source.name} -> {target.name}")])  # fmt: skip


def mark(box: Box, slot: int, number: int, op: str, words: str, source: str, target: str) -> str:
    """A numbered connector above a box: a tick from its top and a circle with the path's number."""
    x, y = anchor(box)
    x += 13 * slot - 4
    colour = ARC_COLOURS.get(op, svg.MUTED)
    parts = [svg.title(words), svg.line(x, y, x, y - 12, colour, stroke_width=1.4),
             svg.element("circle", {"cx": float(x), "cy": float(y - 18), "r": 6.5, "fill": "#ffffff", "stroke": colour}),
             svg.text(x, y - 15, str(number), "small", text_anchor="middle")]  # fmt: skip
    return svg.group(parts, class_=f"connector {op}", data_path=number, data_from=source, data_to=target)
