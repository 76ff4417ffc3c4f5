"""``convcalc ops``, ``zoo`` and ``schema``: what convcalc knows (the op catalogue, the bundled examples, the JSON
Schemas of its formats)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from convcalc.cli.common import fail, run_core
from convcalc.report.formats import Format

OPS_EPILOG = "Examples: convcalc ops; convcalc ops --format json; convcalc ops conv2d"
ZOO_EPILOG = "Example: convcalc zoo; then convcalc net resnet50"
SCHEMA_EPILOG = "Examples: convcalc schema > convcalc.schema.json; convcalc schema --output net > net-output.schema.json"


def ops(
    name: Annotated[Optional[str], typer.Argument(help="One op, by any of its spellings (default: all).")] = None,
    format: Annotated[Format, typer.Option("--format", help="table, json or markdown.")] = Format.TABLE,
) -> None:
    """Every op a spec can use: aliases, arguments, what it costs, its PyTorch module."""
    from convcalc.ops.catalogue import canonical_op
    from convcalc.report import ops_output
    from convcalc.specfile.op_arguments import listing

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


def zoo() -> None:
    """List the bundled example networks (usable by name with `convcalc net`)."""
    from convcalc.graph import analysis as network
    from convcalc.report.net_table import zoo_lines
    from convcalc.report.terminal import terminal_width
    from convcalc.specfile import loader as specs
    from convcalc.zoo import bundled, names

    def summary(name: str) -> tuple[Any, Any]:
        graph = specs.load(bundled(name) or name)
        return graph, network.analyze(graph)

    entries = []
    for name in names():
        graph, report = run_core(lambda: summary(name))  # noqa: B023 (called at once)
        entries.append((name, graph.name, "x".join(map(str, graph.input_shape)), report.params, report.macs))
    print("\n".join(zoo_lines(entries, terminal_width())))


def schema(
    output: Annotated[Optional[str], typer.Option("--output", help="Instead of the spec format's schema, that of an output: net or layer (--format json).", metavar="net|layer")] = None,
) -> None:
    """Print the JSON Schema of the spec format, for editors (YAML language server), or of `net`/`layer`'s JSON."""
    import json

    if output is None:
        from convcalc.specfile.json_schema import json_schema

        print(json.dumps(json_schema(), indent=2))
        return
    from convcalc.report.schema import SCHEMAS

    if output not in SCHEMAS:
        fail(f"--output: unknown output {output!r}; choose net or layer")
    print(json.dumps(SCHEMAS[output](), indent=2))
