"""Ops with several outputs (split, chunk), joining on any axis (concat with ``dim``, stack) and the spec syntax
that picks one output: ``from: name[k]`` (docs/spec.md, "Several outputs").

By hand: the shapes PyTorch's split/chunk/stack/cat give, the refusals, the fields (a split along a grid axis
shifts the start of the later pieces), the reports. Against torch (marked): random shapes through torch.split,
torch.chunk, torch.stack and torch.cat, refusals included; the exported module of specs using them; the receptive
field of a piece against a gradient; a YOLOv8 C2f block written by hand as Ultralytics writes it.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from helpers import EXAMPLES, check_error, explained_field, load_net, rows_of, spec_failure

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.ops.handlers import OPS
from convcalc.report.cells import output_text
from convcalc.report.json_output import net_json
from convcalc.report.schema import net_schema

F = Fraction


def run(op: str, shapes: list[tuple[int, ...]], **args: Any) -> Any:
    return OPS[op](args, shapes)


# --------------------------------------------------------------------------- shapes by hand


def test_split_one_size_gives_equal_pieces_and_a_smaller_last() -> None:
    result = run("split", [(8, 8, 10)], sizes=4)
    assert result.shapes == ((8, 8, 4), (8, 8, 4), (8, 8, 2))
    assert result.output_shape == (8, 8, 4)
    assert (result.params, result.macs, result.flops) == (0, 0, 0)


def test_split_size_covering_the_axis_gives_one_output() -> None:
    result = run("split", [(8, 8, 10)], sizes=16)
    assert result.shapes == ((8, 8, 10),) and result.output_shapes == ()


def test_split_sizes_on_a_grid_axis() -> None:
    result = run("split", [(12, 9, 3)], sizes=[5, 7], dim=0)
    assert result.shapes == ((5, 9, 3), (7, 9, 3))
    assert result.start_of(0) == (0, 0) and result.start_of(1) == (5, 0)


def test_split_refuses_sizes_that_do_not_sum_to_the_axis() -> None:
    with pytest.raises(ConvCalcError) as caught:
        run("split", [(8, 8, 10)], sizes=[4, 4])
    assert caught.value.param == "sizes" and "sum to 8, but axis -1 has 10" in caught.value.message


def test_axis_out_of_range_is_refused() -> None:
    with pytest.raises(ConvCalcError) as caught:
        run("chunk", [(8, 8, 10)], chunks=2, dim=3)
    assert caught.value.param == "dim" and "expected -3 to 2" in caught.value.message


@pytest.mark.parametrize(
    ("n", "chunks", "sizes"),
    [(10, 2, [5, 5]), (10, 3, [4, 4, 2]), (5, 4, [2, 2, 1]), (6, 4, [2, 2, 2]), (3, 8, [1, 1, 1]), (7, 1, [7])],
)
def test_chunk_sizes_as_torch_chunk(n: int, chunks: int, sizes: list[int]) -> None:
    """ceil(n / chunks) per piece, the last smaller; fewer pieces than asked when they run out (5 in 4: 3)."""
    assert [shape[-1] for shape in run("chunk", [(4, n)], chunks=chunks).shapes] == sizes


def test_stack_on_a_new_axis() -> None:
    assert run("stack", [(4, 5, 3)] * 2, dim=-1).output_shape == (4, 5, 3, 2)
    assert run("stack", [(4, 5, 3)] * 3, dim=2).output_shape == (4, 5, 3, 3)
    assert run("stack", [(4, 5, 3)] * 2, dim=0).field == "unknown"  # a new axis among the grid axes
    with pytest.raises(ConvCalcError):
        run("stack", [(4, 5, 3), (4, 5, 2)], dim=-1)
    with pytest.raises(ConvCalcError):
        run("stack", [(4, 5, 3)], dim=4)


def test_concat_on_any_axis() -> None:
    assert run("concat", [(4, 5, 3), (4, 5, 2)]).output_shape == (4, 5, 5)
    on_rows = run("concat", [(4, 5, 3), (2, 5, 3)], dim=0)
    assert on_rows.output_shape == (6, 5, 3) and on_rows.field == "unknown" and on_rows.field_note
    with pytest.raises(ConvCalcError) as caught:
        run("concat", [(4, 5, 3), (2, 5, 3)], dim=1)
    assert "but on axis 1" in caught.value.message
    with pytest.raises(ConvCalcError):
        run("concat", [(4, 5, 3), (4, 3)], dim=-1)


# --------------------------------------------------------------------------- the spec syntax

C2F = """
input: 32x32x16
layers:
  - conv:   {out: 32, k: 1, name: cv1}
  - chunk:  {chunks: 2, name: y}
  - conv:   {out: 16, k: 3, p: 1, from: "y[1]", name: m0}
  - conv:   {out: 16, k: 3, p: 1, name: m1}
  - concat: {from: [y, m0, m1], name: cat}
  - conv:   {out: 32, k: 1, name: cv2}
"""


def test_picks_and_a_merge_taking_every_output() -> None:
    rows = rows_of(C2F)
    assert rows["y"].output_shapes == ((32, 32, 16), (32, 32, 16))
    assert rows["m0"].inputs == ("y[1]",) and rows["m0"].input_shapes == ((32, 32, 16),)
    assert rows["cat"].inputs == ("y[0]", "y[1]", "m0", "m1")
    assert rows["cat"].output_shape == (32, 32, 64)
    assert rows["cv2"].params == 64 * 32 + 32


def test_pick_forms() -> None:
    rows = rows_of("""
        input: 8x8x6
        layers:
          - split: {sizes: [1, 2, 3], name: s}
          - relu:  {from: "s[-1]", name: last}
          - relu:  {from: "-2[0]", name: first}
          - relu:
              from: s[1]
              name: block_style
          - add:   {from: ["-1[0]", "s[1]"], name: sum}
          - relu:  {from: "input[0]", name: x}
          - relu:  {from: "input[-1]", name: x2}
    """)
    assert rows["last"].output_shape == (8, 8, 3) and rows["last"].inputs == ("s[2]",)
    assert rows["first"].output_shape == (8, 8, 1)
    assert rows["block_style"].output_shape == (8, 8, 2)
    assert rows["sum"].inputs == ("block_style", "s[1]")
    assert rows["x"].inputs == rows["x2"].inputs == ("input",)


def test_a_block_fed_by_a_pick_and_a_block_instance_picked() -> None:
    rows = rows_of("""
        input: 8x8x6
        blocks:
          halves:
            layers:
              - conv:  {out: 4, k: 1, name: conv}
              - chunk: {chunks: 2, name: halves}
          residual:
            layers:
              - conv: {out: 2, k: 3, p: 1, name: conv}
              - add:  {from: [input, conv]}
        layers:
          - halves:   {name: h}
          - residual: {from: "h[1]", repeat: 2, name: r}
          - concat:   {from: ["h[0]", r.0, r]}
    """)
    assert rows["r.0.conv"].inputs == ("h.halves[1]",)
    assert rows["r.0.add_1"].inputs == ("h.halves[1]", "r.0.conv")
    assert rows["concat_2"].inputs == ("h.halves[0]", "r.0.add_1", "r.1.add_1")
    assert rows["concat_2"].output_shape == (8, 8, 6)


def test_a_merge_after_a_split_joins_its_pieces_back() -> None:
    rows = rows_of("""
        input: 8x8x6
        layers:
          - chunk: {chunks: 3, dim: 1}
          - concat: {dim: 1}
    """)
    assert rows["concat_1"].inputs == ("chunk_0[0]", "chunk_0[1]", "chunk_0[2]")
    assert rows["concat_1"].output_shape == (8, 8, 6)


SPLIT_THEN = """
input: 8x8x6
layers:
  - chunk: {chunks: 2, name: y}
  - conv: {out: 4, k: 1%s}
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("", "from: the previous layer 'y' has 2 outputs; pick one: y[0] to y[1]"),
        (", from: y", "from: layer 'y' has 2 outputs; pick one: y[0] to y[1]"),
        (', from: "y[2]"', "from: y[2]: layer 'y' has 2 outputs (y[0] to y[1])"),
        (', from: "y[-3]"', "from: y[-3]: layer 'y' has 2 outputs (y[0] to y[1])"),
        (', from: "input[1]"', "from: input[1]: the input has one output (input[0])"),
        (', from: "y[x]"', "an output is picked as name[k], k a whole number"),
        (', from: "y[0][1]"', "an output is picked as name[k], k a whole number"),
        (', from: "y[1"', "an output is picked as name[k], k a whole number"),
        (', from: "[1]"', "an output is picked as name[k], k a whole number"),
        (', from: "z[1]"', "from: no layer named 'z'"),
    ],
)
def test_pick_errors_name_the_file_line_and_layer(extra: str, message: str) -> None:
    check_error(spec_failure(SPLIT_THEN % extra), 4, "conv_1", message)


def test_a_layer_name_cannot_hold_brackets() -> None:
    error = spec_failure("input: 8x8x6\nlayers:\n  - relu: {name: 'a[1]'}\n")
    check_error(error, 3, "a[1]", "layer name 'a[1]' cannot contain '[' or ']'")


def test_an_unquoted_pick_in_a_flow_mapping_says_to_quote_it() -> None:
    error = spec_failure("input: 8x8x6\nlayers:\n  - chunk: {chunks: 2, name: y}\n  - relu: {from: y[1]}\n")
    check_error(error, 4, None, 'quote an output pick: from: "split1[1]"')


def test_scoped_and_repeat_names_keep_their_dots() -> None:
    """``stage.1[0]``: output 0 of the repeat copy ``stage.1``; a pick never reads as part of a name."""
    # a repeated split chains copy 2 to copy 1's output: which one is not said, so it is refused
    error = spec_failure("input: 8x8x4\nlayers:\n  - chunk: {chunks: 2, repeat: 2, name: stage}\n")
    check_error(error, 3, "stage.1", "from: the previous layer 'stage.0' has 2 outputs")
    rows = rows_of("""
        input: 8x8x4
        layers:
          - conv: {out: 4, k: 1, repeat: 2, name: stage}
          - chunk: {chunks: 2, from: stage.1, name: stage.2}
          - relu: {from: "stage.2[1]", name: pick}
    """)
    assert rows["pick"].inputs == ("stage.2[1]",)


# --------------------------------------------------------------------------- fields, reports

GRID_SPLIT = """
input: 12x10x2
layers:
  - conv:  {out: 4, k: 3, p: 1, name: a}
  - split: {sizes: [5, 7], dim: 0, name: rows}
  - conv:  {out: 3, k: 3, from: "rows[1]", name: late}
  - conv:  {out: 3, k: 3, from: "rows[0]", name: early}
"""


def test_a_split_along_a_grid_axis_shifts_the_later_pieces_start() -> None:
    rows = rows_of(GRID_SPLIT)
    first, second = rows["rows"].output_fields
    assert first.start == (-1, -1) and second.start == (4, -1)
    assert first.receptive_field == second.receptive_field == (3, 3)
    assert rows["late"].field.start == (4, -1) and rows["late"].field.receptive_field == (5, 5)
    assert rows["early"].field.start == (-1, -1)
    assert explained_field(load_net(GRID_SPLIT), "late") == ((F(5), F(5)), (F(4), F(-1)))


def test_channel_split_keeps_the_field_and_stack_concat_on_the_grid_are_unknown() -> None:
    rows = rows_of("""
        input: 8x8x4
        layers:
          - conv: {out: 4, k: 3, p: 1, name: a}
          - chunk: {chunks: 2, name: y}
          - stack: {dim: -1, name: st}
          - concat: {from: ["y[0]", "y[1]"], dim: 0, name: tall}
          - stack: {from: ["y[0]", "y[1]"], dim: 0, name: early}
    """)
    assert all(f == rows["a"].field for f in rows["y"].output_fields)
    same = ("receptive_field", "jump", "start", "whole", "unknown")
    assert all(getattr(rows["st"].field, key) == getattr(rows["a"].field, key) for key in same)
    assert rows["st"].output_shape == (8, 8, 2, 2)  # the stacked axis holds no grid position (field.axes says so)
    assert rows["tall"].field.unknown and rows["tall"].output_shape == (16, 8, 2)
    assert rows["early"].field.unknown and rows["early"].output_shape == (2, 8, 8, 2)


def test_reports_show_every_output() -> None:
    report = analyze(load_net(GRID_SPLIT))
    rows = {row.name: row for row in report.rows}
    assert output_text(rows["rows"]) == "5x10x4, 7x10x4"
    assert output_text(rows["a"]) == "12x10x4"
    assert output_text(rows_of(C2F)["y"]) == "2 x 32x32x16"
    data = json.loads(net_json(report))
    layer = next(item for item in data["layers"] if item["name"] == "rows")
    assert layer["output_shape"] == [5, 10, 4]
    assert layer["output_shapes"] == [[5, 10, 4], [7, 10, 4]]
    assert [field["start"] for field in layer["output_fields"]] == [[-1, -1], [4, -1]]
    assert "output_shapes" not in data["layers"][0]
    assert report.activation_bytes == (12 * 10 * 4 * 2 + 5 * 8 * 3 + 3 * 8 * 3) * 4
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, net_schema())


def test_export_writes_the_tuple_and_its_picks() -> None:
    from convcalc.io.torch_export import export_torch

    source = export_torch(analyze(load_net(C2F)))
    assert "y = torch.chunk(cv1, 2, dim=1)" in source
    assert "m0 = self.m0(y[1])" in source
    assert "cat = torch.cat([y[0], y[1], m0, m1], dim=1)" in source
    source = export_torch(analyze(load_net(GRID_SPLIT)))
    assert "rows = torch.split(a, [5, 7], dim=2)" in source


# --------------------------------------------------------------------------- against torch

torch_mark = pytest.mark.torch


def _torch() -> Any:
    return pytest.importorskip("torch")


def _shapes(draw: Any, st: Any, rank: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(1, 6)) for _ in range(rank))


@torch_mark
def test_split_chunk_stack_cat_against_torch() -> None:
    """convcalc's shapes on channels-last tensors (batch first) equal torch's; convcalc refuses exactly when torch
    does (zero sizes are not drawn: convcalc's shapes have none)."""
    torch = _torch()
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @st.composite
    def cases(draw: Any) -> tuple[str, list[tuple[int, ...]], dict[str, Any]]:
        rank = draw(st.integers(1, 4))
        shape = _shapes(draw, st, rank)
        op = draw(st.sampled_from(["split", "split_list", "chunk", "stack", "concat"]))
        dim = draw(st.integers(-rank - 2, rank + 1))
        if op == "split":
            return "split", [shape], {"sizes": draw(st.integers(1, 8)), "dim": dim}
        if op == "split_list":
            sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
            return "split", [shape], {"sizes": sizes, "dim": dim}
        if op == "chunk":
            return "chunk", [shape], {"chunks": draw(st.integers(1, 8)), "dim": dim}
        count = draw(st.integers(1, 3))
        others = [shape if draw(st.booleans()) else _shapes(draw, st, draw(st.sampled_from([rank, rank - 1 or 1])))
                  for _ in range(count - 1)]  # fmt: skip
        return op, [shape, *others], {"dim": dim}

    def torch_shapes(op: str, shapes: list[tuple[int, ...]], args: dict[str, Any]) -> list[tuple[int, ...]]:
        tensors = [torch.empty(1, *shape, device="meta") for shape in shapes]
        dim = args["dim"] + 1 if args["dim"] >= 0 else args["dim"]  # batch first: logical axis d is dim d + 1
        if op == "split":
            out = torch.split(tensors[0], args["sizes"], dim=dim)
        elif op == "chunk":
            out = torch.chunk(tensors[0], args["chunks"], dim=dim)
        elif op == "stack":
            out = [torch.stack(tensors, dim=dim)]
        else:
            out = [torch.cat(tensors, dim=dim)]
        return [tuple(t.shape[1:]) for t in out]

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases())
    def check(case: tuple[str, list[tuple[int, ...]], dict[str, Any]]) -> None:
        op, shapes, args = case
        rank = len(shapes[0]) + (op == "stack")
        try:
            expected = torch_shapes(op, shapes, args)
        except (RuntimeError, IndexError, ValueError):
            expected = None
        if not -rank <= args["dim"] < rank:  # the batch, or out of range: convcalc refuses (torch may take -rank-1)
            with pytest.raises(ConvCalcError):
                OPS[op](args, shapes)
            return
        if expected is None:
            with pytest.raises(ConvCalcError):
                OPS[op](args, shapes)
            return
        assert list(OPS[op](args, shapes).shapes) == expected

    check()


def _run_export(torch: Any, text: str) -> tuple[Any, Any]:
    from convcalc.io.torch_verify import build_module

    report = analyze(load_net(text))
    model = build_module(report, device="cpu")
    shape = report.input_shape
    return report, model(torch.randn(1, shape[-1], *shape[:-1]))


EXPORT_SPEC = """
input: 6x8x4
layers:
  - conv:   {out: 6, k: 3, p: 1, name: a}
  - split:  {sizes: [2, 4], dim: 0, name: rows}
  - split:  {sizes: 3, dim: 1, from: "rows[1]", name: cols}
  - concat: {from: ["cols[2]", "cols[0]"], dim: 1, name: wide}
  - concat: {from: [wide, "cols[1]"], dim: 1, name: wider}
  - chunk:  {chunks: 4, name: ch}
  - stack:  {from: ["ch[0]", "ch[1]", "ch[2]"], dim: -1, name: st}
  - conv:   {out: 5, k: 1, name: after_stack}
  - stack:  {from: ["ch[0]", "ch[1]"], dim: 2, name: st2}
  - conv:   {out: 5, k: 1, name: after_stack2}
  - stack:  {from: ["ch[0]", "ch[2]"], dim: 0, name: st0}
  - conv:   {out: 2, k: 1, name: after_stack0}
  - concat: {from: ["rows[0]", "rows[1]"], dim: -3, name: back}
"""


@torch_mark
def test_exported_module_runs_and_verify_passes() -> None:
    torch = _torch()
    from convcalc.io.torch_verify import verify_layers

    report, output = _run_export(torch, EXPORT_SPEC)
    assert tuple(output.shape) == (1, 6, 6, 8)  # back: (6, 8, 6) channels last
    differences, compared = verify_layers(report)
    assert differences == [] and compared == 4
    rows = {row.name: row for row in report.rows}
    assert rows["wider"].output_shape == (4, 8, 6)
    assert rows["ch"].output_shapes == ((4, 8, 2),) * 3  # chunk of 6 in 4: pieces of 2, so three
    assert rows["st"].output_shape == (4, 8, 2, 3) and rows["after_stack"].output_shape == (4, 8, 2, 5)
    assert rows["st2"].output_shape == (4, 8, 2, 2) and rows["st0"].output_shape == (2, 4, 8, 2)


@torch_mark
def test_every_intermediate_of_the_export_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each forward variable of the exported module, moved channels last, has convcalc's shape (the ops written
    in forward have no module for --verify's hooks)."""
    torch = _torch()
    from convcalc.io.torch_export import export_torch
    from convcalc.io.torch_names import class_name

    report = analyze(load_net(EXPORT_SPEC))
    source = export_torch(report)
    body = source.split("def forward(self, x: torch.Tensor) -> torch.Tensor:\n")[1].split("\n\n")[0]
    probe = body.replace("        return", "        return locals()  #")
    namespace: dict[str, Any] = {}
    exec(compile(source.replace(body, probe), "<export>", "exec"), namespace)
    values = namespace[class_name(report.name)]()(torch.randn(1, 4, 6, 8))
    for row in report.rows:
        value = values[row.name]
        outputs = value if isinstance(value, tuple) else (value,)
        shapes = tuple(tuple(t.shape[2:]) + (t.shape[1],) for t in outputs)
        assert shapes == (row.output_shapes or (row.output_shape,)), row.name


@torch_mark
def test_the_field_of_a_piece_is_the_gradient_support() -> None:
    torch = _torch()
    from convcalc.io.torch_verify import build_module

    report = analyze(load_net(GRID_SPLIT))
    model = build_module(report, device="cpu").double()
    for parameter in model.parameters():
        torch.nn.init.uniform_(parameter, 0.5, 1.0)
    for name in ("late", "early"):
        x = torch.rand(1, 2, 12, 10, dtype=torch.float64, requires_grad=True)
        outputs = {}

        def keep(module: Any, inputs: Any, output: Any, name: str = name, outputs: dict = outputs) -> None:
            outputs[name] = output

        handle = getattr(model, name).register_forward_hook(keep)
        model(x)
        handle.remove()
        outputs[name][0, :, 0, 0].sum().backward()
        support = x.grad[0].abs().sum(0).nonzero()
        field = {row.name: row for row in report.rows}[name].field
        for axis, n in enumerate((12, 10)):
            low = max(int(field.start[axis]), 0)
            high = min(int(field.start[axis] + field.receptive_field[axis]), n)
            assert (int(support[:, axis].min()), int(support[:, axis].max()) + 1) == (low, high), (name, axis)


@torch_mark
def test_yolov8_c2f_example_against_ultralytics_code() -> None:
    """examples/yolov8_c2f.yaml against C2f(32, 32, n=2, shortcut=True) written as in ultralytics.nn.modules:
    params, output shape, MACs = FlopCounterMode / 2."""
    torch = _torch()
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from convcalc.specfile.loader import load

    class Conv(nn.Module):
        def __init__(self, c1: int, c2: int, k: int = 1) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c1, c2, k, 1, k // 2, bias=False)
            self.bn = nn.BatchNorm2d(c2, eps=0.001, momentum=0.03)
            self.act = nn.SiLU()

        def forward(self, x: Any) -> Any:
            return self.act(self.bn(self.conv(x)))

    class Bottleneck(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.cv1, self.cv2 = Conv(c, c, 3), Conv(c, c, 3)

        def forward(self, x: Any) -> Any:
            return x + self.cv2(self.cv1(x))

    class C2f(nn.Module):
        def __init__(self, c1: int, c2: int, n: int = 1, e: float = 0.5) -> None:
            super().__init__()
            self.c = int(c2 * e)
            self.cv1 = Conv(c1, 2 * self.c, 1)
            self.cv2 = Conv((2 + n) * self.c, c2, 1)
            self.m = nn.ModuleList(Bottleneck(self.c) for _ in range(n))

        def forward(self, x: Any) -> Any:
            y = list(self.cv1(x).chunk(2, 1))
            y.extend(m(y[-1]) for m in self.m)
            return self.cv2(torch.cat(y, 1))

    report = analyze(load(EXAMPLES / "yolov8_c2f.yaml"))
    model = C2f(32, 32, n=2).eval()
    x = torch.randn(1, 32, 80, 80)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        output = model(x)
    assert sum(p.numel() for p in model.parameters()) == report.params
    assert (*output.shape[2:], output.shape[1]) == report.output_shape
    assert counter.get_total_flops() // 2 == report.macs
    names = {name for name, _ in model.named_modules() if name}
    assert {row.name for row in report.rows if row.op in ("conv", "bn")} <= names
