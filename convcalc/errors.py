"""The one family of exceptions the library raises for bad input.

Only the CLI turns these into a message and an exit code; anything else that escapes is a bug.
"""

from __future__ import annotations


class ConvCalcError(Exception):
    """Bad input to convcalc. ``param`` names the argument at fault (``k``, ``s``, ``in`` ...)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def __str__(self) -> str:
        return self.message


class InputError(ConvCalcError):
    """An argument has a value that makes no sense on its own (a zero kernel, a negative stride)."""


class ShapeError(ConvCalcError):
    """Arguments that are fine alone but do not fit the input (a kernel larger than the padded input)."""


class SpecError(ConvCalcError):
    """A network spec that cannot be read or does not validate; says where: file, line, layer."""

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int | None = None,
        layer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.layer = layer

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}" if where else f"line {self.line}"
        if self.layer:
            where += f": layer '{self.layer}'" if where else f"layer '{self.layer}'"
        return f"{where}: {self.message}" if where else self.message
