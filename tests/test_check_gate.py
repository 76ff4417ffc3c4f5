"""``convcalc check`` as a CI gate that never passes without checking (issue 9, section 3): what is a spec is
decided on the parsed content, a file named that is no spec is an error, a run that finds nothing fails, a FIFO or
device is refused at once; ``--update`` keeps hand-written bounds, line endings and the BOM, and never writes a file
that is no spec. Also ``--format table`` and the README's CI step."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc import __version__
from convcalc.check import gate as checks
from convcalc.cli import app
from convcalc.spec import loader as specs

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TERM": "dumb"}
ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# A small net: 47,206 params, output 10. The expectation fails on purpose, so a run that really checks exits 1.
FAILING = {"input": "32x32x1", "expect": {"params": "<= 1k"}, "layers": [{"conv": {"out": 6, "k": 5}}, "flatten", {"linear": {"out": 10}}]}  # fmt: skip
QUOTED = """\
"input": 32x32x1
"expect":
  "params": "<= 1k"
"layers":
  - conv: {out: 6, k: 5}
  - flatten
  - linear: {out: 10}
"""
FLOW = '{input: 32x32x1, expect: {params: "<= 1k"}, layers: [{conv: {out: 6, k: 5}}, flatten, {linear: {out: 10}}]}\n'
JSON = json.dumps(FAILING, indent=2) + "\n"
SPEC = "input: 32x32x1\nlayers:\n  - conv: {out: 6, k: 5}\n  - flatten\n  - linear: {out: 10}\n"
WORKFLOW = "name: CI\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
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


def run(*args: str):
    return runner.invoke(app, ["check", *args], env=ENV)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_process(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, with a timeout (a hang is a failure, not a stuck test run)."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "convcalc", "check", *args],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"convcalc check {' '.join(args)} still running after {timeout} s")


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
    assert [r.status for r in checks.check_paths([str(tmp_path)]).files] == ["skipped", "ok"]


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
    assert result.stderr.splitlines() == [f"convcalc: error: {path}: {checks.NOT_A_SPEC}"]
    assert result.stdout == "0 specs, 0 expectations, 1 invalid\n"


def test_skip_non_specs_treats_named_files_as_found(tmp_path: Path) -> None:
    spec, workflow = write(tmp_path, "spec.yaml", SPEC), write(tmp_path, "ci.yaml", WORKFLOW)
    result = run("--skip-non-specs", spec, workflow)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1 spec, 0 expectations (1 other file skipped: not a spec)"
    assert run("--skip-non-specs", workflow).exit_code == 2
    assert run("--skip-non-specs", "--allow-empty", workflow).exit_code == 0


def test_the_pre_commit_hook_skips_other_yaml_and_passes_a_commit_without_specs() -> None:
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"].split() == ["convcalc", "check", "--skip-non-specs", "--allow-empty"]


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


def test_no_specs_found_in_the_github_and_json_formats(tmp_path: Path) -> None:
    github = run(str(tmp_path), "--format", "github")
    assert github.exit_code == 2
    assert github.stdout.splitlines() == [f"::error title=convcalc check::no specs found in {tmp_path} (--allow-empty to accept that)"]
    data = json.loads(run(str(tmp_path), "--format", "json").stdout)
    assert data["exit_code"] == 2 and data["specs"] == 0 and data["error"].startswith("no specs found")
    allowed = json.loads(run(str(tmp_path), "--format", "json", "--allow-empty").stdout)
    assert allowed["exit_code"] == 0 and allowed["error"] is None


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


# --------------------------------------------------------------------------- --update


README_SPEC = next(block for block in re.findall(r"```yaml\n(.*?)```", README, re.S) if 'params: "<= 100k"' in block)


def test_update_keeps_the_readme_bounds(tmp_path: Path) -> None:
    path = write(tmp_path, "lenet.yaml", README_SPEC)
    result = run("--update", path)
    assert result.exit_code == 0, result.output
    text = Path(path).read_text(encoding="utf-8")
    top = text.split("layers:")[0]
    assert top == README_SPEC.split("layers:")[0]  # output 10 holds; the bounds are kept as written
    assert 'params: "<= 100k"' in top and 'macs: "< 1.5M"' in top and 'receptive_field: ">= 32"' in top
    assert "== " not in text


def test_update_refreshes_exact_values_in_the_form_written(tmp_path: Path) -> None:
    text = SPEC.replace("layers:", 'expect:\n  params: 5\n  macs: "== 1"\n  flops: "!= 0"\n  receptive_field: "== 2"\nlayers:')
    path = write(tmp_path, "net.yaml", text)
    assert run("--update", path).exit_code == 0
    new = Path(path).read_text(encoding="utf-8")
    assert "  params: 47206\n" in new
    assert re.search(r'  macs: "== [\d]+"\n', new) and '  flops: "!= 0"\n' in new and '  receptive_field: "== 5"\n' in new
    assert run(path).exit_code == 0


def test_update_keeps_crlf_line_endings_and_the_bom(tmp_path: Path) -> None:
    original = "\ufeff# a spec\r\n" + SPEC.replace("\n", "\r\n").replace("layers:", 'expect:\r\n  params: "<= 100k"  # budget\r\nlayers:')
    path = tmp_path / "net.yaml"
    path.write_bytes(original.encode("utf-8"))
    assert run(str(path)).exit_code == 0
    result = run("--update", str(path))
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# a spec\r\n")
    assert data.count(b"\n") == data.count(b"\r\n") > original.count("\n")
    assert b'params: "<= 100k"  # budget\r\n' in data and b"  output: 10\r\n" in data
    assert run(str(path)).exit_code == 0
    assert run("--update", str(path)).stdout.startswith(f"{path}: unchanged")


def test_update_keeps_a_json_spec_json(tmp_path: Path) -> None:
    compact = JSON.replace('"<= 1k"', "5").replace('{\n    "params": 5\n  }', '{"params": 5}')
    path = write(tmp_path, "net.json", compact)
    assert run("--update", path).exit_code == 0
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    assert data["expect"] == {"params": 47206, "output": 10}
    spread = write(tmp_path, "spread.json", JSON)  # an expect over several lines: refused, nothing written
    assert run("--update", spread).exit_code == 2
    assert Path(spread).read_text(encoding="utf-8") == JSON
    one_line = write(tmp_path, "flat.json", json.dumps(FAILING) + "\n")
    result = run("--update", one_line)
    assert result.exit_code == 2
    assert "nothing written" in result.stderr and len(result.stderr.splitlines()) == 1
    assert Path(one_line).read_text(encoding="utf-8") == json.dumps(FAILING) + "\n"


def test_update_never_writes_a_named_file_that_is_no_spec(tmp_path: Path) -> None:
    spec, workflow = write(tmp_path, "spec.yaml", SPEC), write(tmp_path, "ci.yaml", WORKFLOW)
    result = run("--update", spec, workflow)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {workflow}: {checks.NOT_A_SPEC}"]
    assert Path(workflow).read_text(encoding="utf-8") == WORKFLOW
    assert Path(spec).read_text(encoding="utf-8") == SPEC  # planned first: nothing written at all


def test_update_of_a_folder_without_specs_is_no_specs_found(tmp_path: Path) -> None:
    write(tmp_path, "ci.yaml", WORKFLOW)
    result = run("--update", str(tmp_path))
    assert result.exit_code == 2
    assert "no specs found" in result.stderr
    assert Path(tmp_path / "ci.yaml").read_text(encoding="utf-8") == WORKFLOW
    assert run("--update", "--allow-empty", str(tmp_path)).exit_code == 0


# --------------------------------------------------------------------------- formats and the README


@pytest.mark.parametrize("name", ["table", "text"])
def test_format_table_with_text_as_an_alias(tmp_path: Path, name: str) -> None:
    result = run(write(tmp_path, "net.yaml", QUOTED), "--format", name)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "1 spec, 1 expectation, 1 failed"


def test_format_help_names_table() -> None:
    result = run("--format", "xml", "x.yaml")
    assert result.exit_code == 2
    assert "choose table, github, json" in result.stderr


def test_readme_ci_step_installs_from_the_repository() -> None:
    section = README.split("### CI gate: `convcalc check`", 1)[1].split("\n## ", 1)[0]
    steps = [line for line in section.splitlines() if "- run:" in line]
    assert steps and all("pip install convcalc " not in step and "pip install convcalc&" not in step for step in steps)
    assert all(re.search(r"pip install (\S*git\+https://\S+|\.)", step) for step in steps), steps
    rev = re.search(r"^\s*rev: (\S+)", section, re.M)
    assert rev and rev.group(1) == f"v{__version__}"  # the release tag of this version
    for flag in ("--allow-empty", "--skip-non-specs", "--format table", "no specs found"):
        assert flag in section, flag
