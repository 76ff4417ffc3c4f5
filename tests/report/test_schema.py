"""`convcalc schema --output layer|net`: the JSON Schemas of convcalc's own output, and every output checked
against them (all bundled examples, folded with --depth, every layer kind)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.zoo import names

jsonschema = pytest.importorskip("jsonschema")
runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def run_json(*args: str) -> dict:
    result = runner.invoke(app, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    found = {output: run_json("schema", "--output", output) for output in ("layer", "net")}
    for schema in found.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    return found


def test_plain_schema_is_still_the_spec_format():
    spec_schema = run_json("schema")
    assert spec_schema["required"] == ["input", "layers"] and "layer" in spec_schema["$defs"]


def test_unknown_output_is_an_error():
    result = runner.invoke(app, ["schema", "--output", "table"], env=ENV)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == "convcalc: error: --output: unknown output 'table'; choose net or layer"


@pytest.mark.parametrize("example", names())
@pytest.mark.parametrize("extra", [(), ("--depth", "0"), ("--depth", "1"), ("--batch", "2", "--convention", "thop")])
def test_every_bundled_example_matches_the_net_schema(schemas, example, extra):
    jsonschema.validate(run_json("net", example, "--format", "json", *extra), schemas["net"])


def test_a_flat_network_matches_the_net_schema(schemas, tmp_path):
    path = tmp_path / "mlp.yaml"
    path.write_text("input: [784]\nlayers:\n  - relu\n  - linear: {out: 10}\n")
    jsonschema.validate(run_json("net", str(path), "--format", "json"), schemas["net"])


LAYERS = [
    ["--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2", "--out", "5"],
    ["--in", "15x15x3", "--k", "3", "--s", "2", "--p", "same", "--out", "8"],
    ["--in", "8x8x3", "--k", "4", "--p", "same"],
    ["--in", "32x32x8", "--k", "3", "--g", "8", "--d", "2", "--no-bias", "--batch", "4"],
    ["--in", "4x4x8", "--op", "deconv", "--k", "3", "--s", "2", "--p", "1", "--output-padding", "1"],
    ["--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4", "--ceil"],
    ["--in", "7x7x2", "--op", "avgpool", "--k", "2"],
    ["--in", "784", "--op", "linear", "--out", "10"],
    ["--in", "10x784", "--op", "linear", "--out", "5"],
    ["--in", "100x16", "--k", "9", "--d", "3"],
    ["--in", "16x112x112x3", "--k", "3", "--p", "1", "--out", "64"],
    ["--in", "56x56x64", "--k", "3", "--p", "1", "--convention", "ptflops"],
    ["--in", "56x56x64", "--k", "3", "--p", "1", "--explain"],
]


@pytest.mark.parametrize("args", LAYERS, ids=lambda args: " ".join(args))
def test_every_layer_kind_matches_the_layer_schema(schemas, args):
    jsonschema.validate(run_json("layer", *args, "--format", "json"), schemas["layer"])


def test_the_schemas_refuse_the_old_and_mixed_forms(schemas):
    data = run_json("net", "lenet5", "--format", "json")
    f6 = next(row for row in data["layers"] if row["name"] == "F6")
    f6.update(receptive_field=[32, 32], jump=[None, None], start=[0, 0])  # the old "whole" of net
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schemas["net"])
    layer = run_json("layer", "--in", "784", "--op", "linear", "--out", "10", "--format", "json")
    for broken in ({"receptive_field": []}, {"jump": []}, {"bogus": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**layer, **broken}, schemas["layer"])
