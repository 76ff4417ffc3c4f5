"""Safe YAML loading that remembers where every value came from.

Mappings load as :class:`Located` dicts and sequences as :class:`LocatedList`, each knowing the line of itself and
of each key or item, so validation errors can point at ``file:line``. Only the plain YAML types are accepted (no
Python tags); duplicate keys are an error; aliases are expanded under a node budget, so alias bombs fail fast.
"""

from __future__ import annotations

import re
from typing import Any

from convcalc.errors import SpecError

MAX_NODES = 200_000
PRESCAN_BYTES = 256 * 1024  # above this, values are counted from the event stream before anything is built


class Located(dict):  # type: ignore[type-arg]
    """A mapping with the line of itself (``line``) and of each key (``key_lines``)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):  # type: ignore[type-arg]
    """A sequence with the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_of(value: Any, default: int = 0) -> int:
    return getattr(value, "line", default) or default


_UNQUOTED_PICK = re.compile(r"""from:.*[^\s"'\[,{]\[\s*-?[0-9]+\s*\]""")  # `{from: split1[1]}`: YAML reads [ as a list


def load_yaml(text: str, file: str | None = None) -> Any:
    """Parse one YAML document into plain values with line information."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        if len(text) > PRESCAN_BYTES:  # smaller texts cannot hold enough values to cost much before the budget
            _check_size(yaml.parse(text, Loader=loader_class), file)
        node = yaml.compose(text, Loader=loader_class)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if mark is not None and _UNQUOTED_PICK.search(text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""):
            problem += '; inside {...} or [...] quote an output pick: from: "split1[1]"'
        raise SpecError(f"YAML syntax error: {problem}", file, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise SpecError(f"YAML error: {error}", file) from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and not node.value):
        raise SpecError("the file is empty", file)
    return _Converter(file).convert(node)


def _check_size(events: Any, file: str | None) -> None:
    """Count the document's values from the event stream, stopping at the budget before anything is built."""
    import yaml

    values = 0
    for event in events:
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            values += 1
            if values > MAX_NODES:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise SpecError(f"the document has more than {MAX_NODES:,} values", file, line)


class _Converter:
    def __init__(self, file: str | None) -> None:
        import yaml

        self.file = file
        self.budget = MAX_NODES
        self.yaml = yaml
        self.scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: Any) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise SpecError(
                f"the document expands to more than {MAX_NODES:,} values (an alias bomb?)", self.file, node.start_mark.line + 1
            )
        line = node.start_mark.line + 1
        tag = node.tag or ""
        if isinstance(node, self.yaml.MappingNode):
            if tag not in ("tag:yaml.org,2002:map",):
                raise SpecError(f"unsupported YAML tag {tag!r}", self.file, line)
            mapping = Located()
            mapping.line, mapping.key_lines = line, {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise SpecError("YAML merge keys (<<) are not supported", self.file, key_node.start_mark.line + 1)
                key = self.convert(key_node)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise SpecError("mapping keys must be plain values", self.file, key_node.start_mark.line + 1)
                if key in mapping:
                    raise SpecError(
                        f"duplicate key {key!r} (first on line {mapping.key_lines[key]})",
                        self.file,
                        key_node.start_mark.line + 1,
                    )
                mapping.key_lines[key] = key_node.start_mark.line + 1
                mapping[key] = self.convert(value_node)
            return mapping
        if isinstance(node, self.yaml.SequenceNode):
            if tag != "tag:yaml.org,2002:seq":
                raise SpecError(f"unsupported YAML tag {tag!r}", self.file, line)
            items = LocatedList()
            items.line, items.item_lines = line, []
            for item in node.value:
                items.item_lines.append(item.start_mark.line + 1)
                items.append(self.convert(item))
            return items
        if not tag.startswith("tag:yaml.org,2002:") or tag.rsplit(":", 1)[-1] not in SCALAR_TAGS:
            raise SpecError(f"unsupported YAML tag {tag!r}", self.file, line)
        if len(node.value) > 1000:
            raise SpecError(f"value longer than 1,000 characters ({len(node.value):,})", self.file, line)
        try:
            return self.scalars.construct_object(node)
        except self.yaml.YAMLError as error:
            raise SpecError(f"bad value: {getattr(error, 'problem', error)}", self.file, line) from None
        except ValueError as error:
            raise SpecError(f"bad value: {error}", self.file, line) from None


SCALAR_TAGS = {"str", "int", "float", "bool", "null"}
