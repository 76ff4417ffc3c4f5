"""``convcalc net``: a spec analysed by convcalc.run, shown as a table (or JSON, Markdown, CSV), or in one of the
modes --compare, --verify and --explain."""

# No `from __future__ import annotations`: typer reads these options' annotations as objects, not strings to
# evaluate (~1.5 ms less at every start).

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from convcalc.cli.common import (
    CONVENTION,
    FUSE_HELP,
    MAX_LAYERS_HELP,
    NC_HELP,
    SCALE_HELP,
    resolve_spec,
    run_core,
    warn_channels_first,
    write_or_print,
)
from convcalc.cli.net_modes import refuse_ignored_flags
from convcalc.report.formats import Convention, DType, NetFormat

if TYPE_CHECKING:
    from convcalc.graph.analysis import Report

EPILOG = (
    "Examples: convcalc net examples/lenet5.yaml; convcalc net resnet50 --depth 1; "
    "convcalc net lenet5 --explain C5 (bundled examples resolve by name from any folder).\n\n" + CONVENTION
)


def net(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example (convcalc zoo).")],
    batch: Annotated[Optional[str], typer.Option("--batch", help="Batch size; multiplies MACs, FLOPs and activations.", show_default="1")] = None,
    input: Annotated[Optional[str], typer.Option("--input", "--in", help="Override the spec's input shape (e.g. 64x64x3); same rank as the spec's.")] = None,
    depth: Annotated[Optional[str], typer.Option("--depth", help="Fold blocks nested deeper than this (0: one row per block).")] = None,
    format: Annotated[NetFormat, typer.Option("--format", help="table, json, markdown, csv or html (one self-contained page).")] = NetFormat.TABLE,
    dtype: Annotated[Optional[DType], typer.Option("--dtype", help="Element type for memory: float32, float16, bfloat16, int8, ...", show_default="float32")] = None,
    explain: Annotated[Optional[str], typer.Option("--explain", help="Show the backward receptive-field recursion from LAYER to the input.", metavar="LAYER")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Build the spec in PyTorch (meta device) and compare every layer's shape and params; exit 1 on a difference.")] = False,
    convention: Annotated[Convention, typer.Option("--convention", help="Count MACs as convcalc (default), torchinfo, fvcore, ptflops, thop or ultralytics does.")] = Convention.CONVCALC,
    compare: Annotated[bool, typer.Option("--compare", help="Every convention's total, its ratio to convcalc's, and a breakdown by category.")] = False,
    warnings: Annotated[bool, typer.Option("--warnings", help="Every layer's warnings in full on stderr (default: layers whose stride skips input pixels make one summary line).")] = False,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help=MAX_LAYERS_HELP, show_default="1,000,000")] = None,
    scale: Annotated[Optional[str], typer.Option("--scale", help=SCALE_HELP)] = None,
    nc: Annotated[Optional[str], typer.Option("--nc", help=NC_HELP)] = None,
    fuse: Annotated[bool, typer.Option("--fuse", help=FUSE_HELP)] = False,
    draw: Annotated[Optional[str], typer.Option("--draw", help="Also write a picture to FILE.svg: the network diagram (folded by --depth), or with --explain the layer's receptive field.", metavar="FILE")] = None,
) -> None:
    """Per-layer table of a network spec: shapes, params, MACs, receptive field and jump, and totals."""
    from convcalc.run import analyze_spec, layer_index, source_options

    mode = "--compare" if compare else "--verify" if verify else "--explain" if explain is not None else None
    given = {
        "--explain": explain is not None, "--verify": verify, "--convention": convention != "convcalc",
        "--depth": depth is not None, "--batch": batch is not None, "--dtype": dtype is not None,
        "--draw": draw is not None,
    }  # fmt: skip
    refuse_ignored_flags(mode, given, format)
    path = resolve_spec(spec)
    run = run_core(
        lambda: analyze_spec(path, input_text=input, batch_text=batch, depth_text=depth, dtype=dtype,
                             convention=convention, max_layers=max_layers, source=source_options(scale, nc), fuse=fuse)
    )  # fmt: skip
    warn_channels_first(run.graph.input_shape, "--input" if input is not None else f"{path}: input")
    if compare:
        print_compare(format, run.report)
    elif verify:
        print_verify(format, run.report)
    elif explain is not None:
        from convcalc.graph.backward import backward_recursion
        from convcalc.report.backward import explain_output

        target = run_core(lambda: layer_index(run.graph, explain, path))
        recursion = run_core(lambda: backward_recursion(run.report, target))
        if draw is not None:  # written first: a file it cannot write prints nothing
            from convcalc.report.draw_field import draw_field

            write_or_print(run_core(lambda: draw_field(run.report, target, recursion)), draw, "--draw")
        print(explain_output(format, run.report, recursion))
    else:
        if draw is not None:
            from convcalc.report.draw_network import draw_network

            write_or_print(run_core(lambda: draw_network(run.report, run.depth)), draw, "--draw")
        if not print_ultralytics(format, path, run.report, run.depth):
            print_net(format, run.report, run.depth, warnings)


def print_ultralytics(format: str, path: str, report: "Report", depth: int | None) -> bool:
    """An Ultralytics model's table: at ``--depth 0`` one row per YAML row with Ultralytics' columns beside
    convcalc's, and at any depth its summary line (both layer counts, GFLOPs). False: not an Ultralytics model, or
    not the table format."""
    from convcalc.frontends.ultralytics_names import describe

    model = describe(path)
    if model is None or format != "table":
        return False
    from convcalc.conventions.counting import total_macs
    from convcalc.report.terminal import terminal_width
    from convcalc.report.ultralytics_table import summary_line, ultralytics_table

    macs = total_macs("ultralytics", report)
    if depth == 0:
        print("\n".join(ultralytics_table(model, report, macs, terminal_width())))
        return True
    print_net(format, report, depth, False)
    print(summary_line(model, report, macs))
    return True


def print_compare(format: str, report: "Report") -> None:
    """``--compare``: every convention's totals."""
    from convcalc.conventions.counting import compare as compare_conventions
    from convcalc.report.compare_output import compare_output

    print(compare_output(format, report, run_core(lambda: compare_conventions(report))))


def print_verify(format: str, report: "Report") -> None:
    """``--verify``: build in PyTorch and compare; exit 1 on a difference."""
    from convcalc.io.torch_verify import verify_layers
    from convcalc.report.progress import working
    from convcalc.report.verify_output import verify_output

    with working("building the spec in PyTorch (meta device) and comparing every layer"):
        differences, checked = run_core(lambda: verify_layers(report))
    print(verify_output(format, report, differences, checked))
    if differences:
        raise typer.Exit(1)


def print_net(format: str, report: "Report", depth: int | None, warnings: bool) -> None:
    """The per-layer table (or JSON, Markdown, CSV) on stdout; warnings on stderr (JSON carries them in its rows)."""
    from convcalc.report.warnings_output import print_warnings

    if format == "json":  # each format's module imported only when asked for (json_output imports json: ~1 ms)
        from convcalc.report import json_output

        print(json_output.net_json(report, depth))
    elif format == "markdown":
        from convcalc.report import markdown

        print(markdown.net_markdown(report, depth))
    elif format == "csv":
        from convcalc.report import csv_output

        print(csv_output.net_csv(report, depth))
    elif format == "html":
        from convcalc.report.html_output import net_html

        print(net_html(report, depth), end="")
    else:
        from convcalc.report import net_table

        net_table.print_net_table(report, depth)
    if format != "json" or warnings:  # JSON carries its warnings in every row
        print_warnings([(row.name, row.warnings) for row in report.rows], detailed=warnings)
