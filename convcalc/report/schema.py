"""JSON Schemas of convcalc's own output: `layer --format json` and `net --format json`.

Published by ``convcalc schema --output layer|net``; the tests validate every bundled example and the layer
variants against them. Both outputs say the same thing the same way: shapes are lists (channels last, batch
excluded), exact fractions are strings ``"p/q"``, and a receptive field that covers the whole input is the string
``"whole"`` with ``jump`` and ``start`` null.
"""

from __future__ import annotations

from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
LAYER_OPS = ("conv", "deconv", "maxpool", "avgpool", "linear")


def definitions() -> dict[str, Any]:
    """The pieces both outputs share."""
    count = {"type": "integer", "minimum": 0}
    exact = {
        "description": 'An exact number: an integer, or a fraction written "p/q".',
        "oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^-?[0-9]+/[0-9]+$"}],
    }
    per_dim = {"type": "array", "items": {"$ref": "#/$defs/exact"}}
    return {
        "count": count,
        "exact": exact,
        "shape": {
            "description": "Channels last, batch excluded.",
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "minItems": 1,
        },
        "field": {
            "description": "Receptive field, jump and start per spatial dimension, in input positions; or the "
            "whole input (an output unit sees every input position), with jump and start null; or unknown, with the "
            "reason in field_note.",
            "oneOf": [
                {
                    "properties": {"receptive_field": per_dim, "jump": per_dim, "start": per_dim},
                    "required": ["receptive_field", "jump", "start"],
                },
                {
                    "properties": {
                        "receptive_field": {"const": "whole"},
                        "jump": {"type": "null"},
                        "start": {"type": "null"},
                    },
                    "required": ["receptive_field", "jump", "start"],
                },
                {
                    "description": "Not tracked exactly past some layer: field_note says why (never a wrong number).",
                    "properties": {
                        "receptive_field": {"const": "unknown"},
                        "jump": {"type": "null"},
                        "start": {"type": "null"},
                        "field_note": {"type": "string"},
                    },
                    "required": ["receptive_field", "jump", "start", "field_note"],
                },
            ],
        },
    }


def window_properties() -> dict[str, Any]:
    """The resolved arguments of a conv, deconv or pooling, present only for those ops (as `layer` writes them)."""
    count = {"type": "integer", "minimum": 0}
    positive = {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}
    return {
        "kernel": positive,
        "stride": positive,
        "dilation": positive,
        "padding": {
            "description": "[before, after] per spatial dimension.",
            "type": "array",
            "items": {"type": "array", "items": count, "minItems": 2, "maxItems": 2},
        },
        "groups": {"type": "integer", "minimum": 1},
        "output_padding": {"type": "array", "items": count},
    }


def with_windows(properties: dict[str, Any]) -> dict[str, Any]:
    return {**properties, **window_properties()}


def layer_schema() -> dict[str, Any]:
    """`convcalc layer --format json`."""
    properties = with_windows({
        "op": {"enum": list(LAYER_OPS)},
        "input_shape": {"$ref": "#/$defs/shape"},
        "output_shape": {"$ref": "#/$defs/shape"},
        "params": {"$ref": "#/$defs/count"},
        "macs": {"$ref": "#/$defs/count"},
        "flops": {"$ref": "#/$defs/count"},
        "receptive_field": True,
        "jump": True,
        "start": True,
        "batch": {"type": "integer", "minimum": 1},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "convention": {"type": "string"},
        "explain": {"description": "With --explain: the steps.", "type": "array"},
    })  # fmt: skip
    return {
        "$schema": DIALECT,
        "$id": "https://convcalc.invalid/schema/layer-output.json",
        "title": "convcalc layer --format json",
        "type": "object",
        "properties": properties,
        "required": [
            "op",
            "input_shape",
            "output_shape",
            "params",
            "macs",
            "flops",
            "receptive_field",
            "jump",
            "start",
            "batch",
            "warnings",
            "convention",
        ],  # fmt: skip
        "additionalProperties": False,
        "allOf": [{"$ref": "#/$defs/field"}],
        "$defs": definitions(),
    }


ROW_KEYS = {  # net --format json: one row per layer (the field and the resolved windows come from the shared defs)
    "name": {"type": "string"},
    "op": {"type": "string", "description": 'The spec\'s op, or "block" for a block folded by --depth.'},
    "inputs": {"type": "array", "items": {"type": "string"}, "description": "Empty for a param (no input)."},
    "input_shape": {"$ref": "#/$defs/shape", "description": "The (first) input's shape; absent for a param."},
    "input_shapes": {
        "type": "array",
        "items": {"$ref": "#/$defs/shape"},
        "minItems": 2,
        "description": "Every input's shape, when there are several (add, concat, ...).",
    },
    "output_shape": {"$ref": "#/$defs/shape", "description": "The (first) output's shape."},
    "output_shapes": {
        "type": "array",
        "items": {"$ref": "#/$defs/shape"},
        "minItems": 2,
        "description": "Every output's shape, when there are several (split, chunk); the row's field is the first's.",
    },
    "output_fields": {
        "type": "array",
        "items": {"type": "object", "$ref": "#/$defs/field"},
        "minItems": 2,
        "description": "Every output's receptive field, with output_shapes (a split along a grid axis shifts the start).",
    },
    "params": {"$ref": "#/$defs/count"},
    "buffers": {"$ref": "#/$defs/count"},
    "macs": {"$ref": "#/$defs/count"},
    "flops": {"$ref": "#/$defs/count"},
    "receptive_field": True,
    "jump": True,
    "start": True,
    "trainable": {"type": "boolean"},
    "warnings": {"type": "array", "items": {"type": "string"}},
    "line": {"type": "integer", "minimum": 0},
    "field_note": {"type": "string", "description": "Why the receptive field is unknown (with \"unknown\")."},
}
OPTIONAL_ROW_KEYS = {"input_shape", "input_shapes", "field_note", "output_shapes", "output_fields"}
TOTAL_KEYS = ("params", "trainable_params", "non_trainable_params", "buffers", "unused_params", "unused_buffers", "macs",
              "flops", "activation_bytes", "param_bytes")  # fmt: skip


def row_schema() -> dict[str, Any]:
    """One row of `net --format json`."""
    return {
        "type": "object",
        "properties": with_windows(dict(ROW_KEYS)),
        "required": [key for key in ROW_KEYS if key not in OPTIONAL_ROW_KEYS],
        "additionalProperties": False,
        "allOf": [{"$ref": "#/$defs/field"}],
    }


def net_schema() -> dict[str, Any]:
    """`convcalc net --format json` (with --depth, folded blocks are rows with op "block")."""
    return {
        "$schema": DIALECT,
        "$id": "https://convcalc.invalid/schema/net-output.json",
        "title": "convcalc net --format json",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "input_shape": {"$ref": "#/$defs/shape"},
            "output_shape": {"$ref": "#/$defs/shape"},
            "batch": {"type": "integer", "minimum": 1},
            "dtype": {"type": "string"},
            "convention": {"type": "string"},
            "depth": {"type": ["integer", "null"], "minimum": 0, "description": "--depth, or null: every layer a row."},
            "layers": {"type": "array", "items": {"$ref": "#/$defs/row"}},
            "outputs": {
                "type": "array",
                "description": "The network's outputs (outputs: in the spec; else the last layer's), each with its field.",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "layer": {"type": "string"},
                                   "shape": {"$ref": "#/$defs/shape"}, "receptive_field": True, "jump": True, "start": True},
                    "required": ["name", "layer", "shape", "receptive_field", "jump", "start"],
                    "additionalProperties": False,
                    "allOf": [{"$ref": "#/$defs/field"}],
                },
            },
            "unused": {
                "type": "array",
                "description": "Modules the forward never runs (unused: in the spec); the totals include their counts.",
                "items": {
                    "type": "object",
                    "properties": {"module": {"type": "string"}, "params": {"$ref": "#/$defs/count"},
                                   "buffers": {"$ref": "#/$defs/count"}},
                    "required": ["module", "params", "buffers"],
                    "additionalProperties": False,
                },
            },
            "total": {
                "type": "object",
                "properties": {key: {"$ref": "#/$defs/count"} for key in TOTAL_KEYS},
                "required": list(TOTAL_KEYS),
                "additionalProperties": False,
            },
        },
        "required": ["name", "input_shape", "output_shape", "batch", "dtype", "convention", "depth", "layers", "outputs",
                     "unused", "total"],
        "additionalProperties": False,
        "$defs": {**definitions(), "row": row_schema()},
    }


SCHEMAS = {"layer": layer_schema, "net": net_schema}
