"""Plain helpers shared by the test files: paths, the in-process CLI, small specs, reports, PyTorch hooks.

Import them by name (``from helpers import cli, EXAMPLES``): pytest puts ``tests/`` on ``sys.path``
(``pythonpath`` in pyproject.toml). Fixtures live in ``tests/conftest.py``.

Nothing here imports torch, or the network side of convcalc, at import time: tests that pretend torch is missing
(``sys.modules["torch"] = None``) and tests of lazy imports stay meaningful.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from fractions import Fraction
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typer.testing import CliRunner

if TYPE_CHECKING:
    from click.testing import Result

    from convcalc.errors import SpecError
    from convcalc.graph.analysis import Report
    from convcalc.graph.model import Network

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TESTS = ROOT / "tests"
HOSTILE = TESTS / "hostile"
GOLDEN = TESTS / "golden"


# --------------------------------------------------------------------------- the CLI, in process

# A wide, colourless terminal, whatever the one running pytest is: rich wraps tables and help to the width.
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TERM": "dumb"}

runner = CliRunner()


def cli(*args: str) -> Result:
    """``convcalc ARGS`` through typer's CliRunner (stdout and stderr captured apart: ``.stdout``, ``.stderr``)."""
    from convcalc.cli import app

    return runner.invoke(app, list(args), env=ENV)


def cli_ok(*args: str) -> Result:
    """``convcalc ARGS``, which must exit 0 with nothing on stderr."""
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert result.exception is None, result.output
    assert result.stderr == "", result.stderr
    return result


def usage_error(*args: str) -> str:
    """``convcalc ARGS`` through the real entry point (``convcalc.cli.main``, which makes click's usage errors one
    line; CliRunner shows them as typer's panel): must exit 2 with one error line and nothing on stdout; the line."""
    import contextlib
    import io

    from convcalc.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exit_info:
            code = exit_info.code
    lines = err.getvalue().splitlines()
    assert (code, out.getvalue(), len(lines)) == (2, "", 1), (code, out.getvalue(), err.getvalue())
    assert lines[0].startswith("convcalc: error: "), lines
    return lines[0]


def cli_term(*args: str, columns: str | None = "200") -> Result:
    """``convcalc ARGS`` on a terminal ``columns`` wide (None: no $COLUMNS, not a terminal), which must exit 0;
    stderr is returned apart (``.stderr``), not checked."""
    from convcalc.cli import app

    result = runner.invoke(app, list(args), env={**ENV, "COLUMNS": columns})
    assert result.exit_code == 0, result.output
    return result


# --------------------------------------------------------------------------- the textbook formula


def conv_out(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a conv or pool window, written out again here (not taken from convcalc)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# --------------------------------------------------------------------------- small specs, written inline

SPEC_FILE = "net.yaml"


def spec_text(text: str) -> str:
    """An indented triple-quoted spec, dedented; line 1 is its first non-empty line."""
    return textwrap.dedent(text).lstrip("\n")


def spec_file(folder: Path, text: str) -> str:
    """``text`` written to ``folder/net.yaml``; its path."""
    path = folder / SPEC_FILE
    path.write_text(text, encoding="utf-8")
    return str(path)


def load_net(text: str) -> Network:
    """A spec text loaded as if from ``net.yaml``."""
    from convcalc.specfile.loader import load_text

    return load_text(spec_text(text), SPEC_FILE)


def spec_failure(text: str, *, walk: bool = True) -> SpecError:
    """The SpecError of loading (and, when loading passes, analysing) a spec text; nothing else may escape."""
    import pytest

    from convcalc.errors import SpecError
    from convcalc.graph.analysis import analyze

    with pytest.raises(SpecError) as caught:
        network = load_net(text)
        if walk:
            analyze(network)
    return caught.value


def check_error(error: SpecError, line: int | None, layer: str | None, message: str) -> None:
    """The error's file, line, layer and message, and the one-line form the CLI prints."""
    assert error.file == SPEC_FILE
    assert error.line == line, (error.line, str(error))
    assert error.layer == layer, (error.layer, str(error))
    assert message in error.message, error.message
    where = SPEC_FILE + (f":{line}" if line is not None else "") + (f": layer '{layer}'" if layer else "")
    assert str(error) == f"{where}: {error.message}"
    assert "\n" not in str(error)


def run_isolated(text: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Load and analyse a spec in a child process with a time limit (a hang must fail the test, not stall it) and
    2 GiB of memory; exit 2 and the one-line error on stdout for a ConvCalcError."""
    import pytest

    code = (
        "import sys\n"
        "from convcalc.specfile.loader import load_text\n"
        "from convcalc.graph.analysis import analyze\n"
        "from convcalc.errors import ConvCalcError\n"
        "try:\n"
        "    analyze(load_text(sys.stdin.read(), 'net.yaml'))\n"
        "except ConvCalcError as error:\n"
        "    print(error)\n"
        "    sys.exit(2)\n"
    )

    def limit_memory() -> None:  # a runaway computation must not take the machine's memory
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    try:
        return subprocess.run(
            [sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=timeout,
            preexec_fn=limit_memory,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s:\n{text}")


def layer_names(network: Network) -> list[str]:
    return [node.name for node in network.nodes]


def node_named(network: Network, name: str) -> Any:
    return next(n for n in network.nodes if n.name == name)


def rows_of(text: str, **options: Any) -> dict[str, Any]:
    """The analysed rows of a spec text, by layer name (``options`` go to ``analyze``: batch, dtype)."""
    from convcalc.graph.analysis import analyze

    return rows_by_name(analyze(load_net(text), **options))


MISALIGNED = "the merged paths have different jumps (misaligned fields)"  # the warning on such a merge


def field_of(row: Any) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...], tuple[Fraction, ...]]:
    """A row's receptive field as (size, jump, start), per spatial dimension."""
    return row.field.receptive_field, row.field.jump, row.field.start


def explained_field(network: Network, name: str) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]] | str:
    """The last line of convcalc's backward recursion, parsed: (size, start), or "whole"."""
    from convcalc.graph.analysis import analyze
    from convcalc.report.backward import backward_field

    target = next(node.index for node in network.nodes if node.name == name)
    last = backward_field(analyze(network), target)[-1]
    if last.startswith("Receptive field: the whole input"):
        return "whole"
    found = re.fullmatch(r"Receptive field at the input: (\S+) \(start (\S+)\)", last)
    assert found, last
    return tuple(tuple(Fraction(v) for v in group.split("x")) for group in found.groups())  # type: ignore[return-value]


# --------------------------------------------------------------------------- the bundled examples


def report_of(name: str) -> Report:
    """The analysis of the bundled example ``examples/<name>.yaml``."""
    from convcalc.graph.analysis import analyze
    from convcalc.specfile.loader import load

    return analyze(load(EXAMPLES / f"{name}.yaml"))


def rows_by_name(report: Report) -> dict[str, Any]:
    return {row.name: row for row in report.rows}


# The MACs each counter reports for torchvision's ResNet-50 at 1x3x224x224 (tests/conventions/test_counting.py runs
# the tools and checks that `--convention` reproduces each number).
RESNET50_MACS = {
    "convcalc": 4_089_184_256,
    "torchinfo": 4_089_238_376,
    "fvcore": 4_111_512_576,
    "ptflops": 4_132_436_968,
    "thop": 4_133_742_592,
    "ultralytics": 4_133_742_592,  # thop.profile of ultralytics-thop 2.2.3 on torchvision's resnet50 (weights=None)
}


# --------------------------------------------------------------------------- PyTorch models, layer by layer


def channels_last(shape: Any) -> tuple[int, ...]:
    """A torch shape without the batch, channels last (N, C, *spatial -> *spatial, C)."""
    dims = tuple(shape)[1:]
    return dims[1:] + dims[:1] if len(dims) > 1 else dims


def torch_input(torch: Any, network: Network) -> Any:
    """A random batch of one for a network's input (channels first, as torch wants it)."""
    shape = network.input_shape
    return torch.randn(1, shape[-1], *shape[:-1])


def module_macs(module: Any, inputs: Any, output: Any) -> int:
    """MACs of one call under convcalc's convention, per sample (conv: output elements * C_in/g * prod(k);
    transposed conv: input elements * C_out/g * prod(k); linear: in * out per row; bias excluded; else 0)."""
    from torch import nn

    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        elements = inputs[0].numel() // inputs[0].shape[0]
        return elements * (module.out_channels // module.groups) * prod(module.kernel_size)
    if isinstance(module, nn.modules.conv._ConvNd):
        elements = output.numel() // output.shape[0]
        return elements * (module.in_channels // module.groups) * prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return output.numel() // output.shape[0] * module.in_features
    return 0


def run_with_hooks(torch: Any, model: Any, x: Any) -> tuple[dict[str, list[tuple[tuple[int, ...], int]]], Any]:
    """Every leaf module's calls, in order: (output shape channels last, MACs); and the model's output."""
    calls: dict[str, list[tuple[tuple[int, ...], int]]] = {}

    def recorder(name: str) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            calls.setdefault(name, []).append((channels_last(output.shape), module_macs(module, inputs, output)))

        return hook

    handles = [
        module.register_forward_hook(recorder(name))
        for name, module in model.named_modules()
        if name and not list(module.children())
    ]
    try:
        with torch.no_grad():
            output = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return calls, output


def assert_counts(model: Any, report: Any, expected: dict[str, int]) -> None:
    """A torch model's params and batch-norm running statistics equal the report's and the expected numbers."""
    assert sum(p.numel() for p in model.parameters()) == report.params == expected["params"]
    statistics = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert statistics == report.buffers == expected["buffers"]


# --------------------------------------------------------------------------- convcalc check: shared by its tests

CHECK_SPECS = TESTS / "check" / "specs"
# LeNet-5: 61,706 params, 416,520 MACs, 845,862 FLOPs, output 10, largest spatial field 32x32 (C5).
LENET = (CHECK_SPECS / "lenet.yaml").read_text(encoding="utf-8")


def run_check(*args: str):
    """``convcalc check ARGS`` through the CLI runner."""
    return cli("check", *args)


def write_file(folder: Path, name: str, text: str) -> str:
    """Write ``text`` to ``folder/name`` (folders made as needed); its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def with_top(expect: str) -> str:
    """LeNet-5 with top-level expectations (``expect`` is the indented block under ``expect:``)."""
    return LENET.replace("layers:\n", f"expect:\n{expect}layers:\n")
