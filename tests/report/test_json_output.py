"""The JSON of `layer` and `net` (convcalc.report.json_output) says the same thing in both: the same keys for what
both know, "whole" for a field that sees every input position, and --depth honoured as in the other formats."""

from __future__ import annotations

import json

from helpers import cli_term, spec_file

from convcalc import conv, linear
from convcalc.report.json_output import layer_dict


def test_a_fully_connected_layer_sees_the_whole_input_in_layer_and_net(tmp_path):
    whole = {"receptive_field": "whole", "jump": None, "start": None}
    layer = json.loads(cli_term("layer", "--in", "784", "--op", "linear", "--out", "10", "--format", "json").stdout)
    assert {key: layer[key] for key in whole} == whole
    net = json.loads(cli_term("net", spec_file(tmp_path, "input: [784]\nlayers:\n  - linear: {out: 10}\n"), "--format", "json").stdout)
    assert {key: net["layers"][0][key] for key in whole} == whole
    lenet = json.loads(cli_term("net", "lenet5", "--format", "json").stdout)
    f6 = next(row for row in lenet["layers"] if row["name"] == "F6")
    assert {key: f6[key] for key in whole} == whole


def test_a_linear_layer_on_positions_has_a_one_position_field_in_both(tmp_path):
    layer = json.loads(cli_term("layer", "--in", "10x784", "--op", "linear", "--out", "5", "--format", "json").stdout)
    net = json.loads(cli_term("net", spec_file(tmp_path, "input: 10x784\nlayers:\n  - linear: {out: 5}\n"), "--format", "json").stdout)
    for data in (layer, net["layers"][0]):
        assert (data["receptive_field"], data["jump"], data["start"]) == ([1], [1], [0])


def test_net_rows_carry_the_input_shape_and_resolved_arguments_like_layer(tmp_path):
    layer = json.loads(cli_term("layer", "--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2", "--out", "5", "--format", "json").stdout)
    path = spec_file(tmp_path, "input: 640x640x3\nlayers:\n  - conv: {out: 5, k: [3, 5], s: [1, 2], p: 2, name: c}\n")
    row = json.loads(cli_term("net", path, "--format", "json").stdout)["layers"][0]
    expected = {
        "input_shape": [640, 640, 3], "output_shape": [642, 320, 5], "kernel": [3, 5], "stride": [1, 2],
        "dilation": [1, 1], "padding": [[2, 2], [2, 2]], "groups": 1, "receptive_field": [3, 5], "jump": [1, 2],
        "start": [-2, -2],
    }  # fmt: skip
    assert {key: layer[key] for key in expected} == expected
    assert {key: row[key] for key in expected} == expected


def test_a_merge_lists_every_input_shape(tmp_path):
    path = spec_file(tmp_path, "input: 8x8x2\nlayers:\n  - conv: {out: 3, k: 1, name: a}\n  - concat: {from: [input, a], name: c}\n")
    row = json.loads(cli_term("net", path, "--format", "json").stdout)["layers"][1]
    assert row["input_shape"] == [8, 8, 2] and row["input_shapes"] == [[8, 8, 2], [8, 8, 3]]


def test_json_honours_depth_as_the_table_does():
    table = cli_term("net", "resnet50", "--depth", "0", columns=None).stdout
    names = [line.split()[1] for line in table.splitlines()[2:] if line.split()[:1] and line.split()[0].isdigit()]
    data = json.loads(cli_term("net", "resnet50", "--depth", "0", "--format", "json").stdout)
    assert data["depth"] == 0
    assert [row["name"] for row in data["layers"]] == names
    assert names[:5] == ["conv1", "bn1", "relu_2", "maxpool", "layer1.0"] and len(names) == 16 + 4 + 3
    block = data["layers"][4]
    assert block["op"] == "block" and block["output_shape"] == [56, 56, 256] and "kernel" not in block
    assert block["params"] == 64 * 64 + 9 * 64 * 64 + 64 * 256 + 64 * 256 + 2 * (64 + 64 + 256 + 256)
    assert sum(row["params"] for row in data["layers"]) == data["total"]["params"] == 25_557_032
    downsampled = next(row for row in data["layers"] if row["name"] == "layer2.0")
    assert all(w.startswith("layer2.0.downsample.0: ") for w in downsampled["warnings"]) and downsampled["warnings"]
    assert json.loads(cli_term("net", "lenet5", "--format", "json").stdout)["depth"] is None


def test_layer_dict_contract():
    data = layer_dict(conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2))
    assert data == {
        "op": "conv",
        "input_shape": [640, 640, 3],
        "output_shape": [642, 320, 5],
        "params": 3 * 5 * 3 * 5 + 5,
        "macs": 642 * 320 * 5 * 3 * 3 * 5,
        "flops": 2 * 642 * 320 * 5 * 3 * 3 * 5 + 642 * 320 * 5,
        "receptive_field": [3, 5],
        "jump": [1, 2],
        "start": [-2, -2],
        "batch": 1,
        "warnings": [],
        "kernel": [3, 5],
        "stride": [1, 2],
        "dilation": [1, 1],
        "padding": [[2, 2], [2, 2]],
        "groups": 1,
    }


def test_a_linear_layer_on_flat_input_sees_the_whole_input():
    assert {k: v for k, v in layer_dict(linear(784, out=10)).items() if k in ("receptive_field", "jump", "start")} == {
        "receptive_field": "whole", "jump": None, "start": None,
    }  # fmt: skip
    assert "kernel" not in layer_dict(linear(784, out=10))
