"""``convcalc check``: the expectations written in specs, checked (a CI gate) or, with --update, rewritten."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from convcalc.cli.common import FUSE_HELP, MAX_LAYERS_HELP, NC_HELP, SCALE_HELP, fail, run_core
from convcalc.report.formats import CheckFormat

EPILOG = (
    "Examples: convcalc check specs/ (exit 0: all expectations hold, 1: one fails, 2: a spec is invalid); "
    "convcalc check model.yaml --format github; convcalc check --update model.yaml; "
    "convcalc check model.onnx --expect 'params <= 3.2M' --expect 'macs < 1.5G'; "
    "convcalc check yolov8n.yaml --fuse --expect 'params <= 3.2M'"
)


def check(
    specs: Annotated[list[str], typer.Argument(help="Spec files, folders (searched for *.yaml, *.yml, *.json) or globs; a file named must be a spec.")],
    format: Annotated[CheckFormat, typer.Option("--format", help="table (alias: text), github (GitHub Actions annotations) or json.")] = CheckFormat.TABLE,
    update: Annotated[bool, typer.Option("--update", help="Write the current shapes and params into the expect: fields (comments, layout and bounds kept).")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Exit 0 when no spec is found (default: exit 2, nothing was checked).")] = False,
    skip_non_specs: Annotated[bool, typer.Option("--skip-non-specs", help="Skip named files that are not specs, as a folder search does (for pre-commit, which names every YAML file).")] = False,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help=MAX_LAYERS_HELP, show_default="1,000,000")] = None,
    expect: Annotated[Optional[list[str]], typer.Option("--expect", help="An expectation for every file, as expect: takes it: 'params <= 3.2M', 'macs < 1.5G', 'output 1000' (repeatable; for files nobody edits: ONNX models, Ultralytics YAMLs).")] = None,
    scale: Annotated[Optional[str], typer.Option("--scale", help=SCALE_HELP + " With --expect.")] = None,
    nc: Annotated[Optional[str], typer.Option("--nc", help=NC_HELP + " With --expect.")] = None,
    fuse: Annotated[bool, typer.Option("--fuse", help=FUSE_HELP + " For the files checked with --expect (ONNX models, Ultralytics YAMLs).")] = False,
) -> None:
    """Check the expectations written in specs (expect: on layers and at the top level); a CI gate."""
    from convcalc.check import check_paths
    from convcalc.report import check_output
    from convcalc.run import parse_max_layers
    from convcalc.specfile.limits import layer_limit

    if format is CheckFormat.TEXT:  # the name before 0.1: still accepted
        format = CheckFormat.TABLE
    if update and format != "table":
        fail(f"--format: --update writes the specs and reports as text; it has no {format} output")
    limit = run_core(lambda: parse_max_layers(max_layers))
    expectations = run_core(lambda: command_line_expectations(expect or []))
    if update and expectations:
        fail("--expect: --update writes the expect: fields of specs; expectations given on the command line are not written")
    given = [flag for flag, value in (("--scale", scale), ("--nc", nc), ("--fuse", fuse)) if value]
    if given and not expectations:
        fail(f"{given[0]}: builds the Ultralytics YAMLs (and ONNX models) checked with --expect; give --expect too "
             "(a spec naming a YAML says ultralytics:, scale:, nc:, fuse:)")  # fmt: skip
    if update:
        update_specs(specs, allow_empty, skip_non_specs, limit)
        return
    from convcalc.run import source_options

    options = run_core(lambda: source_options(scale, nc))
    with layer_limit(limit):
        result = run_core(lambda: check_paths(specs, allow_empty, not skip_non_specs, expectations, options, fuse))
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


def command_line_expectations(texts: list[str]) -> dict[str, str]:
    """``--expect`` texts as top-level ``expect:`` entries (key -> value); a key given twice is an error."""
    from convcalc.check.expectations import parse_command_line_expectation
    from convcalc.errors import ConvCalcError

    expectations: dict[str, str] = {}
    for text in texts:
        key, value = parse_command_line_expectation(text)
        if key in expectations:
            raise ConvCalcError(f"{key!r} is given twice", "expect")
        expectations[key] = value
    return expectations


def update_specs(specs: list[str], allow_empty: bool, skip_non_specs: bool, limit: int) -> None:
    """``--update``: write the current values into the specs' expect: fields and say what changed."""
    from convcalc.check import update_paths
    from convcalc.report import check_output
    from convcalc.specfile.limits import layer_limit

    with layer_limit(limit):
        results = run_core(lambda: update_paths(specs, named_non_specs=not skip_non_specs))
    if results:
        print("\n".join(check_output.update_lines(results)))
    if not allow_empty and not any(result.spec for result in results):
        fail(check_output.no_specs_message(specs, len(results)))
