"""The constrained value types every op's arguments share (strict ints, floats and bools, sizes, axes, padding),
the config that refuses unknown keys, and ``alias`` (PyTorch's names as validation aliases)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AliasChoices, ConfigDict, Field

# strict: a wrong-typed value (`out: true`, `eps: "x"`) is an error, never converted (true would read as 1)
PosInt = Annotated[int, Field(ge=1, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
Bool = Annotated[bool, Field(strict=True)]
Float = Annotated[float, Field(strict=True)]
Int = Annotated[int, Field(strict=True)]
Ints = Union[PosInt, list[PosInt]]
Padding = Union[NonNegInt, Literal["same", "valid"], list[Union[NonNegInt, list[NonNegInt]]]]
FORBID = ConfigDict(extra="forbid")


def alias(name: str, *others: str) -> Any:
    return Field(validation_alias=AliasChoices(name, *others))


# axes are convcalc's logical axes (batch excluded, -1 the channels); sizes and shapes of reductions, layout ops
Axes = Union[Int, Annotated[list[Int], Field(min_length=1)]]
Sizes = Union[PosInt, Annotated[list[PosInt], Field(min_length=1)]]
Number = Union[Int, Float]
ShapeList = Annotated[list[Annotated[int, Field(ge=-1, strict=True)]], Field(min_length=1)]
Probability = Annotated[float, Field(ge=0, le=1, strict=True)]
