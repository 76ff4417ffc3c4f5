"""YOLOv10's building blocks (``ultralytics.nn.modules.block``): ``SCDown``, ``RepVGGDW``, ``CIB``, ``C2fCIB`` and
``PSA``, each a convcalc block with the module's attribute names (``cv1.2.conv1.conv``), read from ultralytics
8.4.190 (the arithmetic of hidden channels is the constructors')."""

from __future__ import annotations

from convcalc.frontends.ultralytics_build import Act, Builder
from convcalc.frontends.ultralytics_modules import attention, c2f_layers, conv


def scdown(b: Builder, c1: int, c2: int, k: int = 3, s: int = 2) -> str:
    """``SCDown``: ``cv1`` a 1x1 ``Conv`` to c2, ``cv2`` a depthwise k x k ``Conv`` of stride s without activation."""
    layers = b.layers()
    layers.use(conv(b, c1, c2, 1, 1), "cv1")
    layers.use(conv(b, c2, c2, k, s, g=c2, act=False), "cv2")
    return layers.block("SCDown")


def repvggdw(b: Builder, channels: int) -> str:
    """``RepVGGDW``: a depthwise 7x7 ``conv`` plus a depthwise 3x3 ``conv1`` (both ``Conv`` without activation, same
    padding), summed, then its own SiLU. ``fuse()`` folds the 3x3 into the 7x7 (``--fuse`` does the same)."""
    layers = b.layers()
    layers.use(conv(b, channels, channels, 7, 1, 3, channels, act=False), "conv")
    layers.use(conv(b, channels, channels, 3, 1, 1, channels, act=False), "conv1", "input")
    layers.add("add", "sum", ["conv", "conv1"], module=False)
    layers.act(Act("silu"))
    return layers.block("RepVGGDW")


def cib(b: Builder, c1: int, c2: int, shortcut: bool = True, e: float = 0.5, lk: bool = False) -> str:
    """``CIB``: ``cv1`` = depthwise 3x3, 1x1 to 2c_ (c_ = int(c2 * e)), a depthwise 3x3 (``RepVGGDW`` when ``lk``),
    1x1 to c2, depthwise 3x3; plus the input when ``shortcut`` and c1 == c2."""
    hidden = int(c2 * e)
    chain = b.layers()
    chain.use(conv(b, c1, c1, 3, g=c1), "0")
    chain.use(conv(b, c1, 2 * hidden, 1), "1")
    chain.use(repvggdw(b, 2 * hidden) if lk else conv(b, 2 * hidden, 2 * hidden, 3, g=2 * hidden), "2")
    chain.use(conv(b, 2 * hidden, c2, 1), "3")
    chain.use(conv(b, c2, c2, 3, g=c2), "4")
    layers = b.layers()
    layers.use(chain.block("Sequential"), "cv1")
    if shortcut and c1 == c2:
        layers.add("add", "add", ["input", "cv1"], module=False)
    return layers.block("CIB")


def c2fcib(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = False, lk: bool = False, g: int = 1,
           e: float = 0.5) -> str:  # fmt: skip
    """``C2fCIB``: the C2f pattern with n ``CIB(c, c, shortcut, e=1.0, lk)`` (c = int(c2 * e))."""
    c = int(c2 * e)
    return c2f_layers(b, c1, c2, [cib(b, c, c, shortcut, 1.0, lk)] * n, e, "C2fCIB")


def psa(b: Builder, c1: int, c2: int, e: float = 0.5) -> str:
    """``PSA``: ``cv1`` to 2c (c = int(c1 * e)) split in two; the second half plus ``attn`` of it (C2PSA's
    ``Attention``, max(c // 64, 1) heads), plus ``ffn`` (1x1 to 2c, 1x1 back without activation); both halves
    concatenated, ``cv2`` back to c1."""
    c = int(c1 * e)
    layers = b.layers()
    layers.use(conv(b, c1, 2 * c, 1, 1), "cv1")
    layers.add("split", "split", module=False, sizes=[c, c])
    layers.use(attention(b, c, max(c // 64, 1), 0.5), "attn", "split[1]")
    layers.add("add", "add1", ["split[1]", "attn"], module=False)
    ffn = b.layers()
    ffn.use(conv(b, c, 2 * c, 1), "0")
    ffn.use(conv(b, 2 * c, c, 1, act=False), "1")
    layers.use(ffn.block("Sequential"), "ffn", "add1")
    layers.add("add", "add2", ["add1", "ffn"], module=False)
    layers.add("concat", "cat", ["split[0]", "add2"], module=False)
    layers.use(conv(b, 2 * c, c1, 1), "cv2")
    return layers.block("PSA")
