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

from collections.abc import Callable
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
                  extras: list[tuple[str, int, int]], proto: tuple[int, int] | None = None, *,
                  proto_block: str | None = None, task_branch: Callable[[Layers, str], str] | None = None,
                  extra_params: tuple[tuple[str, int], ...] = ()) -> str:  # fmt: skip
    """``Detect`` with task branches ``extras`` (name, hidden channels, outputs per level: ``cv4`` of Segment, Pose,
    OBB) or ``task_branch`` (writes the ``cv4`` of Pose26 under a prefix) and a ``proto`` (npr, nm) of Segment (or
    the block ``proto_block``). ``end2end`` adds the one-to-one copies of every branch (``one2one_``): the inference
    runs them beside the one-to-many head, whose output it returns (a model built from a YAML selects it), so they
    are read by nothing and ``--fuse`` drops them, as ``fuse()`` does. ``extra_params``: training-only modules."""
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
        source = [f"input[{index}]" for index in range(len(ch))] if proto_block else "input[0]"
        layers.use(proto_block or proto_block_of(b, ch[0], *proto), "proto", source)
    for name, hidden, out in extras:
        task.append(levels(layers, name, [branch(b, x, hidden, out) for x in ch]))
    if task_branch is not None:
        task.append(task_branch(layers, "cv4"))
    for name, count in extra_params:
        training_only(layers, name, count)
    if end2end:
        levels(layers, "one2one_cv2", box)
        levels(layers, "one2one_cv3", cls)
        for name, hidden, out in extras:
            levels(layers, f"one2one_{name}", [branch(b, x, hidden, out) for x in ch])
        if task_branch is not None:
            task_branch(layers, "one2one_cv4")
    probabilities = layers.add("sigmoid", "scores", scores, module=False)
    layers.add("concat", "output", [distances, probabilities, *task], module=False)
    return layers.block(kind)


def proto_block_of(b: Builder, c1: int, c_: int = 256, c2: int = 32) -> str:
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


def v10_detect(b: Builder, nc: int = 80, ch: Any = ()) -> str:
    """``v10Detect``: a ``Detect`` built end-to-end (reg_max 16) whose class branch is the light one (a depthwise 3x3
    ``Conv`` and a 1x1 ``Conv``, twice), as its one-to-one copy."""
    return detect_family(b, "v10Detect", nc, list(ch), 16, False, True, [])


def training_only(layers: Layers, local: str, count: int, *, fused_away: bool = True) -> None:
    """A module the inference never runs (``Pose26``'s ``flow_model`` and ``cv4_sigma``, ``Proto26``'s ``semseg``,
    ``SemanticSegment``'s ``aux_head``): its parameters count, it computes nothing. ``fused_away`` (its head's
    ``fuse()`` deletes it): a ``param`` of ``count`` values that nothing reads, which ``--fuse`` drops; otherwise the
    spec's ``unused:``, which stays."""
    if fused_away:
        layers.add("param", local, shape=[count])
    else:
        layers.unused(local, count)


def conv_weights(c1: int, c2: int, k: int = 1, *, bias: bool = True, bn: bool = False) -> int:
    """The parameters of a k x k conv (``nn.Conv2d`` with bias, or a ``Conv`` with its BN)."""
    return c1 * c2 * k * k + (c2 if bias else 0) + (2 * c2 if bn else 0)


def proto26(b: Builder, ch: list[int], c_: int, c2: int, nc: int) -> str:
    """``Proto26``: each coarser level through ``feat_refine.i`` (1x1 ``Conv`` to ch[0]) upsampled (nearest, 2^(i+1))
    and added to the finest; ``feat_fuse`` (3x3 to c_); then ``Proto``'s ``cv1``, ``upsample``, ``cv2``, ``cv3``.
    ``semseg`` (3x3, 3x3, 1x1 to nc) runs in training only."""
    layers = b.layers()
    total = "input[0]"
    layers.container("feat_refine")
    for index, channels in enumerate(ch[1:]):
        layers.use(conv(b, channels, ch[0], 1), f"feat_refine.{index}", f"input[{index + 1}]")
        layers.add("upsample", f"up{index}", module=False, scale=2 ** (index + 1), mode="nearest")
        total = layers.add("add", f"sum{index}", [total, f"up{index}"], module=False)
    layers.use(conv(b, ch[0], c_, 3), "feat_fuse", total)
    layers.use(conv(b, c_, c_, 3), "cv1")
    layers.add("deconv", "upsample", out=c_, k=2, s=2, p=0, bias=True)
    layers.use(conv(b, c_, c_, 3), "cv2")
    layers.use(conv(b, c_, c2), "cv3")
    semseg = conv_weights(ch[0], c_, 3, bias=False, bn=True) + conv_weights(c_, c_, 3, bias=False, bn=True)
    training_only(layers, "semseg", semseg + conv_weights(c_, nc))
    return layers.block("Proto26")


def segment26(b: Builder, nc: int = 80, nm: int = 32, npr: int = 256, reg_max: int = 16, end2end: bool = False,
              ch: Any = (), *, legacy: bool = True) -> str:  # fmt: skip
    """``Segment26``: ``Segment`` with ``Proto26`` on every level."""
    ch = list(ch)
    return detect_family(b, "Segment26", nc, ch, reg_max, legacy, end2end, [("cv4", max(ch[0] // 4, nm), nm)],
                         proto=(npr, nm), proto_block=proto26(b, ch, npr, nm, nc))  # fmt: skip


def obb26(b: Builder, nc: int = 80, ne: int = 1, reg_max: int = 16, end2end: bool = False, ch: Any = (),
          *, legacy: bool = True) -> str:  # fmt: skip
    """``OBB26``: ``OBB`` whose angle is left raw (no sigmoid: no parameter, no count)."""
    ch = list(ch)
    return detect_family(b, "OBB26", nc, ch, reg_max, legacy, end2end, [("cv4", max(ch[0] // 4, ne), ne)])


REAL_NVP = 6 * 2 * (conv_weights(2, 64) + conv_weights(64, 64) + conv_weights(64, 2))  # s and t: 3 linears each


def pose26(b: Builder, nc: int = 80, kpt_shape: Any = (17, 3), reg_max: int = 16, end2end: bool = False,
           ch: Any = (), *, legacy: bool = True) -> str:  # fmt: skip
    """``Pose26``: per level ``cv4.i`` (two 3x3 ``Conv`` to c4 = max(ch[0] // 4, k x (dims + 2))) and ``cv4_kpts.i``
    (1x1 to k x dims); ``cv4_sigma`` (1x1 to 2k) and the ``flow_model`` (RealNVP: 6 x 2 MLPs 2-64-64-2) run in
    training only."""
    ch = list(ch)
    keypoints = kpt_shape[0] * kpt_shape[1]
    hidden = max(ch[0] // 4, kpt_shape[0] * (kpt_shape[1] + 2))

    def keypoint_branch(layers: Layers, prefix: str) -> str:
        layers.container(prefix)
        layers.container(f"{prefix}_kpts")
        layers.container(f"{prefix}_sigma")
        flat = []
        for index, channels in enumerate(ch):
            pair = b.layers()
            pair.use(conv(b, channels, hidden, 3), "0")
            pair.use(conv(b, hidden, hidden, 3), "1")
            layers.use(pair.block("Sequential"), f"{prefix}.{index}", f"input[{index}]")
            layers.add("conv", f"{prefix}_kpts.{index}", f"{prefix}.{index}", out=keypoints, k=1, p=0, bias=True)
            flat.append(layers.add("flatten", f"{prefix}_kpts_flat{index}", module=False, start=0, end=1))
            training_only(layers, f"{prefix}_sigma.{index}", conv_weights(hidden, 2 * kpt_shape[0]))
        return layers.add("concat", f"{prefix}_kpts_cat", flat, module=False, dim=0)

    return detect_family(b, "Pose26", nc, ch, reg_max, legacy, end2end, [], task_branch=keypoint_branch,
                         extra_params=(("flow_model", REAL_NVP),))  # fmt: skip


def depth(b: Builder, c_mid: int = 256, ch: Any = ()) -> str:
    """``Depth`` (YOLO26): each level projected by ``proj.i`` (1x1 ``Conv`` to c_mid); from the coarsest, upsampled
    2x (bilinear, aligned corners: ``F.interpolate``), added to the next finer level and refined (``refine.i``: two
    3x3 ``Conv``); then ``head``: 3x3 ``Conv`` to c_mid/2, a 2x2 stride-2 transposed conv, 3x3 to c_mid/4, a 1x1 conv
    to 1 (log depth), clamped and exponentiated."""
    ch = list(ch)
    layers = b.layers()
    layers.container("proj")
    layers.container("refine")
    for index, channels in enumerate(ch):
        layers.use(conv(b, channels, c_mid, 1), f"proj.{index}", f"input[{index}]")
    out = f"proj.{len(ch) - 1}"
    for index in range(len(ch) - 2, -1, -1):
        layers.add("upsample", f"up{index}", out, module=False, scale=2, mode="bilinear", align_corners=True)
        layers.add("add", f"sum{index}", [f"up{index}", f"proj.{index}"], module=False)
        pair = b.layers()
        pair.use(conv(b, c_mid, c_mid, 3), "0")
        pair.use(conv(b, c_mid, c_mid, 3), "1")
        out = layers.use(pair.block("Sequential"), f"refine.{index}")
    head = b.layers()
    head.use(conv(b, c_mid, c_mid // 2, 3), "0")
    head.add("deconv", "1", out=c_mid // 2, k=2, s=2, p=0, bias=True)
    head.use(conv(b, c_mid // 2, c_mid // 4, 3), "2")
    head.add("conv", "3", out=1, k=1, p=0, bias=True)
    layers.use(head.block("Sequential"), "head", out)
    layers.add("clamp", "log_depth", module=False, min=-4.0, max=5.0)
    layers.add("exp", "depth", module=False)
    return layers.block("Depth")


def semantic_segment(b: Builder, nc: int = 19, ch: Any = ()) -> str:
    """``SemanticSegment`` (YOLO26): ``classifier`` = 3x3 ``Conv`` (ch[0] channels) and a 1x1 conv to nc of the first
    level (per-pixel logits at its stride); ``aux_head`` (the same on the second level) runs in training only."""
    ch = list(ch)
    layers = b.layers()
    classifier = b.layers()
    classifier.use(conv(b, ch[0], ch[0], 3), "0")
    classifier.add("conv", "1", out=nc, k=1, p=0, bias=True)
    layers.use(classifier.block("Sequential"), "classifier", "input[0]")
    if len(ch) > 1:
        aux = conv_weights(ch[1], ch[0], 3, bias=False, bn=True) + conv_weights(ch[0], nc)
        training_only(layers, "aux_head", aux, fused_away=False)  # SemanticSegment has no fuse()
    return layers.block("SemanticSegment")
