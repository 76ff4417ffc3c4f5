"""YOLO12's area attention (``ultralytics.nn.modules.block``: ``AAttn``, ``ABlock``, ``A2C2f``) as convcalc blocks
with the modules' attribute names, read from ultralytics 8.4.190.

``AAttn`` splits the flattened grid (row-major, N = H x W positions) into ``area`` runs of N / area consecutive
positions and attends within each run: per head, scores q.k over every pair of positions of a run (N^2 / area x
head_dim multiply-adds), a softmax, the values weighted by them (as many again). Written with einsums over convcalc's
axes; the runs need the grid's size, which the front end works out (``grid``) when ``area`` > 1.
"""

from __future__ import annotations

from typing import Any

from convcalc.frontends.ultralytics_build import Builder, Layers
from convcalc.frontends.ultralytics_modules import c3k, conv


def _attend_whole_grid(layers: Layers) -> str:
    """area 1: q (H, W, heads, d) against every position's k, the values weighted; (H, W, heads x d)."""
    layers.add("flatten", "k", "qkv_split[1]", module=False, start=0, end=1)
    layers.add("flatten", "v_flat", "qkv_split[2]", module=False, start=0, end=1)
    layers.add("einsum", "scores", ["q", "k"], module=False, equation="hwnc,mnc->nhwm")
    layers.add("softmax", "attn", module=False, dim=-1)
    layers.add("einsum", "weighted", ["attn", "v_flat"], module=False, equation="nhwm,mnd->hwnd")
    layers.add("flatten", "v", "qkv_split[2]", module=False, start=2, end=3)
    return layers.add("flatten", "x", "weighted", module=False, start=2, end=3)


def _attend_runs(layers: Layers, grid: tuple[int, int]) -> str:
    """area > 1: q, k, v as (area, N / area, heads, d), attention within each run, back to (H, W, heads x d)."""
    layers.add("einsum", "scores", ["q", "qkv_split[1]"], module=False, equation="anhc,amhc->ahnm")
    layers.add("softmax", "attn", module=False, dim=-1)
    layers.add("einsum", "weighted", ["attn", "qkv_split[2]"], module=False, equation="ahnm,amhd->anhd")
    for name, source in (("x", "weighted"), ("v", "qkv_split[2]")):
        layers.add("flatten", f"{name}_positions", source, module=False, start=0, end=1)
        layers.add("flatten", f"{name}_channels", module=False, start=1, end=2)
        layers.add("unflatten", name, module=False, dim=0, sizes=list(grid))
    return "x"


def area_attention(b: Builder, dim: int, num_heads: int, area: int = 1, grid: tuple[int, int] | None = None) -> str:
    """``AAttn``: ``qkv`` (1x1 ``Conv`` without activation) to 3 x heads x head_dim channels (per head q, k, v),
    attention within each of ``area`` runs of positions, plus ``pe`` (depthwise 7x7) of v, then ``proj``."""
    head_dim = dim // num_heads
    all_dim = head_dim * num_heads
    layers = b.layers()
    layers.use(conv(b, dim, 3 * all_dim, 1, act=False), "qkv")
    if area > 1:
        if grid is None:
            raise ValueError("area attention needs the size of its grid")
        layers.add("flatten", "positions", module=False, start=0, end=1)
        layers.add("unflatten", "runs", module=False, dim=0, sizes=[area, -1])
    layers.add("unflatten", "heads", module=False, dim=-1, sizes=[num_heads, 3 * head_dim])
    layers.add("split", "qkv_split", module=False, sizes=[head_dim] * 3, dim=-1)
    layers.add("mul", "q", "qkv_split[0]", module=False, value=head_dim**-0.5)
    x = _attend_runs(layers, grid) if area > 1 and grid is not None else _attend_whole_grid(layers)
    layers.use(conv(b, all_dim, all_dim, 7, 1, 3, all_dim, act=False), "pe", "v")
    layers.add("add", "sum", [x, "pe"], module=False)
    layers.use(conv(b, all_dim, dim, 1, act=False), "proj")
    return layers.block("AAttn")


def area_block(b: Builder, dim: int, num_heads: int, mlp_ratio: float = 1.2, area: int = 1,
               grid: tuple[int, int] | None = None) -> str:  # fmt: skip
    """``ABlock``: x + attn(x), then x + mlp(x) (1x1 ``Conv`` to int(dim x mlp_ratio), 1x1 back without activation)."""
    layers = b.layers()
    layers.use(area_attention(b, dim, num_heads, area, grid), "attn")
    layers.add("add", "add1", ["input", "attn"], module=False)
    hidden = int(dim * mlp_ratio)
    mlp = b.layers()
    mlp.use(conv(b, dim, hidden, 1), "0")
    mlp.use(conv(b, hidden, dim, 1, act=False), "1")
    layers.use(mlp.block("Sequential"), "mlp", "add1")
    layers.add("add", "add2", ["add1", "mlp"], module=False)
    return layers.block("ABlock")


def a2c2f(b: Builder, c1: int, c2: int, n: int = 1, a2: bool = True, area: int = 1, residual: bool = False,
          mlp_ratio: float = 2.0, e: float = 0.5, g: int = 1, shortcut: bool = True, *, grid: Any = None) -> str:  # fmt: skip
    """``A2C2f``: ``cv1`` to c_ = int(c2 x e); n blocks in a chain, each two ``ABlock(c_, c_ // 32)`` (``a2``) or a
    ``C3k(c_, c_, 2)``; ``cv1``'s output and every block's concatenated, ``cv2`` to c2; with ``a2`` and ``residual``
    (scales l and x), the input plus ``gamma`` (c2 learnable scales) times that."""
    hidden = int(c2 * e)
    if hidden % 32:
        raise ValueError(f"A2C2f's hidden channels {hidden} must be a multiple of 32")
    layers = b.layers()
    layers.use(conv(b, c1, hidden, 1, 1), "cv1")
    layers.container("m")
    for index in range(n):
        if a2:
            pair = b.layers()
            for position in range(2):
                pair.use(area_block(b, hidden, hidden // 32, mlp_ratio, area, grid), str(position))
            inner = pair.block("Sequential")
        else:
            inner = c3k(b, hidden, hidden, 2, shortcut, g)
        layers.use(inner, f"m.{index}")
    layers.add("concat", "cat", ["cv1", *(f"m.{index}" for index in range(n))], module=False)
    layers.use(conv(b, (1 + n) * hidden, c2, 1), "cv2")
    if a2 and residual:
        layers.add("param", "gamma", shape=[c2])
        layers.add("mul", "scaled", ["cv2", "gamma"], module=False)
        layers.add("add", "residual", ["input", "scaled"], module=False)
    return layers.block("A2C2f")
