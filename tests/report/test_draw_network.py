"""`net --draw`: the network diagram. Box counts and paths worked out by hand from the architectures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from helpers import EXAMPLES, cli, cli_ok

from convcalc.report.draw_network import draw_network
from convcalc.run import analyze_spec

SVG = "{http://www.w3.org/2000/svg}"


def diagram(name: str, depth: str | None = None) -> ET.Element:
    run = analyze_spec(str(EXAMPLES / f"{name}.yaml"), depth_text=depth)
    return ET.fromstring(draw_network(run.report, run.depth).encode("utf-8"))


def boxes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "box"]


def paths(root: ET.Element, op: str) -> set[tuple[str, str]]:
    """(from, to) of every path drawn as an arc or as a pair of numbered connectors."""
    found = set()
    for element in root.iter():
        if element.get("class") in (f"arc {op}", f"connector {op}"):
            found.add((element.get("data-from"), element.get("data-to")))
    return found


def test_lenet5_is_one_box_per_feature_map():
    shapes = [box.get("data-shape") for box in boxes(diagram("lenet5"))]
    # input, C1, S2, C3, S4, C5, flatten, F6, output: LeCun et al. 1998's maps
    assert shapes == ["32x32x1", "28x28x6", "14x14x6", "10x10x16", "5x5x16", "1x1x120", "120", "84", "10"]


def test_resnet50_folded_is_one_box_per_bottleneck():
    root = diagram("resnet50", "0")
    names = [box.get("data-name") for box in boxes(root)]
    # input, conv1 (bn1 and relu drawn with it), maxpool, 3+4+6+3 bottlenecks, avgpool, flatten, fc
    assert len(names) == 1 + 2 + 16 + 3
    assert names[3:5] == ["layer1.0", "layer1.1"] and names[-4] == "layer4.2"
    assert paths(root, "add") == set()  # folded: the residual paths are inside the blocks


def test_resnet50_open_draws_every_residual_path():
    root = diagram("resnet50")
    # one add per bottleneck: 16 residual paths, each skipping boxes (4 projection shortcuts from conv3 past the
    # downsample conv, 12 identity shortcuts from the previous block's add)
    residual = paths(root, "add")
    assert len(residual) == 16
    assert ("layer1.0.add_10", "layer1.1.add_8") in residual


def test_unet_draws_its_four_skip_concats():
    root = diagram("unet")
    skips = {(a, b) for a, b in paths(root, "concat")}
    assert skips == {(f"enc{i}.conv2", f"dec{i}.cat") for i in range(1, 5)}


def test_densenet121_folded_stays_small():
    root = diagram("densenet121", "0")
    assert len(boxes(root)) <= 20
    width = float(root.get("width"))
    assert width <= 1200


def test_net_draw_writes_the_diagram_and_prints_the_table(tmp_path):
    target = tmp_path / "net.svg"
    result = cli("net", "lenet5", "--draw", str(target))
    assert result.exit_code == 0, result.output
    assert "C3" in result.stdout and result.stderr == f"wrote {target}\n"
    assert len(boxes(ET.fromstring(target.read_bytes()))) == 9


def test_names_from_the_spec_are_escaped(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text("name: 'a <b> & \"c\"'\ninput: 8x8x3\nlayers:\n  - conv: {out: 4, k: 3, name: '<x&y>'}\n", encoding="utf-8")
    result = cli_ok("net", str(spec), "--format", "json")
    assert result.exit_code == 0
    run = analyze_spec(str(spec))
    root = ET.fromstring(draw_network(run.report).encode("utf-8"))
    assert [box.get("data-name") for box in boxes(root)] == ["input", "<x&y>"]


def test_net_draw_errors_are_one_line(tmp_path, monkeypatch):
    from helpers import usage_error

    monkeypatch.chdir(tmp_path)
    assert usage_error("net", "lenet5", "--compare", "--draw", "x.svg") == (
        "convcalc: error: --draw: cannot be combined with --compare, which shows every convention's totals only"
    )
    assert usage_error("net", "lenet5", "--draw", "/nonexistent/dir/x.svg") == (
        "convcalc: error: --draw: cannot write /nonexistent/dir/x.svg: No such file or directory"
    )
    assert not (tmp_path / "x.svg").exists()
