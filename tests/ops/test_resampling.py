"""Resampling (issue 11): ``interpolate`` by size or scale in every mode -- shapes, FLOPs, fields (exact or unknown
with a reason), refusals, export -- and against PyTorch over random shapes (torch-marked): the output and the
refusals of ``F.interpolate``, and every exact field against the support of the gradient."""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from math import floor, prod
from typing import Any

import pytest
from helpers import rows_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.io.torch_export import export_torch
from convcalc.ops.catalogue import canonical_op
from convcalc.ops.handlers import OPS
from convcalc.specfile.loader import load_text


def spec(shape: str, layer: str) -> str:
    return f"input: {shape}\nlayers:\n  - {layer}\n"


def one(shape: str, layer: str) -> Any:
    return list(rows_of(spec(shape, layer)).values())[-1]


@pytest.mark.parametrize(
    ("shape", "layer", "out", "flops"),
    [
        ("5x6x3", "interpolate: {scale: 2}", (10, 12, 3), 0),
        ("5x6x3", "interpolate: {scale: 1.5, mode: nearest-exact}", (7, 9, 3), 0),  # floor(5 * 1.5) = 7
        ("5x6x3", "interpolate: {size: [7, 9], mode: bilinear}", (7, 9, 3), 7 * 7 * 9 * 3),  # 4 multiplies, 3 adds
        ("8x3", "interpolate: {scale: 2.5, mode: linear, align_corners: true}", (20, 3), 3 * 20 * 3),
        ("3x3x3x2", "interpolate: {scale: [2, 1, 0.5], mode: trilinear}", (6, 3, 1, 2), 15 * 6 * 3 * 1 * 2),
        ("5x6x3", "interpolate: {scale: [2, 2.5], mode: bicubic}", (10, 15, 3), 31 * 10 * 15 * 3),  # 16 taps
        ("8x6x3", "interpolate: {scale: 0.5, mode: area}", (4, 3, 3), 8 * 6 * 3),  # average pooling 2, stride 2
        ("7x10x3", "interpolate: {size: [3, 4], mode: area}", (3, 4, 3), (3 + 3 + 3) * (3 + 3 + 3 + 3) * 3),  # bins [0, 3) [2, 5) [4, 7); [0, 3) [2, 5) [5, 8) [7, 10)
        ("4x3", "resize: {scale_factor: 0.3}", (1, 3), 0),
    ],
)
def test_shapes_and_flops(shape: str, layer: str, out: tuple[int, ...], flops: int) -> None:
    row = one(shape, layer)
    assert row.output_shape == out and row.flops == flops and row.macs == 0 and row.params == 0


def local(shape: tuple[int, ...], **args: Any) -> Any:
    return OPS["interpolate"](args, [shape])


def test_exact_fields() -> None:
    up = local((5, 6, 3), scale=[2, 3])  # nearest: output i reads input i // k
    assert (up.field, up.receptive_field, up.jump, up.start) == ("window", (1, 1), (Fraction(1, 2), Fraction(1, 3)), (0, 0))
    down = local((8, 6, 3), scale=0.5)  # nearest: output i reads input 2i
    assert (down.receptive_field, down.jump, down.start) == ((1, 1), (2, 2), (0, 0))
    exact = local((9, 3), size=3, mode="nearest-exact")  # output i reads input 3i + 1
    assert (exact.receptive_field, exact.jump, exact.start) == ((1,), (3,), (1,))
    area = local((8, 6, 3), size=[4, 2], mode="area")  # average pooling (2, 3), stride (2, 3)
    assert (area.receptive_field, area.jump, area.start) == ((2, 3), (2, 3), (0, 0))
    assert one("16x16x1", "interpolate: {size: 4, mode: area}").field.receptive_field == (4, 4)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"scale": 2, "mode": "bilinear"}, "bilinear interpolation weighs 2 or 4 inputs per axis"),
        ({"scale": 2, "mode": "bicubic"}, "bicubic interpolation weighs"),
        ({"scale": 1.5}, "nearest interpolation from 6 to 9 positions has no integer ratio"),
        ({"size": [4, 3]}, "nearest interpolation from 6 to 4 positions has no integer ratio"),
        ({"scale": [1 / 3, 1]}, "from 6 to 2 positions"),  # PyTorch maps by 1/scale, not exactly 3
        ({"size": [4, 4], "mode": "area"}, "area interpolation from 6 to 4 positions"),  # uneven bins
    ],
)
def test_unknown_fields_say_why(args: dict[str, Any], reason: str) -> None:
    result = local((6, 6, 2), **args)
    assert result.field == "unknown" and reason in result.field_note
    row = one("6x6x2", "interpolate: " + str(args).replace("'", ""))
    assert row.field.unknown and reason in row.field.unknown


@pytest.mark.parametrize(
    ("shape", "layer", "message"),
    [
        ("5x6x3", "interpolate: {scale: 2, size: 3}", "size: give exactly one of size and scale"),
        ("5x6x3", "interpolate: {mode: bilinear}", "scale: give exactly one of size and scale"),
        ("5x6x3", "interpolate: {scale: [2, 2, 2]}", "scale: has 3 values but the input has 2 spatial dimensions"),
        ("5x6x3", "interpolate: {size: [7]}", "size: has 1 values but the input has 2 spatial dimensions"),
        ("5x6x3", "interpolate: {scale: 2, mode: linear}", "linear interpolation needs 1 spatial dimension, got 2"),
        ("5x3", "interpolate: {scale: 2, mode: bicubic}", "bicubic interpolation needs 2 spatial dimensions, got 1"),
        ("5x6x3", "interpolate: {scale: 2, align_corners: true}", "align_corners: is only for the linear modes"),
        ("5x6x3", "interpolate: {scale: 0.1}", "scale: gives an output of 0x0"),
        ("5x6x3", "interpolate: {scale: -1}", "scale: gives an output of -5x-6"),
        ("2x2x2x2x1", "interpolate: {scale: 2}", "interpolate takes 1 to 3 spatial dimensions"),
        ("5", "interpolate: {scale: 2}", "interpolate needs at least one spatial dimension"),
        ("5x6x3", "interpolate: {scale: 2, mode: cubic}", "mode"),
        ("5x6x3", "interpolate: {size: 0}", "size"),
    ],
)
def test_refusals(shape: str, layer: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=re.escape(message)):
        analyze(load_text(spec(shape, layer)))


def test_spellings_and_upsample_unchanged() -> None:
    assert canonical_op("resize") == "interpolate" and canonical_op("interpolate") == "interpolate"
    row = one("5x6x3", "upsample: {scale: 2, mode: bicubic}")  # nn.Upsample keeps its own rule
    assert row.output_shape == (10, 12, 3) and row.flops == 7 * 10 * 12 * 3 and row.field.receptive_field == (4, 4)


def test_export_writes_f_interpolate() -> None:
    source = export_torch(load_text(spec("5x6x3", "interpolate: {scale: [1.5, 2], mode: bilinear, align_corners: true}")))
    assert "torch.nn.functional.interpolate(x, scale_factor=(1.5, 2.0), mode='bilinear', align_corners=True)" in source
    source = export_torch(load_text(spec("5x6x3", "interpolate: {size: 4, mode: area}")))
    assert "torch.nn.functional.interpolate(x, size=(4, 4), mode='area')" in source


# --------------------------------------------------------------------------- against PyTorch

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area")
SCALES = (0.25, 0.5, 1 / 3, 0.75, 1, 1.5, 2, 2.5, 3, 4, 0.1, -1.0)


@st.composite
def cases(draw: Any) -> tuple[tuple[int, ...], dict[str, Any]]:
    rank = draw(st.integers(1, 3))
    shape = (*draw(st.lists(st.integers(1, 7), min_size=rank, max_size=rank)), draw(st.integers(1, 2)))
    args: dict[str, Any] = {"mode": draw(st.sampled_from(MODES))}
    how = draw(st.sampled_from(["size", "scale", "scales", "both", "neither"]))
    counts = st.integers(rank - 1 if rank > 1 else 1, rank + 1) if draw(st.integers(0, 9)) == 0 else st.just(rank)
    if how in ("size", "both"):
        args["size"] = draw(st.integers(1, 12) | st.lists(st.integers(1, 12), min_size=1, max_size=4).filter(lambda v: len(v) in (1, rank, rank + 1)))
    if how in ("scale", "both"):
        args["scale"] = draw(st.sampled_from(SCALES))
    if how == "scales":
        args["scale"] = [draw(st.sampled_from(SCALES)) for _ in range(draw(counts))]
    if draw(st.integers(0, 3)) == 0:
        args["align_corners"] = draw(st.booleans())
    return shape, args


def torch_kwargs(args: dict[str, Any]) -> dict[str, Any]:
    kwargs = {key: value for key, value in args.items() if key != "scale"}
    if "scale" in args:
        kwargs["scale_factor"] = tuple(args["scale"]) if isinstance(args["scale"], list) else args["scale"]
    if isinstance(kwargs.get("size"), list):
        kwargs["size"] = tuple(kwargs["size"])
    return kwargs


def layer_text(args: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        return "[" + ", ".join(map(value, v)) + "]" if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else repr(v)

    return "interpolate: {" + ", ".join(f"{key}: {value(v)}" for key, v in args.items()) + "}"


def check_field(torch: Any, shape: tuple[int, ...], args: dict[str, Any], out: tuple[int, ...]) -> None:
    """Every output position's input-gradient support is its window: [start + i jump, + receptive_field) per axis,
    fractional positions floored (output i of an upscale by k reads input i // k)."""
    result = OPS["interpolate"](args, [shape])
    spatial = shape[:-1]
    if result.field != "window" or prod(spatial) * prod(out[:-1]) > 60_000:
        return
    kwargs = torch_kwargs(args)

    def resample(x: Any) -> Any:
        return torch.nn.functional.interpolate(x[None, None], **kwargs)[0, 0]

    jacobian = torch.autograd.functional.jacobian(resample, torch.ones(spatial, dtype=torch.float64))
    rank = len(spatial)
    for position in torch.cartesian_prod(*(torch.arange(n) for n in out[:-1])).reshape(-1, rank).tolist():
        support = jacobian[tuple(position)].nonzero().tolist()
        expected = []
        for axis, i in enumerate(position):
            low = floor(result.start[axis] + i * result.jump[axis])
            expected.append(range(max(low, 0), min(low + result.receptive_field[axis], spatial[axis])))
        want = sorted(list(p) for p in __import__("itertools").product(*expected))
        assert sorted(support) == want, (shape, args, position)


@pytest.mark.torch
@SETTINGS
@given(cases())
def test_interpolate_against_torch(case: tuple[tuple[int, ...], dict[str, Any]]) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    shape, args = case
    x = torch.randn((1, shape[-1], *shape[:-1]), dtype=torch.float64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = torch.nn.functional.interpolate(x, **torch_kwargs(args))
    except (ValueError, RuntimeError, NotImplementedError, TypeError):
        expected = None
    text = f"input: {list(shape)}\nlayers:\n  - {layer_text(args)}\n"
    try:
        report = analyze(load_text(text))
    except ConvCalcError as error:
        # refused as PyTorch refuses; an empty output too, which area mode (adaptive pooling) returns
        assert expected is None or expected.numel() == 0, (text, error)
        return
    assert expected is not None, text
    row = report.rows[0]
    assert (row.output_shape[-1], *row.output_shape[:-1]) == tuple(expected.shape[1:]), text
    assert row.macs == 0 and row.params == 0
    model = build_module(report, device="cpu").double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.allclose(model(x), expected), text
    check_field(torch, shape, args, row.output_shape)


@pytest.mark.torch
def test_exact_fields_against_the_gradient_in_a_network() -> None:
    """A conv before and after: the network's field (composed from the local fields) is the gradient support of
    output unit 0 (all weights positive, so no gradient cancels)."""
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    for layer, in_size in [
        ("interpolate: {scale: 0.5, mode: area}", 18),  # the conv's 16 -> 8
        ("interpolate: {size: 4, mode: nearest-exact}", 18),
        ("interpolate: {scale: 0.25}", 18),
        ("interpolate: {size: [32, 48], mode: area}", 18),
    ]:
        text = f"input: {in_size}x{in_size}x1\nlayers:\n  - conv: {{out: 2, k: 3}}\n  - {layer}\n  - conv: {{out: 1, k: 2}}\n"
        report = analyze(load_text(text))
        field = report.rows[-1].field
        assert not field.unknown
        model = build_module(report, device="cpu").double()
        for parameter in model.parameters():
            torch.nn.init.uniform_(parameter, 0.5, 1.0)
        x = torch.rand(1, 1, in_size, in_size, dtype=torch.float64, requires_grad=True)
        model(x)[0, 0, 0, 0].backward()
        support = x.grad[0, 0].nonzero()
        for axis in range(2):
            got = (int(support[:, axis].min()), int(support[:, axis].max()) + 1)
            assert got == (int(field.start[axis]), int(field.start[axis] + field.receptive_field[axis])), (layer, got)


def test_net_verify_spec() -> None:
    pytest.importorskip("torch")
    from convcalc.io.torch_verify import verify

    network = load_text(
        "input: 12x10x3\nlayers:\n  - conv: {out: 4, k: 3, p: 1}\n  - interpolate: {scale: [1.5, 2], mode: bilinear}\n"
        "  - interpolate: {size: 6, mode: area}\n  - interpolate: {scale: 2, mode: nearest-exact}\n"
        "  - interpolate: {size: [9, 7], mode: bicubic, align_corners: true}\n  - conv: {out: 2, k: 1}\n"
    )
    assert verify(analyze(network)) == []


# --------------------------------------------------------------------------- unfold and fold


def test_unfold_and_fold_shapes_and_flops() -> None:
    row = one("6x5x3", "unfold: {k: 3, s: 2, p: 1}")  # blocks 3 x 3, each 3 x 3 x 3 values
    assert row.output_shape == (9, 27) and row.flops == 0 and row.params == 0
    assert one("6x5x3", "im2col: {kernel_size: [2, 3], dilation: 2}").output_shape == (4 * 1, 18)  # spans 3 and 5
    rows = rows_of(spec("6x5x3", "unfold: {k: 3, s: 2, p: 1}") + "  - fold: {output_size: [6, 5], k: 3, s: 2, p: 1}\n")
    assert rows["fold_1"].output_shape == (6, 5, 3) and rows["fold_1"].flops == 9 * 27


def test_unfold_field_is_the_block_and_stays_through_tokens() -> None:
    rows = rows_of(spec("6x5x3", "conv: {out: 4, k: 3, p: 1}") + "  - unfold: {k: 2, s: 2, d: 2}\n  - linear: {out: 4}\n")
    field = rows["linear_2"].field  # conv 3x3, then blocks of span 3 (dilation 2) every 2
    assert not field.unknown and (field.receptive_field, field.jump, field.start) == ((5, 5), (2, 2), (-1, -1))
    later = rows_of(spec("6x5x3", "unfold: {k: 2}") + "  - conv: {out: 4, k: 3}\n")["conv_1"].field
    assert "merges grid axes 0, 1" in later.unknown
    fold = rows_of(spec("6x5x3", "unfold: {k: 2}") + "  - fold: {size: [6, 5], k: 2}\n")["fold_1"].field
    assert fold.unknown == "fold sums blocks from a token axis into a grid: no window per grid axis"


@pytest.mark.parametrize(
    ("shape", "layer", "message"),
    [
        ("6x5", "unfold: {k: 2}", "unfold takes a grid of 2 axes and channels (H x W x C), got 6x5"),
        ("6x5x4x3", "unfold: {k: 2}", "unfold takes a grid of 2 axes"),
        ("6x5x3", "unfold: {k: 7}", "k: a grid of 6x5 with padding (0, 0) has no room for a block of span 7x7"),
        ("6x5x3", "unfold: {k: [2, 2, 2]}", "k: needs one value or two (one per grid axis), got 3"),
        ("6x5x3", "unfold: {k: 2, p: [1]}", "p: needs one value or two"),
        ("6x5x3", "unfold: {k: 0}", "k"),
        ("9x12", "fold: {size: [4, 5], k: 2}", "fold into 4x5 makes 12 blocks, the input has 9"),
        ("12x10", "fold: {size: [4, 5], k: 2}", "fold's 10 features are not a multiple of the kernel's 4 positions"),
        ("4x5x12", "fold: {size: [4, 5], k: 2}", "fold takes (L, C x kh x kw) blocks, got 4x5x12"),
    ],
)
def test_unfold_fold_refusals(shape: str, layer: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=re.escape(message)):
        analyze(load_text(spec(shape, layer)))


def test_unfold_fold_export() -> None:
    source = export_torch(load_text(spec("6x5x3", "unfold: {k: 3, s: 2, p: 1}") + "  - fold: {size: [6, 5], k: 3, s: 2, p: 1}\n"))
    assert "nn.Unfold(3, padding=1, stride=2)" in source and "nn.Fold([6, 5], 3, padding=1, stride=2)" in source


PAIR = st.integers(1, 3) | st.lists(st.integers(1, 3), min_size=1, max_size=3)


@st.composite
def block_cases(draw: Any) -> tuple[str, tuple[int, ...], dict[str, Any]]:
    args: dict[str, Any] = {"k": draw(st.integers(1, 4) | st.lists(st.integers(1, 4), min_size=1, max_size=3))}
    for key in ("d", "s"):
        if draw(st.booleans()):
            args[key] = draw(PAIR)
    if draw(st.booleans()):
        args["p"] = draw(st.integers(0, 2) | st.lists(st.integers(0, 2), min_size=1, max_size=3))
    kind = draw(st.sampled_from(["unfold", "fold"]))
    if kind == "unfold":
        rank = draw(st.sampled_from([2, 2, 2, 1, 3]))
        return kind, (*draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank)), draw(st.integers(1, 3))), args
    args["size"] = draw(st.lists(st.integers(1, 8), min_size=2, max_size=2))
    if draw(st.integers(0, 3)):  # mostly the blocks that fit: L from the block count, C x prod(k) features
        kernel = [args["k"]] * 2 if isinstance(args["k"], int) else (args["k"] * 2)[:2]
        value = {key: [args.get(key, default)] * 2 if isinstance(args.get(key, default), int) else args[key] * 2
                 for key, default in (("d", 1), ("p", 0), ("s", 1))}  # fmt: skip
        blocks = [(n + 2 * p - d * (k - 1) - 1) // s + 1
                  for n, k, d, p, s in zip(args["size"], kernel, value["d"], value["p"], value["s"])]  # fmt: skip
        return kind, (max(prod(blocks), 1), draw(st.integers(1, 3)) * kernel[0] * kernel[1]), args
    return kind, (draw(st.integers(1, 40)), draw(st.integers(1, 40))), args


def torch_blocks(torch: Any, kind: str, args: dict[str, Any]) -> Any:
    def pair(value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    keywords = {name: pair(args[key]) for key, name in (("d", "dilation"), ("p", "padding"), ("s", "stride")) if key in args}
    if kind == "fold":
        return torch.nn.Fold(pair(args["size"]), pair(args["k"]), **keywords)
    return torch.nn.Unfold(pair(args["k"]), **keywords)


@pytest.mark.torch
@SETTINGS
@given(block_cases())
def test_unfold_fold_against_torch(case: tuple[str, tuple[int, ...], dict[str, Any]]) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    kind, shape, args = case
    x = torch.randn((1, shape[-1], *shape[:-1]), dtype=torch.float64)
    try:
        expected = torch_blocks(torch, kind, args)(x)
    except (ValueError, RuntimeError, NotImplementedError, TypeError):
        expected = None
    text = f"input: {list(shape)}\nlayers:\n  - {kind}: {layer_text(args)[len('interpolate: '):]}\n"
    try:
        report = analyze(load_text(text))
    except ConvCalcError as error:
        # PyTorch takes a 3-D input as one unbatched image: convcalc's (L, C) grid has no such reading
        assert expected is None or (kind == "unfold" and len(shape) != 3), (text, error)
        return
    assert expected is not None, text
    row = report.rows[0]
    assert (row.output_shape[-1], *row.output_shape[:-1]) == tuple(expected.shape[1:]), text
    assert build_module(report, device="cpu").double()(x).equal(expected), text
    if kind == "unfold":
        check_block_fields(torch, shape, args, row.output_shape)


def check_block_fields(torch: Any, shape: tuple[int, ...], args: dict[str, Any], out: tuple[int, ...]) -> None:
    """Token l's input-gradient support lies in its block's window (row-major blocks), and spans it exactly when
    the window is inside the input."""
    result = OPS["unfold"](args, [shape])
    blocks = result.windowed_sizes[:2]
    spatial = shape[:2]
    jacobian = torch.autograd.functional.jacobian(
        lambda x: torch.nn.functional.unfold(x[None], **{k: v for k, v in torch_kw(args).items()})[0],
        torch.ones(shape[2], *spatial, dtype=torch.float64),
    )  # (F, L, C, H, W)
    for token in range(out[0]):
        position = divmod(token, blocks[1])
        support = jacobian[:, token].abs().sum((0, 1)).nonzero()
        windows = [int(result.start[a] + i * result.jump[a]) for a, i in enumerate(position)]
        if len(support) == 0:  # a block whose taps (every d-th position of its window) all fall in the padding
            k, d = (torch_kw(args).get(key, 1) for key in ("kernel_size", "dilation"))
            k, d = (k if isinstance(k, tuple) else (k, k)), (d if isinstance(d, tuple) else (d, d))
            assert any(all(not 0 <= low + j * d[a] < spatial[a] for j in range(k[a])) for a, low in enumerate(windows))
            continue
        for axis, i in enumerate(position):
            low = int(result.start[axis] + i * result.jump[axis])
            high = low + result.receptive_field[axis]
            got = (int(support[:, axis].min()), int(support[:, axis].max()) + 1)
            assert max(low, 0) <= got[0] and got[1] <= min(high, spatial[axis]), (shape, args, token)
            if low >= 0 and high <= spatial[axis]:
                assert got == (low, high), (shape, args, token)


def torch_kw(args: dict[str, Any]) -> dict[str, Any]:
    def pair(value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    names = {"k": "kernel_size", "d": "dilation", "p": "padding", "s": "stride"}
    return {names[key]: pair(value) for key, value in args.items() if key in names}


@pytest.mark.torch
def test_unfold_field_in_a_network_against_the_gradient() -> None:
    """conv 3x3, unfold 2x2 stride 2 padding 1, linear: token 0's field is 4x4 from -1, clipped to the input."""
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    report = analyze(load_text("input: 12x12x1\nlayers:\n  - conv: {out: 2, k: 3}\n  - unfold: {k: 2, s: 2, p: 1}\n"
                               "  - linear: {out: 3}\n"))  # fmt: skip
    field = report.rows[-1].field
    assert (field.receptive_field, field.start) == ((4, 4), (-1, -1))
    model = build_module(report, device="cpu").double()
    for parameter in model.parameters():
        torch.nn.init.uniform_(parameter, 0.5, 1.0)
    for token, (row, col) in [(0, (0, 0)), (6, (1, 0)), (7, (1, 1)), (35, (5, 5))]:  # conv 10x10: blocks 6 x 6
        x = torch.rand(1, 1, 12, 12, dtype=torch.float64, requires_grad=True)
        model(x)[0, :, token].sum().backward()  # channels-first (N, 3, L)
        support = x.grad[0, 0].nonzero()
        for axis, i in enumerate((row, col)):
            low = int(field.start[axis] + i * field.jump[axis])
            got = (int(support[:, axis].min()), int(support[:, axis].max()) + 1)
            assert got == (max(low, 0), min(low + int(field.receptive_field[axis]), 12)), (token, axis, got)
