"""The one formatter of numbers for every output: exact counts with thousands separators, SI readings (46.22M),
exact fractions (1/2), per-dimension values (3x5), shapes (642x320x5), shares (12.34%), byte sizes (1.50 MiB),
and the exact numbers of JSON (an int, or "p/q"). Standard library only: `convcalc layer` imports it."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from convcalc.core.notation import format_shape as format_shape  # shapes: the notation parse_shape reads
from convcalc.core.notation import fraction as fraction  # exact numbers: written as the notation writes them
from convcalc.core.notation import grouped as grouped
from convcalc.core.notation import json_decimal as json_decimal
from convcalc.core.notation import rounded as rounded

SI = ((10**18, "E"), (10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def si(value: int) -> str:
    """46224000 -> '46.22M' (a reading aid next to the exact count); past 999.99E, scientific: '2.19e+28'."""
    size = abs(value)
    if size >= 1000 * SI[0][0]:
        return scientific(value)
    for position, (scale, suffix) in enumerate(SI):
        if size >= scale:
            text = f"{value / scale:.2f}"
            if abs(float(text)) < 1000:
                return text + suffix
            if position == 0:  # 999.995E and up
                return scientific(value)
            bigger, bigger_suffix = SI[position - 1]  # 999.995k is 1.00M, not 1000.00k
            return f"{value / bigger:.2f}{bigger_suffix}"
    return str(value)


def scientific(value: int) -> str:
    """Three significant digits, exactly rounded for any size: 21867813087478252 * 10**12 -> '2.19e+28'."""
    from decimal import Decimal

    return f"{Decimal(value):.2e}"


def count(value: int) -> str:
    """Exact, with thousands separators, and an SI reading when large: '46,224,000 (46.22M)'."""
    return f"{grouped(value)} ({si(value)})" if abs(value) >= 1000 else grouped(value)


def per_dim(values: Sequence[Any]) -> str:
    """One exact value per spatial dimension: '3x5', '1/2x1/2'; '-' when there is none."""
    return "x".join(fraction(v) for v in values) if values else "-"


def share(part: int, total: int) -> str:
    """A part's share of the total, as ptflops prints it: '12.34%'; '-' of nothing."""
    return f"{100 * part / total:.2f}%" if total else "-"


def ratio(value: float | None) -> str:
    """A ratio to convcalc's count, seven decimals: '1.0000132'; '-' when there is none."""
    return "-" if value is None else f"{value:.7f}"


def byte_size(size: int) -> str:
    """Memory: '97.69 MiB' from 1 MiB up, else '4.5 KiB'."""
    return f"{size / 2**20:,.2f} MiB" if size >= 2**20 else f"{size / 2**10:,.1f} KiB"


def json_number(value: Fraction | int) -> int | str:
    """An exact number for JSON: an int when whole, else the string ``"p/q"``."""
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def json_numbers(values: Sequence[Fraction | int]) -> list[int | str]:
    """One exact JSON number per dimension."""
    return [json_number(value) for value in values]
