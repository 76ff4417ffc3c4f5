"""References between layers: ``from:`` names a layer (or a block instance, or the input) that may be written later,
so the expander records a reference and resolves it once every layer is known. A reference resolves to a
:data:`Source`: the node and which of its outputs (``from: split1[1]``; None: its only one, or all for a merge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from convcalc.errors import SpecError


class Resolver(Protocol):
    """What a reference needs to resolve: the file (for errors) and every layer name known so far (the expander)."""

    file: str | None
    all_names: dict[str, Ref]


Source = tuple[int, "int | None"]  # (node index, picked output or None)


class Ref:
    """Something that names a node once every layer is known (``from:`` may point forward)."""

    def resolve(self, expander: Resolver) -> Source:
        raise NotImplementedError


@dataclass(eq=False)
class NodeRef(Ref):
    index: int

    def resolve(self, expander: Resolver) -> Source:
        return self.index, None


@dataclass(eq=False)
class Scope:
    """The layers of the top level or of one block instance; names in it are local."""

    prefix: str
    input: Ref
    items: list[Ref] = field(default_factory=list)
    names: dict[str, Ref] = field(default_factory=dict)
    line: int = 0


@dataclass(eq=False)
class ScopeOut(Ref):
    scope: Scope

    def resolve(self, expander: Resolver) -> Source:
        if not self.scope.items:
            raise SpecError("block has no layers", expander.file, self.scope.line, self.scope.prefix.rstrip("."))
        return self.scope.items[-1].resolve(expander)


@dataclass(eq=False)
class BlockInputs(Ref):
    """The inputs of a block instance given several (``from: [p3, p4, p5]``): inside, ``input[k]`` is the k-th;
    ``input`` alone (or no ``from:`` on the first layer) gives all of them to an op of several inputs (concat, add)
    or to a block, and is an error for any other op."""

    refs: list[Ref]
    line: int
    block: str

    def resolve(self, expander: Resolver) -> Source:
        count = len(self.refs)
        raise SpecError(f"from: block {self.block!r} has {count} inputs; pick one: input[0] to input[{count - 1}] "
                        "(only an op of several inputs, like concat, takes them all)", expander.file, self.line, self.block)  # fmt: skip

    def spread(self, sources: list[Ref]) -> list[Ref]:
        """``sources`` with every reference to the whole input replaced by the inputs, in order."""
        spread: list[Ref] = []
        for source in sources:
            whole = (isinstance(source, Named) and source.target == "input" and source.pick is None) or (
                isinstance(source, Previous) and source.position == 0
            )
            spread += self.refs if whole else [source]
        return spread


@dataclass(eq=False)
class Previous(Ref):
    scope: Scope
    position: int

    def resolve(self, expander: Resolver) -> Source:
        return (self.scope.items[self.position - 1] if self.position else self.scope.input).resolve(expander)


@dataclass(eq=False)
class Named(Ref):
    scope: Scope
    target: str | int
    position: int
    line: int
    layer: str
    pick: int | None = None  # ``from: name[k]``: output k of that layer

    def resolve(self, expander: Resolver) -> Source:
        if self.target == "input" and self.pick is not None and isinstance(self.scope.input, BlockInputs):
            inputs = self.scope.input.refs
            if not -len(inputs) <= self.pick < len(inputs):
                raise SpecError(f"from: input[{self.pick}]: the block has {len(inputs)} inputs (input[0] to "
                                f"input[{len(inputs) - 1}])", expander.file, self.line, self.layer)  # fmt: skip
            return inputs[self.pick].resolve(expander)
        index, inner = self.target_source(expander)
        if self.pick is None:
            return index, inner
        if inner is not None and self.pick not in (0, -1):  # the target is already one output (a block's input)
            raise SpecError(f"from: {self.target}[{self.pick}]: {self.target!r} is one output ([0])", expander.file, self.line, self.layer)
        return index, self.pick if inner is None else inner

    def target_source(self, expander: Resolver) -> Source:
        target, scope = self.target, self.scope
        if isinstance(target, int) and not isinstance(target, bool):
            if target >= 0:
                raise SpecError(f"from: {target} must be a name or a negative index like -2", expander.file, self.line, self.layer)
            index = self.position + target
            if index < -1:
                raise SpecError(f"from: {target} reaches before the first layer", expander.file, self.line, self.layer)
            return (scope.items[index] if index >= 0 else scope.input).resolve(expander)
        name = str(target)
        if name == "input":
            return scope.input.resolve(expander)
        if name in scope.names:
            return scope.names[name].resolve(expander)
        if scope.prefix + name in expander.all_names:
            return expander.all_names[scope.prefix + name].resolve(expander)
        if name in expander.all_names:
            return expander.all_names[name].resolve(expander)
        raise SpecError(f"from: no layer named {name!r}", expander.file, self.line, self.layer)
