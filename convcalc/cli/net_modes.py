"""The modes of ``convcalc net`` (--compare, --verify, --explain) and the flags each would silently ignore,
refused instead: CLI rules, not the library's."""

from __future__ import annotations

from convcalc.cli.common import fail
from convcalc.report.formats import NetFormat

NET_FORMATS = tuple(NetFormat)

# What each mode of `net` does not show, so that a flag for it would be silently ignored: refused instead.
NET_MODES_IGNORE = {
    "--compare": ("--explain", "--verify", "--convention", "--depth", "--dtype", "--draw"),
    "--verify": ("--explain", "--convention", "--depth", "--batch", "--dtype", "--draw"),
    "--explain": ("--convention", "--depth", "--batch", "--dtype"),
}
NET_MODES_SHOW = {
    "--compare": "every convention's totals",
    "--verify": "output shapes and params",
    "--explain": "a receptive field",
}
NET_MODES_FORMATS = {
    "--explain": ("table", "json", "markdown"),
    "--compare": tuple(f for f in NET_FORMATS if f != "html"),  # the HTML page is the per-layer report's
    "--verify": tuple(f for f in NET_FORMATS if f != "html"),
}


def refuse_ignored_flags(mode: str | None, given: dict[str, bool], format: str) -> None:
    """Fail on the first flag that ``mode`` (--compare, --verify, --explain or None) would silently ignore."""
    if mode is None:
        return
    for flag in NET_MODES_IGNORE[mode]:
        if given[flag]:
            fail(f"{flag}: cannot be combined with {mode}, which shows {NET_MODES_SHOW[mode]} only")
    formats = NET_MODES_FORMATS.get(mode, NET_FORMATS)
    if format not in formats:
        fail(f"--format: {mode} writes {', '.join(formats)}, not {format}")
