"""The op catalogue is the one source of op knowledge: everything else is derived from it and agrees with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.conventions.counting import RULES, TOOLS
from convcalc.graph.analysis import analyze
from convcalc.io.torch_forward import FORWARD_CODE
from convcalc.io.torch_modules import FORWARD_OPS, MODULE_CODE
from convcalc.ops.catalogue import CATALOGUE, LAYER_OPS, MERGES, OPS_BY_NAME, canonical_op
from convcalc.ops.handlers import OPS
from convcalc.report.ops_output import ops_markdown
from convcalc.specfile._coreschemas import SCHEMAS
from convcalc.specfile.loader import load_text
from convcalc.specfile.op_arguments import listing

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
LAYER_ARGS = {"conv": "--k 3", "deconv": "--k 3", "maxpool": "--k 2", "avgpool": "--k 2", "linear": "--out 4"}
SPEC_ARGS = {"conv": "{out: 4, k: 3}", "deconv": "{out: 4, k: 3}", "maxpool": "{k: 2}", "avgpool": "{k: 2}",
             "linear": "{out: 4}"}  # fmt: skip


def test_every_spelling_names_one_op():
    names = [spelling for entry in CATALOGUE for spelling in entry.spellings]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


def test_every_op_has_formulas_and_an_argument_type():
    assert set(OPS) == set(OPS_BY_NAME)
    for entry in CATALOGUE:
        assert entry.args in SCHEMAS, entry.name


def test_the_layer_ops_are_the_catalogues():
    assert LAYER_OPS == ("conv", "deconv", "maxpool", "avgpool", "linear")


@pytest.mark.parametrize("name", LAYER_OPS)
def test_every_alias_of_a_layer_op_works_in_layer_and_in_a_spec(name):
    entry = OPS_BY_NAME[name]
    shape = "64" if name == "linear" else "8x8x3"
    for spelling in (*entry.spellings, entry.name.upper(), entry.name.replace("_", "-")):
        result = runner.invoke(app, ["layer", "--op", spelling, "--in", shape, *LAYER_ARGS[name].split()])
        assert result.exit_code == 0, (spelling, result.output)
        network = load_text(f"input: {shape}\nlayers:\n  - {spelling}: {SPEC_ARGS[name]}\n")
        assert network.nodes[0].op == name, spelling


def test_upconv_and_convtranspose2d_work_in_both_places():  # the two alias tables used to disagree
    for spelling in ("upconv", "convtranspose2d"):
        assert canonical_op(spelling) == "deconv"
        assert runner.invoke(app, ["layer", "--op", spelling, "--in", "8x8x3", "--k", "2", "--s", "2"]).exit_code == 0


def test_a_network_op_is_refused_by_layer_with_a_pointer():
    result = runner.invoke(app, ["layer", "--op", "relu", "--in", "8x8x3"])
    assert result.exit_code == 2
    assert "relu is an op of network specs" in result.stderr


def test_every_convention_has_a_rule_for_every_op():
    assert set(RULES) == set(TOOLS)
    for convention, rules in RULES.items():
        assert set(rules) == set(OPS_BY_NAME), convention


def test_ops_without_a_torch_module_are_written_in_forward():
    optional_module = {"constant"}  # a registered buffer, or (buffer: false) zeros made in forward
    assert set(FORWARD_OPS) == {entry.name for entry in CATALOGUE if not entry.torch} == set(FORWARD_CODE) - optional_module
    assert set(MODULE_CODE) == {entry.name for entry in CATALOGUE if entry.torch}  # every other op has its module
    assert MERGES <= {entry.name for entry in CATALOGUE if entry.merge}


def test_verify_counts_only_the_layers_it_can_check():
    torch = pytest.importorskip("torch")  # noqa: F841
    from convcalc.io.torch_verify import verify_layers

    network = load_text(
        "input: 8x8x4\nlayers:\n  - conv: {out: 4, k: 3, p: 1, name: a}\n  - mul: {from: [input, a]}\n"
        "  - crop: {p: 1}\n  - relu\n"
    )
    differences, checked = verify_layers(analyze(network))
    assert differences == [] and checked == 2  # conv and relu; mul and crop have no module


def test_the_ops_command_lists_every_op_with_its_aliases_and_arguments():
    result = runner.invoke(app, ["ops", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [entry["name"] for entry in data] == [entry.name for entry in CATALOGUE]
    conv = data[0]
    assert "conv2d" in conv["aliases"] and conv["torch"] == "ConvNd" and conv["layer"] is True
    kernel = next(argument for argument in conv["arguments"] if argument["name"] == "k")
    assert kernel == {"name": "k", "aliases": ["kernel_size"], "type": "int >= 1 | [int >= 1]", "required": True}
    one = runner.invoke(app, ["ops", "upconv"])
    assert one.exit_code == 0 and one.stdout.startswith("deconv ")
    unknown = runner.invoke(app, ["ops", "conv2"])
    assert unknown.exit_code == 2 and "did you mean 'conv2d'" in unknown.stderr


def test_the_docs_table_is_generated_from_the_catalogue():
    text = (ROOT / "docs" / "spec.md").read_text()
    table = re.search(r"<!-- ops:[^\n]*-->\n(.*?)\n<!-- /ops -->", text, re.S)
    assert table is not None and table.group(1) == ops_markdown(listing())



def test_the_ops_listing_fits_the_terminal():
    result = runner.invoke(app, ["ops"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
