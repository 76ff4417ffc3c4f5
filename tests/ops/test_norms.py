"""Normalisations (layernorm, rmsnorm, groupnorm, instancenorm, lrn): params and buffers as PyTorch's modules count
them, FLOPs, fields, refusals, export, and against PyTorch over random shapes (torch-marked)."""

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
from convcalc.specfile.loader import load_text


def one(shape: str, layer: str) -> Any:
    return list(rows_of(f"input: {shape}\nlayers:\n  - {layer}\n").values())[-1]


@pytest.mark.parametrize(
    ("shape", "layer", "params", "buffers", "flops_per_element"),
    [
        ("56x56x96", "layernorm", 2 * 96, 0, 7),  # ConvNeXt-T's stage 1: weight and bias of 96
        ("56x56x96", "layernorm: {bias: false}", 96, 0, 6),
        ("56x56x96", "layernorm: {elementwise_affine: false}", 0, 0, 5),
        ("7x6x8", "layernorm: {normalized_shape: [6, 8]}", 2 * 48, 0, 7),
        ("197x768", "layernorm: {eps: 1.0e-6}", 2 * 768, 0, 7),  # a ViT-B token sequence
        ("7x6x8", "rmsnorm", 8, 0, 4),
        ("7x6x8", "rmsnorm: {shape: [7, 6, 8], affine: false}", 0, 0, 3),
        ("32x32x256", "groupnorm: {groups: 32}", 2 * 256, 0, 7),
        ("32x32x256", "groupnorm: {num_groups: 32, num_channels: 256, affine: false}", 0, 0, 5),
        ("32x32x256", "groupnorm: {groups: 1, bias: false}", 256, 0, 6),
        ("9x9x16", "instancenorm", 0, 0, 5),  # PyTorch's defaults: no affine, no running statistics
        ("9x9x16", "instancenorm: {affine: true}", 2 * 16, 0, 7),
        ("9x9x16", "instancenorm: {affine: true, track_running_stats: true}", 2 * 16, 2 * 16, 2),
        ("9x9x16", "instancenorm2d: {num_features: 16, affine: true, bias: false}", 16, 0, 6),
        ("55x55x96", "lrn: {size: 5, alpha: 0.0001, beta: 0.75, k: 2}", 0, 0, 9),  # AlexNet's
    ],
)
def test_params_buffers_and_flops_by_hand(
    shape: str, layer: str, params: int, buffers: int, flops_per_element: int
) -> None:
    row = one(shape, layer)
    elements = prod(int(n) for n in shape.split("x"))
    assert (row.params, row.buffers, row.flops, row.macs) == (params, buffers, flops_per_element * elements, 0)
    assert row.output_shape == tuple(int(n) for n in shape.split("x"))


def test_fields() -> None:
    pointwise = [one("7x6x8", layer).field for layer in ("layernorm", "rmsnorm", "lrn: {size: 3}",
                                                           "instancenorm: {track_running_stats: true}")]  # fmt: skip
    assert all(f.receptive_field == (1, 1) and not f.whole and not f.unknown for f in pointwise)
    # statistics over every position: each output depends on the whole input
    for layer in ("groupnorm: {groups: 2}", "instancenorm", "layernorm: {shape: [7, 6, 8]}"):
        assert one("7x6x8", layer).field.whole, layer
    partial = one("7x6x8", "layernorm: {shape: [6, 8]}").field
    assert partial.unknown == "layernorm over grid axis 1 but not 0: no one window describes the field"


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            "layernorm: {shape: 6}",
            "shape [6] must be the sizes of the input's last axes (channels last), got input 7x6x8",
        ),
        ("layernorm: {shape: [7, 8]}", "shape [7, 8] must be the sizes"),
        ("rmsnorm: {shape: [1, 7, 6, 8]}", "shape [1, 7, 6, 8] must be the sizes"),
        ("groupnorm: {groups: 3}", "8 channels cannot be divided into 3 groups"),
        ("groupnorm: {groups: 2, channels: 4}", "channels 4 is not the input's 8"),
        ("groupnorm", "groups"),
        ("instancenorm: {num_features: 6}", "channels 6 is not the input's 8"),
        ("lrn", "size"),
        ("lrn: {size: 0}", "size"),
    ],
)
def test_refusals(layer: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=re.escape(message)):
        analyze(load_text(f"input: 7x6x8\nlayers:\n  - {layer}\n"))


def test_refusals_of_shapes_without_positions() -> None:
    with pytest.raises(ConvCalcError, match="instancenorm needs positions"):
        analyze(load_text("input: 8\nlayers:\n  - instancenorm\n"))
    with pytest.raises(ConvCalcError, match="instancenorm needs more than one position"):
        analyze(load_text("input: 1x1x8\nlayers:\n  - instancenorm\n"))
    assert one("1x1x8", "instancenorm: {track_running_stats: true}").output_shape == (1, 1, 8)  # running statistics
    with pytest.raises(ConvCalcError, match="lrn needs positions"):
        analyze(load_text("input: 8\nlayers:\n  - lrn: {size: 3}\n"))
    assert one("8", "layernorm").params == 16 and one("8", "groupnorm: {groups: 4}").field is None


def test_export() -> None:
    text = (
        "input: 7x6x8\nlayers:\n  - layernorm: {shape: [6, 8], eps: 1.0e-6, bias: false}\n"
        "  - rmsnorm: {affine: false}\n  - groupnorm: {groups: 4, affine: false}\n"
        "  - instancenorm: {affine: true, track_running_stats: true}\n  - lrn: {size: 5, k: 2.0}\n"
    )
    source = export_torch(load_text(text))
    for line in (
        "nn.LayerNorm([6, 8], eps=1e-06, bias=False)",
        "layernorm_0 = self.layernorm_0(x.movedim(1, -1)).movedim(-1, 1)",
        "nn.RMSNorm([8], elementwise_affine=False)",
        "nn.GroupNorm(4, 8, affine=False)",
        "nn.InstanceNorm2d(8, affine=True, track_running_stats=True)",
        "nn.LocalResponseNorm(5, k=2.0)",
    ):
        assert line in source, line


# --------------------------------------------------------------------------- against PyTorch

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
NORMS = ("layernorm", "rmsnorm", "groupnorm", "instancenorm", "lrn")


@st.composite
def norms(draw: Any) -> tuple[tuple[int, ...], str, dict[str, Any]]:
    kind = draw(st.sampled_from(NORMS))
    low = 2 if kind == "instancenorm" else 1  # PyTorch has no instance norm of a tensor without positions
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=low, max_size=4)))
    args: dict[str, Any] = {}
    flag = st.booleans()
    if kind in ("layernorm", "rmsnorm"):
        count = draw(st.integers(1, len(shape)))
        args["shape"] = (
            list(shape[-count:])
            if draw(st.integers(0, 4))
            else draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
        )
        args["elementwise_affine"] = draw(flag)
        if kind == "layernorm":
            args["bias"] = draw(flag)
    elif kind == "groupnorm":
        args["groups"] = draw(st.integers(1, 6))
        args["affine"], args["bias"] = draw(flag), draw(flag)
    elif kind == "instancenorm":
        args["affine"], args["bias"], args["track_running_stats"] = draw(flag), draw(flag), draw(flag)
    else:
        args["size"] = draw(st.integers(1, 6))
    return shape, kind, args


def torch_norm(torch: Any, shape: tuple[int, ...], kind: str, args: dict[str, Any]) -> tuple[Any, int, int]:
    """The equivalent torch module run on a random (1, ...) input: (output channels last, params, running stats)."""
    nn = torch.nn
    channels = shape[-1]
    x = torch.randn(1, *shape)  # channels last
    if kind in ("layernorm", "rmsnorm"):
        module = (nn.LayerNorm(args["shape"], elementwise_affine=args["elementwise_affine"], bias=args["bias"])
                  if kind == "layernorm" else nn.RMSNorm(args["shape"], elementwise_affine=args["elementwise_affine"]))  # fmt: skip
        y = module.eval()(x[0]).unsqueeze(0)  # batch-free: the batch is never a normalised axis
    else:
        first = x.movedim(-1, 1)  # channels first
        if kind == "groupnorm":
            module = nn.GroupNorm(args["groups"], channels, affine=args["affine"], bias=args["bias"])
        elif kind == "instancenorm":
            cls = {3: nn.InstanceNorm1d, 4: nn.InstanceNorm2d, 5: nn.InstanceNorm3d}.get(first.dim())
            if cls is None:
                raise ValueError("no InstanceNorm of this rank")
            module = cls(
                channels, affine=args["affine"], bias=args["bias"], track_running_stats=args["track_running_stats"]
            )
        else:
            module = nn.LocalResponseNorm(args["size"])
        y = module.eval()(first).movedim(1, -1)
    stats = sum(b.numel() for n, b in module.named_buffers() if n.endswith(("running_mean", "running_var")))
    return y[0], sum(p.numel() for p in module.parameters()), stats


@pytest.mark.torch
@SETTINGS
@given(norms())
def test_norms_against_torch(case: tuple[tuple[int, ...], str, dict[str, Any]]) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module, verify

    shape, kind, args = case
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected, params, stats = torch_norm(torch, shape, kind, args)
    except (RuntimeError, ValueError):
        expected = None
    layer = ", ".join(
        f"{key}: {str(value).lower() if isinstance(value, bool) else value}" for key, value in args.items()
    )
    text = f"input: {list(shape)}\nlayers:\n  - {kind}: {{{layer}}}\n"
    try:
        report = analyze(load_text(text))
    except ConvCalcError as error:
        if kind == "instancenorm" and len(shape) > 4:
            return  # analysed (any rank, as bn), not exported: PyTorch has no InstanceNorm4d
        assert expected is None, (text, error)
        return
    if kind == "instancenorm" and len(shape) > 4:
        return
    assert expected is not None, text
    row = report.rows[0]
    assert (row.output_shape, row.params, row.buffers, row.macs) == (tuple(expected.shape), params, stats, 0), text
    assert verify(report) == []
    # the exported module computes the same numbers (fresh modules: weights 1, biases 0, running stats 0 and 1)
    model = build_module(report, device="cpu").eval()
    x = torch.randn(1, *shape)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = model(x.movedim(-1, 1) if len(shape) > 1 else x)
        reference = torch_norm_values(torch, x, kind, args)
    y = y.movedim(1, -1) if len(shape) > 1 else y
    assert torch.allclose(y[0], reference, atol=1e-5), text


def torch_norm_values(torch: Any, x: Any, kind: str, args: dict[str, Any]) -> Any:
    """The functional form on the channels-last input (1, *shape): what the exported module must compute."""
    F = torch.nn.functional
    if kind == "layernorm":
        return F.layer_norm(x, args["shape"])[0]
    if kind == "rmsnorm":
        return F.rms_norm(x, args["shape"])[0]
    first = x.movedim(-1, 1)
    if kind == "groupnorm":
        out = F.group_norm(first, args["groups"])
    elif kind == "instancenorm":
        channels = first.shape[1]
        stats = (torch.zeros(channels), torch.ones(channels)) if args["track_running_stats"] else (None, None)
        out = F.instance_norm(first, *stats, use_input_stats=not args["track_running_stats"])
    else:
        out = F.local_response_norm(first, args["size"])
    return out.movedim(1, -1)[0]
