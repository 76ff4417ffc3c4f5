"""``convcalc ops``: the catalogue as plain data, each op with its spellings, arguments (from the spec format's
schemas), category, cost, PyTorch module and whether ``convcalc layer`` takes it. Rendering is in the report layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convcalc.ops.catalogue import CATALOGUE, OpDef


@dataclass(frozen=True)
class Argument:
    """One argument of an op: its spec name, PyTorch's name for it (if another), its type, and if it is required."""

    name: str
    aliases: tuple[str, ...]
    type: str
    required: bool


@dataclass(frozen=True)
class OpListing:
    op: OpDef
    arguments: tuple[Argument, ...]

    def to_dict(self) -> dict[str, Any]:
        entry = self.op
        return {
            "name": entry.name,
            "aliases": list(entry.aliases),
            "category": entry.category.value,
            "summary": entry.summary,
            "cost": entry.cost,
            "arguments": [
                {"name": a.name, "aliases": list(a.aliases), "type": a.type, "required": a.required}
                for a in self.arguments
            ],
            "inputs": "several" if entry.merge else "one",
            "torch": entry.torch.replace("{n}", "N") if entry.torch else None,
            "layer": entry.layer_options is not None,
        }


def type_words(schema: dict[str, Any]) -> str:
    """A pydantic-core schema as a short type: ``int >= 1 | [int >= 1]``, ``'same' | 'valid'``, ``bool``."""
    kind = schema.get("type")
    if kind == "union":
        return " | ".join(type_words(choice) for choice in schema["choices"])
    if kind == "list":
        return f"[{type_words(schema['items_schema'])}]"
    if kind == "literal":
        return " | ".join(repr(value) for value in schema["expected"])
    bounds = [f"{sign} {schema[key]}" for key, sign in (("ge", ">="), ("le", "<=")) if key in schema]
    return " ".join([str(kind), *bounds])


def arguments(type_name: str) -> tuple[Argument, ...]:
    """The arguments of an argument type, in the order the spec format defines them."""
    from convcalc.specfile._coreschemas import SCHEMAS

    result = []
    for name, field in SCHEMAS[type_name].get("fields", {}).items():
        aliases = tuple(alias[0] for alias in field.get("validation_alias", []) if alias[0] != name)
        result.append(Argument(name, aliases, type_words(field["schema"]), bool(field.get("required", True))))
    return tuple(sorted(result, key=lambda argument: not argument.required))  # required first, then the format's order


def listing() -> list[OpListing]:
    """Every op of the catalogue, in catalogue order."""
    return [OpListing(entry, arguments(entry.args)) for entry in CATALOGUE]
