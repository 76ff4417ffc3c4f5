"""The command line: parse options, call the core, render. Only this module imports typer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, Optional

import typer

from convcalc import __version__
from convcalc.errors import ConvCalcError

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

FLAGS = {"target": "TARGET", "to": "--to", "in": "--in", "output_padding": "--output-padding", "ceil": "--ceil", "bias": "--no-bias"}


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


OP_ALIASES = {
    "conv": "conv", "convolution": "conv", "conv1d": "conv", "conv2d": "conv", "conv3d": "conv",
    "deconv": "deconv", "transpose": "deconv", "transposed": "deconv", "convtranspose": "deconv",
    "conv_transpose": "deconv", "conv-transpose": "deconv", "upconv": "deconv",
    "maxpool": "maxpool", "max_pool": "maxpool", "max-pool": "maxpool", "max": "maxpool",
    "avgpool": "avgpool", "avg_pool": "avgpool", "avg-pool": "avgpool", "avg": "avgpool", "meanpool": "avgpool",
    "linear": "linear", "fc": "linear", "dense": "linear", "fully_connected": "linear",
}  # fmt: skip

# Which options each op takes; anything else given is an error, not silently ignored.
OP_OPTIONS = {
    "conv": {"out", "k", "s", "p", "d", "g", "bias"},
    "deconv": {"out", "k", "s", "p", "d", "g", "output_padding", "bias"},
    "maxpool": {"k", "s", "p", "d", "ceil"},
    "avgpool": {"k", "s", "p", "ceil"},
    "linear": {"out", "bias"},
}
FORMATS = ("table", "json", "markdown")


@app.command(
    epilog="Example: convcalc layer --in 640x640x3 --k 3x5 --s 1x2 --p 2 --out 5 --explain\n\n" + CONVENTION
)
def layer(
    in_: Annotated[
        str,
        typer.Option(
            "--in",
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
    format: Annotated[str, typer.Option("--format", help="table, json or markdown.")] = "table",
    explain: Annotated[bool, typer.Option("--explain", help="Show every formula with your numbers, step by step.")] = False,
    convention: Annotated[str, typer.Option("--convention", help="Count MACs as convcalc (default), torchinfo, fvcore, ptflops or thop does.")] = "convcalc",
) -> None:
    """Output shape, parameters, MACs/FLOPs and receptive field of one layer."""
    from convcalc import layers
    from convcalc.notation import parse_ints, parse_shape

    kind = OP_ALIASES.get(op.strip().lower().replace(" ", ""))
    if kind is None:
        fail(f"--op: unknown op {op!r}; choose conv, deconv, maxpool, avgpool or linear")
    if format not in FORMATS:
        fail(f"--format: unknown format {format!r}; choose {', '.join(FORMATS)}")
    given = {
        "out": out, "k": k, "s": s, "p": p, "d": d, "g": g, "output_padding": output_padding,
        "ceil": ceil or None, "bias": no_bias or None,
    }  # fmt: skip
    for name, value in given.items():
        if value is not None and name not in OP_OPTIONS[kind]:
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
    if convention != "convcalc":
        from convcalc.conventions import layer_with_convention

        result = run_core(lambda: layer_with_convention(result, convention))
    from convcalc import render

    if format == "json":
        print(render.layer_json(result, explain, convention))
        return
    elif format == "markdown":
        print(render.layer_markdown(result))
    else:
        render.print_layer_table(result)
    if explain:
        from convcalc.explain import explain as explain_lines

        print("\n".join(explain_lines(result)))


def main() -> None:
    app(prog_name="convcalc")


NET_FORMATS = ("table", "json", "markdown", "csv")


def resolve_spec(spec: str) -> str:
    """A file path, or the name of a bundled example (``lenet5`` or ``lenet5.yaml``)."""
    from pathlib import Path

    if Path(spec).is_file():
        return spec
    from convcalc.zoo import bundled

    found = bundled(spec)
    if found is None:
        fail(f"{spec}: no such file, and no bundled example of that name (see `convcalc zoo`)")
    return found


@app.command(
    epilog="Examples: convcalc net examples/lenet5.yaml; convcalc net resnet50 --depth 1; "
    "convcalc net lenet5 --explain C5 (bundled examples resolve by name from any folder).\n\n" + CONVENTION
)
def net(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example (convcalc zoo).")],
    batch: Annotated[str, typer.Option("--batch", help="Batch size; multiplies MACs, FLOPs and activations.")] = "1",
    input: Annotated[Optional[str], typer.Option("--input", help="Override the spec's input shape (e.g. 64x64x3).")] = None,
    depth: Annotated[Optional[str], typer.Option("--depth", help="Fold blocks nested deeper than this (0: one row per block).")] = None,
    format: Annotated[str, typer.Option("--format", help="table, json, markdown or csv.")] = "table",
    dtype: Annotated[str, typer.Option("--dtype", help="Element type for memory: float32, float16, bfloat16, int8, ...")] = "float32",
    explain: Annotated[Optional[str], typer.Option("--explain", help="Show the backward receptive-field recursion from LAYER to the input.", metavar="LAYER")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Build the spec in PyTorch (meta device) and compare every layer's shape and params; exit 1 on a difference.")] = False,
    convention: Annotated[str, typer.Option("--convention", help="Count MACs as convcalc (default), torchinfo, fvcore, ptflops or thop does.")] = "convcalc",
    compare: Annotated[bool, typer.Option("--compare", help="Every convention's total, its ratio to convcalc's, and a breakdown by category.")] = False,
) -> None:
    """Per-layer table of a network spec: shapes, params, MACs, receptive field and jump, and totals."""
    from dataclasses import replace

    from convcalc import network
    from convcalc import spec as specs
    from convcalc.notation import parse_ints, parse_shape

    if format not in NET_FORMATS:
        fail(f"--format: unknown format {format!r}; choose {', '.join(NET_FORMATS)}")
    path = resolve_spec(spec)

    def compute() -> Any:
        graph = specs.load(path)
        if input is not None:
            graph = replace(graph, input_shape=parse_shape(input, "input"))
        batch_size = parse_ints(batch, "batch", "whole number")
        folding = None if depth is None else parse_ints(depth, "depth", "whole number")
        if len(batch_size) != 1 or (folding is not None and (len(folding) != 1 or folding[0] < 0)):
            raise ConvCalcError("takes one whole number >= 0", "batch" if len(batch_size) != 1 else "depth")
        report = network.analyze(graph, batch_size[0], dtype)
        if convention != "convcalc":
            from convcalc.conventions import with_convention

            report = with_convention(report, graph, convention)
        return graph, report, None if folding is None else folding[0]

    graph, report, folding = run_core(compute)
    from convcalc import render

    if compare:
        from convcalc.conventions import compare as compare_conventions

        print(render.compare_text(report, run_core(lambda: compare_conventions(graph))))
        return
    if verify:
        from convcalc.torchbridge import verify as verify_with_torch

        differences = run_core(lambda: verify_with_torch(graph, report))
        checked = sum(1 for row in report.rows if row.op not in ("add", "concat"))
        if not differences:
            print(f"{report.name}: PyTorch agrees on the output shape and params of all {checked} layers "
                  f"({report.params:,} params).")
            return
        print(render.differences_text(differences))
        raise typer.Exit(1)

    if explain is not None:
        target = next((node.index for node in graph.nodes if node.name == explain), None)
        if target is None:
            fail(f"--explain: no layer named {explain!r} in {path}")
        print("\n".join(run_core(lambda: network.backward_field(graph, target))))
        return
    if format == "json":
        print(render.net_json(report))
    elif format == "markdown":
        print(render.net_markdown(report, folding))
    elif format == "csv":
        print(render.net_csv(report, folding))
    else:
        render.print_net_table(report, folding)


@app.command(
    "export",
    epilog="Example: convcalc export examples/resnet50.yaml --to torch -o resnet50.py (needs no torch to write; "
    "the file imports only torch).",
)
def export(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example.")],
    to: Annotated[str, typer.Option("--to", help="Target framework: torch.")] = "torch",
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Write a spec as a self-contained PyTorch nn.Module (names and connections as in the spec)."""
    from convcalc import spec as specs
    from convcalc.export import export_torch

    if to != "torch":
        fail(f"--to: unknown target {to!r}; choose torch")
    path = resolve_spec(spec)
    source = run_core(lambda: export_torch(specs.load(path)))
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
    input: Annotated[str, typer.Option("--input", help="Input shape, channels last (224x224x3).")] = ...,  # type: ignore[assignment]
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write the spec to this file instead of stdout.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The spec's name [default: the model's class].")] = None,
) -> None:
    """Trace a PyTorch model (torch.fx) and write an equivalent spec."""
    from convcalc.notation import parse_shape

    def run() -> str:
        from convcalc.torchimport import import_torch

        return import_torch(target, parse_shape(input, "input"), name)

    write_or_print(run_core(run), output)


@app.command(epilog="Example: convcalc zoo; then convcalc net resnet50")
def zoo() -> None:
    """List the bundled example networks (usable by name with `convcalc net`)."""
    from convcalc import network
    from convcalc import spec as specs
    from convcalc.zoo import bundled, names

    def summary(name: str) -> tuple[Any, Any]:
        graph = specs.load(bundled(name) or name)
        return graph, network.analyze(graph)

    for name in names():
        graph, report = run_core(lambda: summary(name))  # noqa: B023 (called at once)
        shape = "x".join(map(str, graph.input_shape))
        print(f"{name:<18} {graph.name:<24} input {shape:<14} params {report.params:>13,}  MACs {report.macs:>15,}")


@app.command(epilog="Example: convcalc schema > convcalc.schema.json")
def schema() -> None:
    """Print the JSON Schema of the spec format, for editors (YAML language server)."""
    import json

    from convcalc.specformat import json_schema

    print(json.dumps(json_schema(), indent=2))


CHECK_FORMATS = ("text", "github", "json")


@app.command(
    epilog="Examples: convcalc check specs/ (exit 0: all expectations hold, 1: one fails, 2: a spec is invalid); "
    "convcalc check model.yaml --format github; convcalc check --update model.yaml"
)
def check(
    specs: Annotated[list[str], typer.Argument(help="Spec files, folders (searched for *.yaml, *.yml) or globs.")],
    format: Annotated[str, typer.Option("--format", help="text, github (GitHub Actions annotations) or json.")] = "text",
    update: Annotated[bool, typer.Option("--update", help="Write the current shapes and params into the expect: fields (comments and layout kept).")] = False,
) -> None:
    """Check the expectations written in specs (expect: on layers and at the top level); a CI gate."""
    from convcalc import check as checks

    if format not in CHECK_FORMATS:
        fail(f"--format: unknown format {format!r}; choose {', '.join(CHECK_FORMATS)}")
    if update:
        paths = [path for path, _ in checks.collect(specs)]
        results = [run_core(lambda: checks.update_file(path)) for path in paths]  # noqa: B023 (called at once)
        print("\n".join(checks.format_updates(results)))
        return
    result = checks.check_paths(specs)
    if format == "json":
        print(checks.json_text(result))
    elif format == "github":
        print("\n".join(checks.github_lines(result)))
    else:
        out, err = checks.text_lines(result)
        for line in err:
            print(f"convcalc: error: {line}", file=sys.stderr)
        print("\n".join(out))
    raise typer.Exit(result.exit_code)
