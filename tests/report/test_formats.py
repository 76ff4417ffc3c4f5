"""The fixed choices of the command line (convcalc.report.formats): the same names as the library's, and a bad
choice is one line naming the option, the value and the choices, exit 2."""

from __future__ import annotations

import pytest
from helpers import cli, usage_error

from convcalc.conventions.counting import TOOLS
from convcalc.graph.analysis import DTYPE_BYTES
from convcalc.report.compare_output import COMPARE_FORMATS
from convcalc.report.formats import CheckFormat, Convention, DType, Format, NetFormat
from convcalc.report.verify_output import VERIFY_FORMATS


def test_the_choices_are_the_library_s_names():
    assert list(Convention) == list(TOOLS)
    assert list(DType) == list(DTYPE_BYTES)
    assert [f for f in NetFormat if f != "html"] == list(COMPARE_FORMATS) == list(VERIFY_FORMATS)  # html: net only
    assert set(Format) < set(NetFormat)
    assert Format.JSON == "json" and f"{Convention.THOP}" == "thop"


@pytest.mark.parametrize(
    ("args", "option", "choices"),
    [
        (("layer", "--in", "8x8x3", "--k", "3", "--format", "xml"), "--format", list(Format)),
        (("net", "lenet5", "--format", "xml"), "--format", list(NetFormat)),
        (("ops", "--format", "csv"), "--format", list(Format)),
        (("check", "x.yaml", "--format", "xml"), "--format", list(CheckFormat)),
        (("net", "lenet5", "--convention", "flops"), "--convention", list(Convention)),
        (("layer", "--in", "8x8x3", "--k", "3", "--convention", "flops"), "--convention", list(Convention)),
        (("net", "lenet5", "--dtype", "float128"), "--dtype", list(DType)),
    ],
)
def test_a_bad_choice_is_one_line_naming_the_option_and_the_choices(args, option, choices):
    listed = ", ".join(f"'{choice}'" for choice in choices)
    assert usage_error(*args) == f"convcalc: error: Invalid value for '{option}': '{args[-1]}' is not one of {listed}."


def test_the_choices_show_in_the_help():
    assert "<table|json|markdown|csv|html>" in cli("net", "--help").stdout
    assert "<convcalc|torchinfo|fvcore|ptflops|thop|ultralytics>" in cli("layer", "--help").stdout
