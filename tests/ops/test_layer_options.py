"""One layer from options written as text (convcalc.ops.layer_options), as ``convcalc layer`` passes them: the
same result as the one-layer API, the options each op takes from the catalogue, errors naming the option."""

from __future__ import annotations

import pytest

from convcalc.core import layer as layers
from convcalc.errors import ConvCalcError
from convcalc.ops.catalogue import LAYER_OPS, op
from convcalc.ops.layer_options import layer_from_options, layer_op


def test_text_options_give_the_api_result() -> None:
    options = {"out": "16", "k": "3x5", "s": "1x2", "p": "same", "g": "2", "bias": False}
    result = layer_from_options("Conv2d", "32x32x4", options, "2")
    assert result == layers.conv((32, 32, 4), out=16, k=(3, 5), s=(1, 2), p="same", g=2, bias=False, batch=2)
    assert layer_from_options("linear", "784", {"out": "10"}) == layers.linear((784,), 10)
    pool = layer_from_options("maxpool", "7x7x8", {"k": "2", "ceil": True})
    assert pool == layers.maxpool((7, 7, 8), k=2, ceil=True)


def test_every_layer_op_takes_its_catalogue_options_only() -> None:
    every = ("out", "k", "s", "p", "d", "g", "output_padding", "ceil", "bias")
    for name in LAYER_OPS:
        for option in every:
            if option in (op(name).layer_options or ()):
                continue
            with pytest.raises(ConvCalcError, match=f"not an option of {name}") as error:
                layer_from_options(name, "8x8x3", {option: True if option == "ceil" else "1"})
            assert error.value.param == option


@pytest.mark.parametrize(
    ("op_name", "options", "param"),
    [
        ("conv", {}, "k"),
        ("linear", {}, "out"),
        ("conv", {"k": "3", "g": "2x2"}, "g"),
        ("conv", {"k": "3", "p": "half"}, "p"),
        ("deconv", {"k": "3", "output_padding": "x"}, "output_padding"),
    ],
)
def test_errors_name_the_option(op_name: str, options: dict, param: str) -> None:
    with pytest.raises(ConvCalcError) as error:
        layer_from_options(op_name, "8x8x3", options)
    assert error.value.param == param


def test_ops_layer_does_not_compute_are_refused_by_name() -> None:
    assert layer_op("ConvTranspose2d") == "deconv"
    with pytest.raises(ConvCalcError, match="is an op of network specs") as error:
        layer_op("concat")
    assert error.value.param == "op"
    with pytest.raises(ConvCalcError, match="unknown op 'nope'"):
        layer_op("nope")
