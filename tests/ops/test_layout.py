"""Layout ops (docs/spec.md, "Layout ops"): permute, transpose, movedim, reshape, flatten, unflatten, squeeze,
unsqueeze, expand, channel_shuffle, pixel_shuffle, pixel_unshuffle, slice, roll, index_select, pad with its modes.

By hand: shapes, refusals and the receptive-field rule of each op, including the grid followed through a flatten
into tokens (graph/layout.py). Against torch (marked): random shapes through the equivalent torch code on the
batch-free, channels-last tensor (values, through the exported module), refusals included; fields against the
support of an input gradient; every op in a spec that ``net --verify`` passes.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from typing import Any

import pytest
from helpers import explained_field, load_net

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.ops.handlers import OPS

F = Fraction


def run(op: str, shapes: list[tuple[int, ...]], **args: Any) -> Any:
    return OPS[op](args, shapes)


def fields(text: str) -> dict[str, Any]:
    return {row.name: row.field for row in analyze(load_net(text)).rows}


def refused(op: str, input_shape: tuple[int, ...], param: str, message: str, **args: Any) -> None:
    with pytest.raises(ConvCalcError) as caught:
        run(op, [input_shape], **args)
    assert caught.value.param == param, caught.value.param
    assert message in caught.value.message, caught.value.message


# --------------------------------------------------------------------------- shapes and refusals by hand


def test_shapes_by_hand() -> None:
    assert run("permute", [(4, 5, 6)], dims=[2, 0, 1]).output_shape == (6, 4, 5)
    assert run("transpose", [(196, 768)], dim0=0, dim1=1).output_shape == (768, 196)
    assert run("movedim", [(4, 5, 6)], source=-1, destination=0).output_shape == (6, 4, 5)
    assert run("reshape", [(14, 14, 768)], shape=[-1, 768]).output_shape == (196, 768)
    assert run("flatten", [(14, 14, 768)]).output_shape == (14 * 14 * 768,)  # the default: everything
    assert run("flatten", [(14, 14, 768)], start=0, end=1).output_shape == (196, 768)
    assert run("flatten", [(2, 3, 4, 5)], start=1).output_shape == (2, 60)
    assert run("unflatten", [(196, 768)], dim=0, sizes=[14, -1]).output_shape == (14, 14, 768)
    assert run("squeeze", [(1, 5, 1, 3)]).output_shape == (5, 3)
    assert run("squeeze", [(1, 5, 1, 3)], dims=[2, 1]).output_shape == (1, 5, 3)  # size 5: kept, as torch
    assert run("unsqueeze", [(5, 3)], dim=-1).output_shape == (5, 3, 1)
    assert run("expand", [(1, 1, 8)], shape=[2, 7, 7, -1]).output_shape == (2, 7, 7, 8)
    assert run("channel_shuffle", [(7, 7, 24)], groups=3).output_shape == (7, 7, 24)
    assert run("pixel_shuffle", [(5, 6, 36)], r=3).output_shape == (15, 18, 4)
    assert run("pixel_unshuffle", [(6, 8, 3)], r=2).output_shape == (3, 4, 12)
    assert run("slice", [(10, 8, 3)], dim=0, start=-7, stop=9, step=2).output_shape == (3, 8, 3)  # 3, 5, 7
    assert run("slice", [(10, 8, 3)], start=1).output_shape == (10, 8, 2)
    assert run("roll", [(10, 8, 3)], shifts=[1, -2], dims=[0, 1]).output_shape == (10, 8, 3)
    assert run("index_select", [(10, 8, 3)], dim=0, index=[9, 0, 9, 0]).output_shape == (4, 8, 3)  # repeats too
    assert run("index_select", [(10, 8, 3)], index=[2]).output_shape == (10, 8, 1)  # dim -1: the channels
    assert run("pad", [(5, 6, 3)], p=[[1, 0], [2, 1]]).output_shape == (6, 9, 3)
    assert run("pad", [(5, 6, 3)], p=[[0, 5]], dims=-1).output_shape == (5, 6, 8)
    assert run("pad", [(5, 6, 3)], p=2, mode="reflect").output_shape == (9, 10, 3)
    for op, args in [
        ("permute", {"dims": [1, 0, 2]}),
        ("slice", {"dim": 0, "stop": 2}),
        ("pad", {"p": 1, "mode": "circular"}),
    ]:
        result = run(op, [(5, 6, 3)], **args)
        assert (result.params, result.macs, result.flops) == (0, 0, 0)


def test_refusals_by_hand() -> None:
    refused("permute", (4, 5, 6), "dims", "every one of the 3 axes once", dims=[0, 1])
    refused("permute", (4, 5, 6), "dims", "every one of the 3 axes once", dims=[0, 0, 1])
    refused("transpose", (4, 5), "dim1", "out of range", dim0=0, dim1=2)
    refused("reshape", (4, 5, 6), "shape", "does not fit 120 elements", shape=[7, -1])
    refused("reshape", (4, 5, 6), "shape", "only one size can be -1", shape=[-1, -1, 6])
    refused("flatten", (4, 5, 6), "start", "comes after end", start=2, end=1)
    refused("unflatten", (196, 768), "sizes", "does not fit 196 elements", dim=0, sizes=[14, 15])
    refused("squeeze", (1, 1), "dims", "every axis")
    refused("expand", (2, 1, 8), "shape", "must match the existing size 2", shape=[3, 5, 8])
    refused("expand", (2, 1, 8), "shape", "-1 is not allowed for a new leading axis", shape=[-1, 2, 1, 8])
    refused("channel_shuffle", (7, 7, 24), "groups", "cannot be divided into 5 groups", groups=5)
    refused("channel_shuffle", (24,), "from", "needs positions")
    refused("pixel_shuffle", (5, 6, 6), "r", "divisible by r^2 = 4", r=2)
    refused("pixel_shuffle", (5, 8), "from", "HxWxC", r=2)
    refused("pixel_unshuffle", (5, 6, 8), "r", "divisible by r = 2", r=2)
    refused("slice", (10, 8, 3), "start", "is empty", dim=0, start=8, stop=3)
    refused("slice", (10, 8, 3), "step", "must be positive", dim=0, step=0)
    refused("roll", (10, 8, 3), "shifts", "one shift per axis", shifts=[1, 2], dims=0)
    refused("index_select", (10, 8, 3), "index", "index 8 is out of range for axis 1 of size 8", dim=1, index=[0, 8])
    refused("index_select", (10, 8, 3), "index", "index -1 is out of range for axis 0 of size 10 (0 to 9)", dim=0,
            index=[-1])  # as torch.index_select
    refused("index_select", (10, 8, 3), "dim", "out of range", dim=3, index=[0])
    refused("pad", (5, 6, 3), "p", "reflect padding must be smaller", p=5, mode="reflect")
    refused("pad", (5, 6, 3), "p", "circular padding must not exceed", p=7, mode="circular")
    refused("pad", (5, 6, 3), "value", "takes no value", p=1, mode="replicate", value=1.0)
    refused("pad", (3, 4, 5, 6), "dims", "at most the last 3 dims", p=1, dims=-1, mode="reflect")


# --------------------------------------------------------------------------- receptive fields by hand

VIT = """
input: 224x224x3
layers:
  - conv:      {out: 768, k: 16, s: 16, name: patch}      # 14x14x768
  - flatten:   {start: 0, end: 1, name: tokens}           # x.flatten(2).transpose(1, 2): 196x768
  - layernorm: {name: ln}
  - linear:    {out: 768, name: mlp}
  - conv:      {out: 768, k: 3, p: 1, name: conv_on_tokens}
  - mean:      {dims: 0, from: mlp, name: pooled}
  - unflatten: {dim: 0, sizes: [14, 14], from: mlp, name: grid}
  - conv:      {out: 8, k: 3, p: 1, name: head}
"""


def test_vit_tokens_keep_the_patch_field_and_a_window_over_tokens_is_unknown() -> None:
    got = fields(VIT)
    patch = (F(16), F(16))
    for name in ("tokens", "ln", "mlp", "grid"):
        assert (got[name].receptive_field, got[name].start, got[name].unknown) == (patch, (0, 0), ""), name
    assert got["tokens"].axes == (((0, 14), (1, 14)), ((-1, 768),)) and got["grid"].axes is None
    assert "merges grid axes 0, 1" in got["conv_on_tokens"].unknown
    assert got["pooled"].whole  # a mean over every token: the whole input
    assert got["head"].receptive_field == (48, 48) and got["head"].start == (-16, -16)  # the grid is back
    network = load_net(VIT)
    assert explained_field(network, "mlp") == (patch, (0, 0))
    assert explained_field(network, "head") == ((48, 48), (-16, -16))


def test_channel_layout_ops_keep_the_field() -> None:
    got = fields("""
        input: 16x16x8
        layers:
          - conv:            {out: 24, k: 3, name: c}
          - channel_shuffle: {groups: 3, name: shuffle}
          - slice:           {start: 2, stop: 20, name: sl}
          - pad:             {p: [[1, 2]], dims: -1, mode: reflect, name: padc}
          - unsqueeze:       {dim: -2, name: un}
          - squeeze:         {dims: -2, name: sq}
          - reshape:         {shape: [14, 14, 3, 7], name: split_channels}
          - conv:            {out: 4, k: [3, 3, 1], name: c3d}
          - roll:            {shifts: 1, dims: -1, name: rolled}
    """)
    for name in ("shuffle", "sl", "padc", "un", "sq", "split_channels"):
        assert (got[name].receptive_field, got[name].jump, got[name].unknown) == ((3, 3), (1, 1), ""), name
    assert got["c3d"].receptive_field == (5, 5) and not got["c3d"].unknown  # the window over channel values: none
    assert got["rolled"].receptive_field == (5, 5) and not got["rolled"].unknown


def test_grid_slices_pixel_shuffles_and_permutes_are_exact() -> None:
    got = fields("""
        input: 32x32x4
        layers:
          - conv:            {out: 16, k: 3, p: 1, name: c}
          - slice:           {dim: 1, start: 3, step: 2, name: sl}        # 32x15x16
          - pixel_shuffle:   {r: 2, name: ps}                             # 64x30x4
          - pixel_unshuffle: {r: 2, name: pu}                             # 32x15x16
          - transpose:       {dim0: 0, dim1: 1, name: tr}                 # 15x32x16: grid axes swapped
          - conv:            {out: 4, k: [1, 3], name: along_rows}        # a window along input axis 0
          - transpose:       {dim0: 0, dim1: 1, name: back}
    """)
    assert (got["sl"].receptive_field, got["sl"].jump, got["sl"].start) == ((3, 3), (1, 2), (-1, 2))
    assert (got["ps"].receptive_field, got["ps"].jump, got["ps"].start) == ((3, 3), (F(1, 2), 1), (-1, 2))
    assert (got["pu"].receptive_field, got["pu"].jump) == ((F(7, 2), 4), (1, 2))
    assert got["tr"].axes == (((1, 15),), ((0, 32),), ((-1, 16),))
    assert got["along_rows"].receptive_field == (F(11, 2), 4) and got["back"].axes is None


def test_what_no_one_window_describes_is_unknown() -> None:
    got = fields("""
        input: 16x16x8
        layers:
          - pad:       {p: 1, mode: reflect, name: reflect}
          - pad:       {p: 1, mode: replicate, from: input, name: replicate}
          - pad:       {p: [[0, 0], [1, 1]], mode: circular, from: input, name: circular}
          - roll:      {shifts: 3, dims: 0, from: input, name: roll}
          - roll:      {shifts: 16, dims: 0, from: input, name: whole_turn}
          - permute:   {dims: [2, 0, 1], from: input, name: grid_last}
          - reshape:   {shape: [8, 32, 8], from: input, name: regroup}
          - unflatten: {dim: 0, sizes: [4, 4], from: input, name: windows}
          - flatten:   {start: 1, end: 2, from: input, name: grid_and_channels}
          - pad:       {p: 1, from: input, name: zeros}
          - index_select: {index: [2, 0, 1], dim: 1, from: input, name: reordered}
          - index_select: {index: [3, 4, 5], dim: 1, from: input, name: run}
          - index_select: {index: [7, 0], dim: -1, from: input, name: channels}
    """)
    for name, reason in [
        ("reflect", "reflect padding of the grid"), ("replicate", "replicate padding"), ("circular", "circular"),
        ("roll", "roll wraps positions around along grid axis 0"), ("grid_last", "grid axis 1 is now in the last axis"),
        ("regroup", "cuts grid axis"), ("windows", "cuts grid axis 0"), ("grid_and_channels", "grid axis 1 is now in the last"),
        ("reordered", "index_select reorders positions along grid axis 1"),
    ]:  # fmt: skip
        assert reason in got[name].unknown, (name, got[name].unknown)
    assert not got["whole_turn"].unknown and not got["zeros"].unknown and got["zeros"].start == (-1, -1)
    assert not got["run"].unknown and got["run"].start == (0, 3) and got["run"].receptive_field == (1, 1)  # a slice
    assert not got["channels"].unknown and got["channels"].start == (0, 0)


def test_expand_of_a_size_one_grid_axis_has_jump_zero() -> None:
    got = fields("""
        input: 1x9x4
        layers:
          - expand: {shape: [6, 9, 4], name: e}
          - conv:   {out: 2, k: 3, name: c}
    """)
    assert (got["e"].receptive_field, got["e"].jump) == ((1, 1), (0, 1))
    assert (got["c"].receptive_field, got["c"].jump) == ((1, 3), (0, 1))


def test_windowed_ops_on_regrouped_axes_never_compute_a_wrong_field() -> None:
    """conv, pooling, upsampling, pixel shuffles on a tensor whose first axis merges the grid: unknown."""
    for layer in ("conv: {out: 4, k: 3}", "maxpool: {k: 2}", "upsample: {scale: 2}", "slice: {dim: 0, step: 2}",
                  "pad: {p: 1}", "adaptive_avgpool: {size: 8}"):  # fmt: skip
        text = f"input: 4x4x8\nlayers:\n  - flatten: {{start: 0, end: 1}}\n  - {layer}\n"
        field = analyze(load_net(text)).rows[-1].field
        assert "merges grid axes 0, 1" in field.unknown, (layer, field)


def test_stack_after_a_layout_keeps_following_the_grid() -> None:
    got = fields("""
        input: 6x6x4
        layers:
          - chunk: {chunks: 2, dim: 1, name: c}
          - stack: {dim: 2, name: st}
          - conv:  {out: 3, k: [3, 1, 2], name: k}
    """)
    assert got["st"].axes == (((0, 6),), ((1, 3),), ((-1, 2),), ((-1, 4),))
    assert got["k"].receptive_field == (3, 4) and not got["k"].unknown


# --------------------------------------------------------------------------- against torch

torch_mark = pytest.mark.torch


def _torch() -> Any:
    return pytest.importorskip("torch")


def reference(torch: Any, op: str, x: Any, args: dict[str, Any]) -> Any:
    """The op as PyTorch computes it on the batch-free, channels-last tensor ``x`` (convcalc's logical axes)."""
    from torch import nn

    def channels_first(module: Any) -> Any:
        return module(x.movedim(-1, 0)[None])[0].movedim(0, -1)

    if op == "permute":
        return x.permute(*args["dims"])
    if op == "transpose":
        return x.transpose(args["dim0"], args["dim1"])
    if op == "movedim":
        return x.movedim(args["source"], args["destination"])
    if op == "reshape":
        return x.reshape(*args["shape"])
    if op == "flatten":
        return x.flatten(args.get("start", 0), args.get("end", -1))
    if op == "unflatten":
        return x.unflatten(args["dim"], args["sizes"])
    if op == "squeeze":
        return x.squeeze(tuple(args["dims"])) if "dims" in args else x.squeeze()
    if op == "unsqueeze":
        return x.unsqueeze(args["dim"])
    if op == "expand":
        return x.expand(*args["shape"])
    if op == "channel_shuffle":
        return channels_first(nn.ChannelShuffle(args["groups"]))
    if op == "pixel_shuffle":
        return channels_first(nn.PixelShuffle(args["r"]))
    if op == "pixel_unshuffle":
        return channels_first(nn.PixelUnshuffle(args["r"]))
    if op == "slice":
        index = (slice(None),) * (args["dim"] % x.dim()) + (
            slice(args.get("start"), args.get("stop"), args.get("step", 1)),
        )
        return x[index]
    if op == "roll":
        return torch.roll(x, args["shifts"], args["dims"]) if "dims" in args else torch.roll(x, args["shifts"])
    if op == "index_select":
        return torch.index_select(x, args.get("dim", -1), torch.tensor(args["index"]))
    return reference_pad(torch, x, args)


def reference_pad(torch: Any, x: Any, args: dict[str, Any]) -> Any:
    """F.pad one axis at a time (every mode is separable), each on a (rows, 1, n) view as PyTorch's 1-D padding."""
    mode = args.get("mode", "constant")
    axes = args["dims"] if "dims" in args else list(range(x.dim() - 1))
    pads = args["p"] if isinstance(args["p"], list) else [args["p"]] * len(axes)
    if len(pads) == 1:
        pads = pads * len(axes)
    for axis, pair in zip(axes, pads):
        lo, hi = (pair, pair) if isinstance(pair, int) else pair
        moved = x.movedim(axis, -1)
        flat = moved.reshape(-1, 1, moved.shape[-1])
        keywords = {"value": float(args.get("value", 0.0))} if mode == "constant" else {}
        padded = torch.nn.functional.pad(flat, (lo, hi), mode=mode, **keywords)
        x = padded.reshape(*moved.shape[:-1], padded.shape[-1]).movedim(-1, axis)
    return x


def exported(torch: Any, shape: tuple[int, ...], op: str, args: dict[str, Any]) -> tuple[Any, Any]:
    """convcalc's report of one layer and its exported module's output for x (channels last, batch-free)."""
    import json

    from convcalc.io.torch_verify import build_module

    text = f"input: {json.dumps(list(shape))}\nlayers:\n  - {op}: {json.dumps(args)}\n"
    report = analyze(load_net(text))
    model = build_module(report, device="cpu")
    x = torch.randn(*shape, dtype=torch.float64)
    out = model.double()(x.movedim(-1, 0)[None] if len(shape) > 1 else x[None])[0]
    return x, (out.movedim(0, -1) if out.dim() > 1 else out), report


@torch_mark
def test_layout_ops_against_torch() -> None:
    """Random shapes and arguments: convcalc refuses exactly when PyTorch refuses (besides what convcalc's tensors
    cannot be: empty axes, no axis at all); otherwise the exported module's output, moved channels last, equals the
    torch op on the channels-last tensor, value for value (the default flatten of everything excepted: PyTorch
    flattens channels first, convcalc counts channels last: same shape)."""
    torch = _torch()
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @st.composite
    def cases(draw: Any) -> tuple[str, tuple[int, ...], dict[str, Any]]:
        rank = draw(st.integers(1, 4))
        shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
        op = draw(st.sampled_from(sorted(OPS_UNDER_TEST)))
        dim = lambda: draw(st.integers(-rank - 1, rank))  # noqa: E731
        if op == "permute":
            dims = draw(st.permutations(range(rank)))
            if draw(st.integers(0, 4)) == 0:
                dims = draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank + 1))
            return op, shape, {"dims": list(dims)}
        if op == "transpose":
            return op, shape, {"dim0": dim(), "dim1": dim()}
        if op == "movedim":
            return op, shape, {"source": dim(), "destination": dim()}
        if op == "reshape":
            total = 1
            for n in shape:
                total *= n
            sizes = draw(st.lists(st.sampled_from([1, 2, 3, 4, 6, total]), min_size=1, max_size=4))
            if draw(st.booleans()):
                sizes[draw(st.integers(0, len(sizes) - 1))] = -1
            return op, shape, {"shape": sizes}
        if op == "flatten":
            return op, shape, {"start": dim(), "end": dim()} if draw(st.integers(0, 5)) else {}
        if op == "unflatten":
            return (
                op,
                shape,
                {"dim": dim(), "sizes": draw(st.lists(st.sampled_from([-1, 1, 2, 3]), min_size=1, max_size=3))},
            )
        if op == "squeeze":
            return (
                op,
                shape,
                {"dims": draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=2, unique=True))}
                if draw(st.booleans())
                else {},
            )
        if op == "unsqueeze":
            return op, shape, {"dim": draw(st.integers(-rank - 2, rank + 1))}
        if op == "expand":
            new = draw(st.integers(0, 1))
            sizes = [draw(st.integers(1, 3)) for _ in range(new)] + [draw(st.sampled_from([-1, n, 3])) for n in shape]
            return op, shape, {"shape": sizes}
        if op == "channel_shuffle":
            return op, shape, {"groups": draw(st.integers(1, 4))}
        if op in ("pixel_shuffle", "pixel_unshuffle"):
            shape = (draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.sampled_from([1, 2, 4, 8, 9, 12])))
            return op, shape, {"r": draw(st.integers(1, 3))}
        if op == "slice":
            args = {"dim": draw(st.integers(-rank, rank - 1))}
            for key in ("start", "stop"):
                if draw(st.booleans()):
                    args[key] = draw(st.integers(-7, 7))
            if draw(st.booleans()):
                args["step"] = draw(st.integers(1, 3))
            return op, shape, args
        if op == "index_select":
            args = {"index": draw(st.lists(st.integers(-6, 6), min_size=1, max_size=6))}
            if draw(st.booleans()):
                args["dim"] = dim()
            return op, shape, args
        if op == "roll":
            if draw(st.booleans()):
                return op, shape, {"shifts": draw(st.integers(-9, 9))}
            dims = draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=2, unique=True))
            return op, shape, {"shifts": [draw(st.integers(-9, 9)) for _ in dims], "dims": dims}
        mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=min(rank, 2), unique=True))
        args = {"p": [[draw(st.integers(0, 4)), draw(st.integers(0, 4))] for _ in axes], "dims": axes, "mode": mode}
        if mode == "constant" and draw(st.booleans()):
            args["value"] = 1.5
        return "pad", shape, args

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases())
    def check(case: tuple[str, tuple[int, ...], dict[str, Any]]) -> None:
        op, shape, args = case
        x = torch.randn(*shape, dtype=torch.float64)
        try:
            expected = reference(torch, op, x, args)
        except (RuntimeError, IndexError, ValueError, TypeError):
            expected = None
        try:
            result = run(op, [shape], **args)
        except ConvCalcError as error:
            ours = error.message
            empty = expected is not None and (expected.numel() == 0 or expected.dim() == 0)
            unsupported = op == "pad" and "at most the last 3 dims" in ours  # PyTorch's modules pad at most 3
            assert expected is None or empty or unsupported, (case, ours)
            return
        assert expected is not None, (case, "torch refuses, convcalc accepts")
        assert result.output_shape == tuple(expected.shape), case
        x, out, _ = exported(torch, shape, op, args)
        if op == "flatten" and (args.get("start", 0) % len(shape), args.get("end", -1) % len(shape)) == (
            0,
            len(shape) - 1,
        ):
            assert out.shape == expected.shape
            return
        assert torch.equal(out, reference(torch, op, x, args)), case

    check()


OPS_UNDER_TEST = ("permute", "transpose", "movedim", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "expand",
                  "channel_shuffle", "pixel_shuffle", "pixel_unshuffle", "slice", "roll", "index_select", "pad")  # fmt: skip


GRADIENT_SPEC = """
input: 24x20x2
layers:
  - conv:            {out: 8, k: 3, p: 1, name: c}
  - slice:           {dim: 0, start: 3, step: 2, name: rows}
  - pixel_shuffle:   {r: 2, name: ps}
  - conv:            {out: 4, k: 3, name: after_ps}
  - pixel_unshuffle: {r: 2, from: c, name: pu}
  - transpose:       {dim0: 0, dim1: 1, name: tr}
  - conv:            {out: 4, k: [3, 1], name: along_w}
  - flatten:         {start: 0, end: 1, from: pu, name: tokens}
  - linear:          {out: 6, name: mlp}
  - unflatten:       {dim: 0, sizes: [12, 10], name: grid}
  - conv:            {out: 3, k: 3, s: 2, name: head}
  - pad:             {p: [[0, 0], [2, 1]], mode: constant, value: 1.0, from: c, name: padded}
  - conv:            {out: 2, k: 5, name: after_pad}
"""


@torch_mark
def test_fields_are_the_gradient_support() -> None:
    """For output unit 0 of each layer: the input positions whose gradient is non-zero are the field, clipped to
    the input (all weights positive, so no gradient cancels)."""
    torch = _torch()
    from convcalc.io.torch_export import export_torch
    from convcalc.io.torch_names import class_name

    report = analyze(load_net(GRADIENT_SPEC))
    source = export_torch(report)
    body = source.split("def forward(self, x: torch.Tensor) -> torch.Tensor:\n")[1].split("\n\n")[0]
    namespace: dict[str, Any] = {}
    exec(
        compile(source.replace(body, body.replace("        return", "        return locals()  #")), "<export>", "exec"),
        namespace,
    )
    model = namespace[class_name(report.name)]().double()
    for parameter in model.parameters():
        torch.nn.init.uniform_(parameter, 0.5, 1.0)
    checked = 0
    for row in report.rows:
        x = torch.rand(1, 2, 24, 20, dtype=torch.float64, requires_grad=True)
        value = model(x)[row.name]
        value[(0, slice(None)) + (0,) * (value.dim() - 2)].sum().backward()
        support = x.grad[0].abs().sum(0).nonzero()
        field = row.field
        assert not field.unknown and not field.whole, row.name
        positions = {row.name: (row.output_shape, field)}
        clipped = [
            (max(int(u), 0), min(int(u + r), n)) for u, r, n in zip(field.start, field.receptive_field, (24, 20))
        ]
        if any(low >= high for low, high in clipped):  # unit 0 reads only padding: no gradient reaches the input
            assert len(support) == 0, row.name
            checked += 1
            continue
        for axis, (low, high) in enumerate(clipped):
            got = (int(support[:, axis].min()), int(support[:, axis].max()) + 1)
            if field.jump[axis].denominator == 1 and field.receptive_field[axis].denominator == 1:
                assert got == (low, high), (row.name, axis, got, positions)
            else:  # after a fractional jump the field is the average over units: unit 0's support lies within it
                assert low <= got[0] and got[1] <= high + 1, (row.name, axis, got, positions)
        checked += 1
    assert checked == len(report.rows)


VERIFY_SPEC = """
input: 12x10x8
layers:
  - conv:            {out: 16, k: 3, p: 1, name: c}
  - channel_shuffle: {groups: 4, name: shuffle}
  - pixel_unshuffle: {r: 2, name: pu}
  - pixel_shuffle:   {r: 2, name: ps}
  - slice:           {dim: 0, start: 1, stop: -1, name: sl}
  - pad:             {p: [[1, 1], [0, 2]], mode: reflect, name: reflect}
  - pad:             {p: 1, mode: replicate, name: replicate}
  - pad:             {p: [[0, 3]], dims: -1, name: more_channels}
  - roll:            {shifts: [1, 2], dims: [0, 1], name: rolled}
  - index_select:    {index: [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 13], dim: 1, name: picked}
  - permute:         {dims: [1, 0, 2], name: perm}
  - transpose:       {dim0: 0, dim1: 1, name: back}
  - movedim:         {source: -1, destination: 0, name: md}
  - movedim:         {source: 0, destination: -1, name: md_back}
  - flatten:         {start: 0, end: 1, name: tokens}
  - linear:          {out: 32, name: mlp}
  - unflatten:       {dim: 0, sizes: [14, -1], name: grid}
  - unsqueeze:       {dim: 0, name: un}
  - squeeze:         {name: sq}
  - reshape:         {shape: [14, 14, 4, 8], name: groups}
  - flatten:         {start: 2, name: channels_again}
  - mean:            {dims: [0, 1], keepdim: true, name: gate}
  - expand:          {shape: [14, 14, 32], name: spread}
  - flatten:         {name: flat}
"""


@torch_mark
def test_every_layout_op_exports_and_verify_passes() -> None:
    _torch()
    from convcalc.io.torch_verify import verify_layers

    report = analyze(load_net(VERIFY_SPEC))
    differences, compared = verify_layers(report)
    assert differences == [], differences
    assert compared >= 5
    ops = {row.op for row in report.rows}
    assert set(OPS_UNDER_TEST) <= ops


def test_the_verify_spec_text_is_a_valid_spec() -> None:
    assert analyze(load_net(textwrap.dedent(VERIFY_SPEC))).rows[-1].output_shape == (14 * 14 * 32,)
