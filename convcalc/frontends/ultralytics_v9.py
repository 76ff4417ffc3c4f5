"""YOLOv9's building blocks (``ultralytics.nn.modules.block`` and ``conv``): ``RepConv``, ``RepBottleneck``,
``RepCSP``, ``RepNCSPELAN4``, ``ELAN1``, ``AConv``, ``ADown`` and ``SPPELAN``, as convcalc blocks with the modules'
attribute names, read from ultralytics 8.4.190. The average and max pools of ``AConv`` and ``ADown`` are function
calls (``F.avg_pool2d``, ``F.max_pool2d``): ops without a module."""

from __future__ import annotations

from convcalc.frontends.ultralytics_build import Act, Builder, autopad
from convcalc.frontends.ultralytics_modules import c3_family, conv

REPCONV_ACT = Act("silu", shared="RepConv.default_act")


def repconv(b: Builder, c1: int, c2: int, k: int = 3, s: int = 1, p: int = 1, g: int = 1) -> str:
    """``RepConv`` (bn=False): a 3x3 ``conv1`` plus a 1x1 ``conv2`` (both ``Conv`` without activation) of the input,
    summed, then RepConv's shared SiLU. ``fuse_convs()`` makes them one 3x3 conv (``--fuse`` does the same)."""
    layers = b.layers()
    layers.use(conv(b, c1, c2, k, s, p, g, act=False), "conv1")
    layers.use(conv(b, c1, c2, 1, s, p - k // 2, g, act=False), "conv2", "input")
    layers.add("add", "sum", ["conv1", "conv2"], module=False)
    layers.act(REPCONV_ACT)
    return layers.block("RepConv")


def rep_bottleneck(b: Builder, c1: int, c2: int, shortcut: bool = True, g: int = 1, e: float = 0.5) -> str:
    """``RepBottleneck``: ``Bottleneck`` with a ``RepConv`` as ``cv1``: cv1 to int(c2 x e), ``cv2`` 3x3 ``Conv``,
    plus the input when ``shortcut`` and c1 == c2."""
    hidden = int(c2 * e)
    layers = b.layers()
    layers.use(repconv(b, c1, hidden, 3, 1), "cv1")
    layers.use(conv(b, hidden, c2, 3, 1, g=g), "cv2")
    if shortcut and c1 == c2:
        layers.add("add", "add", ["input", "cv2"], module=False)
    return layers.block("RepBottleneck")


def rep_csp(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5) -> str:
    """``RepCSP``: ``C3`` with n ``RepBottleneck(c_, c_, e=1.0)``."""
    hidden = int(c2 * e)
    return c3_family(b, c1, c2, n, e=e, kind="RepCSP", inner=rep_bottleneck(b, hidden, hidden, shortcut, g, 1.0))


def elan(b: Builder, c1: int, c2: int, c3: int, c4: int, second: str, third: str, kind: str) -> str:
    """The ELAN pattern: ``cv1`` (1x1 to c3) chunked in two; ``cv2`` of the second half, ``cv3`` of that; all four
    concatenated, ``cv4`` (1x1 to c2)."""
    layers = b.layers()
    layers.use(conv(b, c1, c3, 1, 1), "cv1")
    layers.add("chunk", "y", module=False, chunks=2)
    layers.use(second, "cv2", "y[1]")
    layers.use(third, "cv3")
    layers.add("concat", "cat", ["y", "cv2", "cv3"], module=False)
    layers.use(conv(b, c3 + 2 * c4, c2, 1, 1), "cv4")
    return layers.block(kind)


def repncspelan4(b: Builder, c1: int, c2: int, c3: int, c4: int, n: int = 1) -> str:
    """``RepNCSPELAN4``: ELAN with ``cv2`` = RepCSP(c3 / 2, c4, n) + 3x3 ``Conv``, ``cv3`` = RepCSP(c4, c4, n) + 3x3."""
    second, third = b.layers(), b.layers()
    second.use(rep_csp(b, c3 // 2, c4, n), "0")
    second.use(conv(b, c4, c4, 3, 1), "1")
    third.use(rep_csp(b, c4, c4, n), "0")
    third.use(conv(b, c4, c4, 3, 1), "1")
    return elan(b, c1, c2, c3, c4, second.block("Sequential"), third.block("Sequential"), "RepNCSPELAN4")


def elan1(b: Builder, c1: int, c2: int, c3: int, c4: int) -> str:
    """``ELAN1``: ELAN with 3x3 ``Conv`` as ``cv2`` and ``cv3``."""
    return elan(b, c1, c2, c3, c4, conv(b, c3 // 2, c4, 3, 1), conv(b, c4, c4, 3, 1), "ELAN1")


def aconv(b: Builder, c1: int, c2: int) -> str:
    """``AConv``: a 2x2 average pool of stride 1 (``F.avg_pool2d``), then a 3x3 stride-2 ``Conv``."""
    layers = b.layers()
    layers.add("avgpool", "pool", module=False, k=2, s=1, p=0)
    layers.use(conv(b, c1, c2, 3, 2, 1), "cv1")
    return layers.block("AConv")


def adown(b: Builder, c1: int, c2: int) -> str:
    """``ADown``: a 2x2 average pool of stride 1 chunked in two; a 3x3 stride-2 ``cv1`` of the first half; a 3x3
    stride-2 max pool (padding 1) then a 1x1 ``cv2`` of the second; both concatenated (c2 / 2 each)."""
    half = c2 // 2
    layers = b.layers()
    layers.add("avgpool", "pool", module=False, k=2, s=1, p=0)
    layers.add("chunk", "x", module=False, chunks=2)
    layers.use(conv(b, c1 // 2, half, 3, 2, 1), "cv1", "x[0]")
    layers.add("maxpool", "max", "x[1]", module=False, k=3, s=2, p=1)
    layers.use(conv(b, c1 // 2, half, 1, 1, 0), "cv2")
    layers.add("concat", "cat", ["cv1", "cv2"], module=False)
    return layers.block("ADown")


def sppelan(b: Builder, c1: int, c2: int, c3: int, k: int = 5) -> str:
    """``SPPELAN``: ``cv1`` (1x1 to c3), three k x k max pools of stride 1 in a chain (``cv2``..``cv4``), all four
    concatenated, ``cv5`` (1x1 to c2)."""
    layers = b.layers()
    layers.use(conv(b, c1, c3, 1, 1), "cv1")
    for name in ("cv2", "cv3", "cv4"):
        layers.add("maxpool", name, k=k, s=1, p=k // 2)
    layers.add("concat", "cat", ["cv1", "cv2", "cv3", "cv4"], module=False)
    layers.use(conv(b, 4 * c3, c2, 1, 1), "cv5")
    return layers.block("SPPELAN")


def cb_linear(b: Builder, c1: int, c2s: list[int], k: int = 1, s: int = 1, p: int | None = None, g: int = 1) -> str:
    """``CBLinear``: one ``nn.Conv2d`` (with bias) to sum(c2s) channels, which ``CBFuse`` reads piece by piece."""
    layers = b.layers()
    layers.add("conv", "conv", out=sum(c2s), k=k, s=s if s != 1 else None, p=autopad(k, p), g=g if g != 1 else None,
               bias=True)  # fmt: skip
    return layers.block("CBLinear")


def cb_fuse(b: Builder, idx: list[int], *, pieces: list[list[int]], grid: tuple[int, int]) -> str:
    """``CBFuse``: from each ``CBLinear`` input i its piece idx[i] (channels of ``pieces[i]``), resized (nearest,
    ``F.interpolate``) to the last input's grid, all summed with the last input."""
    layers = b.layers()
    total = f"input[{len(pieces)}]"
    for position, (index, sizes) in enumerate(zip(idx, pieces)):
        start = sum(sizes[:index])
        layers.add("slice", f"piece{position}", f"input[{position}]", module=False, dim=-1, start=start,
                   stop=start + sizes[index])  # fmt: skip
        layers.add("interpolate", f"resized{position}", module=False, size=list(grid), mode="nearest")
        total = layers.add("add", f"sum{position}", [total, f"resized{position}"], module=False)
    return layers.block("CBFuse")
