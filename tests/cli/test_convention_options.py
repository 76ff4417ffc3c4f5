"""`--convention` and `--compare` from the command line."""

from __future__ import annotations

import json

from helpers import RESNET50_MACS, cli, usage_error


def test_net_convention_changes_the_macs_and_says_so() -> None:
    for convention, expected in RESNET50_MACS.items():
        result = cli("net", "resnet50", "--convention", convention, "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["convention"] == convention
        assert data["total"]["macs"] == expected
        assert sum(layer["macs"] for layer in data["layers"]) == expected


def test_net_convention_scales_with_the_batch() -> None:
    result = cli("net", "resnet50", "--convention", "thop", "--batch", "2", "--format", "json")
    assert json.loads(result.stdout)["total"]["macs"] == 2 * RESNET50_MACS["thop"]


def test_compare_table_lists_every_convention_with_its_ratio() -> None:
    result = cli("net", "resnet50", "--compare")
    assert result.exit_code == 0, result.output
    for convention, total in RESNET50_MACS.items():
        line = next(line for line in result.stdout.splitlines() if line.startswith(convention + " "))
        assert f"{total:,}" in line
        assert f"{total / RESNET50_MACS['convcalc']:.7f}" in line
    total_line = next(line for line in result.stdout.splitlines() if line.startswith("total"))
    assert total_line.split()[1:] == [f"{total:,}" for total in RESNET50_MACS.values()]


def test_layer_convention() -> None:
    # ptflops adds one bias add per output element to the weights' MACs: 56*56*64 of them here.
    ours = 56 * 56 * 64 * 64 * 3 * 3
    result = cli("layer", "--in", "56x56x64", "--k", "3", "--p", "1", "--convention", "ptflops", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["convention"] == "ptflops"
    assert data["macs"] == ours + 56 * 56 * 64


def test_unknown_convention_is_a_one_line_error() -> None:
    for args in (["net", "lenet5"], ["layer", "--in", "8x8x3", "--k", "3"]):
        assert usage_error(*args, "--convention", "flops") == (
            "convcalc: error: Invalid value for '--convention': 'flops' is not one of 'convcalc', 'torchinfo', "
            "'fvcore', 'ptflops', 'thop', 'ultralytics'."
        )
