"""CLI tests of ``convcalc net``, ``zoo`` and ``schema`` through typer's CliRunner.

stdout and stderr are captured separately (``result.stdout``, ``result.stderr``); see tests/cli/test_layer_command.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import EXAMPLES, cli, cli_ok, usage_error

LENET = str(EXAMPLES / "lenet5.yaml")
RESNET = str(EXAMPLES / "resnet50.yaml")

LAYER_KEYS = {"name", "op", "inputs", "output_shape", "params", "macs", "flops", "receptive_field", "jump", "start"}
TOTAL_KEYS = {"params", "trainable_params", "macs", "flops"}


def net_json(*args: str) -> dict:
    return json.loads(cli_ok("net", *args, "--format", "json").stdout)


def table_rows(text: str) -> dict[str, list[str]]:
    """The net table's rows by layer name: #, name, op, output, params, MACs, RF, jump (read by the header, as a
    wide terminal shows more columns)."""
    lines = text.splitlines()
    header = next(line.split() for line in lines if line.split()[:1] == ["#"])
    wanted = [header.index(column) for column in ("#", "name", "op", "output", "params", "MACs", "RF", "jump")]
    rows = {}
    for line in lines:
        cells = line.split()
        if len(cells) == len(header) and cells[0].isdigit():
            rows[cells[1]] = [cells[i] for i in wanted]
    return rows


def memory(text: str) -> tuple[float, float]:
    """(activations, parameters and buffers) in KiB from the table's memory line."""
    found = re.search(r"activations ([\d,.]+) (KiB|MiB), parameters and buffers ([\d,.]+) (KiB|MiB)", text)
    assert found, text
    scale = {"KiB": 1, "MiB": 1024}
    return (
        float(found[1].replace(",", "")) * scale[found[2]],
        float(found[3].replace(",", "")) * scale[found[4]],
    )


# --------------------------------------------------------------------------- net


def test_net_table_lenet5():
    result = cli_ok("net", LENET)
    text = result.stdout
    assert text.startswith("LeNet-5: 32x32x1 -> 10")
    rows = table_rows(text)
    assert list(rows) == ["C1", "S2", "C3", "S4", "C5", "flatten_5", "F6", "output"]
    assert rows["C1"][2:] == ["conv", "28x28x6", f"{5 * 5 * 1 * 6 + 6:,}", f"{28 * 28 * 6 * 25:,}", "5x5", "1x1"]
    assert rows["C3"][4] == f"{5 * 5 * 6 * 16 + 16:,}" and rows["C3"][6] == "14x14"
    assert rows["C5"][3:] == ["1x1x120", "48,120", "48,000", "32x32", "4x4"]
    assert rows["F6"][2:] == ["linear", "84", "10,164", "10,080", "whole", "-"]
    assert "Params: 61,706" in text
    assert f"MACs: {416_520:,}" in text and f"FLOPs: {845_862:,}" in text
    assert "Memory (float32)" in text


def test_net_json_has_the_documented_keys():
    data = net_json(LENET)
    assert {"name", "input_shape", "output_shape", "layers", "total"} <= data.keys()
    assert data["name"] == "LeNet-5" and data["input_shape"] == [32, 32, 1] and data["output_shape"] == [10]
    for layer in data["layers"]:
        assert LAYER_KEYS <= layer.keys(), layer
    assert TOTAL_KEYS <= data["total"].keys()
    c1 = data["layers"][0]
    assert c1 == c1 | {
        "name": "C1", "op": "conv", "inputs": ["input"], "output_shape": [28, 28, 6], "params": 156,
        "macs": 28 * 28 * 6 * 25, "flops": 2 * 28 * 28 * 6 * 25 + 28 * 28 * 6,
        "receptive_field": [5, 5], "jump": [1, 1], "start": [0, 0],
    }  # fmt: skip
    c5 = next(layer for layer in data["layers"] if layer["name"] == "C5")
    assert c5["receptive_field"] == [32, 32] and c5["jump"] == [4, 4] and c5["inputs"] == ["S4"]
    f6 = next(layer for layer in data["layers"] if layer["name"] == "F6")
    assert f6["receptive_field"] == "whole" and f6["jump"] is None and f6["start"] is None  # the whole input
    assert data["total"]["params"] == data["total"]["trainable_params"] == 61_706
    assert data["total"]["macs"] == 416_520 and data["total"]["flops"] == 845_862
    for key in ("params", "macs", "flops"):
        assert sum(layer[key] for layer in data["layers"]) == data["total"][key]


def test_net_json_fractional_jump_is_a_string(tmp_path):
    path = tmp_path / "up.yaml"
    path.write_text("input: 8x8x1\nlayers:\n  - upsample: {scale: 2}\n")
    data = net_json(str(path))
    assert data["layers"][0]["jump"] == ["1/2", "1/2"]


def test_net_markdown():
    text = cli_ok("net", LENET, "--format", "markdown").stdout
    lines = text.splitlines()
    assert lines[0] == "**LeNet-5**: 32x32x1 -> 10"
    assert "| # | name | op | output | params | MACs | RF | jump |" in lines
    assert "| 0 | C1 | conv | 28x28x6 | 156 | 117,600 | 5x5 | 1x1 |" in lines
    assert "| 4 | C5 | conv | 1x1x120 | 48,120 | 48,000 | 32x32 | 4x4 |" in lines
    assert sum(1 for line in lines if line.startswith("| ") and line[2].isdigit()) == 8
    assert any(line.startswith("Params: 61,706") for line in lines)


def test_net_csv():
    text = cli_ok("net", LENET, "--format", "csv").stdout
    records = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in records] == ["C1", "S2", "C3", "S4", "C5", "flatten_5", "F6", "output"]
    assert {"index", "name", "op", "output_shape", "params", "macs", "flops", "receptive_field", "jump"} <= records[
        0
    ].keys()
    assert records[0]["params"] == str(5 * 5 * 1 * 6 + 6) and records[0]["output_shape"] == "28x28x6"
    assert sum(int(r["params"]) for r in records) == 61_706
    assert sum(int(r["macs"]) for r in records) == 416_520
    assert records[4]["receptive_field"] == "32x32" and records[6]["receptive_field"] == "whole"


def test_net_unknown_format():
    assert "'--format'" in usage_error("net", LENET, "--format", "xml")


def ok_skipping(*args: str):
    """ok, but for the one-line summary of ResNet's stride-2 1x1 downsamples on stderr."""
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == "convcalc: warning: 3 layers skip input pixels; see --warnings\n", result.stderr
    return result


def test_depth_0_folds_resnet50_blocks():
    text = ok_skipping("net", RESNET, "--depth", "0").stdout
    rows = table_rows(text)
    assert list(rows)[:5] == ["conv1", "bn1", "relu_2", "maxpool", "layer1.0"]
    assert rows["layer1.0"][2] == "block" and rows["layer1.0"][3] == "56x56x256"
    # layer1.0: 1x1 64->64, 3x3 64->64, 1x1 64->256, downsample 1x1 64->256 (no biases), bn 2C each
    assert rows["layer1.0"][4] == f"{64 * 64 + 9 * 64 * 64 + 64 * 256 + 64 * 256 + 2 * (64 + 64 + 256 + 256):,}"
    assert [name for name in rows if name.startswith("layer")] == [
        f"layer{stage}.{i}" for stage, n in ((1, 3), (2, 4), (3, 6), (4, 3)) for i in range(n)
    ]
    assert "layer1.0.conv1" not in rows
    assert rows["layer4.2"][6] == "427x427" and rows["fc"][2] == "linear"
    assert "Params: 25,557,032" in text


def test_depth_1_opens_the_blocks():
    rows = table_rows(ok_skipping("net", RESNET, "--depth", "1").stdout)
    assert "layer3.2.conv1" in rows and "layer3.2" not in rows


@pytest.mark.parametrize("depth", ["-1", "x", "1x2"])
def test_bad_depth(depth):
    result = cli("net", RESNET, "--depth", depth)
    assert result.exit_code == 2 and "--depth" in result.stderr and "Traceback" not in result.output


def test_batch():
    one, four = net_json(LENET), net_json(LENET, "--batch", "4")
    assert four["total"]["macs"] == 4 * one["total"]["macs"] == 4 * 416_520
    assert four["total"]["flops"] == 4 * one["total"]["flops"]
    assert four["total"]["params"] == one["total"]["params"]
    assert four["batch"] == 4
    text = cli_ok("net", LENET, "--batch", "4").stdout
    assert f"MACs: {4 * 416_520:,}" in text and "batch 4" in text


@pytest.mark.parametrize("batch", ["0", "-2", "two", "2x2"])
def test_bad_batch(batch):
    result = cli("net", LENET, "--batch", batch)
    assert (
        result.exit_code == 2
        and result.stderr.startswith("convcalc: error: --batch")
        and "Traceback" not in result.output
    )


def test_input_override():
    data = net_json(RESNET, "--input", "64x64x3")
    assert data["input_shape"] == [64, 64, 3]
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["conv1"]["output_shape"] == [32, 32, 64]
    assert by_name["maxpool"]["output_shape"] == [16, 16, 64]
    assert by_name["layer4.2.relu_9"]["output_shape"] == [2, 2, 2048]
    assert data["total"]["params"] == 25_557_032  # adaptive pooling: the same weights
    assert by_name["conv1"]["macs"] == 32 * 32 * 64 * 7 * 7 * 3


def test_input_override_that_does_not_fit():
    result = cli("net", LENET, "--input", "8x8x1")
    assert result.exit_code == 2, result.output
    assert re.match(r"convcalc: error: .*lenet5\.yaml:\d+: layer 'C3': ", result.stderr), result.stderr
    assert "Traceback" not in result.output
    bad = cli("net", LENET, "--input", "axb")
    assert bad.exit_code == 2 and "--input" in bad.stderr


def test_dtype_float16_halves_the_memory():
    full, half = net_json(LENET), net_json(LENET, "--dtype", "float16")
    assert half["total"]["activation_bytes"] * 2 == full["total"]["activation_bytes"]
    assert half["total"]["param_bytes"] * 2 == full["total"]["param_bytes"] == 2 * 2 * 61_706
    assert half["dtype"] == "float16"
    table_full = cli_ok("net", LENET).stdout
    table_half = cli_ok("net", LENET, "--dtype", "float16").stdout
    assert "Memory (float16)" in table_half
    (act_full, par_full), (act_half, par_half) = memory(table_full), memory(table_half)
    assert act_half == pytest.approx(act_full / 2, abs=0.1) and par_half == pytest.approx(par_full / 2, abs=0.1)


def test_bad_dtype():
    assert usage_error("net", LENET, "--dtype", "float128").startswith("convcalc: error: Invalid value for '--dtype'")


def test_explain_shows_the_backward_recursion():
    text = cli_ok("net", LENET, "--explain", "C5").stdout
    lines = text.strip().splitlines()
    assert lines[0].startswith("Backward from 'C5'")
    assert [line.split()[0] for line in lines[2:-1]] == ["C5", "S4", "C3", "S2", "C1"]
    assert "2*5 + (2 - 2) = 10" in text and "1*28 + (5 - 1) = 32" in text
    assert lines[-1] == "Receptive field at the input: 32x32 (start 0x0)"


def test_explain_through_a_residual_block():
    text = cli_ok("net", RESNET, "--explain", "layer1.0.relu_11").stdout
    # 7x7/2 p3, 3x3/2 p1 max pool, then the block's 3x3 p1: r = 7 + 2*2 + 2*4 = 19, u = -3 - 1*2 - 1*4 = -9
    assert text.strip().splitlines()[-1] == "Receptive field at the input: 19x19 (start -9x-9)"
    whole = cli_ok("net", LENET, "--explain", "F6").stdout
    assert whole.strip().splitlines()[-1] == "Receptive field: the whole input (32x32)"


def test_explain_unknown_layer():
    result = cli("net", LENET, "--explain", "C9")
    assert result.exit_code == 2 and "--explain: no layer named 'C9'" in result.stderr


@pytest.mark.parametrize("name", ["lenet5", "lenet5.yaml"])
def test_bundled_names_resolve_from_any_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli_ok("net", name)
    assert "Params: 61,706" in result.stdout and "C1" in result.stdout


def test_local_file_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("lenet5.yaml").write_text("name: Mine\ninput: 8x8x1\nlayers:\n  - conv: {k: 3, name: only}\n")
    text = cli_ok("net", "lenet5.yaml").stdout
    assert text.startswith("Mine: 8x8x1 -> 6x6x1")


def test_zoo_lists_the_examples():
    text = cli_ok("zoo").stdout
    lines = {line.split()[0]: line for line in text.strip().splitlines()}
    assert {"lenet5", "resnet50"} <= lines.keys()
    assert "61,706" in lines["lenet5"] and "25,557,032" in lines["resnet50"]
    assert "32x32x1" in lines["lenet5"] and "224x224x3" in lines["resnet50"]


def test_schema_is_json_with_a_layer_definition():
    schema = json.loads(cli_ok("schema").stdout)
    assert "layer" in schema["$defs"]
    assert schema["required"] == ["input", "layers"]
    assert schema["properties"]["layers"]["items"] == {"$ref": "#/$defs/layer"}


def test_schema_validates_the_examples():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cli_ok("schema").stdout)
    for path in (LENET, RESNET):
        jsonschema.validate(yaml.safe_load(Path(path).read_text()), schema)
    refused = [
        {"input": "8x8x1"},
        {"input": "8x8x1", "layers": []},
        {"input": "8x8x1", "layers": ["relu"], "bogus": 1},
        {"input": "8x8x1", "layers": [{"conv": {"k": 3}, "relu": {}}]},
        {"input": "8x8x1", "layers": ["conv"]},  # conv needs k: no bare form
    ]
    for data in refused:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, schema)


# --------------------------------------------------------------------------- errors


def test_bad_spec_file_is_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("input: 8x8x1\nlayers:\n  - conv: {k: 3, name: C1}\n  - conv:\n      k: abc\n      name: C2\n")
    result = cli("net", str(path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"convcalc: error: {path}:5: layer 'C2': k: should be a whole number"), lines[0]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("input: 8x8x1\nlayers:\n  - conv: k: 3\n", ":3: "),
        ("input: 8x8x1\nlayers:\n  - conv: {k: 9, name: big}\n", ":3: layer 'big': "),
        ("input: 8x8x1\nlayers:\n  - relu: {from: nowhere, name: r}\n", ":3: layer 'r': "),
        ("input: 8x8x1\nlayers:\n  - !!python/object:os.system {}\n", ":3: "),
        ("- a\n", ":1: "),
    ],
)
def test_bad_specs_exit_2_with_file_and_line(tmp_path, text, where):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    for fmt in ("table", "json", "csv"):
        result = cli("net", str(path), "--format", fmt)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and result.stdout == ""
        assert result.stderr.startswith(f"convcalc: error: {path}{where}"), result.stderr


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("net", "no-such-net.yaml")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.startswith("convcalc: error: no-such-net.yaml: no such file"), result.stderr


def test_empty_spec_file(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    result = cli("net", str(path))
    assert result.exit_code == 2 and result.stderr == f"convcalc: error: {path}: the file is empty\n"
