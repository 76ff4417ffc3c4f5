"""Fitting text to a terminal (convcalc.report.terminal): columns measured in cells, folded behind the key column."""

from __future__ import annotations

from convcalc.report.terminal import layout, shorten


def test_layout_folds_columns_that_do_not_fit_behind_the_key_column():
    cells = [["a", "1,000,000", "2,000,000", "3,000,000"]]
    lines = layout(("k", "x", "y", "z"), cells, {"x", "y", "z"}, width=24)
    assert max(map(len, lines)) <= 24
    assert [line.split()[0] for line in lines if line] == ["k", "a", "k", "a"]


def test_shorten_keeps_both_ends_within_the_room():
    name = "features.denseblock4.denselayer16.conv2"
    short = shorten(name, 20)
    assert len(short) == 20 and short.startswith("features.") and short.endswith(".conv2") and "…" in short
    assert shorten("conv1", 20) == "conv1"


def test_shorten_measures_wide_characters_in_cells():
    assert shorten("畳み込み層畳み込み層", 9) == "畳み…み層"  # 4 + 1 + 4 cells
