"""No flag is silently ignored: `net --compare` honours --format and --batch, `--explain` and `--verify` honour
--format (JSON carries their result, never plain text), and what a mode cannot honour is a one-line error, exit 2.

Expected numbers are LeNet-5's, worked by hand: convcalc's MACs are 28*28*6*25 + 10*10*16*150 + 120*400 + 120*84
+ 84*10 = 416,520; torchinfo adds one multiply-add per bias per output position: 28*28*6 + 10*10*16 + 120 + 84 + 10
= 6,518, so 423,038. ResNet-50's totals are the ones the tools print (see tests/cli/test_convention_options.py).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from helpers import EXAMPLES, RESNET50_MACS, cli, cli_ok

LENET = {"convcalc": 416_520, "torchinfo": 423_038}


def refused(*args: str, flag: str):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"convcalc: error: {flag}"), result.stderr
    return result


# --------------------------------------------------------------------------- --compare


def test_compare_json_has_every_convention_total_ratio_and_breakdown() -> None:
    data = json.loads(cli_ok("net", "resnet50", "--compare", "--format", "json").stdout)
    assert data["batch"] == 1 and data["input_shape"] == [224, 224, 3]
    conventions = {entry["convention"]: entry for entry in data["conventions"]}
    assert set(conventions) == set(RESNET50_MACS)
    for name, total in RESNET50_MACS.items():
        assert conventions[name]["total"] == total
        assert sum(conventions[name]["breakdown"].values()) == total
        assert conventions[name]["ratio"] == pytest.approx(total / RESNET50_MACS["convcalc"])


def test_compare_honours_the_batch_in_every_format() -> None:
    data = json.loads(cli_ok("net", "lenet5", "--compare", "--batch", "3", "--format", "json").stdout)
    totals = {entry["convention"]: entry["total"] for entry in data["conventions"]}
    assert data["batch"] == 3
    assert totals["convcalc"] == 3 * LENET["convcalc"] and totals["torchinfo"] == 3 * LENET["torchinfo"]
    text = cli_ok("net", "lenet5", "--compare", "--batch", "3").stdout
    assert "batch 3" in text.splitlines()[0]
    assert f"{3 * LENET['torchinfo']:,}" in next(line for line in text.splitlines() if line.startswith("torchinfo"))


def test_compare_csv_is_one_row_per_convention() -> None:
    rows = list(csv.DictReader(io.StringIO(cli_ok("net", "lenet5", "--compare", "--format", "csv", "--batch", "2").stdout)))
    assert [row["convention"] for row in rows] == ["convcalc", "torchinfo", "fvcore", "ptflops", "thop", "ultralytics"]
    by_name = {row["convention"]: row for row in rows}
    assert int(by_name["convcalc"]["total"]) == 2 * LENET["convcalc"]
    assert int(by_name["torchinfo"]["total"]) == 2 * LENET["torchinfo"]
    assert int(by_name["torchinfo"]["bias"]) == 2 * 6_518
    assert by_name["thop"]["batch"] == "2"


def test_compare_markdown_is_two_tables() -> None:
    lines = cli_ok("net", "lenet5", "--compare", "--format", "markdown").stdout.splitlines()
    tables = [i for i, line in enumerate(lines) if line.startswith("|---")]
    assert len(tables) == 2
    for separator in tables:
        width = lines[separator].count("|")
        row = separator + 1
        while row < len(lines) and lines[row].startswith("|"):
            assert lines[row].count("|") == width, lines[row]
            row += 1
    assert f"| torchinfo | torchinfo 1.8.0 | mult-adds | {LENET['torchinfo']:,} |" in "\n".join(lines)


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--explain", "C5"], "--explain"),
        (["--verify"], "--verify"),
        (["--convention", "thop"], "--convention"),
        (["--depth", "1"], "--depth"),
        (["--dtype", "float16"], "--dtype"),
    ],
)
def test_compare_refuses_what_it_cannot_honour(extra: list[str], flag: str) -> None:
    refused("net", "lenet5", "--compare", *extra, flag=flag)


# --------------------------------------------------------------------------- --explain LAYER


def test_explain_json_is_the_recursion_as_data() -> None:
    data = json.loads(cli_ok("net", "lenet5", "--explain", "C5", "--format", "json").stdout)
    assert data["layer"] == "C5"
    assert [step["name"] for step in data["steps"]] == ["C5", "S4", "C3", "S2", "C1"]
    # 5x5 conv, 2x2/2 pool, 5x5 conv, 2x2/2 pool, 5x5 conv: 1 -> 5 -> 10 -> 14 -> 28 -> 32
    assert [step["input_receptive_field"] for step in data["steps"]] == [[5, 5], [10, 10], [14, 14], [28, 28], [32, 32]]
    assert data["receptive_field"] == [32, 32] and data["start"] == [0, 0]
    assert data["explain"][-1] == "Receptive field at the input: 32x32 (start 0x0)"
    whole = json.loads(cli_ok("net", "lenet5", "--explain", "F6", "--format", "json").stdout)
    assert whole["receptive_field"] == "whole" and whole["start"] is None


def test_explain_json_through_a_residual_block() -> None:
    # 7x7/2 p3, 3x3/2 p1 max pool, then the block's 3x3 p1: r = 7 + 2*2 + 2*4 = 19, u = -3 - 1*2 - 1*4 = -9
    data = json.loads(cli_ok("net", "resnet50", "--explain", "layer1.0.relu_11", "--format", "json").stdout)
    assert data["receptive_field"] == [19, 19] and data["start"] == [-9, -9]
    assert any(step["op"] == "add" for step in data["steps"])


def test_explain_markdown_is_a_fenced_block() -> None:
    lines = cli_ok("net", "lenet5", "--explain", "C5", "--format", "markdown").stdout.strip().splitlines()
    assert lines[0].startswith("```") and lines[-1] == "```"
    assert lines[1].startswith("Backward from 'C5'")


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--depth", "1"], "--depth"),
        (["--batch", "2"], "--batch"),
        (["--dtype", "float16"], "--dtype"),
        (["--convention", "ptflops"], "--convention"),
        (["--format", "csv"], "--format"),
    ],
)
def test_explain_refuses_what_it_cannot_honour(extra: list[str], flag: str) -> None:
    refused("net", "lenet5", "--explain", "C5", *extra, flag=flag)


# --------------------------------------------------------------------------- --verify


def test_verify_json_reports_agreement() -> None:
    pytest.importorskip("torch")
    data = json.loads(cli_ok("net", "lenet5", "--verify", "--format", "json").stdout)
    # LeNet-5: C1, S2, C3, S4, C5, F6, output and one flatten or activation layer: none are merges.
    assert data["agrees"] is True and data["differences"] == []
    assert data["params"] == 61_706 and data["layers_checked"] > 0


@pytest.fixture
def one_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyTorch disagrees on one layer (the bridge is replaced: convcalc and PyTorch agree on every real spec)."""
    import convcalc.io.torch_verify as bridge
    difference = bridge.Difference("C1", "params", "156", "157")
    monkeypatch.setattr(bridge, "verify_layers", lambda report: ([difference], 7))


def test_verify_differences_in_every_format(one_difference: None) -> None:
    result = cli("net", "lenet5", "--verify", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["differences"] == [{"layer": "C1", "what": "params", "convcalc": "156", "torch": "157"}]
    result = cli("net", "lenet5", "--verify", "--format", "csv")
    assert result.exit_code == 1
    assert list(csv.DictReader(io.StringIO(result.stdout))) == [{"layer": "C1", "what": "params", "convcalc": "156", "torch": "157"}]
    result = cli("net", "lenet5", "--verify", "--format", "markdown")
    assert result.exit_code == 1
    assert "| C1 | params | 156 | 157 |" in result.stdout.splitlines()


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--explain", "C5"], "--explain"),
        (["--convention", "thop"], "--convention"),
        (["--depth", "1"], "--depth"),
        (["--batch", "2"], "--batch"),
        (["--dtype", "float16"], "--dtype"),
    ],
)
def test_verify_refuses_what_it_cannot_honour(extra: list[str], flag: str) -> None:
    refused("net", "lenet5", "--verify", *extra, flag=flag)


def test_plain_net_still_takes_batch_and_dtype() -> None:
    data = json.loads(cli_ok("net", "lenet5", "--batch", "2", "--dtype", "float16", "--format", "json").stdout)
    assert data["total"]["macs"] == 2 * LENET["convcalc"]


# --------------------------------------------------------------------------- check --update


@pytest.mark.parametrize("format", ["json", "github"])
def test_check_update_refuses_a_format_it_cannot_write(tmp_path: Path, format: str) -> None:
    spec = tmp_path / "lenet5.yaml"
    shutil.copy(EXAMPLES / "lenet5.yaml", spec)
    before = spec.read_bytes()
    refused("check", "--update", "--format", format, str(spec), flag="--format")
    assert spec.read_bytes() == before
