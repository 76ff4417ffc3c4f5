"""The entry point: runs a command; usage errors, repeated options and output that cannot be written become one
line and an exit code, never a traceback."""

from __future__ import annotations

import errno
import sys
from typing import Any

import typer

from convcalc.cli.common import fail

OUTPUT_ERRORS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}  # the output cannot be written


def main(argv: list[str] | None = None) -> None:
    """The entry point. Usage errors (unknown or repeated option, missing argument) are one line and exit 2, like
    every other error; output to a closed pipe or a full disk ends without a traceback."""
    from convcalc.cli import COMMANDS, app, make_app

    if argv is None:  # a command-line run, not a test calling main(): see quiet_collector
        quiet_collector()
    args = sys.argv[1:] if argv is None else list(argv)
    # `convcalc net ...`: typer builds that command alone (its options read from one function, not nine)
    command = typer.main.get_command(make_app(args[0]) if args and args[0] in COMMANDS else app)
    code: Any = 0
    try:
        refuse_repeated_options(command, args)
        code = command.main(args=args, prog_name="convcalc", standalone_mode=False)
    except typer.Exit as error:  # raised by fail() before the command runs
        code = error.exit_code
    except OSError as error:  # writing the output failed (a full disk): said once, below
        if error.errno not in OUTPUT_ERRORS:
            raise
        sys.exit(output_failed(error, 2))
    except Exception as error:
        if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):  # not one of click's own
            raise
        code = usage_error(command, args, error)
    except SystemExit as error:  # a closed pipe, after typer silenced the streams
        code = error.code
    sys.exit(finish_output(code if isinstance(code, int) else 0))


def usage_error(command: Any, args: list[str], error: Any) -> int:
    """Click's usage error as one line (``convcalc: error: ...``), exit 2; no arguments at all show the help."""
    if type(error).__name__ == "NoArgsIsHelpError" or not args:
        print(command.get_help(command.make_context("convcalc", [], resilient_parsing=True)))
        return 0
    if getattr(error, "exit_code", 2) == 0:
        return 0
    message = " ".join(str(error.format_message()).split())
    print(f"convcalc: error: {message}", file=sys.stderr)
    return 2


def finish_output(code: int) -> int:
    """Flush stdout; a closed pipe (``| head -1``) ends quietly, a full disk (``> /dev/full``) says so in one line."""
    try:
        sys.stdout.flush()
    except OSError as error:
        return output_failed(error, code)
    return code


def output_failed(error: OSError, code: int) -> int:
    """Stdout cannot be written: quiet for a closed pipe, one line otherwise; nothing left to flush at exit."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if error.errno == errno.EPIPE:
        return code
    print(f"convcalc: error: cannot write the output: {error.strerror or error}", file=sys.stderr)
    return 2


def refuse_repeated_options(command: Any, args: list[str]) -> None:
    """A flag given twice (``--p 2 --p 3``) is an error: click would silently keep the last one."""
    names = [index for index, arg in enumerate(args) if not arg.startswith("-")]
    if not names or not hasattr(command, "commands") or args[names[0]] not in command.commands:
        return
    options: dict[str, Any] = {}
    for param in command.commands[args[names[0]]].params:
        for flag in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())):
            if flag.startswith("-"):
                options[flag] = param
    seen: dict[str, str] = {}
    rest = iter(args[names[0] + 1 :])
    for arg in rest:
        if arg == "--":
            break
        flag = arg.split("=", 1)[0]
        param = options.get(flag)
        if param is None:
            continue
        if param.name in seen and not getattr(param, "multiple", False) and not getattr(param, "count", False):
            again = flag if flag == seen[param.name] else f"{seen[param.name]} and {flag}"
            fail(f"{again}: given twice; give each option once")
        seen[param.name] = flag
        if not getattr(param, "is_flag", False) and "=" not in arg:
            next(rest, None)


def quiet_collector() -> None:
    """A command is one short process that builds acyclic data (a spec, its graph, its report) and exits: Python's
    cyclic garbage collector only rescans that growing heap, which made a 20,000-layer spec superlinear (1.9 s to
    load instead of 0.8). Freeze what import left and let the rest run without the collector (collecting the import's
    few cyclic leftovers first cost ~2 ms and freed almost nothing)."""
    import gc

    gc.freeze()
    gc.disable()
