"""Shape and size notation: ``640x640x3`` (channels last), ``3@512x512`` (C@HxW), ``3x5`` (one value per dim).

Shapes are tuples of ints, channels last, batch excluded: ``(H, W, C)``, ``(L, C)``, ``(D, H, W, C)``.
"""

from __future__ import annotations

import re

from convcalc.errors import InputError

Shape = tuple[int, ...]

_SEPARATORS = re.compile(r"\s*[x×X*,]\s*")
_INT = re.compile(r"[+-]?\d+")
SHAPE = "shape such as 640x640x3 (HxWxC) or 3@640x640"


def parse_ints(text: str, param: str, what: str = "value such as 3 or 3x5") -> tuple[int, ...]:
    """``"3x5"`` -> ``(3, 5)``; ``"3"`` -> ``(3,)``. Signs are kept so the caller can say what is wrong."""
    text = str(text).strip()
    parts = _SEPARATORS.split(text) if text else []
    if not parts or not all(_INT.fullmatch(part) for part in parts):
        raise InputError(f"expected a {what}, got {text!r}", param)
    if any(len(part.lstrip("+-")) > 18 for part in parts):
        raise InputError(f"number too large in {text[:40]!r}{'...' if len(text) > 40 else ''}", param)
    return tuple(int(part) for part in parts)


def parse_shape(text: str, param: str = "in") -> Shape:
    """Parse a tensor shape, channels last. ``C@HxW`` is rewritten to ``HxWxC``."""
    text = str(text).strip()
    if "@" in text:
        channels, _, spatial = text.partition("@")
        try:
            sizes = parse_ints(spatial, param, SHAPE) + parse_ints(channels, param, SHAPE)
        except InputError:
            raise InputError(f"expected a {SHAPE}, got {text!r}", param) from None
        if len(sizes) - len(parse_ints(spatial, param, SHAPE)) != 1:
            raise InputError(f"expected one channel count before '@', got {text!r}", param)
    else:
        sizes = parse_ints(text, param, SHAPE)
    for size in sizes:
        if size < 1:
            raise InputError(f"every size in a shape must be >= 1, got {text!r}", param)
    return sizes


def format_shape(shape: Shape) -> str:
    """``(642, 320, 5)`` -> ``642x320x5``."""
    return "x".join(str(size) for size in shape)


def dim_names(rank: int) -> tuple[str, ...]:
    """Conventional names of the spatial dimensions: L; H W; D H W; then d1 d2 ..."""
    names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
    return names.get(rank, tuple(f"d{i + 1}" for i in range(rank)))
