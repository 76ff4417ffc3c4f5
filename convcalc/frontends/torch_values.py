"""The values of a captured graph as the ATen table sees them: an activation (:class:`Tensor`: a convcalc layer's
output and its layout), a parameter, buffer or constant read by an op (:class:`Param`), or several values
(:class:`Many`: split, max pool with indices). Pure standard library."""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Any, Literal

from convcalc.frontends.torch_layout import Layout, PhysShape


@dataclass(frozen=True)
class Tensor:
    """An activation: ``ref`` is the convcalc layer (``name`` or ``name[k]``, ``input``), ``shape`` PyTorch's
    shape (batch 1) and ``layout`` how convcalc's tensor lays it out."""

    ref: str
    shape: PhysShape
    layout: Layout

    @property
    def logical(self) -> tuple[int, ...]:
        return self.layout.logical(self.shape)


@dataclass(frozen=True)
class Param:
    """A tensor of the module read by an op: ``fqn`` its qualified name (``layer1.0.conv1.weight``), ``shape`` as the
    op sees it (after views; ``gathered``: indexed from a table of shape ``source``), ``transposed`` when the last two
    dims are swapped (``weight.t()``), ``scalar`` the value of a one-element constant, ``values`` the elements of a
    small 1-D integer constant (an index list)."""

    fqn: str
    shape: PhysShape
    kind: Literal["param", "buffer", "constant", "gathered"] = "param"
    transposed: bool = False
    numel: int = 0
    scalar: float | None = None
    source: PhysShape | None = None  # a gathered parameter: the shape of the table it was gathered from
    values: tuple[int, ...] | None = None  # a 1-D integer constant's elements (an index list: ``x[:, :, perm]``)

    def __post_init__(self) -> None:
        if not self.numel:
            object.__setattr__(self, "numel", prod(self.shape))

    def permuted(self, dims: list[int]) -> Param:
        swapped = len(dims) >= 2 and dims[-2:] == [len(dims) - 1, len(dims) - 2]
        return replace(self, shape=tuple(self.shape[d] for d in dims), transposed=self.transposed != swapped)

    def reshaped(self, shape: PhysShape) -> Param:
        return replace(self, shape=tuple(shape))

    def expanded(self, shape: PhysShape) -> Param:
        return replace(self, shape=tuple(shape))


class Many(list[Any]):
    """The values of an op with several outputs, picked by ``getitem``."""


def logical_rank(value: Any) -> int:
    """The rank of an operand as its convcalc tensor has it: an activation's logical axes; a parameter or constant
    without its leading 1 (as ``param`` and ``constant`` layers write them)."""
    if isinstance(value, Tensor):
        return len(value.layout.perm)
    return len(without_leading_one(tuple(getattr(value, "shape", ()))))


def without_leading_one(shape: PhysShape) -> PhysShape:
    """A parameter's shape as its ``param`` layer writes it: a leading 1 dropped (a batch-like dim of 1)."""
    return tuple(shape[1:] if len(shape) > 1 and shape[0] == 1 else shape)
