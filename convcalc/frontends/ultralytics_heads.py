"""Ultralytics' heads (``ultralytics.nn.modules.head``) as convcalc blocks: ``Detect`` and its task variants
``Segment`` (with ``Proto``), ``Pose`` and ``OBB``, which take several feature maps (``from: [p3, p4, p5]``; inside,
``input[k]``), and ``Classify``.

A detection head at inference: per level, the box branch ``cv2.i`` (4 x reg_max channels) and the class branch
``cv3.i`` (nc), each flattened over the grid and concatenated over the levels (the anchors A); the DFL (a frozen 1x1
conv of reg_max to 1 over the softmax of each side's reg_max bins) turns the boxes into 4 distances; the output is
(A, 4 + nc + extra) with the class scores through a sigmoid. The box decoding by anchors and strides (a few
elementwise operations per anchor, no parameters, no MACs) is left out. Read from ultralytics 8.4.190.
"""

from __future__ import annotations

from typing import Any

from convcalc.frontends.ultralytics_build import Builder, Layers
from convcalc.frontends.ultralytics_modules import conv, dwconv


def branch(b: Builder, c1: int, hidden: int, out: int, *, light: bool = False) -> str:
    """One level of a head branch: ``Conv(c1, hidden, 3)``, ``Conv(hidden, hidden, 3)``, ``nn.Conv2d(hidden, out, 1)``;
    ``light`` (YOLO11's class branch): ``DWConv(c1, c1, 3) + Conv(c1, hidden, 1)`` twice, then the 1x1 conv."""
    layers = b.layers()
    if light:
        for index, (cin, width) in enumerate(((c1, hidden), (hidden, hidden))):
            pair = b.layers()
            pair.use(dwconv(b, cin, cin, 3), "0")
            pair.use(conv(b, cin, width, 1), "1")
            layers.use(pair.block("Sequential"), str(index))
    else:
        layers.use(conv(b, c1, hidden, 3), "0")
        layers.use(conv(b, hidden, hidden, 3), "1")
    layers.add("conv", "2", out=out, k=1, p=0, bias=True)
    return layers.block("Sequential")


def levels(layers: Layers, prefix: str, blocks: list[str]) -> str:
    """``prefix.i`` for each level's block (from ``input[i]``), each flattened over its grid, concatenated over the
    levels: (A, channels). Returns the name of the concatenation."""
    layers.container(prefix)
    for index, block in enumerate(blocks):
        layers.use(block, f"{prefix}.{index}", f"input[{index}]")
    flat = [layers.add("flatten", f"{prefix}_flat{index}", f"{prefix}.{index}", module=False, start=0, end=1)
            for index in range(len(blocks))]  # fmt: skip
    return layers.add("concat", f"{prefix}_cat", flat, module=False, dim=0)


def dfl(layers: Layers, boxes: str, reg_max: int) -> str:
    """``DFL``: (A, 4 x reg_max) as (4 sides, A, reg_max bins), softmax over the bins, the frozen 1x1 conv ``dfl.conv``
    (its weights are 0..reg_max-1: the expected distance), then (A, 4)."""
    if reg_max <= 1:
        return layers.add("identity", "dfl", boxes)
    layers.container("dfl")
    layers.add("unflatten", "dfl_bins", boxes, module=False, dim=-1, sizes=[4, reg_max])
    layers.add("permute", "dfl_sides", module=False, dims=[1, 0, 2])
    layers.add("softmax", "dfl_softmax", module=False, dim=-1)
    layers.entries.append({"conv": {"out": 1, "k": 1, "bias": False, "name": "dfl.conv", "trainable": False}})
    layers.info.leaves.add("dfl.conv")
    layers.add("flatten", "dfl_distances", module=False, start=1, end=2)
    return layers.add("permute", "distances", module=False, dims=[1, 0])


def detect_family(b: Builder, kind: str, nc: int, ch: list[int], reg_max: int, legacy: bool, end2end: bool,
                  extras: list[tuple[str, int, int]], proto: tuple[int, int] | None = None) -> str:  # fmt: skip
    """``Detect`` with task branches ``extras`` (name, hidden channels, outputs per level: ``cv4`` of Segment, Pose,
    OBB) and a ``proto`` (npr, nm) of Segment. ``end2end`` adds the one-to-one copies of every branch (``one2one_``),
    parameters the inference runs beside the one-to-many head."""
    c2 = max(16, ch[0] // 4, reg_max * 4)
    c3 = max(ch[0], min(nc, 100))
    layers = b.layers()
    box = [branch(b, x, c2, 4 * reg_max) for x in ch]
    cls = [branch(b, x, c3, nc, light=not legacy) for x in ch]
    boxes = levels(layers, "cv2", box)
    scores = levels(layers, "cv3", cls)
    distances = dfl(layers, boxes, reg_max)
    task = []
    if proto is not None:
        layers.use(proto_block(b, ch[0], *proto), "proto", "input[0]")
    for name, hidden, out in extras:
        task.append(levels(layers, name, [branch(b, x, hidden, out) for x in ch]))
    if end2end:
        for name, blocks in (("one2one_cv2", box), ("one2one_cv3", cls), *((f"one2one_{n}", None) for n, _, _ in extras)):
            if blocks is None:
                extra = next(e for e in extras if f"one2one_{e[0]}" == name)
                blocks = [branch(b, x, extra[1], extra[2]) for x in ch]
            levels(layers, name, blocks)
    probabilities = layers.add("sigmoid", "scores", scores, module=False)
    layers.add("concat", "output", [distances, probabilities, *task], module=False)
    return layers.block(kind)


def proto_block(b: Builder, c1: int, c_: int = 256, c2: int = 32) -> str:
    """``Proto``: ``cv1`` (3x3), ``upsample`` (a 2x2 stride-2 transposed conv with bias), ``cv2`` (3x3), ``cv3`` (1x1)."""
    layers = b.layers()
    layers.use(conv(b, c1, c_, 3), "cv1")
    layers.add("deconv", "upsample", out=c_, k=2, s=2, p=0, bias=True)
    layers.use(conv(b, c_, c_, 3), "cv2")
    layers.use(conv(b, c_, c2), "cv3")
    return layers.block("Proto")


def detect(b: Builder, nc: int = 80, reg_max: int = 16, end2end: bool = False, ch: Any = (), *, legacy: bool = True) -> str:
    return detect_family(b, "Detect", nc, list(ch), reg_max, legacy, end2end, [])


def segment(b: Builder, nc: int = 80, nm: int = 32, npr: int = 256, reg_max: int = 16, end2end: bool = False,
            ch: Any = (), *, legacy: bool = True) -> str:  # fmt: skip
    ch = list(ch)
    return detect_family(b, "Segment", nc, ch, reg_max, legacy, end2end, [("cv4", max(ch[0] // 4, nm), nm)], (npr, nm))


def pose(b: Builder, nc: int = 80, kpt_shape: Any = (17, 3), reg_max: int = 16, end2end: bool = False, ch: Any = (),
         *, legacy: bool = True) -> str:  # fmt: skip
    ch = list(ch)
    keypoints = kpt_shape[0] * kpt_shape[1]
    return detect_family(b, "Pose", nc, ch, reg_max, legacy, end2end, [("cv4", max(ch[0] // 4, keypoints), keypoints)])


def obb(b: Builder, nc: int = 80, ne: int = 1, reg_max: int = 16, end2end: bool = False, ch: Any = (),
        *, legacy: bool = True) -> str:  # fmt: skip
    ch = list(ch)
    return detect_family(b, "OBB", nc, ch, reg_max, legacy, end2end, [("cv4", max(ch[0] // 4, ne), ne)])


def classify(b: Builder, c1: int, c2: int, k: Any = 1, s: int = 1, p: Any = None, g: int = 1) -> str:
    """``Classify``: ``Conv`` to 1280 channels, adaptive average pooling to 1x1, flatten, dropout, ``linear`` to c2
    classes, softmax (inference)."""
    layers = b.layers()
    layers.use(conv(b, c1, 1280, k, s, p, g), "conv")
    layers.add("adaptive_avgpool", "pool", size=1)
    layers.add("flatten", "flatten", module=False)
    layers.add("dropout", "drop", p=0.0)
    layers.add("linear", "linear", out=c2)
    layers.add("softmax", "softmax", module=False)
    return layers.block("Classify")
