"""Ultralytics' building blocks (``ultralytics.nn.modules.conv`` and ``block``), each written as a convcalc block of
vocabulary ops with the module's own attribute names, so that layer names are the model's ``state_dict`` paths
(``cv1.conv``, ``m.0.cv2.bn``).

Every function takes the :class:`~convcalc.frontends.ultralytics_build.Builder` and the module's constructor
arguments, in Ultralytics' order and with its defaults, and returns the name of the block. Read from ultralytics
8.4.190; the arithmetic (hidden channels ``int(c2 * e)``, ``c1 // 2``, ...) is the constructors'.
"""

from __future__ import annotations

import math
from typing import Any

from convcalc.frontends.ultralytics_build import Act, Builder, act_of, autopad

CONV_TRANSPOSE_ACT = Act("silu", shared="ConvTranspose.default_act")


def kernel(k: Any) -> Any:
    """A kernel size as a spec takes it (a tuple becomes a list)."""
    return list(k) if isinstance(k, (list, tuple)) else k


def conv(b: Builder, c1: int, c2: int, k: Any = 1, s: int = 1, p: Any = None, g: int = 1, d: int = 1, act: Any = True) -> str:
    """``Conv``: ``nn.Conv2d`` (no bias, ``autopad``) -> ``nn.BatchNorm2d`` -> the activation."""
    layers = b.layers()
    layers.add("conv", "conv", out=c2, k=kernel(k), s=s if s != 1 else None, p=kernel(autopad(k, p, d)),
               g=g if g != 1 else None, d=d if d != 1 else None, bias=False)  # fmt: skip
    layers.add("bn", "bn", eps=0.001)
    layers.act(act_of(b, act))
    return layers.block("Conv")


def dwconv(b: Builder, c1: int, c2: int, k: Any = 1, s: int = 1, d: int = 1, act: Any = True) -> str:
    """``DWConv``: a ``Conv`` with groups gcd(c1, c2)."""
    return conv(b, c1, c2, k, s, None, math.gcd(c1, c2), d, act)


def conv_transpose(b: Builder, c1: int, c2: int, k: int = 2, s: int = 2, p: int = 0, bn: bool = True, act: Any = True) -> str:
    """``ConvTranspose``: ``nn.ConvTranspose2d`` (bias only without BN) -> BN or identity -> its own shared SiLU."""
    layers = b.layers()
    layers.add("deconv", "conv_transpose", out=c2, k=k, s=s, p=p, bias=not bn)
    if bn:
        layers.add("bn", "bn", eps=0.001)
    else:
        layers.add("identity", "bn")
    layers.act(CONV_TRANSPOSE_ACT if act is True else act_of(b, act))
    return layers.block("ConvTranspose")


def focus(b: Builder, c1: int, c2: int, k: Any = 1, s: int = 1, p: Any = None, g: int = 1, act: Any = True) -> str:
    """``Focus``: the four pixel phases (``x[..., ::2, ::2]``, ...) concatenated on the channels, then a ``Conv``."""
    layers = b.layers()
    picks = []
    for row, column in ((0, 0), (1, 0), (0, 1), (1, 1)):
        rows = layers.add("slice", f"rows{row}{column}", "input", module=False, dim=0, start=row, step=2)
        picks.append(layers.add("slice", f"phase{row}{column}", rows, module=False, dim=1, start=column, step=2))
    layers.add("concat", "cat", picks, module=False)
    layers.use(conv(b, c1 * 4, c2, k, s, p, g, act=act), "conv")
    return layers.block("Focus")


def ghost_conv(b: Builder, c1: int, c2: int, k: Any = 1, s: int = 1, g: int = 1, act: Any = True) -> str:
    """``GhostConv``: ``cv1`` to c2/2 channels, a depthwise 5x5 ``cv2`` of it, both concatenated."""
    hidden = c2 // 2
    layers = b.layers()
    layers.use(conv(b, c1, hidden, k, s, None, g, act=act), "cv1")
    layers.use(conv(b, hidden, hidden, 5, 1, None, hidden, act=act), "cv2")
    layers.add("concat", "cat", ["cv1", "cv2"], module=False)
    return layers.block("GhostConv")


def bottleneck(b: Builder, c1: int, c2: int, shortcut: bool = True, g: int = 1, k: Any = (3, 3), e: float = 0.5) -> str:
    """``Bottleneck``: ``cv1`` (k[0]) to int(c2 * e) channels, ``cv2`` (k[1], groups g), plus the input when
    ``shortcut`` and c1 == c2."""
    hidden = int(c2 * e)
    layers = b.layers()
    layers.use(conv(b, c1, hidden, k[0], 1), "cv1")
    layers.use(conv(b, hidden, c2, k[1], 1, g=g), "cv2")
    if shortcut and c1 == c2:
        layers.add("add", "add", ["input", "cv2"], module=False)
    return layers.block("Bottleneck")


def c1_block(b: Builder, c1: int, c2: int, n: int = 1) -> str:
    """``C1``: ``cv1`` (1x1), n 3x3 ``Conv`` in ``m``, plus ``cv1``'s output."""
    layers = b.layers()
    layers.use(conv(b, c1, c2, 1, 1), "cv1")
    layers.container("m")
    for index in range(n):
        layers.use(conv(b, c2, c2, 3), f"m.{index}")
    layers.add("add", "add", [f"m.{n - 1}", "cv1"], module=False)
    return layers.block("C1")


def c2_block(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5) -> str:
    """``C2``: ``cv1`` to 2c channels (c = int(c2 * e)) chunked in two, n bottlenecks on the first half, both halves
    concatenated, ``cv2``."""
    c = int(c2 * e)
    layers = b.layers()
    layers.use(conv(b, c1, 2 * c, 1, 1), "cv1")
    layers.add("chunk", "chunk", module=False, chunks=2)
    layers.container("m")
    for index in range(n):
        layers.use(bottleneck(b, c, c, shortcut, g, ((3, 3), (3, 3)), 1.0), f"m.{index}", "chunk[0]" if index == 0 else None)
    layers.add("concat", "cat", [f"m.{n - 1}", "chunk[1]"], module=False)
    layers.use(conv(b, 2 * c, c2, 1), "cv2")
    return layers.block("C2")


def c2f_layers(b: Builder, c1: int, c2: int, inner: list[str], e: float = 0.5, kind: str = "C2f") -> str:
    """The ``C2f`` pattern: ``cv1`` to 2c channels chunked in two, each of ``inner`` on the previous output, every
    piece concatenated, ``cv2``."""
    c = int(c2 * e)
    layers = b.layers()
    layers.use(conv(b, c1, 2 * c, 1, 1), "cv1")
    layers.add("chunk", "y", module=False, chunks=2)
    layers.container("m")
    for index, block in enumerate(inner):
        layers.use(block, f"m.{index}", "y[1]" if index == 0 else None)
    layers.add("concat", "cat", ["y", *(f"m.{index}" for index in range(len(inner)))], module=False)
    layers.use(conv(b, (2 + len(inner)) * c, c2, 1), "cv2")
    return layers.block(kind)


def c2f(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, e: float = 0.5) -> str:
    """``C2f``: the C2f pattern with n ``Bottleneck(c, c, shortcut, g, k=(3, 3), e=1.0)``."""
    c = int(c2 * e)
    return c2f_layers(b, c1, c2, [bottleneck(b, c, c, shortcut, g, ((3, 3), (3, 3)), 1.0)] * n, e)


def c3k2(b: Builder, c1: int, c2: int, n: int = 1, c3k: bool = False, e: float = 0.5, attn: bool = False, g: int = 1,
         shortcut: bool = True) -> str:  # fmt: skip
    """``C3k2``: the C2f pattern with n ``C3k(c, c, 2)`` (``c3k``), ``Bottleneck + PSABlock`` (``attn``) or
    ``Bottleneck(c, c)``."""
    c = int(c2 * e)
    if attn:
        layers = b.layers()
        layers.use(bottleneck(b, c, c, shortcut, g), "0")
        layers.use(psa_block(b, c, 0.5, max(c // 64, 1)), "1")
        inner = layers.block("Sequential")
    elif c3k:
        inner = c3_family(b, c, c, 2, shortcut, g, 0.5, kernels=((3, 3), (3, 3)), kind="C3k")
    else:
        inner = bottleneck(b, c, c, shortcut, g)
    return c2f_layers(b, c1, c2, [inner] * n, e, "C3k2")


def c3_family(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5,
              kernels: Any = ((1, 1), (3, 3)), kind: str = "C3", ghost: bool = False, inner: str | None = None) -> str:  # fmt: skip
    """``C3`` (and ``C3x``, ``C3k``, ``C3Ghost``, and YOLOv9's ``RepCSP`` with its ``inner`` block): ``cv1`` and
    ``cv2`` to c_ = int(c2 * e) channels, n blocks after ``cv1`` in ``m``, both concatenated, ``cv3``."""
    hidden = int(c2 * e)
    layers = b.layers()
    layers.use(conv(b, c1, hidden, 1, 1), "cv1")
    layers.use(conv(b, c1, hidden, 1, 1), "cv2", "input")
    layers.container("m")
    if inner is None:
        inner = ghost_bottleneck(b, hidden, hidden) if ghost else bottleneck(b, hidden, hidden, shortcut, g, kernels, 1.0)
    for index in range(n):
        layers.use(inner, f"m.{index}", "cv1" if index == 0 else None)
    layers.add("concat", "cat", [f"m.{n - 1}", "cv2"], module=False)
    layers.use(conv(b, 2 * hidden, c2, 1), "cv3")
    return layers.block(kind)


def c3(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5) -> str:
    return c3_family(b, c1, c2, n, shortcut, g, e)


def c3x(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5) -> str:
    return c3_family(b, c1, c2, n, shortcut, g, e, kernels=((1, 3), (3, 1)), kind="C3x")


def c3k(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5, k: int = 3) -> str:
    return c3_family(b, c1, c2, n, shortcut, g, e, kernels=((k, k), (k, k)), kind="C3k")


def c3_ghost(b: Builder, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5) -> str:
    return c3_family(b, c1, c2, n, shortcut, g, e, kind="C3Ghost", ghost=True)


def ghost_bottleneck(b: Builder, c1: int, c2: int, k: int = 3, s: int = 1) -> str:
    """``GhostBottleneck``: ``conv`` = GhostConv, a depthwise conv when s == 2 (else identity), GhostConv without
    activation; ``shortcut`` = depthwise + 1x1 convs when s == 2 (else identity); their sum."""
    hidden = c2 // 2
    layers = b.layers()
    path = b.layers()
    path.use(ghost_conv(b, c1, hidden, 1, 1), "0")
    path.use(dwconv(b, hidden, hidden, k, s, act=False), "1") if s == 2 else path.add("identity", "1")
    path.use(ghost_conv(b, hidden, c2, 1, 1, act=False), "2")
    layers.use(path.block("Sequential"), "conv")
    if s == 2:
        short = b.layers()
        short.use(dwconv(b, c1, c1, k, s, act=False), "0")
        short.use(conv(b, c1, c2, 1, 1, act=False), "1")
        layers.use(short.block("Sequential"), "shortcut", "input")
    else:
        layers.add("identity", "shortcut", "input")
    layers.add("add", "add", ["conv", "shortcut"], module=False)
    return layers.block("GhostBottleneck")


def spp(b: Builder, c1: int, c2: int, k: Any = (5, 9, 13)) -> str:
    """``SPP``: ``cv1`` to c1/2, max pools of each k (stride 1, k // 2 padding) side by side, concatenated, ``cv2``."""
    hidden = c1 // 2
    layers = b.layers()
    layers.use(conv(b, c1, hidden, 1, 1), "cv1")
    layers.container("m")
    for index, size in enumerate(k):
        layers.add("maxpool", f"m.{index}", "cv1", k=size, s=1, p=size // 2)
    layers.add("concat", "cat", ["cv1", *(f"m.{index}" for index in range(len(k)))], module=False)
    layers.use(conv(b, hidden * (len(k) + 1), c2, 1, 1), "cv2")
    return layers.block("SPP")


def sppf(b: Builder, c1: int, c2: int, k: int = 5, n: int = 3, shortcut: bool = False, *, legacy: bool = False) -> str:
    """``SPPF``: ``cv1`` to c1/2 (no activation, except in YAML rows of 3 arguments or fewer, which keep the shared
    SiLU), one max pool ``m`` applied n times in a chain, every output concatenated, ``cv2``, plus the input with
    ``shortcut`` and c1 == c2. The pool is one module called n times: its layers after the first are calls."""
    hidden = c1 // 2
    layers = b.layers()
    layers.use(conv(b, c1, hidden, 1, 1, act=True if legacy else False), "cv1")
    calls = [layers.add("maxpool", "m", k=k, s=1, p=k // 2)]
    for index in range(1, n):
        calls.append(layers.add("maxpool", f"m_call{index + 1}", module=False, k=k, s=1, p=k // 2))
    layers.add("concat", "cat", ["cv1", *calls], module=False)
    layers.use(conv(b, hidden * (n + 1), c2, 1, 1), "cv2")
    if shortcut and c1 == c2:
        layers.add("add", "add", ["cv2", "input"], module=False)
    return layers.block("SPPF")


def attention(b: Builder, dim: int, num_heads: int = 8, attn_ratio: float = 0.5) -> str:
    """``Attention`` (C2PSA's): ``qkv`` 1x1 conv to dim + 2 heads x key_dim channels, per head q, k (key_dim each)
    and v (head_dim); scores q.k over every pair of positions (einsum over the grid, as ``q.transpose @ k`` on the
    flattened grid), softmax, v weighted by them, plus a depthwise 3x3 ``pe`` of v, then ``proj``."""
    head_dim = dim // num_heads
    key_dim = int(head_dim * attn_ratio)
    layers = b.layers()
    layers.use(conv(b, dim, dim + 2 * key_dim * num_heads, 1, act=False), "qkv")
    layers.add("unflatten", "heads", module=False, dim=-1, sizes=[num_heads, 2 * key_dim + head_dim])
    layers.add("split", "qkv_split", module=False, sizes=[key_dim, key_dim, head_dim], dim=-1)
    layers.add("mul", "q", "qkv_split[0]", module=False, value=key_dim**-0.5)
    layers.add("einsum", "scores", ["q", "qkv_split[1]"], module=False, equation="hwnc,xync->nhwxy")
    layers.add("softmax", "attn", module=False, dim=-1)
    layers.add("einsum", "weighted", ["attn", "qkv_split[2]"], module=False, equation="nhwxy,xynd->hwnd")
    layers.add("flatten", "x", module=False, start=2, end=3)
    layers.add("flatten", "v", "qkv_split[2]", module=False, start=2, end=3)
    layers.use(conv(b, dim, dim, 3, 1, g=dim, act=False), "pe", "v")
    layers.add("add", "sum", ["x", "pe"], module=False)
    layers.use(conv(b, dim, dim, 1, act=False), "proj")
    return layers.block("Attention")


def psa_block(b: Builder, c: int, attn_ratio: float = 0.5, num_heads: int = 4, shortcut: bool = True) -> str:
    """``PSABlock``: x + attn(x), then x + ffn(x) (``Conv`` to 2c, ``Conv`` back without activation)."""
    layers = b.layers()
    layers.use(attention(b, c, num_heads, attn_ratio), "attn")
    after_attn = layers.add("add", "add1", ["input", "attn"], module=False) if shortcut else "attn"
    ffn = b.layers()
    ffn.use(conv(b, c, c * 2, 1), "0")
    ffn.use(conv(b, c * 2, c, 1, act=False), "1")
    layers.use(ffn.block("Sequential"), "ffn", after_attn)
    if shortcut:
        layers.add("add", "add2", [after_attn, "ffn"], module=False)
    return layers.block("PSABlock")


def c2psa(b: Builder, c1: int, c2: int, n: int = 1, e: float = 0.5) -> str:
    """``C2PSA``: ``cv1`` to 2c (c = int(c1 * e)) split in two, n ``PSABlock`` on the second half, both halves
    concatenated, ``cv2`` back to c1."""
    c = int(c1 * e)
    layers = b.layers()
    layers.use(conv(b, c1, 2 * c, 1, 1), "cv1")
    layers.add("split", "split", module=False, sizes=[c, c])
    layers.container("m")
    for index in range(n):
        layers.use(psa_block(b, c, 0.5, max(c // 64, 1)), f"m.{index}", "split[1]" if index == 0 else None)
    layers.add("concat", "cat", ["split[0]", f"m.{n - 1}"], module=False)
    layers.use(conv(b, 2 * c, c1, 1), "cv2")
    return layers.block("C2PSA")
