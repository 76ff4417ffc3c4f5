"""Shape and size notation (convcalc.core.notation): ``640x640x3``, ``3@512x512``, ``3x5``."""

from __future__ import annotations

import pytest

from convcalc import InputError, conv
from convcalc.core.notation import format_shape, parse_ints, parse_shape


@pytest.mark.parametrize(
    "text, shape",
    [
        ("640x640x3", (640, 640, 3)),
        ("3@512x512", (512, 512, 3)),
        ("10@512x512", (512, 512, 10)),
        (" 3 @ 512 x 512 ", (512, 512, 3)),
        ("3@100", (100, 3)),
        ("3@16x112x112", (16, 112, 112, 3)),
        ("100x16", (100, 16)),
        ("16x112x112x3", (16, 112, 112, 3)),
        ("640×640×3", (640, 640, 3)),
        ("640X640X3", (640, 640, 3)),
        ("640*640*3", (640, 640, 3)),
        ("640, 640, 3", (640, 640, 3)),
        ("784", (784,)),
        ("+5x5", (5, 5)),
    ],
)
def test_parse_shape(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "3x",
        "x3",
        "3xx3",
        "3.5x2",
        "0x5",
        "5x0x3",
        "-3x5",
        "3@",
        "@512x512",
        "3x2@5x5",
        "0@5x5",
        "a@5x5",
        "3@5xa",
        "3@5@5",
        "5 5",
    ],
)
def test_parse_shape_rejects(text):
    with pytest.raises(InputError) as info:
        parse_shape(text)
    assert info.value.param == "in"


def test_parse_shape_names_the_param_it_is_given():
    with pytest.raises(InputError) as info:
        parse_shape("nope", param="shape")
    assert info.value.param == "shape"


@pytest.mark.parametrize(
    "text, values",
    [
        ("3x5", (3, 5)),
        ("3", (3,)),
        (" 7 ", (7,)),
        ("1x2x3", (1, 2, 3)),
        ("-1", (-1,)),
        ("3x-2", (3, -2)),
        ("3,5", (3, 5)),
        ("3 × 5", (3, 5)),
    ],
)
def test_parse_ints(text, values):
    assert parse_ints(text, "k") == values


@pytest.mark.parametrize("text", ["", "x", "3x", "3.0", "three", "3 5", "3xx5"])
def test_parse_ints_rejects(text):
    with pytest.raises(InputError) as info:
        parse_ints(text, "s")
    assert info.value.param == "s"


def test_format_shape_round_trips():
    assert format_shape((642, 320, 5)) == "642x320x5"
    assert parse_shape(format_shape((16, 112, 112, 3))) == (16, 112, 112, 3)


def test_string_and_tuple_inputs_agree():
    assert conv("3@512x512", out=10, k=7, p=3) == conv((512, 512, 3), out=10, k=7, p=3)
