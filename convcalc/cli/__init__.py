"""The command line: parse options, call the library, render. Only this package imports typer.

One module per command or family of commands (``layer_command``, ``net_command``, ``bridge_commands``,
``info_commands``, ``check_command``); ``common`` holds what they share, ``entry`` the entry point ``main``."""

from __future__ import annotations

from typing import Annotated

import typer

from convcalc import __version__
from convcalc.cli import bridge_commands, check_command, info_commands, layer_command, net_command, solve_command
from convcalc.cli.entry import main

__all__ = ["app", "main"]

app = typer.Typer(
    name="convcalc",
    help="Exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


app.command(epilog=layer_command.EPILOG)(layer_command.layer)
app.command(epilog=net_command.EPILOG)(net_command.net)
app.command("export", epilog=bridge_commands.EXPORT_EPILOG)(bridge_commands.export)
app.command("import", epilog=bridge_commands.IMPORT_EPILOG)(bridge_commands.import_)
app.command(epilog=info_commands.OPS_EPILOG)(info_commands.ops)
app.command(epilog=info_commands.ZOO_EPILOG)(info_commands.zoo)
app.command(epilog=info_commands.SCHEMA_EPILOG)(info_commands.schema)
app.command(epilog=check_command.EPILOG)(check_command.check)
app.command(epilog=solve_command.EPILOG)(solve_command.solve)
