"""``convcalc check``: expectations in specs (layer shapes, output, params, MACs, FLOPs, receptive field), every
operator and SI suffix, exit codes 0/1/2, several files, the text, GitHub and JSON formats, and ``--update``
(round trip: after it ``check`` passes and every comment is still there)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.check.gate import check_paths, parse_comparison, parse_number, split_comment, update_text
from convcalc.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TERM": "dumb"}
ROOT = Path(__file__).resolve().parent.parent

# LeNet-5: 61,706 params, 416,520 MACs, 845,862 FLOPs, output 10, largest spatial field 32x32 (C5).
LENET = """\
# LeNet-5 for the check tests
name: LeNet-5
input: 32x32x1                 # H x W x C
layers:
  - conv:    {out: 6, k: 5, name: C1}      # 28x28x6
  - avgpool: {k: 2, s: 2, name: S2}
  - conv:    {out: 16, k: 5, name: C3}
  - avgpool: {k: 2, s: 2, name: S4}
  - conv:    {out: 120, k: 5, name: C5}
  - flatten
  - linear:  {out: 84, name: F6}
  - linear:  {out: 10, name: output}
"""


def run(*args: str):
    return runner.invoke(app, ["check", *args], env=ENV)


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def with_top(expect: str) -> str:
    return LENET.replace("layers:\n", f"expect:\n{expect}layers:\n")


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
    result = run(write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == ["1 spec, 7 expectations, all hold"]


def test_exit_1_layer_shape_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, LENET.replace("name: C3}", "name: C3, expect: 12x12x16}"))
    result = run(path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"{path}:7: layer 'C3' outputs 10x10x16, expected 12x12x16"
    assert result.stdout.splitlines()[-1] == "1 spec, 1 expectation, 1 failed"


def test_exit_1_params_shows_the_actual_value_with_separators(tmp_path: Path) -> None:
    path = write(tmp_path, with_top('  params: "<= 10k"\n  output: 1x10\n'))
    result = run(path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f'{path}:5: params 61,706 > 10k (expected <= 10k)'
    assert lines[1] == f"{path}:6: output 10, expected 1x10"


def test_receptive_field_is_the_largest_spatial_field_in_every_dimension(tmp_path: Path) -> None:
    assert run(write(tmp_path, with_top('  receptive_field: "== 32x32"\n'))).exit_code == 0
    assert run(write(tmp_path, with_top('  receptive_field: "<= 31"\n'))).exit_code == 1
    text = "input: 64x64x1\nexpect: {receptive_field: \">= 5\"}\nlayers:\n  - conv: {k: [5, 3]}\n"
    result = run(write(tmp_path, text))
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
    path = write(tmp_path, with_top(expect))
    result = run(path)
    assert result.exit_code == 2
    assert f"convcalc: error: {path}:5: {message}" in result.stderr


def test_exit_2_bad_layer_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, LENET.replace("name: C3}", "name: C3, expect: big}"))
    result = run(path)
    assert result.exit_code == 2
    assert f"convcalc: error: {path}:7: layer 'C3': expect:" in result.stderr


def test_exit_2_invalid_or_unreadable_spec(tmp_path: Path) -> None:
    bad = write(tmp_path, "input: 32x32x1\nlayers:\n  - conv: {k: 50}\n", "bad.yaml")
    assert run(bad).exit_code == 2
    assert run(str(tmp_path / "missing.yaml")).exit_code == 2
    assert "no such file" in run(str(tmp_path / "missing.yaml")).stderr
    broken = write(tmp_path, "input: [\nlayers: 3\n", "broken.yaml")
    assert run(broken).exit_code == 2


def test_invalid_beats_failed(tmp_path: Path) -> None:
    failing = write(tmp_path, with_top("  params: 1\n"), "a.yaml")
    invalid = write(tmp_path, with_top("  nope: 1\n"), "b.yaml")
    result = run(failing, invalid)
    assert result.exit_code == 2
    assert "params 61,706 != 1" in result.stdout
    assert "1 failed, 1 invalid" in result.stdout


def test_several_files_folders_and_globs(tmp_path: Path) -> None:
    good = write(tmp_path, with_top("  params: 61706\n"), "good.yaml")
    (tmp_path / "sub").mkdir()
    bad = write(tmp_path / "sub", with_top("  macs: '> 1G'\n"), "bad.yml")
    write(tmp_path / "sub", "on: push\njobs: {}\n", "workflow.yaml")  # not a spec: skipped
    result = run(good, bad)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{bad}:5: macs 416,520 <= 1G (expected > 1G)", "2 specs, 2 expectations, 1 failed"
    ]
    folder = run(str(tmp_path))
    assert folder.exit_code == 1
    assert folder.stdout.splitlines()[-1] == "2 specs, 2 expectations, 1 failed (1 other file skipped: not a spec)"
    globbed = run(str(tmp_path / "*.yaml"))
    assert globbed.exit_code == 0, globbed.output
    assert globbed.stdout.strip() == "1 spec, 1 expectation, all hold"
    assert [r.status for r in check_paths([str(tmp_path / "**" / "*.y*ml")]).files] == ["ok", "failed", "skipped"]


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
    result = run(write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'net.yaml'}:6: layer 'down.conv_0' outputs 8x8x4, expected 16x16x4",
        "1 spec, 3 expectations, 1 failed",
    ]


# --------------------------------------------------------------------------- formats


def test_github_format(tmp_path: Path) -> None:
    path = write(tmp_path, with_top("  params: '<= 1k'\n").replace("name: C1}", "name: C1, expect: 1x1x1}"))
    result = run(path, "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"::error file={path},line=7,title=convcalc check::layer 'C1' outputs 28x28x6, expected 1x1x1",
        f"::error file={path},line=5,title=convcalc check::params 61,706 > 1k (expected <= 1k)",
        "::error title=convcalc check::1 spec, 2 expectations, 2 failed",
    ]
    invalid = run(write(tmp_path, with_top("  nope: 1\n"), "bad.yaml"), "--format", "github")
    assert invalid.exit_code == 2
    assert invalid.stdout.startswith(f"::error file={tmp_path / 'bad.yaml'},line=5,title=convcalc: invalid spec::expect: unknown key")
    ok = run(write(tmp_path, LENET, "ok.yaml"), "--format", "github")
    assert ok.exit_code == 0 and ok.stdout.startswith("::notice ")


def test_json_format(tmp_path: Path) -> None:
    path = write(tmp_path, with_top("  params: '<= 1k'\n  output: 10\n"))
    result = run(path, str(tmp_path / "missing.yaml"), "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["checked"] == 2 and data["failed"] == 1 and data["invalid"] == 1 and data["exit_code"] == 2
    first, second = data["files"]
    assert first["status"] == "failed"
    assert first["failures"] == [
        {"line": 5, "key": "params", "layer": None, "message": "params 61,706 > 1k (expected <= 1k)",
         "actual": 61706, "expected": "<= 1k"}
    ]  # fmt: skip
    assert second == {"file": str(tmp_path / "missing.yaml"), "status": "error", "checked": 0, "failures": [],
                      "error": {"line": None, "message": "no such file"}}  # fmt: skip


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run(write(tmp_path, LENET), "--format", "xml")
    assert result.exit_code == 2
    assert "--format" in result.stderr


# --------------------------------------------------------------------------- --update


def comments(text: str) -> list[str]:
    return [split_comment(line)[1].strip() for line in text.splitlines() if split_comment(line)[1].strip()]


BLOCKY = """\
# a spec in every layout --update knows
name: mixed
input: 32x32x3   # HxWxC
expect:
  params: "== 1"      # wrong on purpose
  macs: "<= 1G"       # a budget: kept
layers:
  - conv: {out: 8, k: 3, name: stem, expect: 1x1x1}   # wrong on purpose
  - conv:
      # block-style arguments
      out: 8
      k: 3
      p: 1
  - conv:
      k: 1
      from:
        - stem
  - relu
  - conv: {k: 1, repeat: 2, name: twice}
  - add: {from: [-1, conv_1]}
  - global_avgpool
  - flatten
  - linear:
      out: 10
      expect: 5   # replaced
"""


def test_update_round_trip_keeps_comments(tmp_path: Path) -> None:
    path = write(tmp_path, BLOCKY)
    assert run(path).exit_code == 1
    result = run("--update", path)
    assert result.exit_code == 0, result.output
    assert "updated" in result.stdout
    text = Path(path).read_text(encoding="utf-8")
    assert comments(text) == comments(BLOCKY)
    checked = run(path)
    assert checked.exit_code == 0, checked.output
    assert "all hold" in checked.stdout
    assert 'macs: "<= 1G"       # a budget: kept' in text
    assert 'params: "== 1114"      # wrong on purpose' in text
    assert "  output: 10\n" in text
    assert "  - conv: {out: 8, k: 3, name: stem, expect: 30x30x8}   # wrong on purpose" in text
    assert "      p: 1\n      expect: 30x30x8\n" in text
    assert "  - conv:\n      expect: 30x30x8\n      k: 1\n" in text  # last argument spans lines: insert first
    assert "  - relu\n" in text and "repeat: 2, name: twice}" in text  # bare ops and repeats are left alone
    assert "      expect: 10   # replaced" in text
    again = run("--update", path)
    assert "unchanged" in again.stdout
    assert Path(path).read_text(encoding="utf-8") == text


def test_update_adds_a_top_level_expect_after_input_and_fills_flow_style(tmp_path: Path) -> None:
    new, written, skipped = update_text(LENET)
    assert written == 9 and skipped == []
    assert new.splitlines()[2:6] == ["input: 32x32x1                 # H x W x C", "expect:", "  output: 10",
                                     '  params: "== 61706"']  # fmt: skip
    assert "  - conv:    {out: 6, k: 5, name: C1, expect: 28x28x6}      # 28x28x6" in new
    assert "  - flatten\n" in new
    flow = "input: 8x8x1\nexpect: {macs: 64}  # c\nlayers:\n  - conv: {k: 1}\n"
    new, _, _ = update_text(flow)
    assert new.splitlines()[1] == 'expect: {macs: 64, output: 8x8x1, params: "== 2"}  # c'  # a plain number stays plain


def test_update_of_the_bundled_examples_round_trips(tmp_path: Path) -> None:
    for name in ("lenet5.yaml", "resnet50.yaml"):
        original = (ROOT / "examples" / name).read_text(encoding="utf-8")
        path = write(tmp_path, original, name)
        assert run("--update", path).exit_code == 0
        text = Path(path).read_text(encoding="utf-8")
        assert comments(text) == comments(original)
        result = run(path)
        assert result.exit_code == 0, result.output


def test_update_of_an_invalid_spec_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "input: 32x32x1\nlayers:\n  - conv: {k: 50}\n")
    result = run("--update", path)
    assert result.exit_code == 2
    assert Path(path).read_text(encoding="utf-8") == "input: 32x32x1\nlayers:\n  - conv: {k: 50}\n"


def test_pre_commit_hook_runs_convcalc_check() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["entry"].split()[:2] == ["convcalc", "check"]
    assert hook["language"] == "python"


def test_update_of_a_folder_skips_other_yaml(tmp_path: Path) -> None:
    write(tmp_path, LENET, "net.yaml")
    write(tmp_path, "on: push\njobs: {}\n", "workflow.yaml")
    result = run("--update", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "workflow.yaml").read_text(encoding="utf-8") == "on: push\njobs: {}\n"
    assert run(str(tmp_path)).stdout.strip() == "1 spec, 9 expectations, all hold (1 other file skipped: not a spec)"
