"""Which files ``convcalc check`` reads (convcalc.check.discovery): files, folders and globs; what is a spec is
decided on the parsed content, a file named that is no spec is an error, a run that finds nothing fails, a FIFO or
device is refused at once. Also the pre-commit hook and the README's CI step."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, with_top
from helpers import run_check as run
from helpers import write_file as write

from convcalc import __version__
from convcalc.check import check_paths
from convcalc.check.discovery import NOT_A_SPEC
from convcalc.specfile import loader as specs

SPECS = Path(__file__).parent / "specs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEC = (SPECS / "small.yaml").read_text(encoding="utf-8")
QUOTED = (SPECS / "quoted.yaml").read_text(encoding="utf-8")
WORKFLOW = (SPECS / "workflow.yaml").read_text(encoding="utf-8")
# A small net: 47,206 params, output 10. The expectation fails on purpose, so a run that really checks exits 1.
JSON = (SPECS / "failing.json").read_text(encoding="utf-8")
FLOW = '{input: 32x32x1, expect: {params: "<= 1k"}, layers: [{conv: {out: 6, k: 5}}, flatten, {linear: {out: 10}}]}\n'
COMPOSE = """\
x-common: &common
  restart: always
services:
  web:
    <<: *common
    image: nginx
"""
CLOUDFORMATION = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n"
MANIFESTS = "apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\n"
# The text has a line that starts with `input:` (the old test), but the parsed content is a mapping with `config`.
LOOKS_LIKE_A_SPEC = "config: {\ninput: 3,\nlayers: 4\n}\n"


def run_process(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, with a timeout (a hang is a failure, not a stuck test run)."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "convcalc", "check", *args],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"convcalc check {' '.join(args)} still running after {timeout} s")


# --------------------------------------------------------------------------- files, folders and globs


def test_several_files_folders_and_globs(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", with_top("  params: 61706\n"))
    bad = write(tmp_path / "sub", "bad.yml", with_top("  macs: '> 1G'\n"))
    write(tmp_path / "sub", "workflow.yaml", "on: push\njobs: {}\n")  # not a spec: skipped
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


# --------------------------------------------------------------------------- a spec is what it parses to


@pytest.mark.parametrize(("name", "text"), [("quoted.yaml", QUOTED), ("flow.yaml", FLOW), ("json.yaml", JSON), ("spec.json", JSON)])
def test_a_named_spec_in_any_style_is_checked(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    result = run(path)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == "1 spec, 1 expectation, 1 failed"
    assert "params 47,206 > 1k (expected <= 1k)" in result.stdout


def test_a_folder_search_finds_specs_by_content(tmp_path: Path) -> None:
    write(tmp_path, "quoted.yaml", QUOTED)
    write(tmp_path, "models/flow.yml", FLOW)
    write(tmp_path, "models/net.json", JSON)
    write(tmp_path, "package.json", '{"name": "web", "dependencies": {}}\n')
    result = run(str(tmp_path))
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == "3 specs, 3 expectations, 3 failed (1 other file skipped: not a spec)"


@pytest.mark.parametrize("other", [WORKFLOW, COMPOSE, CLOUDFORMATION, MANIFESTS, LOOKS_LIKE_A_SPEC, "[1, 2]\n", "just text\n"])
def test_other_yaml_found_by_a_search_is_skipped_by_its_content(tmp_path: Path, other: str) -> None:
    write(tmp_path, "spec.yaml", SPEC)
    write(tmp_path, "other.yaml", other)
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1 spec, 0 expectations (1 other file skipped: not a spec)"
    assert [r.status for r in check_paths([str(tmp_path)]).files] == ["skipped", "ok"]


def test_a_mapping_with_input_or_layers_alone_is_a_spec_with_an_error(tmp_path: Path) -> None:
    write(tmp_path, "half.yaml", "input: 32x32x1\nlayres:\n  - relu\n")
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "half.yaml" in result.stderr


def test_yaml_that_does_not_parse_is_an_error_even_in_a_search(tmp_path: Path) -> None:
    write(tmp_path, "spec.yaml", SPEC)
    write(tmp_path, "chart.yaml", "replicas: {{ .Values.replicas }}\nname: [\n")
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "chart.yaml" in result.stderr and "YAML syntax error" in result.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [("workflow.yaml", WORKFLOW), ("empty.yaml", ""), ("list.yaml", "[1, 2]\n"), ("compose.yaml", COMPOSE),
     ("data.json", '{"a": 1}\n'), ("config.yaml", LOOKS_LIKE_A_SPEC)],
)  # fmt: skip
def test_a_named_file_that_is_no_spec_is_an_error(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    result = run(path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {path}: {NOT_A_SPEC}"]
    assert result.stdout == "0 specs, 0 expectations, 1 invalid\n"


def test_skip_non_specs_treats_named_files_as_found(tmp_path: Path) -> None:
    spec, workflow = write(tmp_path, "spec.yaml", SPEC), write(tmp_path, "ci.yaml", WORKFLOW)
    result = run("--skip-non-specs", spec, workflow)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1 spec, 0 expectations (1 other file skipped: not a spec)"
    assert run("--skip-non-specs", workflow).exit_code == 2
    assert run("--skip-non-specs", "--allow-empty", workflow).exit_code == 0


# --------------------------------------------------------------------------- a run that finds nothing fails


def test_an_empty_folder_is_no_specs_found(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"convcalc: error: no specs found in {tmp_path} (--allow-empty to accept that)"]
    assert result.stdout == ""
    allowed = run(str(tmp_path), "--allow-empty")
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.strip() == "0 specs, 0 expectations"


def test_a_folder_of_other_yaml_is_no_specs_found(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/ci.yml", WORKFLOW)  # hidden folders are not searched
    write(tmp_path, "ci.yml", WORKFLOW)
    write(tmp_path, "compose.yaml", COMPOSE)
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "no specs found" in result.stderr and "2 other files skipped: not specs" in result.stderr


def test_a_glob_that_matches_no_spec_is_no_specs_found(tmp_path: Path) -> None:
    write(tmp_path, "ci.yml", WORKFLOW)
    assert run(str(tmp_path / "*.yml")).exit_code == 2


# --------------------------------------------------------------------------- no FIFO, no device, no hang


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = run_process(str(fifo))
    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {fifo}: not a regular file"]
    assert result.stdout == ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_in_a_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "spec.yaml", SPEC)
    os.mkfifo(tmp_path / "pipe.yaml")
    result = run_process(str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {tmp_path / 'pipe.yaml'}: not a regular file"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_update_of_a_named_pipe_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = run_process("--update", str(fifo))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {fifo}: not a regular file"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_is_refused() -> None:
    result = run("/dev/null")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["convcalc: error: /dev/null: not a regular file"]


def test_a_file_too_large_for_a_spec_is_refused_without_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(specs, "MAX_SPEC_BYTES", 1024)
    path = write(tmp_path, "big.yaml", SPEC + "# padding\n" * 200)
    result = run(path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {path}: larger than 1,024 bytes, too large for a spec"]


# --------------------------------------------------------------------------- pre-commit and CI


def test_pre_commit_hook_runs_convcalc_check() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["entry"].split()[:2] == ["convcalc", "check"]
    assert hook["language"] == "python"


def test_the_pre_commit_hook_skips_other_yaml_and_passes_a_commit_without_specs() -> None:
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"].split() == ["convcalc", "check", "--skip-non-specs", "--allow-empty"]


def test_readme_ci_step_installs_from_the_repository() -> None:
    section = README.split("### CI gate: `convcalc check`", 1)[1].split("\n## ", 1)[0]
    steps = [line for line in section.splitlines() if "- run:" in line]
    assert steps and all("pip install convcalc " not in step and "pip install convcalc&" not in step for step in steps)
    assert all(re.search(r"pip install (\S*git\+https://\S+|\.)", step) for step in steps), steps
    rev = re.search(r"^\s*rev: (\S+)", section, re.M)
    assert rev and rev.group(1) == f"v{__version__}"  # the release tag of this version
    for flag in ("--allow-empty", "--skip-non-specs", "--format table", "no specs found"):
        assert flag in section, flag
