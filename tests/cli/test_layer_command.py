"""CLI tests of ``convcalc layer`` through typer's CliRunner, plus ``python -m convcalc`` in a subprocess.

Expected numbers are worked out here with the textbook formulas (see the README's "Counting conventions"),
not taken from the library, so a mistake in the core shows up as a mismatch.

typer >= 0.24 ships its own CliRunner (click 8.2 semantics): stdout and stderr are always captured separately
(``result.stdout``, ``result.stderr``) and ``result.output`` is both, interleaved as a terminal shows them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import typer
from helpers import cli, cli_ok, conv_out
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.cli import app

SEEDS = ["--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2", "--out", "5"]
JSON_KEYS = {
    "op", "input_shape", "output_shape", "params", "macs", "flops",
    "receptive_field", "jump", "start", "batch", "warnings",
}  # fmt: skip


def run(*args: str):
    return cli("layer", *args)


def ok(*args: str):
    return cli_ok("layer", *args)


def ok_json(*args: str) -> dict:
    result = ok(*args, "--format", "json")
    data = json.loads(result.stdout)
    assert JSON_KEYS <= data.keys(), sorted(data)
    return data


def flat(text: str) -> str:
    """Help text without rich's box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


# --------------------------------------------------------------------------- the formulas, independently


def deconv_out(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, op: int = 0) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


# --------------------------------------------------------------------------- the seeds example


def test_table_seeds_example():
    out = ok(*SEEDS).stdout
    assert "conv, 2-D" in out
    for text in ("640x640x3", "642x320x5", "230", "46,224,000", "93,475,200", "3x5", "1x2", "2x2"):
        assert text in out, (text, out)
    cells = [line.split("│")[1:3] for line in out.splitlines() if line.count("│") == 3]
    rows = {label.strip(): value.strip() for label, value in cells}
    assert rows["Output"].split()[0] == "642x320x5"
    assert rows["Params"] == "230"
    assert rows["MACs"].startswith("46,224,000")
    assert rows["FLOPs"].startswith("93,475,200")
    assert rows["Receptive field"] == "3x5"
    assert rows["Jump"] == "1x2"


def test_json_seeds_example_matches_the_arithmetic():
    data = ok_json(*SEEDS)
    h, w = conv_out(640, 3, 1, 2), conv_out(640, 5, 2, 2)
    assert (h, w) == (642, 320)
    macs = h * w * 5 * 3 * 3 * 5
    assert data["op"] == "conv"
    assert data["input_shape"] == [640, 640, 3]
    assert data["output_shape"] == [h, w, 5]
    assert data["params"] == 3 * 5 * 3 * 5 + 5 == 230
    assert data["macs"] == macs == 46_224_000
    assert data["flops"] == 2 * macs + h * w * 5
    assert data["receptive_field"] == [3, 5]
    assert data["jump"] == [1, 2]
    assert data["start"] == [-2, -2]
    assert data["batch"] == 1
    assert data["warnings"] == []
    assert data["kernel"] == [3, 5]
    assert data["stride"] == [1, 2]
    assert data["dilation"] == [1, 1]
    assert data["padding"] == [[2, 2], [2, 2]]
    assert data["groups"] == 1


def test_markdown_seeds_example():
    out = ok(*SEEDS, "--format", "markdown").stdout
    lines = out.strip().splitlines()
    assert lines[0] == "| conv | |"
    assert lines[1] == "|---|---|"
    assert all(line.startswith("|") and line.endswith("|") and line.count("|") == 3 for line in lines)
    assert "| Output | 642x320x5  (HxWxC) |" in lines
    assert "| Params | 230 |" in lines
    assert "| MACs | 46,224,000 (46.22M) |" in lines
    assert "| FLOPs | 93,475,200 (93.48M) |" in lines
    assert "┌" not in out  # no rich table


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_explain_lines(fmt):
    out = ok(*SEEDS, "--format", fmt, "--explain").stdout
    lines = out.splitlines()
    for expected in (
        "conv: input 640x640x3 -> output 642x320x5",
        "Output size: out = floor((n + 2p - d(k-1) - 1)/s) + 1",
        "  H_out = floor((640 + 2*2 - 3)/1) + 1 = 642",
        "  W_out = floor((640 + 2*2 - 5)/2) + 1 = floor(639/2) + 1 = 320",
        "Parameters: k_H*k_W*(C_in/g)*C_out + C_out",
        "  params = 3*5*3*5 + 5 = 230",
        "MACs (bias excluded): H_out*W_out*C_out * (C_in/g)*k_H*k_W",
        "  MACs = 642*320*5 * 3*3*5 = 46,224,000",
        "  FLOPs = 2*46,224,000 + 1,027,200 = 93,475,200",
    ):
        assert expected in lines, (expected, out)
    # The rendering comes first, then the arithmetic.
    assert out.index("642x320x5") < out.index("Output size:")


def test_explain_other_ops():
    out = ok("--in", "4x4x8", "--op", "deconv", "--k", "4", "--s", "2", "--p", "1", "--out", "3", "--explain").stdout
    assert "  H_out = (4-1)*2 - 2*1 + 1*(4-1) + 0 + 1 = 8" in out
    assert "  params = 4*4*8*3 + 3 = 387" in out
    out = ok("--in", "3x3x1", "--op", "max", "--k", "2", "--s", "2", "--p", "1", "--ceil", "--explain").stdout
    assert "the last window would start at 4 >= 3 + 1, so 2" in out
    out = ok("--in", "784", "--op", "linear", "--out", "256", "--explain", "--batch", "3").stdout
    assert "  params = 784*256 + 256 = 200,960" in out
    assert f"  MACs = 784*256 * 3 (batch) = {784 * 256 * 3:,}" in out


# --------------------------------------------------------------------------- ops and aliases


@pytest.mark.parametrize(
    ("alias", "op"),
    [
        ("conv", "conv"), ("conv2d", "conv"), ("Convolution", "conv"),
        ("deconv", "deconv"), ("transposed", "deconv"), ("convtranspose", "deconv"), ("ConvTranspose", "deconv"),
        ("maxpool", "maxpool"), ("max", "maxpool"), ("max-pool", "maxpool"), ("MaxPool", "maxpool"),
        ("avgpool", "avgpool"), ("avg", "avgpool"), ("avg_pool", "avgpool"),
    ],
)  # fmt: skip
def test_op_aliases_windowed(alias, op):
    data = ok_json("--in", "8x8x4", "--op", alias, "--k", "2")
    assert data["op"] == op
    if op == "conv":
        assert data["output_shape"] == [7, 7, 4]
    elif op == "deconv":
        assert data["output_shape"] == [9, 9, 4]
    else:  # pooling: stride defaults to the kernel
        assert data["output_shape"] == [4, 4, 4]
        assert data["stride"] == [2, 2]
        assert data["params"] == data["macs"] == 0


@pytest.mark.parametrize("alias", ["linear", "fc", "dense", "FC"])
def test_op_aliases_linear(alias):
    data = ok_json("--in", "784", "--op", alias, "--out", "256")
    assert data["op"] == "linear"
    assert data["output_shape"] == [256]


def test_linear():
    data = ok_json("--in", "784", "--op", "linear", "--out", "256")
    assert data["input_shape"] == [784]
    assert data["params"] == 784 * 256 + 256 == 200_960
    assert data["macs"] == 784 * 256
    assert data["flops"] == 2 * 784 * 256 + 256
    assert data["receptive_field"] == "whole" and data["jump"] is None and data["start"] is None
    table = ok("--in", "784", "--op", "fc", "--out", "256").stdout
    assert "200,960" in table and "linear" in table
    rows = ok_json("--in", "10x784", "--op", "linear", "--out", "256", "--no-bias")
    assert rows["output_shape"] == [10, 256]
    assert rows["macs"] == 10 * 784 * 256
    assert rows["params"] == 784 * 256
    assert rows["flops"] == 2 * rows["macs"]


def test_deconv():
    data = ok_json("--in", "4x4x8", "--op", "transposed", "--k", "4", "--s", "2", "--p", "1", "--out", "3")
    assert data["output_shape"] == [deconv_out(4, 4, 2, 1)] * 2 + [3] == [8, 8, 3]
    assert data["params"] == 4 * 4 * 8 * 3 + 3
    assert data["macs"] == 4 * 4 * 8 * 3 * 4 * 4  # per input position
    assert data["flops"] == 2 * data["macs"] + 8 * 8 * 3
    assert data["jump"] == ["1/2", "1/2"]
    assert data["output_padding"] == [0, 0]
    data = ok_json("--in", "4x4x8", "--op", "deconv", "--k", "3", "--s", "2", "--p", "1", "--output-padding", "1")
    assert data["output_shape"] == [deconv_out(4, 3, 2, 1, op=1)] * 2 + [8] == [8, 8, 8]
    assert data["output_padding"] == [1, 1]


def test_batch_and_no_bias():
    # The README's tutorial example: 3x3 conv, 1 -> 16 channels, 16x16 input, batch 100.
    data = ok_json("--in", "16x16x1", "--k", "3", "--out", "16", "--batch", "100")
    elements = 14 * 14 * 16
    macs = elements * 1 * 9 * 100
    assert data["batch"] == 100
    assert data["params"] == 9 * 16 + 16  # params are not multiplied
    assert data["macs"] == macs == 2_822_400
    assert data["flops"] == 2 * macs + elements * 100
    assert data["macs"] + elements * 100 == 3_136_000  # the tutorial "operations" count
    table = ok("--in", "16x16x1", "--k", "3", "--out", "16", "--batch", "100").stdout
    assert "2,822,400" in table and "batch 100" in table

    nobias = ok_json("--in", "16x16x1", "--k", "3", "--out", "16", "--batch", "100", "--no-bias")
    assert nobias["params"] == 9 * 16
    assert nobias["macs"] == macs
    assert nobias["flops"] == 2 * macs
    explain = ok("--in", "16x16x1", "--k", "3", "--out", "16", "--no-bias", "--explain").stdout
    assert "  params = 3*3*1*16 = 144" in explain


def test_ceil_mode():
    floor = ok_json("--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4")
    ceil = ok_json("--in", "9x9x3", "--op", "maxpool", "--k", "3", "--s", "4", "--ceil")
    assert floor["output_shape"] == [2, 2, 3]
    assert ceil["output_shape"] == [3, 3, 3]
    assert ceil["flops"] == (9 - 1) * 27
    assert len(floor["warnings"]) == 2 and "3 of 9" in floor["warnings"][0]
    assert len(ceil["warnings"]) == 2 and "2 of 9" in ceil["warnings"][0]  # windows 0-2, 4-6, 8-10 skip 3 and 7
    # PyTorch drops a last window that would start in the right padding.
    dropped = ok_json("--in", "3x3x1", "--op", "max", "--k", "2", "--s", "2", "--p", "1", "--ceil")
    assert dropped["output_shape"] == [2, 2, 1]
    avg = ok_json("--in", "7x7x2", "--op", "avgpool", "--k", "2", "--ceil")
    assert avg["output_shape"] == [4, 4, 2]
    assert avg["flops"] == 4 * 4 * 4 * 2


def test_padding_same_and_valid():
    data = ok_json("--in", "15x15x3", "--k", "3", "--s", "2", "--p", "same", "--out", "8")
    assert data["output_shape"] == [8, 8, 8]  # ceil(15/2)
    assert data["padding"] == [[1, 1], [1, 1]]  # total (8-1)*2 + 3 - 15 = 2
    assert any("TensorFlow" in w for w in data["warnings"])
    even = ok_json("--in", "8x8x3", "--k", "4", "--p", "SAME")
    assert even["output_shape"] == [8, 8, 3]
    assert even["padding"] == [[1, 2], [1, 2]]  # the odd pixel at the end
    assert even["warnings"] == []
    assert "1+2x1+2" in ok("--in", "8x8x3", "--k", "4", "--p", "same").stdout
    valid = ok_json("--in", "8x8x3", "--k", "3", "--p", "valid")
    assert valid["output_shape"] == [6, 6, 3]
    assert valid["padding"] == [[0, 0], [0, 0]]


def test_channels_first_notation():
    at = ok_json("--in", "3@512x512", "--k", "3", "--p", "1", "--out", "64")
    last = ok_json("--in", "512x512x3", "--k", "3", "--p", "1", "--out", "64")
    assert at == last
    assert at["input_shape"] == [512, 512, 3]
    assert at["output_shape"] == [512, 512, 64]
    assert at["params"] == 3 * 3 * 3 * 64 + 64


def test_1d_3d_groups_dilation():
    one = ok_json("--in", "100x16", "--k", "5", "--d", "2", "--out", "32")
    assert one["output_shape"] == [conv_out(100, 5, d=2), 32] == [92, 32]
    assert one["receptive_field"] == [9]
    three = ok_json("--in", "16x112x112x3", "--k", "3x7x7", "--s", "1x2x2", "--p", "1x3x3", "--out", "64")
    assert three["output_shape"] == [16, 56, 56, 64]
    assert three["macs"] == 16 * 56 * 56 * 64 * 3 * 3 * 7 * 7
    dw = ok_json("--in", "56x56x32", "--k", "3", "--p", "1", "--g", "32")
    assert dw["output_shape"] == [56, 56, 32]
    assert dw["params"] == 9 * 1 * 32 + 32
    assert dw["macs"] == 56 * 56 * 32 * 9
    assert dw["groups"] == 32


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 64), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3),
    c_in_per_group=st.integers(1, 4), out_per_group=st.integers(1, 4), g=st.integers(1, 3),
    bias=st.booleans(), batch=st.integers(1, 3),
)  # fmt: skip
def test_conv_json_matches_formulas(n, k, s, p, d, c_in_per_group, out_per_group, g, bias, batch):
    c_in, c_out = c_in_per_group * g, out_per_group * g
    args = ["--in", f"{n}x{n + 1}x{c_in}", "--k", str(k), "--s", str(s), "--p", str(p), "--d", str(d)]
    args += ["--g", str(g), "--out", str(c_out), "--batch", str(batch)] + ([] if bias else ["--no-bias"])
    if n + 2 * p < d * (k - 1) + 1:
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert "--k" in result.stderr
        return
    data = ok_json(*args)
    h, w = conv_out(n, k, s, p, d), conv_out(n + 1, k, s, p, d)
    macs = h * w * c_out * c_in_per_group * k * k
    assert data["output_shape"] == [h, w, c_out]
    assert data["params"] == k * k * c_in_per_group * c_out + (c_out if bias else 0)
    assert data["macs"] == macs * batch
    assert data["flops"] == (2 * macs + (h * w * c_out if bias else 0)) * batch
    assert data["receptive_field"] == [d * (k - 1) + 1] * 2
    assert data["jump"] == [s, s]
    assert data["start"] == [-p, -p]


# --------------------------------------------------------------------------- errors: exit 2, one line, the option


ERRORS = [
    (["--in", "abc", "--k", "3"], "--in"),
    (["--in", "0x8x3", "--k", "3"], "--in"),
    (["--in", "8", "--k", "3"], "--in"),
    (["--in", "8x8x3", "--k", "0"], "--k"),
    (["--in", "8x8x3", "--k", "3", "--s", "-1"], "--s"),
    (["--in", "8x8x3", "--k", "3", "--s", "0"], "--s"),
    (["--in", "8x8x3", "--k", "3", "--d", "0"], "--d"),
    (["--in", "8x8x3", "--k", "3", "--p", "-1"], "--p"),
    (["--in", "8x8x3", "--k", "3", "--p", "sometimes"], "--p"),
    (["--in", "8x8x3", "--k", "3", "--g", "4"], "--g"),  # 4 does not divide 3 input channels
    (["--in", "8x8x3", "--k", "3", "--g", "3", "--out", "4"], "--g"),
    (["--in", "8x8x3", "--k", "3", "--g", "0"], "--g"),
    (["--in", "4x4x3", "--k", "7"], "--k"),  # kernel larger than the input
    (["--in", "4x4x3", "--k", "7", "--p", "1"], "--k"),  # ... and than the padded input
    (["--in", "8x8x3", "--k", "3x3x3"], "--k"),  # rank mismatch
    (["--in", "8x8x3", "--k", "3", "--s", "1x1x1"], "--s"),
    (["--in", "8x8x3", "--k", "3", "--op", "bilinear"], "--op"),
    (["--in", "8x8x3", "--k", "3", "--op", "deconv", "--s", "2", "--output-padding", "2"], "--output-padding"),
    (["--in", "8x8x3", "--k", "3", "--op", "deconv", "--p", "same"], "--p"),
    (["--in", "8x8x3", "--k", "3", "--op", "maxpool", "--p", "2"], "--p"),  # more than half the kernel
    (["--in", "784", "--op", "linear", "--k", "3"], "--k"),  # an option linear does not take
    (["--in", "8x8x3", "--k", "3", "--op", "avgpool", "--d", "2"], "--d"),
    (["--in", "8x8x3", "--k", "3", "--ceil"], "--ceil"),
    (["--in", "8x8x3", "--k", "3", "--op", "max", "--no-bias"], "--no-bias"),
    (["--in", "8x8x3", "--k", "3", "--output-padding", "1"], "--output-padding"),
    (["--in", "8x8x3"], "--k"),  # missing --k
    (["--in", "784", "--op", "linear"], "--out"),  # missing --out
    (["--in", "8x8x3", "--k", "3", "--out", "0"], "--out"),
    (["--in", "8x8x3", "--k", "3", "--out", "many"], "--out"),
    (["--in", "8x8x3", "--k", "3", "--batch", "0"], "--batch"),
    (["--in", "8x8x3", "--k", "3", "--batch", "2x2"], "--batch"),
]


@pytest.mark.parametrize(("args", "option"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_error(args, option):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"convcalc: error: {option}:"), lines[0]
    assert len(lines[0]) < 200


@pytest.mark.parametrize(
    ("args", "option"),
    [(["--k", "3"], "--in"), (["--in", "8x8x3", "--k", "3", "--bogus"], "--bogus"), (["--in"], "--in")],
)
def test_usage_errors_from_typer(args, option):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert option in result.stderr
    assert result.stdout == ""


# --------------------------------------------------------------------------- help, version, every command


def test_layer_help_documents_defaults():
    result = cli("layer", "--help")
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    for option in ("--in", "--out", "--op", "--k", "--s", "--p", "--d", "--g", "--output-padding", "--ceil",
                   "--no-bias", "--batch", "--format", "--explain"):  # fmt: skip
        assert option in text, option
    assert "Example: convcalc layer --in 640x640x3" in text
    # The defaults written in square brackets in the help strings must survive rich's markup.
    assert "input channels" in text, text
    assert "pooling: the kernel size" in text, text


def test_every_command_has_help_and_an_example():
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert "layer" in commands
    for name, command in commands.items():
        assert (command.help or "").strip(), f"{name} has no help text"
        docs = (command.help or "") + "\n" + (command.epilog or "")
        example = re.compile(rf"Examples?: convcalc {name}\b")
        assert example.search(docs), f"{name} has no 'Example: convcalc {name} ...' in its help or epilog"
        result = cli(name, "--help")
        assert result.exit_code == 0, result.output
        assert example.search(flat(result.stdout)), result.stdout
    root = cli("--help")
    assert root.exit_code == 0, root.output
    for name in commands:
        assert name in root.stdout


def test_short_help_and_no_args():
    result = cli("layer", "-h")
    assert result.exit_code == 0, result.output
    assert "--in" in result.stdout
    result = cli()
    assert "layer" in result.output  # no_args_is_help


def test_python_m_help_and_version():
    help_ = subprocess.run(
        [sys.executable, "-m", "convcalc", "--help"], check=False, capture_output=True, text=True, timeout=60
    )
    assert help_.returncode == 0, help_.stderr
    assert "layer" in help_.stdout
    assert "Traceback" not in help_.stderr
    version = subprocess.run(
        [sys.executable, "-m", "convcalc", "--version"], check=False, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"convcalc {convcalc.__version__}"


def test_python_m_layer_error_is_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "convcalc", "layer", "--in", "8x8x3", "--k", "0"],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == "convcalc: error: --k: must be >= 1, got 0"
