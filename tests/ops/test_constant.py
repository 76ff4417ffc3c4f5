"""``constant``: a non-learnable tensor without an input (a registered buffer, or with ``buffer: false`` a tensor made
in forward). The plain tests work the numbers by hand; the torch-marked one builds the exported module and compares
it with a hand-written module that holds such a buffer (params, buffers, MACs by FlopCounterMode, output shape)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.io.torch_export import export_torch
from convcalc.ops.catalogue import canonical_op
from convcalc.specfile.loader import load_text
from tests.helpers import rows_of

# Swin V2's continuous position bias: a 2-layer MLP of a fixed 13x13x2 coordinate table, added to 49x49 scores
CPB = """
name: cpb
input: 7x7x8
layers:
  - constant: {shape: [13, 13, 2], name: table}
  - linear: {out: 16, name: mlp.0}
  - relu: {name: mlp.1}
  - linear: {out: 3, bias: false, name: mlp.2}
  - constant: {shape: [8], buffer: false, name: zeros}
  - add: {from: [input, zeros], name: out}
"""


def test_buffers_params_and_costs_by_hand() -> None:
    rows = rows_of(CPB)
    table, zeros = rows["table"], rows["zeros"]
    assert (table.output_shape, table.params, table.buffers, table.macs, table.flops) == ((13, 13, 2), 0, 338, 0, 0)
    assert (zeros.output_shape, zeros.params, zeros.buffers, zeros.macs, zeros.flops) == ((8,), 0, 0, 0, 0)
    assert rows["mlp.0"].macs == 13 * 13 * 2 * 16  # the linear reads the table: 169 rows of 2 -> 16
    assert rows["mlp.2"].macs == 13 * 13 * 16 * 3
    report = analyze(load_text(CPB))
    assert report.params == 2 * 16 + 16 + 16 * 3 and report.buffers == 338


def test_its_field_is_empty() -> None:
    from convcalc.report.cells import field_text

    rows = rows_of(CPB)
    assert rows["table"].field.start == (Fraction(0), Fraction(0))
    assert field_text(rows["table"]) == ("0x0", "0x0")


def test_aliases_and_refusals() -> None:
    assert canonical_op("buffer") == canonical_op("register_buffer") == "constant"
    with pytest.raises(ConvCalcError, match="from"):
        analyze(load_text("input: 4x4x2\nlayers:\n  - relu: {name: a}\n  - constant: {shape: [2], from: a}\n"))
    with pytest.raises(ConvCalcError):
        load_text("input: 4x4x2\nlayers:\n  - constant: {shape: [0]}\n")


def test_export_registers_a_buffer_or_makes_zeros_in_forward() -> None:
    source = export_torch(load_text(CPB))
    assert "self.register_buffer('table', torch.zeros(13, 13, 2))" in source
    assert "table = self.table.movedim(-1, 0).expand(x.shape[0], -1, -1, -1)" in source
    assert "zeros = torch.zeros(8, device=x.device).expand(x.shape[0], -1)" in source
    nested = export_torch(load_text("input: 4x2\nlayers:\n  - constant: {shape: [2, 3], name: blk.m}\n"
                                    "  - matmul: {from: [input, blk.m]}\n"))
    assert "self.blk.register_buffer('m', torch.zeros(2, 3))" in nested
    assert "self.get_buffer('blk.m')" in nested


@pytest.mark.torch
def test_the_export_matches_a_module_holding_a_buffer() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from convcalc.io.torch_verify import build_module

    class Cpb(nn.Module):  # the same computation written by hand: a buffer table through an MLP, zeros added
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("table", torch.rand(13, 13, 2))
            self.mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3, bias=False))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.mlp(self.table)
            return x + torch.zeros(8, 1, 1)

    report = analyze(load_text(CPB))
    exported = build_module(load_text(CPB), device="cpu")
    reference = Cpb()
    for model in (exported, reference):
        assert sum(p.numel() for p in model.parameters()) == report.params
        assert sum(b.numel() for b in model.buffers()) == report.buffers
    x = torch.randn(1, 8, 7, 7)
    with FlopCounterMode(display=False) as counter:
        out = reference(x)
    assert report.macs == counter.get_total_flops() // 2
    assert tuple(exported(x).shape) == tuple(out.shape) == (1, 8, 7, 7)
