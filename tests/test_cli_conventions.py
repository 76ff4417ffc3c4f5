"""`--convention` and `--compare` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from convcalc.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}
# The numbers the tools print for torchvision's ResNet-50 at 224x224 (tests/test_conventions.py runs the tools).
RESNET50 = {
    "convcalc": 4_089_184_256,
    "torchinfo": 4_089_238_376,
    "fvcore": 4_111_512_576,
    "ptflops": 4_132_436_968,
    "thop": 4_133_742_592,
}


def test_net_convention_changes_the_macs_and_says_so() -> None:
    for convention, expected in RESNET50.items():
        result = runner.invoke(app, ["net", "resnet50", "--convention", convention, "--format", "json"], env=ENV)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["convention"] == convention
        assert data["total"]["macs"] == expected
        assert sum(layer["macs"] for layer in data["layers"]) == expected


def test_net_convention_scales_with_the_batch() -> None:
    result = runner.invoke(app, ["net", "resnet50", "--convention", "thop", "--batch", "2", "--format", "json"], env=ENV)
    assert json.loads(result.stdout)["total"]["macs"] == 2 * RESNET50["thop"]


def test_compare_table_lists_every_convention_with_its_ratio() -> None:
    result = runner.invoke(app, ["net", "resnet50", "--compare"], env=ENV)
    assert result.exit_code == 0, result.output
    for convention, total in RESNET50.items():
        line = next(line for line in result.stdout.splitlines() if line.startswith(convention + " "))
        assert f"{total:,}" in line
        assert f"{total / RESNET50['convcalc']:.7f}" in line
    total_line = next(line for line in result.stdout.splitlines() if line.startswith("total"))
    assert total_line.split()[1:] == [f"{total:,}" for total in RESNET50.values()]


def test_layer_convention() -> None:
    # ptflops adds one bias add per output element to the weights' MACs: 56*56*64 of them here.
    ours = 56 * 56 * 64 * 64 * 3 * 3
    result = runner.invoke(app, ["layer", "--in", "56x56x64", "--k", "3", "--p", "1", "--convention", "ptflops", "--format", "json"], env=ENV)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["convention"] == "ptflops"
    assert data["macs"] == ours + 56 * 56 * 64


def test_unknown_convention_is_a_one_line_error() -> None:
    for args in (["net", "lenet5"], ["layer", "--in", "8x8x3", "--k", "3"]):
        result = runner.invoke(app, [*args, "--convention", "flops"], env=ENV)
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            "convcalc: error: --convention: unknown convention 'flops'; choose convcalc, torchinfo, fvcore, ptflops, thop"
        )
