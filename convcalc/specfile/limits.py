"""The expanded size of a spec, counted before anything is expanded, so that a spec of a billion layers fails at once.

The count follows the expansion in :mod:`convcalc.specfile.expansion`: an op entry is ``repeat`` layers; a block entry is the sum
of its instances' layers, each instance at least one (so work is bounded even for empty instances). A block whose
``repeat:`` and ``if:`` fields use no ``$`` expression has the same size for every argument, so it is counted once.
An entry the count cannot evaluate counts as one layer: the expansion reports its error where it finds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from convcalc.errors import SpecError
from convcalc.specfile.expressions import ExprError, substitute

DEFAULT_MAX_LAYERS = 1_000_000
_LIMIT: ContextVar[int] = ContextVar("max_layers", default=DEFAULT_MAX_LAYERS)
MAX_BLOCK_DEPTH = 32
INDEX_NAME = re.compile(r"\bi\b")


def current_limit() -> int:
    """The layer limit in force: DEFAULT_MAX_LAYERS, or what :func:`layer_limit` set (``--max-layers``)."""
    return _LIMIT.get()


@contextmanager
def layer_limit(limit: int) -> Iterator[None]:
    """Load every spec inside the block with this layer limit (``convcalc check --max-layers``)."""
    token = _LIMIT.set(limit)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def check_layer_count(layers: Any, blocks: dict[str, Any], limit: int, file: str | None) -> int:
    """The number of layers ``layers`` expands to; a SpecError at the entry that takes it over ``limit``."""
    counter = _Counter(blocks, limit)
    total = 0
    for position, entry in enumerate(layers if isinstance(layers, list) else []):
        total += counter.entry(entry, {}, 0)
        if total > limit:
            line = layers.line_of(position) if hasattr(layers, "line_of") else None
            op, args = _split(entry)
            name = str(args["name"]) if "name" in args else f"{op}_{position}"
            size = f"more than {limit:,}" if counter.stopped_early else f"{total:,}"
            raise SpecError(
                f"the network expands to {size} layers, over the limit of {limit:,} (raise it with --max-layers N)",
                file,
                line,
                name,
            )
    return total


def _split(entry: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and len(entry) == 1:
        ((op, args),) = entry.items()
        return str(op), args if isinstance(args, dict) else {}
    return None, {}


def _uses_dollar(value: Any) -> bool:
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, list):
        return any(_uses_dollar(item) for item in value)
    return False


def _uses_index(values: dict[str, Any]) -> bool:
    """Whether an argument's expression may name the repeat index ``i``."""
    return any(_uses_dollar(value) and INDEX_NAME.search(str(value)) for value in values.values())


class _Counter:
    def __init__(self, blocks: dict[str, Any], limit: int) -> None:
        self.blocks = blocks
        self.limit = limit
        self.static: dict[str, bool] = {}
        self.sizes: dict[tuple[str, str], int] = {}
        self.stopped_early = False

    def count(self, entries: Any, names: dict[str, Any], depth: int) -> int:
        """Layers of a list of entries, stopping once over the limit."""
        if depth > MAX_BLOCK_DEPTH or not isinstance(entries, list):
            return 1
        total = 0
        for entry in entries:
            total += self.entry(entry, names, depth)
            if total > self.limit:
                return total
        return total

    def entry(self, entry: Any, names: dict[str, Any], depth: int) -> int:
        op, args = _split(entry)
        if op is None:
            return 1
        try:
            if "if" in args and not substitute(args["if"], names):
                return 0
            repeat = substitute(args.get("repeat", 1), names)
        except ExprError:
            return 1
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            return 1
        if op not in self.blocks or repeat > self.limit:
            return repeat
        rest = {key: value for key, value in args.items() if key not in ("name", "from", "repeat", "if", "trainable", "expect")}
        block = self.blocks[op] if isinstance(self.blocks[op], dict) else {}
        defaults = block.get("args") or {}
        if self.is_static(op, depth) or not _uses_index(rest):
            return repeat * self.block_size(op, defaults, rest, names, 0, depth)
        total = 0
        for index in range(repeat):
            total += self.block_size(op, defaults, rest, names, index, depth)
            if total > self.limit:
                self.stopped_early = index < repeat - 1
                break
        return total

    def block_size(
        self, op: str, defaults: dict[str, Any], rest: dict[str, Any], names: dict[str, Any], index: int, depth: int
    ) -> int:
        """Layers of one instance of block ``op`` (at least one)."""
        static = self.is_static(op, depth)
        try:
            given = {} if static else {key: substitute(value, names | {"i": index}) for key, value in rest.items()}
        except ExprError:
            return 1
        arguments = dict(defaults) | given
        key = (op, "" if static else repr(sorted(arguments.items(), key=lambda item: str(item[0]))))
        if key not in self.sizes:
            self.sizes[key] = 1  # a block that uses itself is cut here; the expansion reports it
            self.sizes[key] = max(1, self.count(self.blocks[op].get("layers"), arguments, depth + 1))
        return self.sizes[key]

    def is_static(self, op: str, depth: int = 0) -> bool:
        """A block whose size does not depend on its arguments: no ``$`` in any ``repeat``/``if`` inside it."""
        if op not in self.static:
            self.static[op] = True  # assumed while looking inside (a block that uses itself)
            layers = self.blocks[op].get("layers") if isinstance(self.blocks[op], dict) else None
            for entry in layers if isinstance(layers, list) and depth <= MAX_BLOCK_DEPTH else []:
                inner, args = _split(entry)
                dynamic = _uses_dollar(args.get("repeat")) or _uses_dollar(args.get("if"))
                if inner in self.blocks and not self.is_static(inner, depth + 1):
                    dynamic = dynamic or any(_uses_dollar(value) for value in args.values())
                if dynamic:
                    self.static[op] = False
                    break
        return self.static[op]
