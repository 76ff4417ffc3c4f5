"""Output a person can read (issue 9, section 5): tables fit the terminal, warnings on stderr, Markdown that GitHub
renders, wide scripts aligned, huge counts readable, and JSON that says the same thing in `layer` and `net`.

Expected numbers are worked out here from the layers' definitions, not read from convcalc's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.report import render as render

runner = CliRunner()
PLAIN = {"NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TERM": "dumb"}
SKIP_SUMMARY = "convcalc: warning: 3 layers skip input pixels; see --warnings"


def invoke(*args: str, columns: str | None = "200"):
    result = runner.invoke(app, list(args), env={**PLAIN, "COLUMNS": columns})
    assert result.exit_code == 0, result.output
    return result


def spec(tmp_path: Path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- width


@pytest.mark.parametrize(
    "args", [("net", "resnet50"), ("net", "densenet121"), ("zoo",), ("net", "resnet50", "--compare")]
)
def test_at_80_columns_no_line_is_longer_than_the_terminal(args):
    out = invoke(*args, columns="80").stdout
    widths = [cell_len(line) for line in out.splitlines()]
    assert max(widths) <= 80, max(widths)
    assert max(widths) >= 60  # the room is used, not wasted


def test_at_80_columns_numbers_are_shortened_never_cut():
    out = invoke("net", "resnet50", columns="80").stdout
    fc = next(line.split() for line in out.splitlines() if line.split()[:1] == ["fc"])
    # fc: 2048 -> 1000 with bias: 2,049,000 params, 2,048,000 MACs, both 2.05M
    assert "2.05M" in fc and fc.count("2.05M") == 2
    assert "MACs: 4,089,184,256 (4.09G)" in out  # the totals stay exact
    rows = [line for line in out.splitlines() if re.match(r"(conv|bn|relu|layer|maxpool|avgpool|flatten|fc)", line)]
    classic = invoke("net", "resnet50", columns=None).stdout.splitlines()
    assert len(rows) == sum(1 for line in classic if line.split()[:1] and line.split()[0].isdigit())  # one line each
    for line in rows:
        for token in line.split()[1:]:
            assert re.fullmatch(r"[\d.]+[kMG]?|[\dx]+|whole|-|[a-z_]+", token), (token, line)


def test_at_80_columns_long_names_keep_both_ends():
    out = invoke("net", "densenet121", columns="80").stdout
    assert any("features.denseblock4.denselayer16" in line for line in out.splitlines())


def test_at_200_columns_the_table_shows_input_kernel_and_share_of_macs():
    out = invoke("net", "lenet5", columns="200").stdout
    header, c1 = out.splitlines()[1].split(), out.splitlines()[2].split()
    assert header == ["#", "name", "op", "input", "output", "k/s/p", "params", "MACs", "MACs%", "RF", "jump"]
    macs_c1, total = 28 * 28 * 6 * 5 * 5, 416_520  # LeNet-5's well-known total
    assert c1 == ["0", "C1", "conv", "32x32x1", "28x28x6", "5x5/1/0", "156", f"{macs_c1:,}", f"{100 * macs_c1 / total:.2f}%", "5x5", "1x1"]


def test_window_text_shows_per_dimension_stride_padding_and_dilation(tmp_path):
    path = spec(tmp_path, "input: 32x32x3\nlayers:\n  - conv: {k: [3, 5], s: [1, 2], p: 2, d: 2, name: c}\n")
    row = invoke("net", path, columns="200").stdout.splitlines()[2].split()
    assert row[5] == "3x5/1x2/2/d2"


def test_not_a_terminal_without_columns_keeps_the_full_classic_table():
    out = invoke("net", "resnet50", columns=None).stdout
    assert out.splitlines()[1].split() == ["#", "name", "op", "output", "params", "MACs", "RF", "jump"]
    assert "2,049,000" in out


def test_layout_folds_columns_that_do_not_fit_behind_the_key_column():
    cells = [["a", "1,000,000", "2,000,000", "3,000,000"]]
    lines = render.layout(("k", "x", "y", "z"), cells, {"x", "y", "z"}, width=24)
    assert max(map(len, lines)) <= 24
    assert [line.split()[0] for line in lines if line] == ["k", "a", "k", "a"]


def test_totals_break_between_parts_at_a_narrow_width(tmp_path):
    path = spec(tmp_path, "input: 8x8x1\nlayers:\n  - conv: {out: 4, k: 3, trainable: false}\n  - bn\n")
    out = invoke("net", path, columns="40").stdout
    assert max(map(cell_len, out.splitlines())) <= 40
    assert "frozen 40" in out  # 3*3*1*4 + 4


# --------------------------------------------------------------------------- warnings


def test_net_warnings_are_one_summary_line_on_stderr():
    result = invoke("net", "resnet50")
    assert "Warning" not in result.stdout and "no window" not in result.stdout
    assert result.stderr.splitlines() == [SKIP_SUMMARY]


def test_net_warnings_flag_gives_the_details_on_stderr():
    result = invoke("net", "resnet50", "--warnings")
    assert "no window" not in result.stdout
    # a 1x1 stride-2 conv reads every other pixel: n/2 of n are skipped
    expected = [
        f"convcalc: warning: layer{stage}.0.downsample.0: {dim}: {n // 2} of {n} input positions are in no window (stride 2)"
        for stage, n in ((2, 56), (3, 28), (4, 14))
        for dim in "HW"
    ]
    assert result.stderr.splitlines() == expected


def test_net_json_keeps_warnings_in_the_data_and_stderr_quiet():
    result = invoke("net", "resnet50", "--format", "json")
    assert result.stderr == ""
    rows = {row["name"]: row for row in json.loads(result.stdout)["layers"]}
    assert len(rows["layer2.0.downsample.0"]["warnings"]) == 2


def test_layer_warnings_go_to_stderr():
    # windows 0-2 and 4-6 of 9 positions: 3, 7 and 8 are read by none
    result = invoke("layer", "--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4")
    assert "Warning" not in result.stdout and "no window" not in result.stdout
    assert result.stderr.splitlines() == ["convcalc: warning: the layer skips input pixels; see --warnings"]
    detailed = invoke("layer", "--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4", "--warnings")
    assert detailed.stderr.splitlines() == [
        f"convcalc: warning: {dim}: 3 of 9 input positions are in no window (stride 4)" for dim in "HW"
    ]
    markdown = invoke("layer", "--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4", "--format", "markdown")
    assert "no window" not in markdown.stdout


def test_other_warnings_are_shown_in_full():
    result = invoke("layer", "--in", "15x15x3", "--k", "3", "--s", "2", "--p", "same")
    assert "TensorFlow" not in result.stdout
    assert any("TensorFlow" in line for line in result.stderr.splitlines())


# --------------------------------------------------------------------------- JSON: one language in layer and net


def test_a_fully_connected_layer_sees_the_whole_input_in_layer_and_net(tmp_path):
    whole = {"receptive_field": "whole", "jump": None, "start": None}
    layer = json.loads(invoke("layer", "--in", "784", "--op", "linear", "--out", "10", "--format", "json").stdout)
    assert {key: layer[key] for key in whole} == whole
    net = json.loads(invoke("net", spec(tmp_path, "input: [784]\nlayers:\n  - linear: {out: 10}\n"), "--format", "json").stdout)
    assert {key: net["layers"][0][key] for key in whole} == whole
    lenet = json.loads(invoke("net", "lenet5", "--format", "json").stdout)
    f6 = next(row for row in lenet["layers"] if row["name"] == "F6")
    assert {key: f6[key] for key in whole} == whole


def test_a_linear_layer_on_positions_has_a_one_position_field_in_both(tmp_path):
    layer = json.loads(invoke("layer", "--in", "10x784", "--op", "linear", "--out", "5", "--format", "json").stdout)
    net = json.loads(invoke("net", spec(tmp_path, "input: 10x784\nlayers:\n  - linear: {out: 5}\n"), "--format", "json").stdout)
    for data in (layer, net["layers"][0]):
        assert (data["receptive_field"], data["jump"], data["start"]) == ([1], [1], [0])


def test_net_rows_carry_the_input_shape_and_resolved_arguments_like_layer(tmp_path):
    layer = json.loads(invoke("layer", "--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2", "--out", "5", "--format", "json").stdout)
    path = spec(tmp_path, "input: 640x640x3\nlayers:\n  - conv: {out: 5, k: [3, 5], s: [1, 2], p: 2, name: c}\n")
    row = json.loads(invoke("net", path, "--format", "json").stdout)["layers"][0]
    expected = {
        "input_shape": [640, 640, 3], "output_shape": [642, 320, 5], "kernel": [3, 5], "stride": [1, 2],
        "dilation": [1, 1], "padding": [[2, 2], [2, 2]], "groups": 1, "receptive_field": [3, 5], "jump": [1, 2],
        "start": [-2, -2],
    }  # fmt: skip
    assert {key: layer[key] for key in expected} == expected
    assert {key: row[key] for key in expected} == expected


def test_a_merge_lists_every_input_shape(tmp_path):
    path = spec(tmp_path, "input: 8x8x2\nlayers:\n  - conv: {out: 3, k: 1, name: a}\n  - concat: {from: [input, a], name: c}\n")
    row = json.loads(invoke("net", path, "--format", "json").stdout)["layers"][1]
    assert row["input_shape"] == [8, 8, 2] and row["input_shapes"] == [[8, 8, 2], [8, 8, 3]]


def test_json_honours_depth_as_the_table_does():
    table = invoke("net", "resnet50", "--depth", "0", columns=None).stdout
    names = [line.split()[1] for line in table.splitlines()[2:] if line.split()[:1] and line.split()[0].isdigit()]
    data = json.loads(invoke("net", "resnet50", "--depth", "0", "--format", "json").stdout)
    assert data["depth"] == 0
    assert [row["name"] for row in data["layers"]] == names
    assert names[:5] == ["conv1", "bn1", "relu_2", "maxpool", "layer1.0"] and len(names) == 16 + 4 + 3
    block = data["layers"][4]
    assert block["op"] == "block" and block["output_shape"] == [56, 56, 256] and "kernel" not in block
    assert block["params"] == 64 * 64 + 9 * 64 * 64 + 64 * 256 + 64 * 256 + 2 * (64 + 64 + 256 + 256)
    assert sum(row["params"] for row in data["layers"]) == data["total"]["params"] == 25_557_032
    downsampled = next(row for row in data["layers"] if row["name"] == "layer2.0")
    assert all(w.startswith("layer2.0.downsample.0: ") for w in downsampled["warnings"]) and downsampled["warnings"]
    assert json.loads(invoke("net", "lenet5", "--format", "json").stdout)["depth"] is None


# --------------------------------------------------------------------------- Markdown


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_escapes_pipes_in_names(tmp_path):
    path = spec(tmp_path, "name: a|b\ninput: 8x8x1\nlayers:\n  - conv: {k: 3, name: 'x|y'}\n  - relu: {name: 'p*q'}\n")
    out = invoke("net", path, "--format", "markdown").stdout
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert all(unescaped_pipes(line) == 9 for line in table)  # 8 columns
    assert "| 0 | x\\|y | conv |" in out and "| 1 | p\\*q | relu |" in out
    assert out.splitlines()[0].startswith("**a\\|b**")


def test_markdown_explain_is_a_fenced_block_after_the_table():
    out = invoke("layer", "--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2", "--out", "5", "--format", "markdown", "--explain").stdout
    lines = out.splitlines()
    end = max(i for i, line in enumerate(lines) if line.startswith("|"))
    assert lines[end + 1 : end + 3] == ["", "```text"] and lines[-1] == "```"
    assert "  MACs = 642*320*5 * 3*3*5 = 46,224,000" in lines[end + 3 : -1]
    assert all(line.startswith("|") for line in lines[: end + 1])


def test_md_escape_keeps_underscores_inside_words():
    assert render.md_escape("flatten_5") == "flatten_5"
    assert render.md_escape("_a_|b\\") == "\\_a\\_\\|b\\\\"


# --------------------------------------------------------------------------- wide scripts, huge counts


def test_names_in_wide_scripts_align(tmp_path):
    path = spec(tmp_path, "input: 8x8x1\nlayers:\n  - conv: {k: 3, name: 畳み込み層}\n  - relu: {name: r}\n  - conv: {k: 1, name: 出力}\n")
    lines = invoke("net", path, columns=None).stdout.splitlines()[1:5]
    # the op column starts at the same terminal cell on every line: 畳み込み層 is 5 characters, 10 cells
    starts = {cell_len(line[: line.index(op)]) for line, op in zip(lines, ("op", "conv", "relu", "conv"))}
    assert len(starts) == 1 and starts == {3 + 10 + 2}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (21_867_813_087_478_252 * 10**12, "2.19e+28"),
        (3 * 10**15, "3.00P"),
        (4_500 * 10**15, "4.50E"),
        (999_999, "1.00M"),
        (999_994, "999.99k"),
        (-2_500, "-2.50k"),
        (10**400, "1.00e+400"),
        (999, "999"),
    ],
)
def test_huge_counts_read_with_p_e_or_scientific(value, text):
    assert render.si(value) == text


def test_a_huge_layer_prints_its_count_with_a_suffix():
    # 10^6 x 10^6 positions x 1000 channels -> 10^5 channels, 1x1: 10^12 * 1000 * 10^5 = 10^20 MACs
    out = invoke("layer", "--in", "1000000x1000000x1000", "--k", "1", "--out", "100000", "--no-bias", "--format", "markdown").stdout
    assert "100,000,000,000,000,000,000 (100.00E)" in out


def test_no_redundant_zero_in_brackets(tmp_path):
    out = invoke("net", spec(tmp_path, "input: 8x8x1\nlayers:\n  - relu\n")).stdout
    assert "(0)" not in out and "(64)" not in out
    assert "Params: 0" in out and "FLOPs: 64" in out  # relu: one FLOP per element, 8*8*1
