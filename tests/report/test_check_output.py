"""The output formats of ``convcalc check`` (convcalc.report.check_output): table (alias text), GitHub Actions
annotations and JSON, for failures, invalid specs and a run that finds no spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import LENET, TESTS, usage_error, with_top
from helpers import run_check as run
from helpers import write_file as write

SPECS = TESTS / "check" / "specs"
# A small net with one expectation that fails: params 47,206 "<= 1k".
QUOTED = (SPECS / "quoted.yaml").read_text(encoding="utf-8")


def test_github_format(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", with_top("  params: '<= 1k'\n").replace("name: C1}", "name: C1, expect: 1x1x1}"))
    result = run(path, "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"::error file={path},line=7,title=convcalc check::layer 'C1' outputs 28x28x6, expected 1x1x1",
        f"::error file={path},line=5,title=convcalc check::params 61,706 > 1k (expected <= 1k)",
        "::error title=convcalc check::1 spec, 2 expectations, 2 failed",
    ]
    invalid = run(write(tmp_path, "bad.yaml", with_top("  nope: 1\n")), "--format", "github")
    assert invalid.exit_code == 2
    assert invalid.stdout.startswith(f"::error file={tmp_path / 'bad.yaml'},line=5,title=convcalc: invalid spec::expect: unknown key")
    ok = run(write(tmp_path, "ok.yaml", LENET), "--format", "github")
    assert ok.exit_code == 0 and ok.stdout.startswith("::notice ")


def test_json_format(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", with_top("  params: '<= 1k'\n  output: 10\n"))
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


def test_no_specs_found_in_the_github_and_json_formats(tmp_path: Path) -> None:
    github = run(str(tmp_path), "--format", "github")
    assert github.exit_code == 2
    assert github.stdout.splitlines() == [f"::error title=convcalc check::no specs found in {tmp_path} (--allow-empty to accept that)"]
    data = json.loads(run(str(tmp_path), "--format", "json").stdout)
    assert data["exit_code"] == 2 and data["specs"] == 0 and data["error"].startswith("no specs found")
    allowed = json.loads(run(str(tmp_path), "--format", "json", "--allow-empty").stdout)
    assert allowed["exit_code"] == 0 and allowed["error"] is None


@pytest.mark.parametrize("name", ["table", "text"])
def test_format_table_with_text_as_an_alias(tmp_path: Path, name: str) -> None:
    result = run(write(tmp_path, "net.yaml", QUOTED), "--format", name)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "1 spec, 1 expectation, 1 failed"


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run(write(tmp_path, "net.yaml", LENET), "--format", "xml")
    assert result.exit_code == 2
    assert "--format" in result.stderr


def test_format_help_names_table() -> None:
    assert "'table', 'github', 'json'" in usage_error("check", "--format", "xml", "x.yaml")
