"""The JSON Schema of the spec format, for editors (the YAML language server; ``convcalc schema``): a layer is
``op: {args}`` under any spelling of the op, a bare op name (when it needs no argument), or a block use.
Argument types come from the pydantic definitions of :mod:`convcalc.specfile.schema`; ops from the catalogue."""

from __future__ import annotations

from typing import Any

from convcalc.ops.catalogue import CATALOGUE, OpDef, spellings
from convcalc.specfile.op_arguments import arguments

EXPRESSION = {"type": "string", "pattern": r"^\$"}  # $arg or ${expression}, inside blocks
PER_DIM_TEXT = {"type": "string", "pattern": r"^\s*\d+(\s*[xX×]\s*\d+)+\s*$"}  # k: 3x5, as on the command line
COMMON = {
    "name": {"type": "string", "description": "Layer name (scoped inside blocks: layer3.2.conv1)."},
    "from": {
        "description": "Input(s): a layer name, a relative index (-2), 'input', or a list (add/concat).",
        "anyOf": [{"type": ["string", "integer"]}, {"type": "array", "items": {"type": ["string", "integer"]}}],
    },
    "trainable": {"type": "boolean", "description": "false: count this layer's params as frozen."},
    "expect": {"type": ["string", "integer"], "description": "Expected output shape, e.g. 14x14x6 or 10 (convcalc check)."},
    "if": {"description": "Include this layer only when true (inside blocks: ${expression})."},
}


def op_body(entry: OpDef) -> dict[str, Any]:
    """The arguments of one op: every argument under each of its names, an expression anywhere, ``3x5`` where the
    argument takes one value per dimension; a required argument under any of its names."""
    from pydantic import TypeAdapter
    from pydantic.json_schema import GenerateJsonSchema

    from convcalc.specfile.schema import OP_ARGS

    args = TypeAdapter(OP_ARGS[entry.name]).json_schema(schema_generator=GenerateJsonSchema)
    props = {
        name: {"anyOf": [prop, EXPRESSION, *([PER_DIM_TEXT] if '"array"' in repr(prop).replace("'", '"') else [])]}
        for name, prop in args.get("properties", {}).items()
    }
    names = {argument.name: (argument.name, *argument.aliases) for argument in arguments(entry.args)}
    for name, spelled in names.items():
        for other in spelled[1:]:
            props.setdefault(other, props[name])
    body: dict[str, Any] = {"type": "object", "properties": props | COMMON, "additionalProperties": False,
                            "description": entry.summary}  # fmt: skip
    if args.get("required"):
        body["allOf"] = [{"anyOf": [{"required": [name]} for name in names[key]]} for key in args["required"]]
    return body


def layer_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The schema of one layer, and the definitions it refers to (one body per op, shared by its spellings)."""
    variants: list[dict[str, Any]] = []
    bodies: dict[str, Any] = {}
    for entry in CATALOGUE:
        bodies[f"op_{entry.name}"] = body = op_body(entry)
        for spelling in entry.spellings:
            variants.append({"type": "object", "properties": {spelling: {"$ref": f"#/$defs/op_{entry.name}"}},
                             "required": [spelling], "additionalProperties": False})  # fmt: skip
            if "allOf" not in body:
                variants.append({"const": spelling})
    block_use = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"not": {"enum": spellings()}},
        "additionalProperties": {
            "type": "object",
            "properties": COMMON | {"repeat": {"anyOf": [{"type": "integer", "minimum": 1}, EXPRESSION]}},
            "description": "A block from 'blocks:' with its arguments, optionally repeated.",
        },
    }
    return {"anyOf": [*variants, block_use]}, bodies


def json_schema() -> dict[str, Any]:
    """JSON Schema of a whole spec."""
    layer, bodies = layer_schema()
    shape = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer", "minimum": 1}}]}
    layers = {"type": "array", "items": {"$ref": "#/$defs/layer"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "convcalc network spec",
        "type": "object",
        "required": ["input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input": shape | {"description": "Input shape, channels last: 32x32x1, or C@HxW."},
            "blocks": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"args": {"type": "object"}, "layers": layers},
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            },
            "layers": layers | {"minItems": 1},
            "outputs": {
                "description": "The network's outputs: a list of layers (name, name[k], -1) or a mapping of names to layers.",
                "anyOf": [
                    {"type": "array", "minItems": 1, "items": {"type": ["string", "integer"]}},
                    {"type": "object", "minProperties": 1, "additionalProperties": {"type": ["string", "integer"]}},
                ],
            },
            "unused": {
                "type": "object",
                "description": "Modules the forward never runs: path -> their params and buffers (counted in the totals).",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"params": {"type": "integer", "minimum": 0}, "buffers": {"type": "integer", "minimum": 0}},
                    "required": ["params"],
                    "additionalProperties": False,
                },
            },
            "expect": {"type": "object", "description": "Expectations checked by convcalc check."},
        },
        "$defs": {"layer": layer, **bodies},
    }
