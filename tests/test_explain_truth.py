"""`--explain` tells the truth: every arithmetic relation it prints (``a * b = c``, ``a + b = c``, ``x >= y``)
holds, for every layer kind and every counting convention, in `layer --explain` and `net --explain LAYER`.

The checker below is independent of convcalc: it finds the relations in the printed text and evaluates both sides
with exact fractions.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from fractions import Fraction
from math import ceil, floor

import pytest
from helpers import cli
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convcalc.zoo import bundled

CONVENTIONS = ("convcalc", "torchinfo", "fvcore", "ptflops", "thop")

# --------------------------------------------------------------------------- an independent checker

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
CALLS = {"floor": floor, "ceil": ceil}
RELATIONS = {"=": operator.eq, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def _value(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        return BINARY[type(node.op)](_value(node.left), _value(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return -_value(node.operand) if isinstance(node.op, ast.USub) else _value(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS and len(node.args) == 1:
        return Fraction(CALLS[node.func.id](_value(node.args[0])))
    raise ValueError("not arithmetic")


def evaluate(text: str) -> Fraction | None:
    """The exact value of an arithmetic expression (integers with thousands separators, + - * /, parentheses,
    floor, ceil), or None when the text is not one."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.strip())
    if not text or not re.fullmatch(r"[\d\s+\-*/().a-z]+", text) or not re.search(r"\d", text):
        return None
    try:
        return _value(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
        return None


def _longest(words: list[str], suffix: bool) -> Fraction | None:
    """The value of the longest run of ``words`` at the end (``suffix``) or start that is arithmetic."""
    for size in range(len(words), 0, -1):
        value = evaluate(" ".join(words[-size:] if suffix else words[:size]))
        if value is not None:
            return value
    return None


def relations(line: str) -> list[tuple[str, Fraction, Fraction]]:
    """Every relation of two arithmetic expressions in a line: (relation, left value, right value).

    Clauses are separated by "; " or ", " (numbers use "," without a space); words in parentheses such as
    "(batch)" are annotations and dropped. Of the text around a relation, the longest arithmetic end is taken."""
    found = []
    text = re.sub(r"\s*\((?:[A-Za-z][A-Za-z ,'\-]*)\)", "", line)
    for clause in re.split(r";\s|,\s", text):
        parts = re.split(r"\s(>=|<=|=|>|<)\s", clause)
        for i in range(1, len(parts) - 1, 2):
            left = _longest(parts[i - 1].split(), suffix=True)
            right = _longest(parts[i + 1].split(), suffix=False)
            if left is not None and right is not None:
                found.append((parts[i], left, right))
    return found


def assert_true(lines: list[str]) -> int:
    """Every relation holds; every line that shows a computation (digits joined by * or + before an =) has one.
    Returns the number of relations checked."""
    checked = 0
    for line in lines:
        found = relations(line)
        for relation, left, right in found:
            assert RELATIONS[relation](left, right), f"false: {line!r} ({left} {relation} {right})"
        if re.search(r"\d\s*[*+]\s*[\d(]", line) and re.search(r"\s=\s*-?\d", line):
            assert found, f"no relation found in {line!r}"
        checked += len(found)
    return checked


def test_the_checker_finds_the_false_line_of_the_issue() -> None:
    with pytest.raises(AssertionError, match="72900"):
        assert_true(["  MACs = 30*30*3 * 3*3*3 = 75,600"])
    assert assert_true(["  MACs = 30*30*3 * 3*3*3 = 72,900", "  FLOPs = 2*72,900 + 2,700 = 148,500"]) == 2
    assert assert_true(["  H_out = floor((32 + 2*1 - 3)/2) + 1 = floor(31/2) + 1 = 16"]) == 2
    assert assert_true(["  MACs = 6*6*8 * 4*3 * 2 (batch) = 6,912"]) == 1
    assert assert_true(["  r = 1/2*3 + (3 - 1/2) = 4; 2*5 + (2 - 2) = 10; u = 0x0"]) == 2
    assert assert_true(["  W_out = ceil(5/2) + 1 = 4; the last window would start at 6 >= 5 + 1, so 3"]) == 2
    with pytest.raises(AssertionError):
        assert_true(["  x = 4; the last window would start at 4 >= 5 + 0, so 2"])


# --------------------------------------------------------------------------- layer --explain


def dims(draw: st.DrawFn, rank: int, low: int, high: int) -> str:
    return "x".join(str(draw(st.integers(low, high))) for _ in range(rank))


@st.composite
def layer_args(draw: st.DrawFn) -> list[str]:
    """Command-line arguments of one random layer (some invalid: those are skipped)."""
    op = draw(st.sampled_from(["conv", "deconv", "maxpool", "avgpool", "linear"]))
    batch = str(draw(st.sampled_from([1, 1, 2, 3])))
    if op == "linear":
        rank = draw(st.integers(0, 2))
        inp = str(draw(st.integers(1, 64))) if rank == 0 else dims(draw, rank + 1, 1, 12)
        args = ["--op", op, "--in", inp, "--out", str(draw(st.integers(1, 40)))]
        return args + (["--no-bias"] if draw(st.booleans()) else []) + ["--batch", batch]
    rank = draw(st.integers(1, 3))
    channels = draw(st.sampled_from([1, 2, 3, 4, 6]))
    args = ["--op", op, "--in", f"{dims(draw, rank, 1, 20)}x{channels}", "--k", dims(draw, rank, 1, 5)]
    args += ["--s", dims(draw, rank, 1, 3)]
    padding = draw(st.sampled_from(["none", "int", "same", "valid"]))
    if padding == "int":
        args += ["--p", dims(draw, rank, 0, 2)]
    elif padding != "none":
        args += ["--p", padding]
    if op != "avgpool" and draw(st.booleans()):
        args += ["--d", dims(draw, rank, 1, 3)]
    if op in ("conv", "deconv"):
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        args += ["--out", str(groups * draw(st.integers(1, 4))), "--g", str(groups)]
        if draw(st.booleans()):
            args.append("--no-bias")
        if op == "deconv" and draw(st.booleans()):
            args += ["--output-padding", dims(draw, rank, 0, 1)]
    elif draw(st.booleans()):
        args.append("--ceil")
    return args + ["--batch", batch]


def explain_json(args: list[str], convention: str) -> tuple[dict, list[str]]:
    result = cli("layer", *args, "--explain", "--convention", convention, "--format", "json")
    assume(result.exit_code == 0)
    data = json.loads(result.stdout)
    return data, data["explain"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(args=layer_args(), convention=st.sampled_from(CONVENTIONS))
def test_every_relation_layer_explain_prints_holds(args: list[str], convention: str) -> None:
    _, lines = explain_json(args, convention)
    assert assert_true(lines) >= 2, lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(args=layer_args(), convention=st.sampled_from(CONVENTIONS[1:]))
def test_explain_derives_the_count_the_convention_reports(args: list[str], convention: str) -> None:
    """Under a convention the explanation ends in the MACs the result reports, as a line `... = <macs>`."""
    data, lines = explain_json(args, convention)
    assert any(re.search(rf"= {data['macs']:,}$", line) for line in lines), lines
    assert any(convention in line for line in lines), lines


def test_the_issue_example_under_torchinfo_and_ptflops() -> None:
    # 32x32x3, k 3, 3 out: 30*30*3 outputs, 3*3*3 weights each: 72,900 MACs; the bias adds 30*30*3 = 2,700.
    for convention in ("torchinfo", "ptflops"):
        result = cli("layer", "--in", "32x32x3", "--k", "3", "--out", "3", "--explain", "--convention", convention)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert "  MACs = 30*30*3 * 3*3*3 = 72,900" in lines
        assert "75,600" in result.stdout
        assert assert_true(lines) >= 3


# --------------------------------------------------------------------------- net --explain LAYER

ZOO = ("lenet5", "resnet18", "unet", "dcgan_generator", "wavenet", "googlenet", "mobilenet_v2")


def layer_names(name: str) -> list[str]:
    from convcalc.specfile import loader as spec
    return [node.name for node in spec.load(bundled(name)).nodes]


NAMES = {name: layer_names(name) for name in ZOO}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_relation_net_explain_prints_holds(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(ZOO))
    target = data.draw(st.sampled_from(NAMES[name]))
    result = cli("net", name, "--explain", target)
    assert result.exit_code == 0, result.output
    assert_true(result.stdout.splitlines())


def test_net_explain_through_upsampling_keeps_fractions_true() -> None:
    # DCGAN: transposed convs with stride 2 have jump 1/2: r = 1/2*r + (k - 1/2).
    names = NAMES["dcgan_generator"]
    result = cli("net", "dcgan_generator", "--explain", names[-1])
    assert result.exit_code == 0, result.output
    assert assert_true(result.stdout.splitlines()) >= len([n for n in names if n]) // 2
