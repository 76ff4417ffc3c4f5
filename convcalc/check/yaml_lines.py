"""Line-level edits of YAML text for ``--update``: comments kept apart, a key set inside a one-line flow mapping,
the scalar value of a ``key: value`` line replaced. Each edit is a function from the old line to its new lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

Edit = Callable[[str], list[str]]  # one line (with its newline) -> the lines that replace it

LINE_BREAKS = "\r\n\x85\u2028\u2029"
FLOW_ITEM = re.compile(r"^\s*-\s+[^\s{}\[\]#:'\"][^{}\[\]#:'\"]*?\s*:\s*(\{)")  # - conv: {...
BLOCK_ITEM = re.compile(r"^\s*-\s+[^\s{}\[\]#:'\"][^{}\[\]#:'\"]*?\s*:$")  # - conv:
KEY_LINE = re.compile(r"^(\s*)(['\"]?[\w.-]+['\"]?\s*:)(\s*)(.*)$")  # (indent)(key:)(space)(value)


def end_line(line: str, newline: str) -> str:
    """``line`` ending with a line break (``newline`` added to a last line that has none)."""
    return line if line.endswith(tuple(LINE_BREAKS)) else line + newline


def split_comment(line: str) -> tuple[str, str, str]:
    """``(code, comment, newline)``: the comment starts at a ``#`` outside quotes after whitespace (with that
    whitespace); the newline is kept apart."""
    newline = line[len(line.rstrip(LINE_BREAKS)) :]
    body = line[: len(line) - len(newline)]
    quote = None
    for position, char in enumerate(body):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or body[position - 1] in " \t"):
            code = body[:position].rstrip(" \t")
            return code, body[len(code) :], newline
    code = body.rstrip(" \t")
    return code, body[len(code) :], newline


def flow_entries(code: str, start: int) -> tuple[int, list[tuple[int, int]]] | None:
    """For the flow mapping opening at ``code[start] == '{'``: (index of its '}', [(start, end) of each entry]);
    None if it does not close on this line."""
    depth, quote, entries, begin = 0, None, [], start + 1
    for position in range(start, len(code)):
        char = code[position]
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                if code[begin:position].strip():
                    entries.append((begin, position))
                return position, entries
        elif char == "," and depth == 1:
            entries.append((begin, position))
            begin = position + 1
    return None


def set_in_flow(code: str, brace: int, key: str, value: str) -> str | None:
    """Set ``key: value`` in the one-line flow mapping opening at ``code[brace]``; None if it does not close. In a
    mapping written as JSON (keys in double quotes) the key and value are written as JSON too."""
    found = flow_entries(code, brace)
    if found is None:
        return None
    close, entries = found
    names = [code[begin:end].split(":", 1)[0].strip() for begin, end in entries]
    as_json = bool(names) and all(name.startswith('"') for name in names)
    for (begin, end), name in zip(entries, names):
        if name.strip("'\"") == key:
            entry = code[begin:end]
            lead = entry[: len(entry) - len(entry.lstrip())]
            trail = entry[len(entry.rstrip()) :]
            return code[:begin] + f"{lead}{name}: {json_value(value) if as_json else value}{trail}" + code[end:]
    pair = f"{json.dumps(key)}: {json_value(value)}" if as_json else f"{key}: {value}"
    if entries:
        begin, end = entries[-1]
        content_end = begin + len(code[begin:end].rstrip())
        return code[:content_end] + f", {pair}" + code[content_end:]
    return code[:brace] + f"{{{pair}}}" + code[close + 1 :]


def json_value(value: str) -> str:
    """A YAML scalar as JSON: kept when it already is JSON (``10``, ``"== 5"``), else quoted (``8x8x1``)."""
    try:
        json.loads(value)
    except ValueError:
        return json.dumps(value)
    return value


def replace_value_edit(lines: list[str], index: int, value: str) -> tuple[int, Edit] | None:
    """Replace the (one-line, scalar) value of the ``key: value`` line at ``index``, keeping its comment; None when
    that line holds no such value."""
    if not 0 <= index < len(lines):
        return None
    match = KEY_LINE.match(split_comment(lines[index])[0])
    if not match or match.group(4).startswith(("{", "[", "|", ">", "&", "*", "!")):
        return None

    def edit(line: str) -> list[str]:
        code, comment, newline = split_comment(line)
        head = KEY_LINE.match(code)
        assert head is not None
        return [f"{head.group(1)}{head.group(2)} {value}{comment}{newline}"]

    return index, edit
