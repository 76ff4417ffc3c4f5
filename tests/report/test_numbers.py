"""The one number formatter (convcalc.report.numbers): exact counts with separators, SI readings up to E, then
scientific notation; fractions, per-dimension values, shares, byte sizes and JSON numbers."""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import cli_term

from convcalc.report import numbers


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
    assert numbers.si(value) == text


def test_a_huge_layer_prints_its_count_with_a_suffix():
    # 10^6 x 10^6 positions x 1000 channels -> 10^5 channels, 1x1: 10^12 * 1000 * 10^5 = 10^20 MACs
    out = cli_term("layer", "--in", "1000000x1000000x1000", "--k", "1", "--out", "100000", "--no-bias", "--format", "markdown").stdout
    assert "100,000,000,000,000,000,000 (100.00E)" in out


def test_exact_counts_carry_an_si_reading_from_a_thousand():
    assert numbers.count(999) == "999"
    assert numbers.count(46_224_000) == "46,224,000 (46.22M)"
    assert numbers.grouped(-1_000) == "-1,000"


def test_fractions_and_per_dimension_values_are_exact():
    assert numbers.fraction(Fraction(6, 3)) == "2"
    assert numbers.fraction(Fraction(-1, 2)) == "-1/2"
    assert numbers.per_dim((Fraction(1, 2), 3)) == "1/2x3"
    assert numbers.per_dim(()) == "-"
    assert numbers.json_numbers((Fraction(1, 3), 4)) == ["1/3", 4]


def test_rounded_keeps_integers_exact_and_fractions_to_six_digits():
    assert numbers.rounded(61_706) == "61,706"
    assert numbers.rounded(Fraction(7, 3)) == "2.33333"
    assert numbers.json_decimal(Fraction(5, 2)) == 2.5 and numbers.json_decimal(Fraction(4, 2)) == 2


def test_shares_ratios_and_byte_sizes():
    assert numbers.share(1, 8) == "12.50%" and numbers.share(1, 0) == "-"
    assert numbers.ratio(1.5) == "1.5000000" and numbers.ratio(None) == "-"
    assert numbers.byte_size(3 * 2**19) == "1.50 MiB" and numbers.byte_size(4608) == "4.5 KiB"
    assert numbers.format_shape((642, 320, 5)) == "642x320x5"
