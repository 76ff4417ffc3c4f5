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


def _version(value: bool) -> None:
    if value:
        print(f"convcalc {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks."""


# name -> (function, epilog), in the order `convcalc --help` lists them
COMMANDS = {
    "layer": (layer_command.layer, layer_command.EPILOG),
    "net": (net_command.net, net_command.EPILOG),
    "export": (bridge_commands.export, bridge_commands.EXPORT_EPILOG),
    "import": (bridge_commands.import_, bridge_commands.IMPORT_EPILOG),
    "ops": (info_commands.ops, info_commands.OPS_EPILOG),
    "zoo": (info_commands.zoo, info_commands.ZOO_EPILOG),
    "schema": (info_commands.schema, info_commands.SCHEMA_EPILOG),
    "check": (check_command.check, check_command.EPILOG),
    "solve": (solve_command.solve, solve_command.EPILOG),
}


def make_app(only: str | None = None) -> typer.Typer:
    """The application: every command, or with ``only`` just that one (what ``convcalc NAME ...`` runs: typer then
    reads one function's options instead of all nine, ~10 ms less at start-up; the command behaves the same)."""
    application = typer.Typer(
        name="convcalc",
        help="Exact shapes, parameters, MACs/FLOPs and receptive fields of convolutional networks.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(root)
    for name, (function, epilog) in COMMANDS.items():
        if only is None or name == only:
            application.command(name, epilog=epilog)(function)
    return application


app = make_app()
