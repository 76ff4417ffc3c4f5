"""A spec analysed from options written as text (convcalc.run), as ``convcalc net`` passes them."""

from __future__ import annotations

import pytest
from helpers import EXAMPLES

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.run import analyze_spec, layer_index, parse_max_layers
from convcalc.specfile.loader import load

LENET = str(EXAMPLES / "lenet5.yaml")


def test_options_as_text_give_the_analysis() -> None:
    run = analyze_spec(LENET, batch_text="4", depth_text="0")
    assert run.report.macs == analyze(load(LENET), 4).macs
    assert run.depth == 0
    assert analyze_spec(LENET, input_text="64x64x1").graph.input_shape == (64, 64, 1)


@pytest.mark.parametrize(
    ("options", "param"),
    [({"input_text": "64x64"}, "input"), ({"batch_text": "2x2"}, "batch"), ({"depth_text": "-1"}, "depth"),
     ({"max_layers": "0"}, "max_layers")],
)  # fmt: skip
def test_errors_name_the_option(options: dict, param: str) -> None:
    with pytest.raises(ConvCalcError) as error:
        analyze_spec(LENET, **options)
    assert error.value.param == param


def test_layer_index_and_limits() -> None:
    graph = load(LENET)
    assert graph.nodes[layer_index(graph, "C5", "lenet5")].name == "C5"
    with pytest.raises(ConvCalcError, match="no layer named 'C9' in lenet5") as error:
        layer_index(graph, "C9", "lenet5")
    assert error.value.param == "explain"
    assert parse_max_layers("12") == 12
