"""What every command shares: errors and warnings as one line on stderr, library errors named by their flag,
spec names, writing to a file or stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer

from convcalc.errors import ConvCalcError
from convcalc.report.formats import CONVENTION  # noqa: F401 - the commands' epilogs take it from here

# The library's parameter names whose flag is not ``--`` + the name.
FLAGS = {"target": "TARGET", "to": "--to", "in": "--in", "max_layers": "--max-layers", "output_padding": "--output-padding", "ceil": "--ceil", "bias": "--no-bias"}
MAX_LAYERS_HELP = "Refuse specs that expand to more layers than this."
SCALE_HELP = "Ultralytics YAML: the scale (n, s, m, l, x) [default: the file name's (yolov8n.yaml), else the first]."
NC_HELP = "Ultralytics YAML: the number of classes, instead of the YAML's nc."
FUSE_HELP = ("The inference graph, as Ultralytics' model.fuse() makes it: each batch norm folded into the conv (or linear) "
             "before it, RepConv/RepVGG branches merged, layers no output reads dropped.")


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


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"convcalc: warning: {message}", file=sys.stderr)


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
    from convcalc.frontends.ultralytics_names import unified_path

    if found is None and unified_path(spec) is not None:
        return spec  # Ultralytics' scaled name: `yolov8n.yaml` is `yolov8.yaml` at scale n
    if found is None and Path(spec).exists():
        return spec  # a directory or a device: the loader says it is not a regular file
    if found is None:
        fail(f"{spec}: no such file, and no bundled example of that name (see `convcalc zoo`)")
    return found


def write_or_print(text: str, output: str | None, flag: str = "-o") -> None:
    """``-o FILE`` (or ``flag FILE``, e.g. ``--draw``): write there and say so on stderr; otherwise stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        fail(f"{flag}: cannot write {output}: {error.strerror or error}")
    print(f"wrote {output}", file=sys.stderr)
