"""Building a spec as a PyTorch module and checking it against convcalc's numbers (convcalc.io.torch_verify):
every bundled example, layer by layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import EXAMPLES

from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import load

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_export_builds_and_matches_every_layer(path: Path) -> None:
    from convcalc.io.torch_verify import build_module, verify

    network = load(path)
    report = analyze(network)
    assert verify(report) == []
    model = build_module(network)
    assert sum(p.numel() for p in model.parameters()) == report.params


def test_exported_names_nest_like_torchvision() -> None:
    from convcalc.io.torch_verify import build_module

    model = build_module(load(EXAMPLES / "resnet50.yaml"))
    names = dict(model.named_parameters())
    assert names["layer3.2.conv1.weight"].shape == (256, 1024, 1, 1)
    assert names["layer2.0.downsample.0.weight"].shape == (512, 256, 1, 1)
    assert names["fc.weight"].shape == (1000, 2048)
