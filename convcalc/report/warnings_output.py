"""Warnings on stderr, never in the output: one line each, and one summary line for the layers whose stride skips
input positions unless every warning is asked for (``--warnings``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

SKIPS = "input positions are in no window"  # the stride pattern of a 1x1 stride-2 downsample, deliberate


def warning_lines(named: Sequence[tuple[str, Sequence[str]]], detailed: bool = False) -> list[str]:
    """Warnings for stderr, from (layer name, warnings) pairs ("" for `layer`'s one layer). Layers that skip input
    positions make one summary line unless ``detailed``; every other warning is shown in full."""
    lines: list[str] = []
    skipping = 0
    for name, warnings in named:
        prefix = f"convcalc: warning: {name}: " if name else "convcalc: warning: "
        skipping += any(SKIPS in warning for warning in warnings)
        lines += [prefix + warning for warning in warnings if detailed or SKIPS not in warning]
    if skipping and not detailed:
        if len(named) == 1 and not named[0][0]:
            who = "the layer skips"
        else:
            who = "1 layer skips" if skipping == 1 else f"{skipping} layers skip"
        lines.append(f"convcalc: warning: {who} input pixels; see --warnings")
    return lines


def print_warnings(named: Sequence[tuple[str, Sequence[str]]], detailed: bool = False) -> None:
    """Warnings go to stderr, never into the output."""
    for line in warning_lines(named, detailed):
        print(line, file=sys.stderr)
