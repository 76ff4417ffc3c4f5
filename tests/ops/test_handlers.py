"""What ops do to their inputs (convcalc.ops.handlers): the `mul` (gates, squeeze-and-excitation) and `crop`
(unpadded U-Net skips) ops, in a spec, in torch export and verification, and in import."""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import rows_of

from convcalc.errors import SpecError
from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import load_text

SE = """\
input: 64x64x8
layers:
  - conv: {out: 8, k: 3, name: a}
  - conv: {out: 8, k: 3, name: b}
  - crop: {p: 2, from: input, name: skip}
  - concat: {from: [skip, b], name: cat}
  - adaptive_avgpool: {size: 1, name: squeeze}
  - conv: {out: 16, k: 1, name: excite}
  - sigmoid: {name: gate}
  - mul: {from: [cat, gate], name: scaled}
"""


def test_crop_removes_the_border_and_shifts_the_field() -> None:
    r = rows_of(SE)
    assert r["skip"].output_shape == (64 - 2 - 2, 64 - 2 - 2, 8)
    assert r["skip"].field.start == (Fraction(2), Fraction(2))  # output unit 0 is input pixel 2
    assert r["skip"].field.receptive_field == (1, 1)
    assert r["cat"].output_shape == (60, 60, 16)


def test_mul_broadcasts_a_gate_over_the_grid() -> None:
    r = rows_of(SE)
    assert r["scaled"].output_shape == (60, 60, 16)
    assert r["scaled"].flops == 60 * 60 * 16  # one multiply per output element
    assert r["scaled"].field.receptive_field == (64, 64)  # the gate saw the whole input
    assert r["scaled"].field.jump == (1, 1)  # the gate is broadcast: not a misaligned path
    assert r["scaled"].warnings == ()


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("mul: {from: [a, input]}", "mul needs equal sizes (or 1 to broadcast), got 62x62x4, 64x64x8"),
        ("mul: {from: [a]}", "mul needs at least two inputs, got 1"),
        ("crop: {p: 32, from: a}", "cropping [[32, 32], [32, 32]] leaves nothing of 62x62"),
    ],
)
def test_bad_mul_and_crop(layer: str, message: str) -> None:
    text = f"input: 64x64x8\nlayers:\n  - conv: {{out: 4, k: 3, name: a}}\n  - {layer}\n"
    with pytest.raises(SpecError) as info:
        load_text_and_analyze(text)
    assert message in str(info.value)
    assert info.value.line == 4


def load_text_and_analyze(text: str) -> None:
    analyze(load_text(text, "net.yaml"))


@pytest.mark.torch
def test_mul_and_crop_export_and_verify_in_torch() -> None:
    pytest.importorskip("torch")
    from convcalc.io.torch_export import export_torch
    from convcalc.io.torch_verify import build_module, verify

    network = load_text(SE, "se.yaml")
    source = export_torch(network)
    assert "skip = x[:, :, 2:62, 2:62]" in source
    assert "scaled = cat * gate" in source
    assert verify(analyze(network)) == []
    import torch

    model = build_module(network, "cpu")
    with torch.no_grad():
        assert tuple(model(torch.zeros(1, 8, 64, 64)).shape) == (1, 16, 60, 60)


@pytest.mark.torch
def test_import_turns_a_product_into_mul(tmp_path) -> None:
    pytest.importorskip("torch")
    from convcalc.frontends.torch_models import import_text as import_torch

    (tmp_path / "gate.py").write_text(
        "from torch import nn\n\n"
        "class Gate(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.pool = nn.AdaptiveAvgPool2d(1)\n"
        "        self.fc = nn.Conv2d(8, 8, 1)\n"
        "        self.act = nn.Sigmoid()\n\n"
        "    def forward(self, x):\n"
        "        return x * self.act(self.fc(self.pool(x)))\n"
    )
    text = import_torch(f"{tmp_path / 'gate.py'}:Gate", (16, 16, 8))
    assert "from: [input, act], name: mul}" in text
    assert analyze(load_text(text, "gate.yaml")).output_shape == (16, 16, 8)


def test_batch_norm_without_running_statistics_sees_every_position() -> None:
    # PyTorch normalises with the batch's own mean and variance then (in eval too): each output depends on all
    # positions of its channel, so the field is the whole input; with running statistics it is pointwise
    from convcalc.graph.analysis import analyze
    from convcalc.specfile.loader import load_text

    batch_stats = analyze(load_text("input: 8x8x3\nlayers:\n  - bn: {track_running_stats: false}\n")).rows[0].field
    running = analyze(load_text("input: 8x8x3\nlayers:\n  - bn\n")).rows[0].field
    assert batch_stats.whole and not running.whole and running.receptive_field == (1, 1)
