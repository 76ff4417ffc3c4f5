"""Pointwise math and learnable tensors (issue 11): unary ops (exp, log, sqrt, rsqrt, pow, neg, abs, clamp,
reciprocal, square, sign), binary ops (add, sub, mul, div) that broadcast their inputs, a param or a constant, and
``param``, a learnable tensor without an input.

The plain tests work the numbers by hand. The torch-marked ones draw random shapes and compare convcalc with the
same computation written in PyTorch on batch-free, channels-last tensors (refusals included), then run the exported
module (channels first, a batch of two) and check that it computes exactly that.
"""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.errors import ConvCalcError, SpecError
from convcalc.graph.analysis import analyze
from convcalc.graph.backward import backward_recursion
from convcalc.ops.catalogue import UNARY_MATH, canonical_op
from convcalc.specfile.loader import load_text

runner = CliRunner()

# layer scale as ConvNeXt writes it: a depthwise conv, gamma [C] scaling the channels, the residual
LAYER_SCALE = """
name: layer_scale
input: 8x8x16
layers:
  - conv: {out: 16, k: 3, p: 1, g: 16, name: dw}
  - param: {shape: [16], name: gamma}
  - mul: {from: [gamma, dw], name: scaled}
  - add: {from: [scaled, input], name: res}
"""


def spec(shape: str, layers: str) -> str:
    return f"input: '{shape}'\nlayers:\n" + "".join(f"  {line.strip()}\n" for line in layers.strip().splitlines())


def rows_of(text: str) -> dict[str, Any]:
    return {row.name: row for row in analyze(load_text(text, "net.yaml")).rows}


def failure(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        analyze(load_text(text, "net.yaml"))
    return info.value


# --------------------------------------------------------------------------- by hand


@pytest.mark.parametrize("op", UNARY_MATH)
def test_a_unary_op_is_one_flop_per_element_and_keeps_the_field(op: str) -> None:
    arguments = {"pow": "{exponent: 2, name: u}", "clamp": "{min: 0, name: u}"}.get(op, "{name: u}")
    r = rows_of(spec("6x5x3", f"- conv: {{out: 4, k: 3, p: 1}}\n- {op}: {arguments}"))["u"]
    assert r.output_shape == (6, 5, 4)
    assert (r.params, r.macs, r.flops) == (0, 0, 6 * 5 * 4)
    assert r.field.receptive_field == (3, 3) and r.field.jump == (1, 1)  # the conv's, unchanged


def test_pytorch_names_are_aliases() -> None:
    for spelling, name in [("subtract", "sub"), ("divide", "div"), ("true_divide", "div"), ("multiply", "mul"),
                           ("power", "pow"), ("negative", "neg"), ("absolute", "abs"), ("clip", "clamp"),
                           ("parameter", "param")]:  # fmt: skip
        assert canonical_op(spelling) == name


def test_layer_scale_by_hand() -> None:
    r = rows_of(LAYER_SCALE)
    assert r["gamma"].output_shape == (16,) and r["gamma"].params == 16 and r["gamma"].inputs == ()
    assert r["gamma"].input_shapes == () and r["gamma"].flops == 0
    assert r["gamma"].field.receptive_field == (0, 0)  # it sees no input position
    assert r["scaled"].output_shape == (8, 8, 16)
    assert r["scaled"].flops == 8 * 8 * 16  # one multiply per output element
    assert r["scaled"].field.receptive_field == (3, 3) and r["scaled"].field.jump == (1, 1)  # the param adds nothing
    assert r["scaled"].warnings == ()
    assert r["res"].field.receptive_field == (3, 3)
    report = analyze(load_text(LAYER_SCALE))
    assert report.params == 16 * 9 + 16 + 16
    back = backward_recursion(report, 2)
    assert back.receptive_field == (3, 3) and back.start == (-1, -1)
    assert "gamma" not in [step.name for step in back.steps]
    alone = backward_recursion(report, 1)  # the param itself: no path to the input
    assert alone.steps == () and alone.receptive_field == (0, 0) and not alone.whole


def test_binary_ops_broadcast_from_the_last_axis() -> None:
    text = spec(
        "6x6x4",
        """
        - param: {shape: [6, 1, 4], name: column}
        - param: {shape: 4, name: per_channel}
        - sub: {from: [input, column, per_channel], name: three}
        - div: {from: [input], value: 2, name: halved}
        - div: {from: [input], value: 1, reverse: true, name: inverse}
        - mul: {from: [column, per_channel], name: params_only}
        - exp: {name: e}
        - add: {from: [per_channel, per_channel], value: 1.5, name: four}
        """,
    )
    r = rows_of(text)
    assert r["column"].params == 24 and r["per_channel"].params == 4
    assert r["three"].output_shape == (6, 6, 4) and r["three"].flops == 2 * 6 * 6 * 4
    assert r["halved"].flops == 6 * 6 * 4 and r["inverse"].flops == 6 * 6 * 4
    assert r["params_only"].output_shape == (6, 1, 4) and r["params_only"].flops == 24
    assert r["params_only"].field.receptive_field == (0, 0)  # made of params alone: sees no input position
    assert r["e"].field.receptive_field == (0, 0)
    assert r["four"].output_shape == (4,) and r["four"].flops == 2 * 4
    assert sum(row.params for row in r.values()) == 28


def test_a_param_of_more_axes_than_the_input_widens_the_output() -> None:
    r = rows_of(spec("5x3", "- param: {shape: [2, 5, 3], name: p}\n- add: {from: [input, p], name: s}"))
    assert r["s"].output_shape == (2, 5, 3) and r["s"].flops == 30


def test_a_param_can_be_repeated_and_trainable_false() -> None:
    text = spec("4x4x2", "- param: {shape: [2], repeat: 3, name: g, trainable: false}\n- mul: {from: [input, g.2]}")
    report = analyze(load_text(text))
    assert [row.name for row in report.rows[:3]] == ["g.0", "g.1", "g.2"]
    assert all(row.inputs == () for row in report.rows[:3])
    assert report.params == 6 and report.trainable_params == 0


@pytest.mark.parametrize(
    ("layers", "message", "line"),
    [
        ("- add: {from: [input, p]}", "add needs equal sizes (or 1 to broadcast), got 8x8x4, 3x4", 4),
        ("- mul: {from: [input, p], value: 2}", "mul needs equal sizes (or 1 to broadcast), got 8x8x4, 3x4", 4),
        ("- sub", "sub needs at least two inputs, got 1 (or one and a constant value)", 4),
        ("- div: {from: p}", "div needs at least two inputs, got 1", 4),
        ("- clamp", "clamp needs min, max or both", 4),
        ("- param: {shape: [2], from: input}", "param takes no input (no from:)", 4),
    ],
)
def test_refusals(layers: str, message: str, line: int) -> None:
    error = failure(spec("8x8x4", "- param: {shape: [3, 4], name: p}\n" + layers))
    assert message in error.message and error.line == line


@pytest.mark.parametrize(
    "layer",
    [
        "- param: {shape: []}",
        "- param: {shape: [0, 3]}",
        "- param",
        "- pow",
        "- pow: {exponent: true}",
        "- add: {value: '1'}",
        "- clamp: {min: x}",
    ],  # fmt: skip
)
def test_bad_arguments_are_refused_by_validation(layer: str) -> None:
    with pytest.raises(SpecError):
        load_text(spec("8x8x4", layer))


def test_json_of_a_param_row_fits_the_schema() -> None:
    import json

    from jsonschema import validate

    from convcalc.report.json_output import report_dict
    from convcalc.report.schema import net_schema

    data = json.loads(json.dumps(report_dict(analyze(load_text(LAYER_SCALE)))))
    gamma = next(layer for layer in data["layers"] if layer["name"] == "gamma")
    assert gamma["inputs"] == [] and "input_shape" not in gamma
    assert gamma["receptive_field"] == [0, 0] and gamma["params"] == 16
    validate(data, net_schema())


def test_export_writes_the_param_and_the_broadcast() -> None:
    from convcalc.io.torch_export import export_torch

    source = export_torch(load_text(LAYER_SCALE))
    assert "self.gamma = nn.Parameter(torch.zeros(16))" in source
    assert "gamma = self.gamma.expand(x.shape[0], -1)" in source
    assert "scaled = gamma[:, :, None, None] * dw" in source
    nested = export_torch(
        load_text(
            "input: 4x4x2\nblocks:\n  scale:\n    layers:\n      - param: {shape: [2], name: g}\n"
            "      - mul: {from: [input, g]}\nlayers:\n  - scale: {name: blk}\n"
        )
    )
    assert "self.blk.register_parameter('g', nn.Parameter(torch.zeros(2)))" in nested
    assert "self.get_parameter('blk.g').expand(x.shape[0], -1)" in nested


# --------------------------------------------------------------------------- against PyTorch


def _torch() -> Any:
    torch = pytest.importorskip("torch")
    pytest.importorskip("hypothesis")
    return torch


def channels_first(torch: Any, tensor: Any) -> Any:
    """A batched channels-last tensor (N, *spatial, C) as PyTorch's (N, C, *spatial)."""
    return tensor.movedim(-1, 1) if tensor.dim() > 2 else tensor


def run_exported(torch: Any, text: str, params: dict[str, Any], x: Any) -> Any:
    """The exported module in float64 with the params set, on a batch x (channels last); the output channels last."""
    from convcalc.io.torch_verify import build_module

    model = build_module(load_text(text), device="cpu").double()
    with torch.no_grad():
        for name, value in params.items():
            model.get_parameter(name).copy_(value)
        out = model(channels_first(torch, x))
    return out.movedim(1, -1) if out.dim() > 2 else out


BINARY_TORCH = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                "div": lambda a, b: a / b}  # fmt: skip


@pytest.mark.torch
def test_binary_ops_against_torch_over_random_shapes() -> None:
    torch = _torch()
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @st.composite
    def cases(draw: Any) -> tuple[Any, ...]:
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
        operands = []
        for _ in range(draw(st.integers(0, 2))):  # params of random rank, sizes often matching, sometimes not
            rank = draw(st.integers(1, len(shape) + 1))
            aligned = ((1,) + shape)[-rank:] if rank > len(shape) else shape[-rank:]
            operands.append(tuple(draw(st.sampled_from([n, 1, n, draw(st.integers(1, 4))])) for n in aligned))
        value = draw(st.one_of(st.none(), st.sampled_from([2, 0.5, -1.5])))
        return shape, operands, value, draw(st.booleans()), draw(st.sampled_from(sorted(BINARY_TORCH)))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases())
    def check(case: tuple[Any, ...]) -> None:
        shape, param_shapes, value, reverse, op = case
        x = torch.rand(2, *shape, dtype=torch.float64) + 0.5
        params = {f"p{k}": torch.rand(*s, dtype=torch.float64) + 0.5 for k, s in enumerate(param_shapes)}
        lines = [f"- param: {{shape: {list(s)}, name: p{k}}}" for k, s in enumerate(param_shapes)]
        extra = ""
        if value is not None:
            extra = f", value: {value}" + (", reverse: true" if reverse else "")
        lines.append(f"- {op}: {{from: [input{''.join(f', p{k}' for k in range(len(params)))}]{extra}, name: out}}")
        text = spec("x".join(map(str, shape)), "\n".join(lines))
        operands: list[Any] = [x[0], *params.values()]  # batch-free, channels last: convcalc's tensors
        if value is not None:
            operands.insert(0 if reverse else len(operands), torch.tensor(value, dtype=torch.float64))
        try:
            expected = operands[0]
            for operand in operands[1:]:
                expected = BINARY_TORCH[op](expected, operand)
        except RuntimeError:
            if len(operands) < 2:
                return
            with pytest.raises(ConvCalcError):
                analyze(load_text(text))
            return
        if len(operands) < 2:  # one input and no constant: PyTorch has nothing to refuse, convcalc does
            with pytest.raises(ConvCalcError, match="needs at least two inputs"):
                analyze(load_text(text))
            return
        row = analyze(load_text(text)).rows[-1]
        assert row.output_shape == tuple(expected.shape)
        assert row.flops == (len(operands) - 1) * expected.numel()
        out = run_exported(torch, text, params, x)
        assert tuple(out.shape) == (2, *expected.shape)
        assert torch.allclose(out[0], expected)
        second = [x[1], *params.values()]
        if value is not None:
            second.insert(0 if reverse else len(second), torch.tensor(value, dtype=torch.float64))
        other = second[0]
        for operand in second[1:]:
            other = BINARY_TORCH[op](other, operand)
        assert torch.allclose(out[1], other)  # each sample with its own input, the params broadcast over the batch

    check()


UNARY_TORCH = {
    "exp": lambda t, a: torch_call(t, "exp", a), "log": lambda t, a: torch_call(t, "log", a),
    "sqrt": lambda t, a: torch_call(t, "sqrt", a), "rsqrt": lambda t, a: torch_call(t, "rsqrt", a),
    "neg": lambda t, a: -a, "abs": lambda t, a: torch_call(t, "abs", a),
    "reciprocal": lambda t, a: 1 / a, "square": lambda t, a: a * a, "sign": lambda t, a: torch_call(t, "sign", a),
}  # fmt: skip


def torch_call(torch: Any, name: str, tensor: Any) -> Any:
    return getattr(torch, name)(tensor)


@pytest.mark.torch
def test_unary_ops_against_torch_over_random_shapes() -> None:
    torch = _torch()
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    arguments = st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY_TORCH)), st.just({})),
        st.tuples(st.just("pow"), st.fixed_dictionaries({"exponent": st.sampled_from([2, 3, 0.5, -1, -0.5])})),
        st.tuples(
            st.just("clamp"),
            st.fixed_dictionaries({}, optional={"min": st.sampled_from([0, 0.7]), "max": st.sampled_from([1, 1.2])}),
        ),
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.integers(1, 4), min_size=1, max_size=4), arguments)
    def check(shape: list[int], op_args: tuple[str, dict[str, Any]]) -> None:
        op, args = op_args
        x = torch.rand(2, *shape, dtype=torch.float64) + 0.5
        written = ", ".join(f"{key}: {value}" for key, value in args.items())
        text = spec("x".join(map(str, shape)), f"- {op}: {{{written}}}")
        if op == "pow":
            expected = torch.pow(x, args["exponent"])
        elif op == "clamp":
            try:
                expected = torch.clamp(x, **args)
            except (RuntimeError, TypeError):  # PyTorch refuses a clamp without bounds: so does convcalc
                with pytest.raises(ConvCalcError, match="clamp needs min, max or both"):
                    analyze(load_text(text))
                return
        else:
            expected = UNARY_TORCH[op](torch, x)
        row = analyze(load_text(text)).rows[-1]
        assert row.output_shape == tuple(shape) and row.flops == prod(shape)
        assert torch.allclose(run_exported(torch, text, {}, x), expected)

    check()


@pytest.mark.torch
def test_verify_passes_on_specs_with_params(tmp_path: Any) -> None:
    pytest.importorskip("torch")
    vit_like = spec(
        "196x768",
        """
        - param: {shape: [196, 768], name: pos_embed}
        - add: {from: [input, pos_embed], name: tokens}
        - param: {shape: [768], name: ls}
        - mul: {from: [tokens, ls], name: scaled}
        - linear: {out: 10}
        """,
    )
    for name, text in [("layer_scale.yaml", LAYER_SCALE), ("vit_like.yaml", vit_like)]:
        path = tmp_path / name
        path.write_text(text)
        result = runner.invoke(app, ["net", str(path), "--verify"])
        assert result.exit_code == 0, result.output
        assert "PyTorch agrees" in result.output
    from convcalc.io.torch_verify import build_module

    model = build_module(load_text(vit_like), device="meta")
    assert sum(p.numel() for p in model.parameters()) == 196 * 768 + 768 + 768 * 10 + 10


def test_param_rows_have_a_zero_field_in_tables() -> None:
    from convcalc.report.cells import field_text

    r = rows_of(LAYER_SCALE)
    assert field_text(r["gamma"]) == ("0x0", "0x0")
    assert r["gamma"].field.start == (Fraction(0), Fraction(0))
