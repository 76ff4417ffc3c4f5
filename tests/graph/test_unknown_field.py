"""A receptive field that cannot be tracked exactly is reported as unknown, with the reason, never as a number:
the op says so (``OpResult.field="unknown"``); the field stays unknown downstream until an op that sees the whole
input; tables show "?", JSON "unknown" with ``field_note``, ``--explain`` stops there and says why."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from convcalc.graph.analysis import analyze
from convcalc.graph.backward import backward_recursion
from convcalc.ops import handlers
from convcalc.report.backward import backward_dict, backward_lines
from convcalc.report.cells import field_text
from convcalc.report.json_output import net_json
from convcalc.specfile.loader import load_text

SPEC = """
input: 8x8x3
layers:
  - conv: {out: 4, k: 3, name: a}
  - identity: {name: regroup}
  - conv: {out: 4, k: 3, name: b}
  - add: {from: [b, b2]}
  - conv: {out: 4, k: 3, from: a, name: b2_pre}
  - identity: {name: b2}
  - global_avgpool: {from: add_3, name: pool}
"""


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch):
    identity = handlers.OPS["identity"]

    def patched(args, shapes):  # identity, claiming a field it cannot track
        return replace(identity(args, shapes), field="unknown", field_note="positions are regrouped")

    monkeypatch.setitem(handlers.OPS, "identity", patched)
    return analyze(load_text(SPEC.replace("  - identity: {name: b2}\n", "  - relu: {name: b2}\n")))


def test_unknown_propagates_until_the_whole_input(report):
    rows = {row.name: row for row in report.rows}
    assert rows["a"].field.receptive_field == (3, 3) and not rows["a"].field.unknown
    assert rows["regroup"].field.unknown == "positions are regrouped"
    assert rows["b"].field.unknown == "positions are regrouped"  # a window on top of an unknown field
    assert rows["b2"].field.unknown == "" and rows["b2"].field.receptive_field == (5, 5)
    assert rows["add_3"].field.unknown  # a union with an unknown part is unknown
    assert rows["pool"].field.whole and not rows["pool"].field.unknown  # global pooling sees everything anyway


def test_outputs_say_unknown_and_why(report):
    rows = {row.name: row for row in report.rows}
    assert field_text(rows["b"]) == ("?", "?")
    layers = {layer["name"]: layer for layer in json.loads(net_json(report, None))["layers"]}
    assert layers["b"]["receptive_field"] == "unknown" and layers["b"]["jump"] is None
    assert layers["b"]["field_note"] == "positions are regrouped"
    assert "field_note" not in layers["a"]


def test_explain_stops_at_the_unknown_step(report):
    target = next(row.index for row in report.rows if row.name == "b")
    recursion = backward_recursion(report, target)
    lines = backward_lines(recursion)
    assert lines[-2] == "  regroup (identity): the field cannot be carried back exactly: positions are regrouped"
    assert lines[-1] == "Receptive field: unknown (positions are regrouped)"
    data = backward_dict(recursion)
    assert data["receptive_field"] == "unknown" and data["start"] is None
    assert data["field_note"] == "positions are regrouped"
