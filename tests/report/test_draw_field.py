"""`net --explain LAYER --draw`: the receptive field on the input grid. Positions checked against fields worked by
hand: LeNet-5's C3 sees 5 + (2-1)*1 + (5-1)*2 = 14 inputs, start 0, jump 2; ResNet-50's conv1 sees 7 inputs from
-3 (padding 3), jump 2."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from helpers import EXAMPLES, cli

from convcalc.graph.backward import backward_recursion
from convcalc.report.draw_field import draw_field
from convcalc.run import analyze_spec, layer_index

SVG = "{http://www.w3.org/2000/svg}"


def picture(name: str, layer: str) -> ET.Element:
    path = str(EXAMPLES / f"{name}.yaml")
    run = analyze_spec(path)
    target = layer_index(run.graph, layer, path)
    return ET.fromstring(draw_field(run.report, target, backward_recursion(run.report, target)).encode("utf-8"))


def rect(root: ET.Element, css: str) -> tuple[float, float, float, float]:
    found = [r for r in root.iter(f"{SVG}rect") if r.get("class") == css]
    assert len(found) == 1, css
    return tuple(float(found[0].get(key)) for key in ("x", "y", "width", "height"))


def test_lenet5_c3_field_and_neighbour():
    root = picture("lenet5", "C3")
    x, y, width, height = rect(root, "input")
    fx, fy, fw, fh = rect(root, "field")
    nx, ny, _, _ = rect(root, "neighbour")
    assert fw / width == pytest.approx(14 / 32, rel=1e-3) and fh / height == pytest.approx(14 / 32, rel=1e-3)
    assert (fx, fy) == pytest.approx((x, y))  # start 0
    assert (nx - fx) / width == pytest.approx(2 / 32, rel=1e-3) and ny == pytest.approx(fy)  # one jump along W
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert [b.get("data-field") for b in bars] == ["5", "6", "14"]  # C1, S2, C3


def test_resnet50_conv1_field_reaches_into_the_padding():
    root = picture("resnet50", "conv1")
    x, y, _, _ = rect(root, "input")
    fx, fy, fw, _ = rect(root, "field")
    assert (x - fx) / fw == pytest.approx(3 / 7, rel=1e-3) and (y - fy) / fw == pytest.approx(3 / 7, rel=1e-3)
    assert rect(root, "padding")[0] <= fx
    text = "".join(root.itertext())
    assert "start -3" in text and "jump 2" in text and "its corner" in text


def test_a_layer_that_sees_the_whole_input_says_so():
    root = picture("lenet5", "F6")
    assert "every unit sees the whole input" in "".join(root.itertext())


def test_explain_draw_writes_the_field(tmp_path):
    target = tmp_path / "field.svg"
    result = cli("net", "lenet5", "--explain", "C3", "--draw", str(target))
    assert result.exit_code == 0, result.output
    assert "Receptive field at the input: 14x14" in result.stdout
    root = ET.fromstring(target.read_bytes())
    assert rect(root, "field")
