"""The SVG primitives: escaped text and attributes, documents that parse as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from convcalc.report import svg


def test_text_and_attributes_are_escaped():
    element = svg.text(1, 2, 'a < b & "c"\x01', data_name='<"x">')
    parsed = ET.fromstring(element)
    assert parsed.text == 'a < b & "c"' and parsed.get("data-name") == '<"x">'


def test_numbers_are_short():
    assert [svg.number(v) for v in (12.0, 12.5, 12.333, -0.001)] == ["12", "12.5", "12.33", "0"]


def test_a_document_parses_and_inlines():
    document = svg.document(10, 20, [svg.rect(0, 0, 5, 5, "#000")], "t & <u>", "d")
    root = ET.fromstring(document.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 10 20"
    assert svg.inline(document).startswith("<svg ")


def test_group_colours_cycle():
    assert svg.colour(0) != svg.colour(1) and svg.colour(len(svg.PALETTE)) == svg.colour(0)
