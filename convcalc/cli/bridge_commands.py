"""``convcalc export`` (a spec as a PyTorch module) and ``convcalc import`` (a PyTorch model as a spec)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from convcalc.cli.common import (
    FUSE_HELP,
    MAX_LAYERS_HELP,
    NC_HELP,
    SCALE_HELP,
    fail,
    resolve_spec,
    run_core,
    warn_channels_first,
    write_or_print,
)

if TYPE_CHECKING:
    from convcalc.graph.model import Network

EXPORT_EPILOG = (
    "Example: convcalc export examples/resnet50.yaml --to torch -o resnet50.py (needs no torch to write; "
    "the file imports only torch)."
)
IMPORT_EPILOG = (
    "Examples: convcalc import torchvision:resnet50 -o resnet50.yaml; convcalc import models.py:net --input 224x224x3 "
    "(needs torch; torchvision and timm for their models)."
)


def export(
    spec: Annotated[str, typer.Argument(help="A YAML spec file, or the name of a bundled example.")],
    to: Annotated[str, typer.Option("--to", help="Target framework: torch.")] = "torch",
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write to this file instead of stdout.")] = None,
    max_layers: Annotated[Optional[str], typer.Option("--max-layers", help=MAX_LAYERS_HELP, show_default="1,000,000")] = None,
    scale: Annotated[Optional[str], typer.Option("--scale", help=SCALE_HELP)] = None,
    nc: Annotated[Optional[str], typer.Option("--nc", help=NC_HELP)] = None,
    fuse: Annotated[bool, typer.Option("--fuse", help=FUSE_HELP)] = False,
) -> None:
    """Write a spec as a self-contained PyTorch nn.Module (names and connections as in the spec)."""
    from convcalc.io.torch_export import export_torch
    from convcalc.run import load_spec, source_options

    if to != "torch":
        fail(f"--to: unknown target {to!r}; choose torch")
    path = resolve_spec(spec)

    def load() -> Network:
        network = load_spec(path, max_layers, source_options(scale, nc))
        if fuse:
            from convcalc.graph.fuse import fuse_batchnorm

            network = fuse_batchnorm(network)
        return network

    source = run_core(lambda: export_torch(load()))
    write_or_print(source, output)


def import_(
    target: Annotated[str, typer.Argument(help="torchvision:NAME, timm:NAME, path/to/file.py:callable or package.module:callable returning an nn.Module, or an ONNX file.")],
    input: Annotated[Optional[str], typer.Option("--input", "--in", help="Input shape, channels last (224x224x3) [default: the library's size for torchvision and timm models].")] = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Write the spec to this file instead of stdout.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The spec's name [default: the model's name or class].")] = None,
) -> None:
    """Capture a model (torch.export, eval mode; or read an ONNX file) and write an equivalent spec."""
    from convcalc.core.notation import parse_shape

    def run() -> str:
        from convcalc.frontends.torch_models import import_text
        from convcalc.report.progress import working

        shape = parse_shape(input, "input") if input is not None else None
        with working("importing torch and capturing the model (torch.export)"):
            text = import_text(target, shape, name)
        if shape is not None:
            warn_channels_first(shape, "--input")
        return text

    write_or_print(run_core(run), output)
