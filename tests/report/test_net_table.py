"""Tables for a terminal (convcalc.report.net_table): they fit the terminal's width, shorten counts before cutting
anything, keep both ends of long names, align wide scripts, and show the input, kernel and MACs share when there is
room. Expected numbers are worked out here from the layers' definitions, not read from convcalc's output."""

from __future__ import annotations

import re

import pytest
from helpers import cli_term, spec_file
from rich.cells import cell_len


@pytest.mark.parametrize(
    "args", [("net", "resnet50"), ("net", "densenet121"), ("zoo",), ("net", "resnet50", "--compare")]
)
def test_at_80_columns_no_line_is_longer_than_the_terminal(args):
    out = cli_term(*args, columns="80").stdout
    widths = [cell_len(line) for line in out.splitlines()]
    assert max(widths) <= 80, max(widths)
    assert max(widths) >= 60  # the room is used, not wasted


def test_at_80_columns_numbers_are_shortened_never_cut():
    out = cli_term("net", "resnet50", columns="80").stdout
    fc = next(line.split() for line in out.splitlines() if line.split()[:1] == ["fc"])
    # fc: 2048 -> 1000 with bias: 2,049,000 params, 2,048,000 MACs, both 2.05M
    assert "2.05M" in fc and fc.count("2.05M") == 2
    assert "MACs: 4,089,184,256 (4.09G)" in out  # the totals stay exact
    rows = [line for line in out.splitlines() if re.match(r"(conv|bn|relu|layer|maxpool|avgpool|flatten|fc)", line)]
    classic = cli_term("net", "resnet50", columns=None).stdout.splitlines()
    assert len(rows) == sum(1 for line in classic if line.split()[:1] and line.split()[0].isdigit())  # one line each
    for line in rows:
        for token in line.split()[1:]:
            assert re.fullmatch(r"[\d.]+[kMG]?|[\dx]+|whole|-|[a-z_]+", token), (token, line)


def test_at_80_columns_long_names_keep_both_ends():
    out = cli_term("net", "densenet121", columns="80").stdout
    assert any("features.denseblock4.denselayer16" in line for line in out.splitlines())


def test_at_200_columns_the_table_shows_input_kernel_and_share_of_macs():
    out = cli_term("net", "lenet5").stdout
    header, c1 = out.splitlines()[1].split(), out.splitlines()[2].split()
    assert header == ["#", "name", "op", "input", "output", "k/s/p", "params", "MACs", "MACs%", "RF", "jump"]
    macs_c1, total = 28 * 28 * 6 * 5 * 5, 416_520  # LeNet-5's well-known total
    assert c1 == ["0", "C1", "conv", "32x32x1", "28x28x6", "5x5/1/0", "156", f"{macs_c1:,}", f"{100 * macs_c1 / total:.2f}%", "5x5", "1x1"]


def test_window_text_shows_per_dimension_stride_padding_and_dilation(tmp_path):
    path = spec_file(tmp_path, "input: 32x32x3\nlayers:\n  - conv: {k: [3, 5], s: [1, 2], p: 2, d: 2, name: c}\n")
    row = cli_term("net", path).stdout.splitlines()[2].split()
    assert row[5] == "3x5/1x2/2/d2"


def test_not_a_terminal_without_columns_keeps_the_full_classic_table():
    out = cli_term("net", "resnet50", columns=None).stdout
    assert out.splitlines()[1].split() == ["#", "name", "op", "output", "params", "MACs", "RF", "jump"]
    assert "2,049,000" in out


def test_totals_break_between_parts_at_a_narrow_width(tmp_path):
    path = spec_file(tmp_path, "input: 8x8x1\nlayers:\n  - conv: {out: 4, k: 3, trainable: false}\n  - bn\n")
    out = cli_term("net", path, columns="40").stdout
    assert max(map(cell_len, out.splitlines())) <= 40
    assert "frozen 40" in out  # 3*3*1*4 + 4


def test_names_in_wide_scripts_align(tmp_path):
    path = spec_file(tmp_path, "input: 8x8x1\nlayers:\n  - conv: {k: 3, name: 畳み込み層}\n  - relu: {name: r}\n  - conv: {k: 1, name: 出力}\n")
    lines = cli_term("net", path, columns=None).stdout.splitlines()[1:5]
    # the op column starts at the same terminal cell on every line: 畳み込み層 is 5 characters, 10 cells
    starts = {cell_len(line[: line.index(op)]) for line, op in zip(lines, ("op", "conv", "relu", "conv"))}
    assert len(starts) == 1 and starts == {3 + 10 + 2}


def test_no_redundant_zero_in_brackets(tmp_path):
    out = cli_term("net", spec_file(tmp_path, "input: 8x8x1\nlayers:\n  - relu\n")).stdout
    assert "(0)" not in out and "(64)" not in out
    assert "Params: 0" in out and "FLOPs: 64" in out  # relu: one FLOP per element, 8*8*1


@pytest.mark.parametrize("text", ["plain", "tab\\there", "bell\\a and escape\\e"])  # YAML's escapes
def test_not_a_terminal_the_table_is_what_rich_writes(monkeypatch, text):
    """Printed without rich when stdout is no terminal: the same characters rich writes (rich also strips control
    characters and expands tabs, so such text still goes through rich); FORCE_COLOR makes rich style it."""
    import io
    import sys

    from helpers import load_net
    from rich.console import Console
    from rich.text import Text

    from convcalc.graph.analysis import analyze
    from convcalc.report import net_table
    from convcalc.report.terminal import plain_stdout

    report = analyze(load_net(f'name: "{text}"\ninput: 8x8x3\nlayers:\n  - conv: {{out: 4, k: 3}}\n  - relu'))
    for name in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    title, header, *rest = net_table.net_table(report, None, None)
    expected = io.StringIO()
    styled = Text(title + "\n")
    styled.append(header + "\n", style="bold")
    styled.append("\n".join(rest))
    Console(file=expected, highlight=False, markup=False, emoji=False).print(styled, soft_wrap=True)
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    net_table.print_net_table(report, None)
    assert plain_stdout()
    assert printed.getvalue() == expected.getvalue()
    assert ("\\t" in text) == ("\t" in title) and "\t" not in printed.getvalue()  # tabs expanded by rich
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not plain_stdout()
