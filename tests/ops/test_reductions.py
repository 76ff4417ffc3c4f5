"""Reductions (mean, sum, amax, amin, var, norm) over convcalc's logical axes: shapes, FLOPs, fields, refusals,
export, and against PyTorch over random shapes (torch-marked)."""

from __future__ import annotations

import re
import warnings
from math import prod
from typing import Any

import pytest
from helpers import rows_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.io.torch_export import export_torch
from convcalc.ops.catalogue import canonical_op
from convcalc.specfile.loader import load_text

REDUCTIONS = ("mean", "sum", "amax", "amin", "var", "norm")


def spec(shape: str, layer: str) -> str:
    return f"input: {shape}\nlayers:\n  - conv: {{out: 6, k: 1, name: stem}}\n  - {layer}\n"


def one(shape: str, layer: str) -> Any:
    return list(rows_of(spec(shape, layer)).values())[-1]


def test_squeeze_and_excitation_mean_is_global_pooling_keeping_the_grid() -> None:
    row = one("7x5x6", "mean: {dims: [0, 1], keepdim: true}")  # PyTorch's x.mean((2, 3), keepdim=True)
    assert row.output_shape == (1, 1, 6)
    assert row.flops == 7 * 5 * 6 and row.macs == 0 and row.params == 0
    assert row.field.whole and not row.field.unknown


def test_without_keepdim_the_reduced_axes_go() -> None:
    assert one("7x5x6", "mean: {dims: [0, 1]}").output_shape == (6,)
    assert one("7x5x6", "sum: {dim: [1, -1], keepdim: true}").output_shape == (7, 1, 1)
    assert one("4x7x5x6", "amax: {dims: 1}").output_shape == (4, 5, 6)


@pytest.mark.parametrize(
    ("layer", "flops"),
    [
        ("mean: {dims: [0, 1]}", 7 * 5 * 6),  # adds and one divide per output element
        ("sum: {dims: [0, 1]}", 7 * 5 * 6 - 6),
        ("amax: {dims: -1}", 7 * 5 * 6 - 7 * 5),
        ("amin: {dims: 0, keepdim: true}", 7 * 5 * 6 - 5 * 6),
        ("var: {dims: [0, 1, 2], keepdim: true}", 4 * 7 * 5 * 6),
        ("norm: {dims: [0, 1], p: 1}", 2 * 7 * 5 * 6),
    ],
)
def test_flops(layer: str, flops: int) -> None:
    row = one("7x5x6", layer)
    assert row.flops == flops and row.macs == 0


def test_fields_whole_pointwise_or_unknown_with_a_reason() -> None:
    assert one("7x5x6", "mean: {dims: [0, 1, 2], keepdim: true}").field.whole
    channels = one("7x5x6", "amax: {dims: -1, keepdim: true}").field  # CBAM's spatial attention input
    assert not channels.whole and not channels.unknown and channels.receptive_field == (1, 1)
    some = one("7x5x6", "mean: {dims: 0}").field
    assert some.unknown == "mean over grid axis 0 but not 1: no one window describes the field"
    gone = one("7x5x6", "sum: {dims: -1}").field  # (7, 5): the grid axis 1 is now the last (channel) axis
    assert gone.unknown == "sum removes the channel axis: the last grid axis becomes the channel axis"


def test_a_field_after_a_whole_reduction_stays_whole_through_the_gate() -> None:
    rows = rows_of(spec("9x9x6", "mean: {dims: [0, 1], keepdim: true, name: se}") + "  - mul: {from: [stem, se]}\n")
    assert rows["mul_2"].output_shape == (9, 9, 6) and rows["mul_2"].field.whole


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("mean: {dims: 3}", "axis 3 is out of range for a tensor of 3 axes (expected -3 to 2)"),
        ("sum: {dims: [-4]}", "axis -4 is out of range"),
        ("amax: {dims: [0, -3]}", "axis 0 appears more than once in dims [0, -3]"),
        ("var: {dims: [0, 1, 2]}", "leaves one number per sample"),
        ("mean: {dims: []}", "dims"),
        ("mean: {keepdim: true}", "dims"),
        ("norm: {dims: 0, p: two}", "p"),
    ],
)
def test_refusals(layer: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=re.escape(message)):
        analyze(load_text(spec("7x5x6", layer)))


def test_spellings() -> None:
    assert canonical_op("sum") == "sum"  # torch.sum, the reduction (add is `add`)
    assert canonical_op("reduce_mean") == "mean" and canonical_op("vector_norm") == "norm"
    assert one("7x5x6", "variance: {axis: 0, keepdims: true, correction: 0}").output_shape == (1, 5, 6)


def test_export_maps_axes_to_channels_first_dims() -> None:
    source = export_torch(load_text(spec("7x5x6", "mean: {dims: [0, 1], keepdim: true}")))
    assert "stem.mean(dim=(2, 3), keepdim=True)" in source
    source = export_torch(load_text(spec("7x5x6", "sum: {dims: -1}")))
    assert "stem.sum(dim=1, keepdim=False).movedim(-1, 1)" in source  # (N, 7, 5): its channels (5) to dim 1
    source = export_torch(load_text(spec("7x5x6", "norm: {dims: 0, p: -inf}")))
    assert "torch.linalg.vector_norm(stem, ord=float('-inf'), dim=2, keepdim=False)" in source


# --------------------------------------------------------------------------- against PyTorch

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def reductions(draw: Any) -> tuple[tuple[int, ...], str, list[int], bool, dict[str, Any]]:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    kind = draw(st.sampled_from(REDUCTIONS))
    dims = draw(st.lists(st.integers(-len(shape) - 1, len(shape)), min_size=1, max_size=3))
    extra: dict[str, Any] = {}
    if kind == "var":
        extra["correction"] = draw(st.sampled_from([0, 1]))
    if kind == "norm":
        extra["p"] = draw(st.sampled_from([1.0, 2.0, 3.0, "inf", "-inf"]))
    return shape, kind, dims, draw(st.booleans()), extra


def layer_text(kind: str, dims: list[int], keep: bool, extra: dict[str, Any]) -> str:
    options = ", ".join([f"dims: {dims}", f"keepdim: {str(keep).lower()}", *(f"{k}: {v}" for k, v in extra.items())])
    return f"{kind}: {{{options}}}"


def torch_reduction(torch: Any, x: Any, kind: str, dims: list[int], keep: bool, extra: dict[str, Any]) -> Any:
    """The equivalent torch code on the batch-free, channels-last tensor: convcalc's axes are its dims."""
    if kind == "norm":
        p = extra["p"]
        return torch.linalg.vector_norm(x, ord=float(p), dim=dims, keepdim=keep)
    if kind == "var":
        return x.var(dim=dims, keepdim=keep, correction=extra["correction"])
    return getattr(x, kind)(dim=dims, keepdim=keep)


@pytest.mark.torch
@SETTINGS
@given(reductions())
def test_reductions_against_torch(case: tuple[tuple[int, ...], str, list[int], bool, dict[str, Any]]) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    shape, kind, dims, keep, extra = case
    x = torch.randn(shape, dtype=torch.float64)
    try:
        with warnings.catch_warnings():  # a variance of too few elements: nan or inf, with a warning
            warnings.simplefilter("ignore")
            expected = torch_reduction(torch, x, kind, dims, keep, extra)
    except (IndexError, RuntimeError):
        expected = None
    text = f"input: {list(shape)}\nlayers:\n  - {layer_text(kind, dims, keep, extra)}\n"
    try:
        report = analyze(load_text(text))
    except ConvCalcError as error:
        assert expected is None or expected.dim() == 0, (text, error)  # a scalar per sample: refused on purpose
        return
    assert expected is not None, text
    row = report.rows[0]
    assert row.output_shape == tuple(expected.shape), text
    assert row.macs == 0 and row.params == 0
    n, out = prod(shape), prod(row.output_shape)
    assert row.flops == {"mean": n, "sum": n - out, "amax": n - out, "amin": n - out, "var": 4 * n, "norm": 2 * n}[kind]
    # the exported module computes the same numbers on PyTorch's channels-first layout
    model = build_module(report, device="cpu").double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = model(x.unsqueeze(0).movedim(-1, 1) if len(shape) > 1 else x.unsqueeze(0))[0]
    y = y.movedim(0, -1) if y.dim() > 1 else y
    assert torch.allclose(y, expected, equal_nan=True), text


@pytest.mark.torch
def test_se_block_verifies_against_torch() -> None:
    pytest.importorskip("torch")
    from convcalc.io.torch_verify import verify

    network = load_text(
        "input: 14x14x16\nlayers:\n  - conv: {out: 16, k: 3, p: 1, name: x}\n"
        "  - mean: {dims: [0, 1], keepdim: true, name: squeeze}\n  - conv: {out: 4, k: 1}\n  - silu\n"
        "  - conv: {out: 16, k: 1}\n  - sigmoid: {name: gate}\n  - mul: {from: [x, gate]}\n"
        "  - amax: {dims: [0, 1]}\n  - linear: {out: 10}\n"
    )
    assert verify(analyze(network)) == []
