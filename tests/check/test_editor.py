"""``convcalc check --update`` (convcalc.check.editor): a round trip (after it ``check`` passes and every comment
is still there), hand-written bounds kept, exact values refreshed in the form written, line endings and the BOM
kept, JSON kept JSON, and nothing written to a file that is no spec or when any file of the run fails."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import LENET, ROOT
from helpers import run_check as run
from helpers import write_file as write

from convcalc.check.discovery import NOT_A_SPEC
from convcalc.check.editor import update_text
from convcalc.check.yaml_lines import split_comment

SPECS = Path(__file__).parent / "specs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEC = (SPECS / "small.yaml").read_text(encoding="utf-8")
WORKFLOW = (SPECS / "workflow.yaml").read_text(encoding="utf-8")
# A small net: 47,206 params, output 10; its expectation "<= 1k" fails.
JSON = (SPECS / "failing.json").read_text(encoding="utf-8")
FAILING = json.loads(JSON)
README_SPEC = next(block for block in re.findall(r"```yaml\n(.*?)```", README, re.S) if 'params: "<= 100k"' in block)


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


# --------------------------------------------------------------------------- layouts and comments


def test_update_round_trip_keeps_comments(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", BLOCKY)
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
        path = write(tmp_path, name, original)
        assert run("--update", path).exit_code == 0
        text = Path(path).read_text(encoding="utf-8")
        assert comments(text) == comments(original)
        result = run(path)
        assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- bounds and exact values


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


# --------------------------------------------------------------------------- bytes: line endings, BOM, JSON


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


# --------------------------------------------------------------------------- what is never written


def test_update_of_an_invalid_spec_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "input: 32x32x1\nlayers:\n  - conv: {k: 50}\n")
    result = run("--update", path)
    assert result.exit_code == 2
    assert Path(path).read_text(encoding="utf-8") == "input: 32x32x1\nlayers:\n  - conv: {k: 50}\n"


def test_update_of_a_folder_skips_other_yaml(tmp_path: Path) -> None:
    write(tmp_path, "net.yaml", LENET)
    write(tmp_path, "workflow.yaml", "on: push\njobs: {}\n")
    result = run("--update", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "workflow.yaml").read_text(encoding="utf-8") == "on: push\njobs: {}\n"
    assert run(str(tmp_path)).stdout.strip() == "1 spec, 9 expectations, all hold (1 other file skipped: not a spec)"


def test_update_never_writes_a_named_file_that_is_no_spec(tmp_path: Path) -> None:
    spec, workflow = write(tmp_path, "spec.yaml", SPEC), write(tmp_path, "ci.yaml", WORKFLOW)
    result = run("--update", spec, workflow)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"convcalc: error: {workflow}: {NOT_A_SPEC}"]
    assert Path(workflow).read_text(encoding="utf-8") == WORKFLOW
    assert Path(spec).read_text(encoding="utf-8") == SPEC  # planned first: nothing written at all


def test_update_of_a_folder_without_specs_is_no_specs_found(tmp_path: Path) -> None:
    write(tmp_path, "ci.yaml", WORKFLOW)
    result = run("--update", str(tmp_path))
    assert result.exit_code == 2
    assert "no specs found" in result.stderr
    assert Path(tmp_path / "ci.yaml").read_text(encoding="utf-8") == WORKFLOW
    assert run("--update", "--allow-empty", str(tmp_path)).exit_code == 0
