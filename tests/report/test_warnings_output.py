"""Warnings (convcalc.report.warnings_output) go to stderr, never into the output: one summary line for layers whose
stride skips input pixels, every warning in full with --warnings, none on stderr for JSON (its rows carry them)."""

from __future__ import annotations

import json

from helpers import cli_term

from convcalc.report.warnings_output import warning_lines

SKIP_SUMMARY = "convcalc: warning: 3 layers skip input pixels; see --warnings"


def test_net_warnings_are_one_summary_line_on_stderr():
    result = cli_term("net", "resnet50")
    assert "Warning" not in result.stdout and "no window" not in result.stdout
    assert result.stderr.splitlines() == [SKIP_SUMMARY]


def test_net_warnings_flag_gives_the_details_on_stderr():
    result = cli_term("net", "resnet50", "--warnings")
    assert "no window" not in result.stdout
    # a 1x1 stride-2 conv reads every other pixel: n/2 of n are skipped
    expected = [
        f"convcalc: warning: layer{stage}.0.downsample.0: {dim}: {n // 2} of {n} input positions are in no window (stride 2)"
        for stage, n in ((2, 56), (3, 28), (4, 14))
        for dim in "HW"
    ]
    assert result.stderr.splitlines() == expected


def test_net_json_keeps_warnings_in_the_data_and_stderr_quiet():
    result = cli_term("net", "resnet50", "--format", "json")
    assert result.stderr == ""
    rows = {row["name"]: row for row in json.loads(result.stdout)["layers"]}
    assert len(rows["layer2.0.downsample.0"]["warnings"]) == 2


def test_layer_warnings_go_to_stderr():
    # windows 0-2 and 4-6 of 9 positions: 3, 7 and 8 are read by none
    result = cli_term("layer", "--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4")
    assert "Warning" not in result.stdout and "no window" not in result.stdout
    assert result.stderr.splitlines() == ["convcalc: warning: the layer skips input pixels; see --warnings"]
    detailed = cli_term("layer", "--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4", "--warnings")
    assert detailed.stderr.splitlines() == [
        f"convcalc: warning: {dim}: 3 of 9 input positions are in no window (stride 4)" for dim in "HW"
    ]
    markdown = cli_term("layer", "--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4", "--format", "markdown")
    assert "no window" not in markdown.stdout


def test_other_warnings_are_shown_in_full():
    result = cli_term("layer", "--in", "15x15x3", "--k", "3", "--s", "2", "--p", "same")
    assert "TensorFlow" not in result.stdout
    assert any("TensorFlow" in line for line in result.stderr.splitlines())


def test_warning_lines_summarise_skipping_layers_unless_detailed():
    skip = "H: 1 of 3 input positions are in no window (stride 2)"
    named = [("a", [skip]), ("b", ["other"])]
    assert warning_lines(named) == ["convcalc: warning: b: other", "convcalc: warning: 1 layer skips input pixels; see --warnings"]
    assert warning_lines(named, detailed=True) == [f"convcalc: warning: a: {skip}", "convcalc: warning: b: other"]
    assert warning_lines([("", [skip])]) == ["convcalc: warning: the layer skips input pixels; see --warnings"]
