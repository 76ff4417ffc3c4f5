"""The command line: parse options, call the core, render. Only this module imports typer."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, Optional

import typer

from convcalc import __version__
from convcalc.errors import ConvCalcError
from convcalc.report.formats import CheckFormat, Convention, DType, Format, NetFormat

CONVENTION = (
    "Counting convention: MACs are the weights' multiply-accumulates, bias excluded; a transposed conv is "
    "counted per input position (input elements * C_out/g * prod(k)); FLOPs = 2*MACs + one add per output "
    "element for a bias; max pooling prod(k)-1 comparisons, average pooling prod(k) per output element."
)

app = typer.Typer(
    name="convcalc",
    help="Exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

FLAGS = {"target": "TARGET", "to": "--to", "in": "--in", "max_layers": "--max-layers", "output_padding": "--output-padding", "ceil": "--ceil", "bias": "--no-bias"}


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2."""
    print(f"convcalc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def run_core(call: Callable[[], Any]) -> Any:
    """Call into the library; its ConvCalcError becomes a one-line message naming the option."""
    try:
        return call()
    except ConvCalcError as error:
        if error.param:
            fail(f"{FLAGS.get(error.param, '--' + error.param)}: {error.message}")
        fail(str(error))


def _version(value: bool) -> None:
    if value:
        print(f"convcalc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks."""


@app.command(
    epilog="Example: convcalc layer --in 640x640x3 --k 3x5 --s 1x2 --p 2 --out 5 --explain\n\n" + CONVENTION
)
def layer(
    in_: Annotated[
        str,
        typer.Option(
            "--in",
            "--input",
            help="Input shape, channels last: 640x640x3 (HxWxC), 100x16 (LxC), 16x112x112x3 (DxHxWxC), or C@HxW "
            "(3@512x512); for linear the feature count (784).",
        ),
    ],
    out: Annotated[Optional[str], typer.Option("--out", help="Output channels or features.", show_default="input channels")] = None,
    op: Annotated[str, typer.Option("--op", help="conv, deconv (transpose), maxpool, avgpool or linear.")] = "conv",
    k: Annotated[Optional[str], typer.Option("--k", help="Kernel size: 3, or one per dimension: 3x5.")] = None,
    s: Annotated[Optional[str], typer.Option("--s", help="Stride.", show_default="1; pooling: the kernel size")] = None,
    p: Annotated[
        Optional[str],
        typer.Option(
            "--p",
            help="Padding: 2, 1x2, 'valid' (0) or 'same' (TensorFlow's rule: output ceil(n/s), total padding "
            "max((out-1)s + d(k-1) + 1 - n, 0), the odd pixel at the end).",
            show_default="0",
        ),
    ] = None,
    d: Annotated[Optional[str], typer.Option("--d", help="Dilation.", show_default="1")] = None,
    g: Annotated[Optional[str], typer.Option("--g", help="Groups; equal to the input channels for depthwise.", show_default="1")] = None,
    output_padding: Annotated[
        Optional[str], typer.Option("--output-padding", help="Extra output size of a transposed conv, < max(s, d).")
    ] = None,
    ceil: Annotated[bool, typer.Option("--ceil", help="Pooling: round the output size up (PyTorch's ceil_mode).")] = False,
    no_bias: Annotated[bool, typer.Option("--no-bias", help="The layer has no bias.")] = False,
    batch: Annotated[str, typer.Option("--batch", help="Batch size; multiplies MACs and FLOPs.")] = "1",
    format: Annotated[Format, typer.Option("--format", help="table, json or markdown.")] = Format.TABLE,
    explain: Annotated[bool, typer.Option("--explain", help="Show every formula with your numbers, step by step.")] = False,
    convention: Annotated[Convention, typer.Option("--convention", help="Count MACs as convcalc (default), torchinfo, fvcore, ptflops or thop does.")] = Convention.CONVCALC,
    warnings: Annotated[bool, typer.Option("--warnings", help="Every warning in full on stderr (default: input pixels that no window reads make one summary line).")] = False,
) -> None:
    """Output shape, parameters, MACs/FLOPs and receptive field of one layer."""
    from convcalc.core import layer as layers
    from convcalc.core.notation import parse_ints, parse_shape
    from convcalc.ops.catalogue import LAYER_OPS, canonical_op
    from convcalc.ops.catalogue import op as op_entry

    kind = canonical_op(op)
    if kind not in LAYER_OPS:
        known = f"{kind} is an op of network specs (convcalc net)" if kind else f"unknown op {op!r}"
        fail(f"--op: {known}; `layer` takes {', '.join(LAYER_OPS)} (and their aliases: convcalc ops)")
    options = op_entry(kind).layer_options or frozenset()
    given = {
        "out": out, "k": k, "s": s, "p": p, "d": d, "g": g, "output_padding": output_padding,
        "ceil": ceil or None, "bias": no_bias or None,
    }  # fmt: skip
    for name, value in given.items():
        if value is not None and name not in options:
            fail(f"{FLAGS.get(name, '--' + name)}: not an option of {kind}")

    def ints(name: str, text: str | None, what: str = "value") -> tuple[int, ...] | None:
        return None if text is None else parse_ints(text, name, what)

    def one_int(name: str, text: str | None) -> int | None:
        values = ints(name, text, "whole number")
        if values is not None and len(values) != 1:
            raise ConvCalcError(f"takes one whole number, got {text!r}", name)
        return None if values is None else values[0]

    def compute() -> Any:
        shape = (one_int("in", in_),) if kind == "linear" and in_.strip().isdigit() else parse_shape(in_)
        options: dict[str, Any] = {"batch": one_int("batch", batch)}
        if kind == "linear":
            if out is None:
                raise ConvCalcError("is required for linear (the number of output features)", "out")
            return layers.linear(shape, one_int("out", out), bias=not no_bias, **options)
        if k is None:
            raise ConvCalcError(f"is required for {kind} (the kernel size, e.g. 3 or 3x5)", "k")
        options["k"] = ints("k", k)
        for name, text in (("s", s), ("d", d)):
            if text is not None:
                options[name] = ints(name, text)
        if p is not None:
            options["p"] = p.strip().lower() if p.strip().lower() in ("same", "valid") else ints("p", p, "padding such as 2, 1x2, same or valid")
        if kind in ("conv", "deconv"):
            groups = one_int("g", g)
            options.update(out=one_int("out", out), g=1 if groups is None else groups, bias=not no_bias)
            if kind == "deconv" and output_padding is not None:
                options["output_padding"] = ints("output_padding", output_padding)
            return (layers.conv if kind == "conv" else layers.deconv)(shape, **options)
        return (layers.maxpool if kind == "maxpool" else layers.avgpool)(shape, ceil=ceil, **options)

    result = run_core(compute)
    if kind != "linear":
        warn_channels_first(result.input_shape, "--in")
    if convention != "convcalc":
        from convcalc.conventions.counting import layer_with_convention

        result = run_core(lambda: layer_with_convention(result, convention))
    from convcalc.report.warnings_output import print_warnings

    if format == "json":
        from convcalc.report.json_output import layer_json

        print(layer_json(result, explain, convention))
        if warnings:
            print_warnings([("", result.warnings)], detailed=True)
        return
    steps: list[str] = []
    if explain:
        from convcalc.report.explain import explain as explain_lines

        steps = explain_lines(result, convention)
    if format == "markdown":
        from convcalc.report.markdown import layer_markdown

        print(layer_markdown(result, steps))
    else:
        from convcalc.report.net_table import print_layer_table

        print_layer_table(result)
        if steps:
            print("\n".join(steps))
    print_warnings([("", result.warnings)], detailed=warnings)


def main(argv: list[str] | None = None) -> None:
    """The entry point. Usage errors (unknown or repeated option, missing argument) are one line and exit 2, like
    every other error; output to a closed pipe or a full disk ends without a traceback."""
    args = sys.argv[1:] if argv is None else list(argv)
    command = typer.main.get_command(app)
    code: Any = 0
    try:
        refuse_repeated_options(command, args)
        code = command.main(args=args, prog_name="convcalc", standalone_mode=False)
    except typer.Exit as error:  # raised by fail() before the command runs
        code = error.exit_code
    except OSError as error:  # writing the output failed (a full disk): said once, below
        if error.errno not in OUTPUT_ERRORS:
            raise
        sys.exit(output_failed(error, 2))
    except Exception as error:
        if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):  # not one of click's own
            raise
        code = usage_error(command, args, error)
    except SystemExit as error:  # a closed pipe, after typer silenced the streams
        code = error.code
    sys.exit(finish_output(code if isinstance(code, int) else 0))


OUTPUT_ERRORS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}  # the output cannot be written


def usage_error(command: Any, args: list[str], error: Any) -> int:
    """Click's usage error as one line (``convcalc: error: ...``), exit 2; no arguments at all show the help."""
    if type(error).__name__ == "NoArgsIsHelpError" or not args:
        print(command.get_help(command.make_context("convcalc", [], resilient_parsing=True)))
        return 0
    if getattr(error, "exit_code", 2) == 0:
        return 0
    message = " ".join(str(error.format_message()).split())
    print(f"convcalc: error: {message}", file=sys.stderr)
    return 2


def finish_output(code: int) -> int:
    """Flush stdout; a closed pipe (``| head -1``) ends quietly, a full disk (``> /dev/full``) says so in one line."""
    try:
        sys.stdout.flush()
    except OSError as error:
        return output_failed(error, code)
    return code


def output_failed(error: OSError, code: int) -> int:
    """Stdout cannot be written: quiet for a closed pipe, one line otherwise; nothing left to flush at exit."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if error.errno == errno.EPIPE:
        return code
    print(f"convcalc: error: cannot write the output: {error.strerror or error}", file=sys.stderr)
    return 2


def refuse_repeated_options(command: Any, args: list[str]) -> None:
    """A flag given twice (``--p 2 --p 3``) is an error: click would silently keep the last one."""
    names = [index for index, arg in enumerate(args) if not arg.startswith("-")]
    if not names or not hasattr(command, "commands") or args[names[0]] not in command.commands:
        return
    options: dict[str, Any] = {}
    for param in command.commands[args[names[0]]].params:
        for flag in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())):
            if flag.startswith("-"):
                options[flag] = param
    seen: dict[str, str] = {}
    rest = iter(args[names[0] + 1 :])
    for arg in rest:
        if arg == "--":
            break
        flag = arg.split("=", 1)[0]
        param = options.get(flag)
        if param is None:
            continue
        if param.name in seen and not getattr(param, "multiple", False) and not getattr(param, "count", False):
            again = flag if flag == seen[param.name] else f"{seen[param.name]} and {flag}"
            fail(f"{again}: given twice; give each option once")
        seen[param.name] = flag
        if not getattr(param, "is_flag", False) and "=" not in arg:
            next(rest, None)


NET_FORMATS = tuple(NetFormat)

# What each mode of `net` does not show, so that a flag for it would be silently ignored: refused instead.
NET_MODES_IGNORE = {
    "--compare": ("--explain", "--verify", "--convention", "--depth", "--dtype"),
    "--verify": ("--explain", "--convention", "--depth", "--batch", "--dtype"),
    "--explain": ("--convention", "--depth", "--batch", "--dtype"),
}
NET_MODES_SHOW = {
    "--compare": "every convention's totals",
    "--verify": "output shapes and params",
    "--explain": "a receptive field",
}
NET_MODES_FORMATS = {"--explain": ("table", "json", "markdown")}


def refuse_ignored_flags(mode: str | None, given: dict[str, bool], format: str) -> None:
    """Fail on the first flag that ``mode`` (--compare, --verify, --explain or None) would silently ignore."""
    if mode is None:
        return
    for flag in NET_MODES_IGNORE[mode]:
        if given[flag]:
            fail(f"{flag}: cannot be combined with {mode}, which shows {NET_MODES_SHOW[mode]} only")
    formats = NET_MODES_FORMATS.get(mode, NET_FORMATS)
    if format not in formats:
        fail(f"--format: {mode} writes {', '.join(formats)}, not {format}")


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"convcalc: warning: {message}", file=sys.stderr)


def load_spec(path: str, max_layers: str | None) -> Any:
    """Load a spec with the layer limit of ``--max-layers``; a large spec shows progress on a terminal."""
    import os

    from convcalc.report.progress import working
    from convcalc.specfile import loader as specs

    with working(f"reading {os.path.basename(path)}", os.path.getsize(path) > 200_000):
        return specs.load(path, parse_max_layers(max_layers))


def parse_max_layers(text: str | None) -> int:
    """``--max-layers N``: a whole number >= 1; the default limit when not given."""
    from convcalc.core.notation import parse_ints
    from convcalc.specfile.limits import DEFAULT_MAX_LAYERS

    if text is None:
        return DEFAULT_MAX_LAYERS
    values = parse_ints(text, "max_layers", "whole number")
    if len(values) != 1 or values[0] < 1:
        raise ConvCalcError("takes one whole number >= 1", "max_layers")
    return values[0]


def same_rank(shape: tuple[int, ...], graph: Any) -> tuple[int, ...]:
    """``--input`` must have the rank of the spec's input: 224x224 would silently make ResNet-50 one-dimensional."""
    from convcalc.core.notation import format_shape, rank_words
    from convcalc.core.resolve import check_elements

    check_elements(shape, 1, "input")
    expected = len(graph.input_shape)
    if len(shape) != expected:
        raise ConvCalcError(
            f"{format_shape(shape)} has {len(shape)} dim{'s' if len(shape) > 1 else ''}, but {graph.name} takes "
            f"{expected}: {rank_words(expected)}, channels last (like its own {format_shape(graph.input_shape)})",
            "input",
        )
    return shape


def warn_channels_first(shape: tuple[int, ...], where: str) -> None:
    """A one-line hint when an input looks written channels first (3x224x224)."""
    from convcalc.core.notation import channels_first_hint

    hint = channels_first_hint(shape)
    if hint:
        warn(f"{where}: {hint}")


def resolve_spec(spec: str) -> str:
    """A file path, or the name of a bundled example (``lenet5`` or ``lenet5.yaml``)."""
    from pathlib import Path

    if Path(spec).is_file():
        return spec
    from convcalc.zoo import bundled

    found = bundled(spec)
    if found is None and Path(spec).exists():
        return spec  # a directory or a device: the loader says it is not a regular file
    if found is None:
        fail(f"{spec}: no such file, and no bundled example of that name (see `convcalc zoo`)")
    return found


@app.command(
    epilog="Examples: convcalc net examples/lenet5.yaml; convcalc net resnet50 --depth 1; "
    "convcalc net lenet5 --explain C5 (bundled examples resolve by name from any folder).\n\n" + CONVENTION
)
def net(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example (convcalc zoo).")],
    batch: Annotated[Optional[str], typer.Option("--batch", help="Batch size; multiplies MACs, FLOPs and activations.", show_default="1")] = None,
    input: Annotated[Optional[str], typer.Option("--input", "--in", help="Override the spec's input shape (e.g. 64x64x3); same rank as the spec's.")] = None,
    depth: Annotated[Optional[str], typer.Option("--depth", help="Fold blocks nested deeper than this (0: one row per block).")] = None,
    format: Annotated[NetFormat, typer.Option("--format", help="table, json, markdown or csv.")] = NetFormat.TABLE,
    dtype: Annotated[Optional[DType], typer.Option("--dtype", help="Element type for memory: float32, float16, bfloat16, int8, ...", show_default="float32")] = None,
    explain: Annotated[Optional[str], typer.Option("--explain", help="Show the backward receptive-field recursion from LAYER to the input.", metavar="LAYER")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Build the spec in PyTorch (meta device) and compare every layer's shape and params; exit 1 on a difference.")] = False,
    convention: Annotated[Convention, typer.Option("--convention", help="Count MACs as convcalc (default), torchinfo, fvcore, ptflops or thop does.")] = Convention.CONVCALC,
    compare: Annotated[bool, typer.Option("--compare", help="Every convention's total, its ratio to convcalc's, and a breakdown by category.")] = False,
    warnings: Annotated[bool, typer.Option("--warnings", help="Every layer's warnings in full on stderr (default: layers whose stride skips input pixels make one summary line).")] = False,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help="Refuse specs that expand to more layers than this.", show_default="1,000,000")] = None,
) -> None:
    """Per-layer table of a network spec: shapes, params, MACs, receptive field and jump, and totals."""
    from dataclasses import replace

    from convcalc.core.notation import parse_ints, parse_shape
    from convcalc.graph import analysis as network

    mode = "--compare" if compare else "--verify" if verify else "--explain" if explain is not None else None
    given = {
        "--explain": explain is not None, "--verify": verify, "--convention": convention != "convcalc",
        "--depth": depth is not None, "--batch": batch is not None, "--dtype": dtype is not None,
    }  # fmt: skip
    refuse_ignored_flags(mode, given, format)
    path = resolve_spec(spec)

    def compute() -> Any:
        graph = load_spec(path, max_layers)
        if input is not None:
            graph = replace(graph, input_shape=same_rank(parse_shape(input, "input"), graph))
        batch_size = parse_ints(batch or "1", "batch", "whole number")
        folding = None if depth is None else parse_ints(depth, "depth", "whole number")
        if len(batch_size) != 1 or (folding is not None and (len(folding) != 1 or folding[0] < 0)):
            raise ConvCalcError("takes one whole number >= 0", "batch" if len(batch_size) != 1 else "depth")
        from convcalc.report.progress import working

        with working(f"analysing {len(graph.nodes):,} layers", len(graph.nodes) > 5000):
            report = network.analyze(graph, batch_size[0], dtype or "float32")
        if convention != "convcalc":
            from convcalc.conventions.counting import with_convention

            report = with_convention(report, convention)
        return graph, report, None if folding is None else folding[0]

    graph, report, folding = run_core(compute)
    warn_channels_first(graph.input_shape, "--input" if input is not None else f"{path}: input")
    if compare:
        from convcalc.conventions.counting import compare as compare_conventions
        from convcalc.report.compare_output import compare_output

        print(compare_output(format, report, run_core(lambda: compare_conventions(report))))
        return
    if verify:
        from convcalc.io.torch_verify import verify_layers
        from convcalc.report.progress import working
        from convcalc.report.verify_output import verify_output

        with working("building the spec in PyTorch (meta device) and comparing every layer"):
            differences, checked = run_core(lambda: verify_layers(report))
        print(verify_output(format, report, differences, checked))
        if differences:
            raise typer.Exit(1)
        return

    if explain is not None:
        target = next((node.index for node in graph.nodes if node.name == explain), None)
        if target is None:  # a block instance (layer4.2): its output, the last of its layers
            target = next((node.index for node in reversed(graph.nodes) if explain in node.blocks), None)
        if target is None:
            from convcalc.specfile.validation import did_you_mean

            fail(f"--explain: no layer named {explain!r} in {path}{did_you_mean(explain, [n.name for n in graph.nodes])}")
        from convcalc.report.explain import explain_output

        print(explain_output(format, report, run_core(lambda: network.backward_recursion(report, target))))
        return
    from convcalc.report import csv_output, json_output, markdown, net_table
    from convcalc.report.warnings_output import print_warnings

    if format == "json":
        print(json_output.net_json(report, folding))
    elif format == "markdown":
        print(markdown.net_markdown(report, folding))
    elif format == "csv":
        print(csv_output.net_csv(report, folding))
    else:
        net_table.print_net_table(report, folding)
    if format != "json" or warnings:  # JSON carries its warnings in every row
        print_warnings([(row.name, row.warnings) for row in report.rows], detailed=warnings)


@app.command(
    "export",
    epilog="Example: convcalc export examples/resnet50.yaml --to torch -o resnet50.py (needs no torch to write; "
    "the file imports only torch).",
)
def export(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example.")],
    to: Annotated[str, typer.Option("--to", help="Target framework: torch.")] = "torch",
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help="Refuse specs that expand to more layers than this.", show_default="1,000,000")] = None,
) -> None:
    """Write a spec as a self-contained PyTorch nn.Module (names and connections as in the spec)."""
    from convcalc.io.torch_export import export_torch

    if to != "torch":
        fail(f"--to: unknown target {to!r}; choose torch")
    path = resolve_spec(spec)
    source = run_core(lambda: export_torch(load_spec(path, max_layers)))
    write_or_print(source, output)


def write_or_print(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        fail(f"-o: cannot write {output}: {error.strerror or error}")
    print(f"wrote {output}", file=sys.stderr)


@app.command(
    "import",
    epilog="Example: convcalc import models.py:resnet18 --input 224x224x3 -o resnet18.yaml (needs torch).",
)
def import_(
    target: Annotated[str, typer.Argument(help="path/to/file.py:callable or package.module:callable returning an nn.Module.")],
    input: Annotated[str, typer.Option("--input", "--in", help="Input shape, channels last (224x224x3).")] = ...,  # type: ignore[assignment]
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write the spec to this file instead of stdout.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The spec's name [default: the model's class].")] = None,
) -> None:
    """Trace a PyTorch model (torch.fx) and write an equivalent spec."""
    from convcalc.core.notation import parse_shape

    def run() -> str:
        from convcalc.io.torch_import import import_torch
        from convcalc.report.progress import working

        shape = parse_shape(input, "input")
        with working("importing torch and tracing the model"):
            text = import_torch(target, shape, name)
        warn_channels_first(shape, "--input")
        return text

    write_or_print(run_core(run), output)


@app.command(epilog="Examples: convcalc ops; convcalc ops --format json; convcalc ops conv2d")
def ops(
    name: Annotated[Optional[str], typer.Argument(help="One op, by any of its spellings (default: all).")] = None,
    format: Annotated[Format, typer.Option("--format", help="table, json or markdown.")] = Format.TABLE,
) -> None:
    """Every op a spec can use: aliases, arguments, what it costs, its PyTorch module."""
    from convcalc.ops.catalogue import canonical_op
    from convcalc.ops.listing import listing
    from convcalc.report import ops_output

    entries = listing()
    if name is not None:
        wanted = canonical_op(name)
        if wanted is None:
            from convcalc.ops.catalogue import spellings
            from convcalc.specfile.validation import did_you_mean

            fail(f"no op named {name!r}{did_you_mean(name, spellings())}")
        entries = [entry for entry in entries if entry.op.name == wanted]
    if format == "json":
        print(ops_output.ops_json(entries))
    elif format == "markdown":
        print(ops_output.ops_markdown(entries))
    else:
        from convcalc.report.terminal import terminal_width

        print(ops_output.ops_text(entries, terminal_width()))


@app.command(epilog="Example: convcalc zoo; then convcalc net resnet50")
def zoo() -> None:
    """List the bundled example networks (usable by name with `convcalc net`)."""
    from convcalc.graph import analysis as network
    from convcalc.specfile import loader as specs
    from convcalc.zoo import bundled, names

    def summary(name: str) -> tuple[Any, Any]:
        graph = specs.load(bundled(name) or name)
        return graph, network.analyze(graph)

    from convcalc.report.net_table import zoo_lines
    from convcalc.report.terminal import terminal_width

    entries = []
    for name in names():
        graph, report = run_core(lambda: summary(name))  # noqa: B023 (called at once)
        entries.append((name, graph.name, "x".join(map(str, graph.input_shape)), report.params, report.macs))
    print("\n".join(zoo_lines(entries, terminal_width())))


@app.command(epilog="Examples: convcalc schema > convcalc.schema.json; convcalc schema --output net > net-output.schema.json")
def schema(
    output: Annotated[Optional[str], typer.Option("--output", help="Instead of the spec format's schema, that of an output: net or layer (--format json).", metavar="net|layer")] = None,
) -> None:
    """Print the JSON Schema of the spec format, for editors (YAML language server), or of `net`/`layer`'s JSON."""
    import json

    if output is None:
        from convcalc.specfile.schema import json_schema

        print(json.dumps(json_schema(), indent=2))
        return
    from convcalc.report.schema import SCHEMAS

    if output not in SCHEMAS:
        fail(f"--output: unknown output {output!r}; choose net or layer")
    print(json.dumps(SCHEMAS[output](), indent=2))


@app.command(
    epilog="Examples: convcalc check specs/ (exit 0: all expectations hold, 1: one fails, 2: a spec is invalid); "
    "convcalc check model.yaml --format github; convcalc check --update model.yaml"
)
def check(
    specs: Annotated[list[str], typer.Argument(help="Spec files, folders (searched for *.yaml, *.yml, *.json) or globs; a file named must be a spec.")],
    format: Annotated[CheckFormat, typer.Option("--format", help="table (alias: text), github (GitHub Actions annotations) or json.")] = CheckFormat.TABLE,
    update: Annotated[bool, typer.Option("--update", help="Write the current shapes and params into the expect: fields (comments, layout and bounds kept).")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Exit 0 when no spec is found (default: exit 2, nothing was checked).")] = False,
    skip_non_specs: Annotated[bool, typer.Option("--skip-non-specs", help="Skip named files that are not specs, as a folder search does (for pre-commit, which names every YAML file).")] = False,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help="Refuse specs that expand to more layers than this.", show_default="1,000,000")] = None,
) -> None:
    """Check the expectations written in specs (expect: on layers and at the top level); a CI gate."""
    from convcalc.check import check_paths, update_paths
    from convcalc.report import check_output
    from convcalc.specfile.limits import layer_limit

    if format is CheckFormat.TEXT:  # the name before 0.1: still accepted
        format = CheckFormat.TABLE
    if update and format != "table":
        fail(f"--format: --update writes the specs and reports as text; it has no {format} output")
    if update:
        limit = run_core(lambda: parse_max_layers(max_layers))
        with layer_limit(limit):
            results = run_core(lambda: update_paths(specs, named_non_specs=not skip_non_specs))
        if results:
            print("\n".join(check_output.update_lines(results)))
        if not allow_empty and not any(result.spec for result in results):
            fail(check_output.no_specs_message(specs, len(results)))
        return
    with layer_limit(run_core(lambda: parse_max_layers(max_layers))):
        result = run_core(lambda: check_paths(specs, allow_empty, named_non_specs=not skip_non_specs))
    if format == "json":
        print(check_output.json_text(result))
    elif format == "github":
        print("\n".join(check_output.github_lines(result)))
    else:
        out, err = check_output.text_lines(result)
        for line in err:
            print(f"convcalc: error: {line}", file=sys.stderr)
        if out:
            print("\n".join(out))
    raise typer.Exit(result.exit_code)
