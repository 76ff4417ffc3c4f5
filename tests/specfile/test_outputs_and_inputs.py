"""Several outputs (``outputs:``), modules the forward never runs (``unused:``) and blocks of several inputs
(``from: [a, b]`` on an instance, ``input[k]`` inside): expected numbers worked by hand."""

from __future__ import annotations

import json

import pytest
from helpers import cli, cli_ok

from convcalc.errors import SpecError
from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import load_text

# 8x8x4 input; conv 3x3 p1 to 4 (4*9*4 + 4 = 148 params), conv 3x3 p1 to 6 (4*9*6 + 6 = 222 params)
STEM = """input: 8x8x4
layers:
  - conv: {out: 4, k: 3, p: 1, name: x}
  - conv: {out: 6, k: 3, p: 1, name: y}
  - split: {sizes: [2, 4], name: s}
"""


def report(text: str):
    return analyze(load_text(text, "net.yaml"))


def test_a_list_of_outputs_names_each_by_its_reference() -> None:
    r = report(STEM + "outputs: [x, 's[1]']\n")
    assert [(o.name, o.layer, o.shape) for o in r.outputs] == [("x", "x", (8, 8, 4)), ("s[1]", "s[1]", (8, 8, 4))]
    assert r.output_shape == (8, 8, 4)  # the first output's
    assert r.outputs[0].field.receptive_field == (3, 3)  # one 3x3 conv
    assert r.outputs[1].field.receptive_field == (5, 5)  # two 3x3 convs


def test_a_mapping_names_the_outputs_and_an_unindexed_split_gives_all_its_pieces() -> None:
    r = report(STEM + "outputs: {feature: y, pieces: s}\n")
    assert [(o.name, o.layer, o.shape) for o in r.outputs] == [
        ("feature", "y", (8, 8, 6)), ("pieces[0]", "s[0]", (8, 8, 2)), ("pieces[1]", "s[1]", (8, 8, 4)),
    ]  # fmt: skip


def test_outputs_in_every_format() -> None:
    path_text = STEM + "outputs: {feature: y, small: 's[0]'}\n"
    r = report(path_text)
    from convcalc.report.json_output import report_dict
    from convcalc.report.net_table import net_table

    data = report_dict(r)
    assert [(o["name"], o["layer"], o["shape"]) for o in data["outputs"]] == [("feature", "y", [8, 8, 6]), ("small", "s[0]", [8, 8, 2])]
    lines = net_table(r, None)
    assert lines[0] == "net: 8x8x4 -> 2 outputs"
    assert "Outputs: feature 8x8x6 (y), small 8x8x2 (s[0])" in lines


def test_without_outputs_the_json_names_the_last_layer() -> None:
    from convcalc.report.json_output import report_dict

    data = report_dict(report("input: 8x8x4\nlayers:\n  - conv: {out: 6, k: 3, name: c}\n"))
    assert data["outputs"] == [{"name": "c", "layer": "c", "shape": [6, 6, 6], "receptive_field": [3, 3], "jump": [1, 1], "start": [0, 0]}]
    assert data["unused"] == [] and data["total"]["unused_params"] == 0


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ("[zz]", "net.yaml:6: outputs: no layer named 'zz'"),
        ("['s[2]']", "net.yaml:6: outputs: s[2]: layer 's' has 2 outputs"),
        ("{a: 'y[1]'}", "net.yaml:6: outputs: y[1]: layer 'y' has 1 output"),
        ("[]", "outputs"),
    ],
)
def test_a_bad_output_is_one_error_naming_the_line(outputs: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        report(STEM + f"outputs: {outputs}\n")
    assert message in str(caught.value)


def test_unused_modules_count_in_the_totals_and_are_listed(tmp_path) -> None:
    text = "input: 8x8x4\nlayers:\n  - conv: {out: 6, k: 3, name: c}\nunused:\n  aux1: {params: 1000, buffers: 10}\n  aux2: {params: 24}\n"
    r = report(text)
    conv = 4 * 9 * 6 + 6  # 222
    assert r.params == conv + 1000 + 24 and r.trainable_params == conv + 1024
    assert r.buffers == 10 and r.totals()["unused_params"] == 1024 and r.totals()["unused_buffers"] == 10
    path = tmp_path / "u.yaml"
    path.write_text(text)
    out = cli_ok("net", str(path)).stdout
    assert "Params: 1,246" in out
    assert "Unused by forward, in Params: 1,024: aux1 (1,000, buffers 10), aux2 (24)" in out
    data = json.loads(cli_ok("net", str(path), "--format", "json").stdout)
    assert data["unused"] == [{"module": "aux1", "params": 1000, "buffers": 10}, {"module": "aux2", "params": 24, "buffers": 0}]
    assert data["total"]["params"] == 1246


def test_unused_refuses_what_is_not_a_count(tmp_path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text("input: 8x8x4\nlayers:\n  - relu\nunused:\n  aux1: {params: -1}\n")
    result = cli("net", str(path))
    assert result.exit_code == 2 and "unused" in result.stderr and len(result.stderr.splitlines()) == 1


HEAD = """input: 8x8x4
blocks:
  head:
    args: {c: 4}
    layers:
      - conv: {out: $c, k: 1, from: "input[0]", name: a}
      - conv: {out: $c, k: 1, from: "input[-1]", name: b}
      - concat: {from: [a, b, input], name: cat}
layers:
  - conv: {out: 4, k: 3, p: 1, name: x}
  - conv: {out: 6, k: 3, p: 1, name: y}
"""


def test_a_block_of_several_inputs_picks_each_with_input_k() -> None:
    r = report(HEAD + "  - head: {c: 2, from: [x, y], name: h}\n")
    rows = {row.name: row for row in r.rows}
    assert rows["h.a"].input_shapes == ((8, 8, 4),) and rows["h.a"].params == 4 * 2 + 2
    assert rows["h.b"].input_shapes == ((8, 8, 6),) and rows["h.b"].params == 6 * 2 + 2
    # concat of a (2), b (2) and both inputs (4 + 6): the whole input spreads into the merge
    assert rows["h.cat"].input_shapes == ((8, 8, 2), (8, 8, 2), (8, 8, 4), (8, 8, 6))
    assert rows["h.cat"].output_shape == (8, 8, 14)


def test_a_merge_first_in_a_block_takes_all_its_inputs() -> None:
    text = "input: 8x8x4\nblocks:\n  join:\n    layers:\n      - add\nlayers:\n  - conv: {out: 4, k: 1, name: x}\n  - join: {from: [input, x], name: j}\n"
    row = report(text).rows[-1]
    assert row.name == "j.add_0" and row.input_shapes == ((8, 8, 4), (8, 8, 4))


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("      - conv: {out: 2, k: 1, from: input, name: a}", "block 'h' has 2 inputs; pick one: input[0] to input[1]"),
        ("      - conv: {out: 2, k: 1, name: a}", "block 'h' has 2 inputs; pick one: input[0] to input[1]"),
        ("      - conv: {out: 2, k: 1, from: 'input[2]', name: a}", "from: input[2]: the block has 2 inputs (input[0] to input[1])"),
    ],
)
def test_a_one_input_op_must_pick_one_of_several_inputs(layer: str, message: str) -> None:
    text = f"input: 8x8x4\nblocks:\n  b:\n    layers:\n{layer}\nlayers:\n  - conv: {{out: 4, k: 1, name: x}}\n  - b: {{from: [input, x], name: h}}\n"
    with pytest.raises(SpecError) as caught:
        report(text)
    assert message in str(caught.value)


def test_a_repeated_block_of_several_inputs_chains_its_copies() -> None:
    """Copy 0 takes the given inputs; copy 1 takes copy 0's output as its one input (``input[0]``)."""
    text = "input: 8x8x4\nblocks:\n  b:\n    layers:\n      - conv: {out: 3, k: 1, from: 'input[0]', name: a}\n"
    r = report(text + "layers:\n  - conv: {out: 5, k: 1, name: x}\n  - b: {from: [x, input], name: h, repeat: 2}\n")
    rows = {row.name: row for row in r.rows}
    assert rows["h.0.a"].input_shapes == ((8, 8, 5),) and rows["h.1.a"].input_shapes == ((8, 8, 3),)
