"""Expectations in specs (convcalc.check.expectations): layer shapes, output, params, MACs, FLOPs and receptive
field, every operator and SI suffix, exit codes 0/1/2 with file and line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from helpers import LENET, with_top
from helpers import run_check as run
from helpers import write_file as write

from convcalc.check.expectations import parse_comparison, parse_number

SPECS = Path(__file__).parent / "specs"


# --------------------------------------------------------------------------- numbers and operators


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200", 200), ("100k", 100_000), ("100K", 100_000), ("1M", 10**6), ("1.5G", 1_500_000_000),
        ("2T", 2 * 10**12), ("61_706", 61706), ("61,706", 61706), ("0.5k", 500), ("2e6", 2_000_000),
        ("1.0000001G", 1_000_000_100),
    ],
)  # fmt: skip
def test_numbers_with_si_suffixes_are_exact(text: str, value: int) -> None:
    assert parse_number(text) == value
    assert isinstance(parse_number(text), Fraction)


@pytest.mark.parametrize("text", ["", "abc", "1m", "1.5 GB", "1P", "k"])
def test_bad_numbers_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("expectation", "holds"),
    [
        ("== 61706", True), ("== 61705", False), (61706, True), ("61706", True), (61000, False),
        ("!= 61706", False), ("!= 1", True),
        ("< 61707", True), ("< 61706", False), ("<= 61706", True), ("<= 61705", False),
        ("> 61705", True), ("> 61706", False), (">= 61706", True), (">= 61707", False),
        ("<= 61.706k", True), ("< 61.706k", False), ("< 0.1M", True), ("> 0.00006G", True), ("< 1T", True),
        ("<=61706", True),
    ],
)  # fmt: skip
def test_every_operator(expectation, holds: bool) -> None:
    assert parse_comparison(expectation, "params").holds(61706) is holds


def test_a_bare_number_means_equal() -> None:
    assert parse_comparison(5, "params").op == "=="
    assert parse_comparison("5k", "params").bound == 5000


# --------------------------------------------------------------------------- exit codes and messages


def test_exit_0_when_every_expectation_holds(tmp_path: Path) -> None:
    text = with_top('  output: 10\n  params: "== 61706"\n  macs: "<= 416.52k"\n  flops: "< 1M"\n  receptive_field: 32\n')
    text = text.replace("name: C1}", "name: C1, expect: 28x28x6}").replace("name: F6}", "name: F6, expect: 84}")
    result = run(write(tmp_path, "net.yaml", text))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == ["1 spec, 7 expectations, all hold"]


def test_exit_1_layer_shape_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", LENET.replace("name: C3}", "name: C3, expect: 12x12x16}"))
    result = run(path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"{path}:7: layer 'C3' outputs 10x10x16, expected 12x12x16"
    assert result.stdout.splitlines()[-1] == "1 spec, 1 expectation, 1 failed"


def test_exit_1_params_shows_the_actual_value_with_separators(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", with_top('  params: "<= 10k"\n  output: 1x10\n'))
    result = run(path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f'{path}:5: params 61,706 > 10k (expected <= 10k)'
    assert lines[1] == f"{path}:6: output 10, expected 1x10"


def test_receptive_field_is_the_largest_spatial_field_in_every_dimension(tmp_path: Path) -> None:
    assert run(write(tmp_path, "net.yaml", with_top('  receptive_field: "== 32x32"\n'))).exit_code == 0
    assert run(write(tmp_path, "net.yaml", with_top('  receptive_field: "<= 31"\n'))).exit_code == 1
    text = "input: 64x64x1\nexpect: {receptive_field: \">= 5\"}\nlayers:\n  - conv: {k: [5, 3]}\n"
    result = run(write(tmp_path, "net.yaml", text))
    assert result.exit_code == 1
    assert "receptive_field 5x3, expected >= 5" in result.stdout


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("  speed: 3\n", "expect: unknown key 'speed'"),
        ('  params: "~ 5"\n', "expect: params: cannot read '~ 5'"),
        ('  params: "<= 5P"\n', "expect: params: cannot read '<= 5P'"),
        ("  output: 10x0\n", "expect: output:"),
    ],
)
def test_exit_2_bad_expectation_syntax_names_file_and_line(tmp_path: Path, expect: str, message: str) -> None:
    path = write(tmp_path, "net.yaml", with_top(expect))
    result = run(path)
    assert result.exit_code == 2
    assert f"convcalc: error: {path}:5: {message}" in result.stderr


def test_exit_2_bad_layer_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", LENET.replace("name: C3}", "name: C3, expect: big}"))
    result = run(path)
    assert result.exit_code == 2
    assert f"convcalc: error: {path}:7: layer 'C3': expect:" in result.stderr


def test_exit_2_invalid_or_unreadable_spec(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", "input: 32x32x1\nlayers:\n  - conv: {k: 50}\n")
    assert run(bad).exit_code == 2
    assert run(str(tmp_path / "missing.yaml")).exit_code == 2
    assert "no such file" in run(str(tmp_path / "missing.yaml")).stderr
    broken = write(tmp_path, "broken.yaml", "input: [\nlayers: 3\n")
    assert run(broken).exit_code == 2


def test_invalid_beats_failed(tmp_path: Path) -> None:
    failing = write(tmp_path, "a.yaml", with_top("  params: 1\n"))
    invalid = write(tmp_path, "b.yaml", with_top("  nope: 1\n"))
    result = run(failing, invalid)
    assert result.exit_code == 2
    assert "params 61,706 != 1" in result.stdout
    assert "1 failed, 1 invalid" in result.stdout


def test_layer_expectations_in_blocks_and_repeats_are_checked_for_every_instance(tmp_path: Path) -> None:
    text = """\
input: 16x16x4
blocks:
  unit:
    args: {s: 1}
    layers:
      - conv: {k: 3, p: 1, s: $s, expect: 16x16x4}
layers:
  - unit: {repeat: 2}
  - unit: {s: 2, name: down}
"""
    result = run(write(tmp_path, "net.yaml", text))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'net.yaml'}:6: layer 'down.conv_0' outputs 8x8x4, expected 16x16x4",
        "1 spec, 3 expectations, 1 failed",
    ]
