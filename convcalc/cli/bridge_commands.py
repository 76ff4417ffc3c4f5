"""``convcalc export`` (a spec as a PyTorch module) and ``convcalc import`` (a PyTorch model as a spec)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from convcalc.cli.common import MAX_LAYERS_HELP, fail, resolve_spec, run_core, warn_channels_first, write_or_print

EXPORT_EPILOG = (
    "Example: convcalc export examples/resnet50.yaml --to torch -o resnet50.py (needs no torch to write; "
    "the file imports only torch)."
)
IMPORT_EPILOG = "Example: convcalc import models.py:resnet18 --input 224x224x3 -o resnet18.yaml (needs torch)."


def export(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example.")],
    to: Annotated[str, typer.Option("--to", help="Target framework: torch.")] = "torch",
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help=MAX_LAYERS_HELP, show_default="1,000,000")] = None,
) -> None:
    """Write a spec as a self-contained PyTorch nn.Module (names and connections as in the spec)."""
    from convcalc.io.torch_export import export_torch
    from convcalc.run import load_spec

    if to != "torch":
        fail(f"--to: unknown target {to!r}; choose torch")
    path = resolve_spec(spec)
    source = run_core(lambda: export_torch(load_spec(path, max_layers)))
    write_or_print(source, output)


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
