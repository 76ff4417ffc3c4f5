"""The network graph: layers (nodes) in topological order, each with its op, validated arguments and inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convcalc.core.notation import Shape

NETWORK_INPUT = -1


@dataclass(frozen=True)
class Node:
    """One layer of the expanded graph. ``inputs`` are node indices (-1: the network input); ``picks`` says which
    output of each input (``from: split1[1]``): an index (negative from the end), or None for its only output (or
    all its outputs, for an op that takes several inputs); empty when every pick is None."""

    index: int
    name: str
    op: str
    args: dict[str, Any]
    inputs: tuple[int, ...]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    blocks: tuple[str, ...] = ()  # enclosing block instances, outermost first
    trainable: bool = True
    expect: str | None = None
    picks: tuple[int | None, ...] = ()

    def sources(self) -> list[tuple[int, int | None]]:
        """(input node, picked output or None) for every input, as written."""
        return list(zip(self.inputs, self.picks or (None,) * len(self.inputs)))

    def line_of(self, key: str | None) -> int:
        return self.key_lines.get(key or "", self.line)


@dataclass(frozen=True)
class Output:
    """One declared output of a network (``outputs:``): its name, the node and which of its outputs (None: its only
    one, or all of them, each named ``name[k]``)."""

    name: str
    node: int
    pick: int | None = None
    line: int = 0


@dataclass(frozen=True)
class Unused:
    """A module the forward never runs (``unused:``): its path and counts, which the totals include."""

    module: str
    params: int
    buffers: int = 0


@dataclass(frozen=True)
class Network:
    """The expanded graph. ``outputs`` are the declared outputs (empty: the last node is the only output)."""

    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    file: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    expect_lines: dict[str, int] = field(default_factory=dict)
    input_line: int = 0
    outputs: tuple[Output, ...] = ()
    unused: tuple[Unused, ...] = ()
