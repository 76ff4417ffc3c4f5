"""Which files ``convcalc check`` reads: files, folders and globs collected in order, and what is a spec.

What is a spec is decided on the parsed content, never on the text's shape: a YAML or JSON document that is a
mapping with ``input`` or ``layers``. A file named that is no spec is an error; one found by a search (a folder, a
glob) is skipped. A FIFO or device is never opened to read; reading goes through the spec loader's size-limited
``read_spec_bytes``.
"""

from __future__ import annotations

import codecs
import glob
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from convcalc.errors import SpecError

SEARCHED = (".yaml", ".yml", ".json")  # what a folder search reads; the content decides what is a spec
SPEC_KEYS = frozenset({"input", "layers", "ultralytics"})  # ultralytics: a spec naming an Ultralytics YAML
NOT_A_SPEC = "not a spec (a spec is a YAML or JSON mapping with 'input' and 'layers')"


# --------------------------------------------------------------------------- collecting files


def refuse_irregular(path: str) -> None:
    """A FIFO, device or socket is never read (reading could block for ever): a SpecError at once."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: reading it reports that
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise SpecError("not a regular file", path)


def search(folder: str) -> list[str]:
    """The ``*.yaml``, ``*.yml`` and ``*.json`` files under ``folder``, sorted; hidden folders and symbolic links to
    folders are not entered. A FIFO or device with such a name is refused."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if name.endswith(SEARCHED):
                path = os.path.normpath(os.path.join(root, name))
                refuse_irregular(path)
                found.append(path)
    return found


def _expand(given: str) -> list[tuple[str, bool]]:
    """The files one given path stands for: (path, named)."""
    if not os.path.lexists(given) and glob.has_magic(given):
        matches = sorted(glob.glob(given, recursive=True))
        found: list[tuple[str, bool]] = []
        for match in matches:
            if os.path.isdir(match):
                found.extend((path, False) for path in search(match))
            else:
                refuse_irregular(match)
                found.append((match, False))
        return found if matches else [(given, True)]
    if os.path.isdir(given):
        return [(path, False) for path in search(given)]
    refuse_irregular(given)
    return [(given, True)]


def collect(paths: Sequence[str]) -> list[tuple[str, bool]]:
    """Files to check, in order, each once: (path, named), ``named`` false for files found by a search (in a folder
    or by a glob, which convcalc expands, ``**`` too). A path that matches nothing stays in the list, so reading it
    reports the error. Anything named that is neither a regular file nor a folder is refused (SpecError)."""
    found: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for given in paths:
        for path, named in _expand(given):
            if path not in seen:
                seen.add(path)
                found.append((path, named))
    return found


# --------------------------------------------------------------------------- reading and recognising specs


@dataclass(frozen=True)
class Source:
    """A file's text as read: without its BOM, line endings untouched; ``bom`` and ``newline`` say how to write it
    back the same way."""

    text: str
    bom: bool = False
    newline: str = "\n"

    def encode(self, text: str) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + text.encode("utf-8")


def decode(data: bytes, path: str | None = None) -> Source:
    """UTF-8 text (a BOM noted and removed); the newline is the first line's (``\\r\\n`` or ``\\n``)."""
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("the file is not UTF-8 text", path) from None
    first = text.find("\n")
    return Source(text, bom, "\r\n" if first > 0 and text[first - 1] == "\r" else "\n")


def read_source(path: str) -> Source:
    """Read a regular file of at most the spec size limit as UTF-8 (a BOM allowed), without blocking on a FIFO."""
    from convcalc.specfile.loader import read_spec_bytes

    return decode(read_spec_bytes(path), path)


def read_spec_source(path: str, named: bool = True) -> Source | None:
    """The source of a spec file; None for a file found by a search that is no spec. A file named that is no spec
    is a SpecError."""
    source = read_source(path)
    if is_spec(source.text, path):
        return source
    if named:
        raise SpecError(NOT_A_SPEC, path)
    return None


def is_spec(text: str, file: str | None = None) -> bool:
    """Whether the parsed YAML (or JSON) ``text`` is a spec: a document that is a mapping with the key ``input`` or
    ``layers`` (with only one of them it is a spec with an error, which loading reports). Only the parser's events
    are read, nothing is built, so any YAML is safe here: tags, anchors, several documents. A file that does not
    parse is a SpecError: whether it was meant as a spec cannot be told."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    open_nodes: list[list[Any]] = []  # per open collection: [is a mapping, children so far]
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.NodeEvent):  # scalar, alias, start of a sequence or mapping
                top = open_nodes[0] if len(open_nodes) == 1 else None
                if top and top[0] and top[1] % 2 == 0 and isinstance(event, yaml.ScalarEvent) and event.value in SPEC_KEYS:
                    return True
                if isinstance(event, yaml.CollectionStartEvent):
                    open_nodes.append([isinstance(event, yaml.MappingStartEvent), 0])
                elif open_nodes:
                    open_nodes[-1][1] += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                open_nodes.pop()
                if open_nodes:
                    open_nodes[-1][1] += 1
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", file, mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise SpecError(f"YAML error: {error}", file) from None
    return False
