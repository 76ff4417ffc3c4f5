"""``convcalc layer``: one layer from its options (convcalc.ops.layer_options), rendered."""

# No `from __future__ import annotations`: typer reads these options' annotations as objects, not strings to
# evaluate (~1.5 ms less at every start).

from typing import Annotated, Any, Optional

import typer

from convcalc.cli.common import CONVENTION, fail, run_core, warn_channels_first, write_or_print
from convcalc.report.formats import Convention, Format

EPILOG = "Example: convcalc layer --in 640x640x3 --k 3x5 --s 1x2 --p 2 --out 5 --explain\n\n" + CONVENTION


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
    op: Annotated[str, typer.Option("--op", help="conv, deconv (transposed), maxpool, avgpool or linear.")] = "conv",
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
    convention: Annotated[Convention, typer.Option("--convention", help="Count MACs as convcalc (default), torchinfo, fvcore, ptflops, thop or ultralytics does.")] = Convention.CONVCALC,
    warnings: Annotated[bool, typer.Option("--warnings", help="Every warning in full on stderr (default: input pixels that no window reads make one summary line).")] = False,
    draw: Annotated[Optional[str], typer.Option("--draw", help="Also write the sliding window to FILE.svg, animated (conv, deconv, pooling; 1-D or 2-D).", metavar="FILE")] = None,
    frames: Annotated[bool, typer.Option("--frames", help="With --draw: a static filmstrip, one panel per output position, instead of the animation.")] = False,
) -> None:
    """Output shape, parameters, MACs/FLOPs and receptive field of one layer."""
    from convcalc.ops.layer_options import layer_from_options

    options = {
        "out": out, "k": k, "s": s, "p": p, "d": d, "g": g, "output_padding": output_padding,
        "ceil": ceil or None, "bias": False if no_bias else None,
    }  # fmt: skip
    if frames and draw is None:
        fail("--frames: draws the filmstrip of --draw FILE.svg; give --draw too")
    result = run_core(lambda: layer_from_options(op, in_, options, batch))
    if result.op != "linear":
        warn_channels_first(result.input_shape, "--in")
    if draw is not None:  # drawn and written first: a layer it cannot draw, or a file it cannot write, prints nothing
        from convcalc.report.draw_window import draw_window

        write_or_print(run_core(lambda: draw_window(result, frames)), draw, "--draw")
    if convention != "convcalc":
        from convcalc.conventions.counting import layer_with_convention

        result = run_core(lambda: layer_with_convention(result, convention))
    print_layer(result, format, explain, convention, warnings)


def print_layer(result: Any, format: str, explain: bool, convention: str, warnings: bool) -> None:
    """The layer as a table, JSON or Markdown on stdout (with ``--explain``'s steps); its warnings on stderr."""
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
