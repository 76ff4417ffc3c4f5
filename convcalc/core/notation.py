"""Shape and size notation: ``640x640x3`` (channels last), ``3@512x512`` (C@HxW), ``3x5`` (one value per dim).

Shapes are tuples of ints, channels last, batch excluded: ``(H, W, C)``, ``(L, C)``, ``(D, H, W, C)``.
"""

from __future__ import annotations

import re
from fractions import Fraction

from convcalc.errors import InputError

Shape = tuple[int, ...]

_SEPARATORS = re.compile(r"\s*[x×X*,]\s*")
_INT = re.compile(r"[+-]?\d+")
SHAPE = "shape such as 640x640x3 (HxWxC) or 3@640x640"


def parse_ints(text: str, param: str, what: str = "value such as 3 or 3x5") -> tuple[int, ...]:
    """``"3x5"`` -> ``(3, 5)``; ``"3"`` -> ``(3,)``. Signs are kept so the caller can say what is wrong."""
    text = str(text).strip()
    if text[:1] + text[-1:] in ("[]", "()"):  # '[32, 32, 3]', as YAML and Python write it
        text = text[1:-1].strip()
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


_PER_DIM = re.compile(r"\s*\d+(?:\s*[x×X]\s*\d+)+\s*")


def per_dim_value(value: object) -> object:
    """A spec value written as on the command line (``k: 3x5``) as the list it means (``[3, 5]``)."""
    if isinstance(value, str) and _PER_DIM.fullmatch(value):
        return list(parse_ints(value, ""))
    return value


def channels_first_hint(shape: Shape) -> str | None:
    """A warning for an input that looks written channels first (``3x224x224``): few leading channels, large
    trailing size. None when the shape looks channels last."""
    if len(shape) >= 4 and shape[0] == 1 and shape[1] in (1, 3, 4) and shape[-1] >= 16:  # N x C x H x W
        spatial, channels = format_shape(shape[2:]), shape[1]
        return (f"{format_shape(shape)} looks like batch x channels x {'x'.join(dim_names(len(shape) - 2))}; shapes "
                f"here have no batch (see --batch) and channels last: write {spatial}x{channels} or {channels}@{spatial}")
    if len(shape) < 3 or shape[0] not in (1, 3, 4) or shape[-1] < 8 * shape[0] or shape[-1] < 16:
        return None
    spatial, channels = format_shape(shape[1:]), shape[0]
    labels = ", ".join(f"{name}={size}" for name, size in zip((*dim_names(len(shape) - 1), "C"), shape))
    return (f"{format_shape(shape)} reads as {labels} (channels last); "
            f"for {channels} channel{'s' if channels > 1 else ''} write {spatial}x{channels} or {channels}@{spatial}")


def rank_words(rank: int) -> str:
    """How a shape of this rank is written: ``HxWxC`` for rank 3."""
    if rank == 1:
        return "a feature count"
    return "x".join((*dim_names(rank - 1), "C"))


def format_shape(shape: Shape) -> str:
    """``(642, 320, 5)`` -> ``642x320x5``."""
    return "x".join(str(size) for size in shape)


def dim_names(rank: int) -> tuple[str, ...]:
    """Conventional names of the spatial dimensions: L; H W; D H W; then d1 d2 ..."""
    names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
    return names.get(rank, tuple(f"d{i + 1}" for i in range(rank)))


# --------------------------------------------------------------------------- writing exact numbers


def grouped(value: int) -> str:
    """An exact whole number with thousands separators: '46,224,000'."""
    return f"{value:,}"


def fraction(value: Fraction | int) -> str:
    """Exact: '3', or '1/2' when not whole."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def rounded(value: Fraction | int) -> str:
    """A whole number with thousands separators, a fraction as a decimal of six significant digits: '2.33333'."""
    value = Fraction(value)
    return grouped(value.numerator) if value.denominator == 1 else f"{float(value):,.6g}"


def json_decimal(value: Fraction | int) -> int | float:
    """A number for JSON where a float is good enough (a failed expectation's actual value): int when whole."""
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else float(value)
