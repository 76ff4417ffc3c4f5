"""Markdown (convcalc.report.markdown) that GitHub renders: escaped cells, explanations in a fenced block."""

from __future__ import annotations

import re

from helpers import cli_term, spec_file

from convcalc.report.markdown import fenced, md_escape


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_escapes_pipes_in_names(tmp_path):
    path = spec_file(tmp_path, "name: a|b\ninput: 8x8x1\nlayers:\n  - conv: {k: 3, name: 'x|y'}\n  - relu: {name: 'p*q'}\n")
    out = cli_term("net", path, "--format", "markdown").stdout
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert all(unescaped_pipes(line) == 9 for line in table)  # 8 columns
    assert "| 0 | x\\|y | conv |" in out and "| 1 | p\\*q | relu |" in out
    assert out.splitlines()[0].startswith("**a\\|b**")


def test_markdown_explain_is_a_fenced_block_after_the_table():
    out = cli_term("layer", "--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2", "--out", "5", "--format", "markdown", "--explain").stdout
    lines = out.splitlines()
    end = max(i for i, line in enumerate(lines) if line.startswith("|"))
    assert lines[end + 1 : end + 3] == ["", "```text"] and lines[-1] == "```"
    assert "  MACs = 642*320*5 * 3*3*5 = 46,224,000" in lines[end + 3 : -1]
    assert all(line.startswith("|") for line in lines[: end + 1])


def test_md_escape_keeps_underscores_inside_words():
    assert md_escape("flatten_5") == "flatten_5"
    assert md_escape("_a_|b\\") == "\\_a\\_\\|b\\\\"


def test_a_fence_is_longer_than_any_fence_inside():
    assert fenced(["a", "```b"]) == ["", "````text", "a", "```b", "````"]
