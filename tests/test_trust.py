"""Trust (issue 9, sections 2 and 4): nothing runs away, nothing typed is silently misread, errors are one line.

Most tests call the real entry point ``convcalc.cli.main`` in-process (it raises SystemExit with the exit code);
those about processes (pipes, full disks, FIFOs, time and memory) start ``python -m convcalc``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import HOSTILE

from convcalc.cli import main
from convcalc.core.notation import channels_first_hint, parse_shape, per_dim_value
from convcalc.errors import SpecError
from convcalc.specfile import loader as specs
from convcalc.specfile.limits import DEFAULT_MAX_LAYERS, check_layer_count
from convcalc.specfile.yamlnodes import load_yaml

ENV = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``convcalc ARGS`` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convcalc: error: "), err
    return lines[0]


def spec_file(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- 2. nothing runs away


def test_a_billion_repeats_fail_at_once_naming_the_line_and_the_limit(capsys, tmp_path):
    path = spec_file(tmp_path, "input: 8x8x8\nlayers:\n  - relu\n  - conv: {out: 8, k: 3, p: 1, repeat: 1000000000}\n")
    started = time.process_time()
    line = one_line_error(*cli(capsys, "net", path))
    assert time.process_time() - started < 1
    assert f"{path}:4:" in line and "1,000,000,001 layers" in line and "limit of 1,000,000" in line
    assert "--max-layers" in line


def test_nested_repeats_multiply_before_anything_is_expanded(tmp_path):
    text = "input: 8x8x8\nblocks:\n  b:\n    layers:\n      - relu: {repeat: 1000}\nlayers:\n  - b: {repeat: 2000}\n"
    with pytest.raises(SpecError, match="2,000,000 layers"):
        specs.load_text(text, "x.yaml")
    data = load_yaml(text)
    assert check_layer_count(data["layers"], data["blocks"], 2_000_000, None) == 2_000_000


def test_the_limit_counts_exactly_the_layers_the_expansion_makes():
    text = (
        "input: 8x8x8\nblocks:\n"
        "  inner:\n    args: {n: 1}\n    layers:\n      - relu: {repeat: $n}\n      - relu: {if: '${n > 2}'}\n"
        "  outer:\n    layers:\n      - inner: {n: 3, repeat: 2}\n      - relu\n"
        "layers:\n  - outer: {repeat: 3}\n  - inner: {n: '${i + 1}', repeat: 4}\n"
    )
    data = load_yaml(text)
    counted = check_layer_count(data["layers"], data["blocks"], DEFAULT_MAX_LAYERS, None)
    # outer: 2 * (3 + 1) + 1 = 9, three times = 27; inner with n = 1, 2, 3, 4: 1 + 2 + (3 + 1) + (4 + 1) = 12
    assert counted == 27 + 12
    assert len(specs.load_text(text).nodes) == counted
    with pytest.raises(SpecError, match="over the limit of 38"):
        specs.load_text(text, max_layers=38)


def test_max_layers_raises_the_limit_on_the_command_line(capsys, tmp_path):
    path = spec_file(tmp_path, "input: 8x8x2\nlayers:\n  - relu: {repeat: 300}\n")
    line = one_line_error(*cli(capsys, "net", path, "--max-layers", "200"))
    assert "300 layers, over the limit of 200" in line
    code, out, _ = cli(capsys, "net", path, "--max-layers", "300", "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 301
    assert "--max-layers" in one_line_error(*cli(capsys, "net", path, "--max-layers", "0"))
    assert one_line_error(*cli(capsys, "export", path, "--max-layers", "100")).endswith("(raise it with --max-layers N)")


def test_an_index_dependent_block_repeat_is_cut_short(capsys, tmp_path):
    text = "input: 8x8x8\nblocks:\n  b:\n    args: {n: 1}\n    layers:\n      - relu: {repeat: $n}\n"
    path = spec_file(tmp_path, text + "layers:\n  - b: {repeat: 900000, n: '${i + 20}'}\n")
    started = time.process_time()
    line = one_line_error(*cli(capsys, "net", path))
    assert time.process_time() - started < 1
    assert "more than 1,000,000 layers" in line and ":8:" in line


def test_a_file_over_the_size_limit_is_refused_unread(capsys, tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "w") as handle:
        handle.write("input: 8x8x8\nlayers:\n")
        handle.truncate(5 * 2**20)
    line = one_line_error(*cli(capsys, "net", str(path)))
    assert "larger than 4 MiB" in line


def test_a_document_with_too_many_values_stops_while_parsing(capsys, tmp_path):
    path = spec_file(tmp_path, "input: 8x8x8\nlayers:\n" + "  - relu\n" * 300_000)
    started = time.process_time()
    line = one_line_error(*cli(capsys, "net", path))
    assert time.process_time() - started < 1.5
    assert "more than 200,000 values" in line


@pytest.mark.parametrize("text, message", [
    ("input: 1000000000000x1000000000000x3\nlayers:\n  - relu\n", "input: a tensor of 1000000000000x1000000000000x3"),
    ("input: 100000000x3\nlayers:\n  - conv: {out: 100000000000, k: 99999999}\n", "weights; PyTorch refuses"),
])  # fmt: skip
def test_tensors_pytorch_cannot_allocate_are_refused(capsys, tmp_path, text, message):
    assert message in one_line_error(*cli(capsys, "net", spec_file(tmp_path, text)))


def test_the_batch_cannot_overflow_a_tensor(capsys):
    line = one_line_error(*cli(capsys, "net", "resnet50", "--batch", "100000000000000"))
    assert line.startswith("convcalc: error: --batch:")


@pytest.mark.parametrize("name", sorted(path.name for path in HOSTILE.glob("*.yaml")))
def test_every_hostile_file_is_one_line_exit_2_quickly_and_small(name):
    process = subprocess.run(
        [sys.executable, "-c", WATCH, "net", str(HOSTILE / name)], capture_output=True, text=True, env=ENV, timeout=60
    )
    code, seconds, mib = (float(part) for part in process.stdout.split())
    assert code == 2, process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convcalc: error: "), process.stderr
    assert HOSTILE.name in lines[0] or name in lines[0]
    assert seconds < 1, f"{name}: {seconds:.2f} s of CPU"
    assert mib < 300, f"{name}: {mib:.0f} MiB"
    assert not Path("/tmp/pwned").exists()


# the child's own exit code, CPU seconds and peak memory (MiB), printed on stdout; its stderr passes through
WATCH = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "convcalc", *sys.argv[1:]], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
"""


def test_progress_is_silent_when_stderr_is_not_a_terminal(capsys, tmp_path):
    path = spec_file(tmp_path, "input: 8x8x2\nlayers:\n  - relu: {repeat: 6000}\n")
    code, out, err = cli(capsys, "net", path, "--format", "json")
    assert code == 0 and err == "" and out.startswith("{")


def test_progress_shows_on_a_terminal(tmp_path):
    import pty

    path = spec_file(tmp_path, "input: 8x8x2\nlayers:\n  - relu: {repeat: 20000}\n")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", "net", path, "--format", "json"],
        stdout=subprocess.DEVNULL, stderr=follower, env={**ENV, "TERM": "xterm"},
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=60) == 0
    assert b"analysing 20,000 layers" in seen


# --------------------------------------------------------------------------- 4. nothing typed is misread


def test_an_input_of_another_rank_is_an_error(capsys):
    line = one_line_error(*cli(capsys, "net", "resnet50", "--input", "224x224"))
    assert "--input: 224x224 has 2 dims" in line and "HxWxC" in line
    line = one_line_error(*cli(capsys, "net", "resnet50", "--in", "1x3x224x224"))
    assert "has 4 dims" in line


def test_channels_first_input_warns_once_on_stderr(capsys):
    code, out, err = cli(capsys, "net", "resnet50", "--input", "3x224x224", "--format", "json")
    assert code == 0 and out.startswith("{")
    warnings = [line for line in err.splitlines() if "channels last" in line]
    assert len(warnings) == 1 and "224x224x3" in warnings[0] and "3@224x224" in warnings[0]
    code, _, err = cli(capsys, "layer", "--in", "1x28x28", "--k", "1", "--format", "json")
    assert code == 0 and "28x28x1" in err
    code, _, err = cli(capsys, "net", "resnet50", "--format", "json")
    assert code == 0 and "channels last" not in err


@pytest.mark.parametrize("shape, warned", [
    ((3, 224, 224), True), ((1, 28, 28), True), ((4, 64, 64, 64), True),
    ((1, 3, 224, 224), True), ((224, 224, 3), False), ((3, 8, 8), False), ((32, 32), False),
    ((16, 112, 112, 3), False),
])  # fmt: skip
def test_the_channels_first_hint(shape, warned):
    assert (channels_first_hint(shape) is not None) == warned


def test_one_notation_in_specs_and_on_the_command_line(capsys, tmp_path):
    written = spec_file(tmp_path, "input: 9x9x3\nlayers:\n  - conv: {out: 4, k: 3x5, s: 1x2, p: 1x2, d: 2x1}\n"
                        "  - adaptive_avgpool: {size: 2x2}\n")  # fmt: skip
    listed = spec_file(tmp_path, "input: [9, 9, 3]\nlayers:\n  - conv: {out: 4, k: [3, 5], s: [1, 2], p: [1, 2], "
                       "d: [2, 1]}\n  - adaptive_avgpool: {size: [2, 2]}\n", "listed.yaml")  # fmt: skip
    first, second = (cli(capsys, "net", path, "--format", "json")[1] for path in (written, listed))
    assert first.replace("net", "x") == second.replace("listed", "x")
    assert per_dim_value("3x5") == [3, 5] and per_dim_value("same") == "same"
    assert parse_shape("[32, 32, 3]") == parse_shape("32x32x3") == (32, 32, 3)
    for flag in ("--in", "--input"):
        code, out, _ = cli(capsys, "layer", flag, "[32, 32, 3]", "--k", "3", "--format", "json")
        assert code == 0 and json.loads(out)["output_shape"] == [30, 30, 3]


def test_a_wrong_typed_value_is_an_error_not_a_number(capsys, tmp_path):
    for value, shown in (("true", "got true"), ("3.0", "got 3.0"), ('"4"', "got '4'")):
        path = spec_file(tmp_path, f"input: 8x8x3\nlayers:\n  - conv: {{out: {value}, k: 3}}\n")
        line = one_line_error(*cli(capsys, "net", path))
        assert ":3: layer 'conv_0': out: should be a whole number" in line and shown in line
        assert "input should" not in line.lower()  # pydantic's word, not the spec's key
    path = spec_file(tmp_path, "input: 8x8x3\nlayers:\n  - conv: {out: 4, k: 3, bias: 1}\n")
    assert "bias: should be a valid boolean, got 1" in one_line_error(*cli(capsys, "net", path))


def test_a_flag_given_twice_is_an_error(capsys):
    line = one_line_error(*cli(capsys, "layer", "--in", "8x8x3", "--k", "3", "--p", "2", "--p", "3"))
    assert "--p: given twice" in line
    line = one_line_error(*cli(capsys, "net", "lenet5", "--input", "32x32x1", "--in=32x32x1"))
    assert "--input and --in: given twice" in line
    code, _, _ = cli(capsys, "layer", "--in", "8x8x3", "--k", "3", "--explain")
    assert code == 0


@pytest.mark.parametrize("args, message", [
    (("layer", "--in", "8x8x3", "--kk", "3"), "No such option: --kk"),
    (("layer", "--k", "3"), "Missing option '--in'"),
    (("net",), "Missing argument"),
    (("net", "lenet5", "extra"), "unexpected extra argument"),
    (("bogus",), "No such command 'bogus'"),
])  # fmt: skip
def test_usage_errors_are_one_plain_line(capsys, args, message):
    line = one_line_error(*cli(capsys, *args))
    assert message in line and "╭" not in line


def test_unknown_keys_and_layers_get_a_did_you_mean(capsys, tmp_path):
    path = spec_file(tmp_path, "input: 8x8x3\nlayres:\n  - conv: {out: 4, k: 3}\n")
    assert line_ends(one_line_error(*cli(capsys, "net", path)), ":2: unknown key 'layres'; did you mean 'layers'?")
    path = spec_file(tmp_path, "input: 8x8x3\nlayers:\n  - conv: {out: 4, k: 3, strid: 2}\n")
    assert "unknown key 'strid'; did you mean 'stride'?" in one_line_error(*cli(capsys, "net", path))
    line = one_line_error(*cli(capsys, "net", "resnet50", "--explain", "layer4.2.conv"))
    assert "did you mean 'layer4.2.conv3' or 'layer4.2.conv2' or 'layer4.2.conv1'?" in line


def line_ends(line: str, ending: str) -> bool:
    return line.endswith(ending)


def test_a_block_instance_can_be_explained_as_its_output(capsys):
    code, out, _ = cli(capsys, "net", "resnet50", "--explain", "layer4.2")
    assert code == 0 and out.startswith("Backward from 'layer4.2.")


def test_a_directory_or_a_pipe_is_not_a_regular_file(capsys, tmp_path):
    assert "is a directory, not a regular file" in one_line_error(*cli(capsys, "net", str(tmp_path)))
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert "not a regular file" in one_line_error(*cli(capsys, "net", str(fifo)))
    assert "not a regular file" in one_line_error(*cli(capsys, "export", str(fifo)))
    assert time.monotonic() - started < 5


def test_a_full_disk_is_one_line_and_a_closed_pipe_is_quiet(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    for args in (["layer", "--in", "8x8x3", "--k", "3", "--explain"], ["net", "resnet50", "--format", "json"]):
        with open("/dev/full", "w") as full:
            process = subprocess.run([sys.executable, "-m", "convcalc", *args], stdout=full, stderr=subprocess.PIPE,
                                     text=True, env=ENV, timeout=60)  # fmt: skip
        assert process.returncode == 2
        assert process.stderr.strip() == "convcalc: error: cannot write the output: No space left on device"
    pipeline = f"{sys.executable} -m convcalc net densenet121 --format csv | head -1"
    process = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, env=ENV, timeout=60)
    assert process.stdout.count("\n") == 1
    assert "Traceback" not in process.stderr and "Exception" not in process.stderr


def test_check_honours_max_layers(capsys, tmp_path):
    path = spec_file(tmp_path, "input: 8x8x2\nlayers:\n  - relu: {repeat: 300}\n")
    code, out, err = cli(capsys, "check", path, "--max-layers", "200")
    assert code == 2 and "300 layers, over the limit of 200" in err
    code, out, err = cli(capsys, "check", path, "--max-layers", "300")
    assert code == 0, err
