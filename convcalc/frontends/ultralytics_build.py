"""The pieces Ultralytics modules are built from: spec entries (one op, or one instance of a sub-module's block) and
the :class:`Builder` that turns each module into a convcalc block, shared by every instance with the same layers.

A module's layers are plain spec entries (``{op: {args..., name, from}}``), so the block is what a spec author would
write; the builder also keeps what the spec cannot say: which entries are PyTorch modules (for Ultralytics' two layer
counts) and which activation is the one module every ``Conv`` shares (``Conv.default_act``: counted once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convcalc.errors import SpecError

Entry = dict[str, Any]


@dataclass(frozen=True)
class Act:
    """An activation as Ultralytics builds it: the op, its arguments, and ``shared`` when it is one module instance
    used by many parents (``Conv.default_act``), which PyTorch lists once."""

    op: str
    args: tuple[tuple[str, Any], ...] = ()
    shared: str | None = None


@dataclass
class BlockInfo:
    """What a block holds besides its layers: the module paths of its leaf modules (relative to the block; shared
    activations apart, in ``shared``), the container paths (sub-modules, ``nn.ModuleList``, ``nn.Sequential``) and
    the modules the inference never runs with their parameter counts (``unused``: training-only heads)."""

    leaves: set[str] = field(default_factory=set)
    containers: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)
    unused: dict[str, int] = field(default_factory=dict)


def op(name: str, local: str, source: Any = None, *, module: bool = True, **args: Any) -> tuple[Entry, bool]:
    """One op entry named ``local`` (``source``: its ``from:``); ``module``: whether PyTorch has a module for it
    (``nn.Conv2d``: yes; ``torch.cat`` in a forward: no)."""
    body: dict[str, Any] = {key: value for key, value in args.items() if value is not None}
    body["name"] = local
    if source is not None:
        body["from"] = source
    return {name: body}, module


@dataclass
class Layers:
    """A module's layers being written: entries in order, and the block information gathered with them."""

    builder: Builder
    entries: list[Entry] = field(default_factory=list)
    info: BlockInfo = field(default_factory=BlockInfo)

    def add(self, name: str, local: str, source: Any = None, *, module: bool = True, **args: Any) -> str:
        """Append an op; return its local name (for later ``from:``)."""
        entry, is_module = op(name, local, source, module=module, **args)
        self.entries.append(entry)
        if is_module:
            self.info.leaves.add(local)
        return local

    def act(self, act: Act | None, local: str = "act", source: Any = None) -> str | None:
        """The activation ``act`` (an ``nn.Identity`` when None: a module too, with no cost)."""
        if act is None:
            return self.add("identity", local, source)
        entry, _ = op(act.op, local, source, **dict(act.args))
        self.entries.append(entry)
        if act.shared:
            self.info.shared.add(act.shared)
        else:
            self.info.leaves.add(local)
        return local

    def use(self, block: str, local: str, source: Any = None) -> str:
        """Append an instance of the block ``block`` named ``local``: a sub-module."""
        entry, _ = op(block, local, source, module=False)
        self.entries.append(entry)
        sub = self.builder.info[block]
        self.info.containers.add(local)
        self.info.leaves |= {f"{local}.{path}" for path in sub.leaves}
        self.info.containers |= {f"{local}.{path}" for path in sub.containers}
        self.info.shared |= sub.shared
        self.info.unused |= {f"{local}.{path}": count for path, count in sub.unused.items()}
        return local

    def unused(self, local: str, params: int) -> None:
        """A module the inference never runs (a spec's ``unused:``): its parameters count, it computes nothing."""
        self.info.unused[local] = params

    def container(self, path: str) -> None:
        """A container module with no layer of its own (``self.m = nn.ModuleList(...)``)."""
        self.info.containers.add(path)

    def block(self, kind: str) -> str:
        """These layers as a block of ``kind``: its name."""
        return self.builder.define(kind, self)


@dataclass
class Builder:
    """Every block defined so far (``Conv_1``, ``C2f_1``, ...), one per distinct list of layers, and the default
    activation (``activation:`` in the YAML replaces ``Conv.default_act``)."""

    default_act: Act = Act("silu", shared="Conv.default_act")
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, BlockInfo] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def layers(self) -> Layers:
        return Layers(self)

    def define(self, kind: str, layers: Layers) -> str:
        key = kind + repr(layers.entries)
        name = self.signatures.get(key)
        if name is None:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            name = f"{kind}_{self.counts[kind]}"
            self.blocks[name] = {"layers": layers.entries}
            self.info[name] = layers.info
            self.signatures[key] = name
        return name


def act_of(builder: Builder, act: Any) -> Act | None:
    """Ultralytics' ``act`` argument: True the default activation, False or None an ``nn.Identity``, an :class:`Act`
    itself."""
    if act is True:
        return builder.default_act
    if isinstance(act, Act):
        return act
    return None


def autopad(k: int | list[int], p: Any = None, d: int = 1) -> int | list[int]:
    """Ultralytics' ``autopad``: 'same' padding for stride 1, k // 2 per dimension of the dilated kernel."""
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


def make_divisible(x: float, divisor: int) -> int:
    """Ultralytics' ``make_divisible``: the nearest multiple of ``divisor`` at or above ``x``."""
    import math

    return math.ceil(x / divisor) * divisor


def grid_of(builder: Builder, layers: list[Any], input_shape: tuple[int, ...], f: Any, index: int,
            where: tuple[str, int]) -> tuple[int, int]:  # fmt: skip
    """The (H, W) of row ``f``'s output (relative to row ``index``), from an analysis of the rows so far: area
    attention and ``CBFuse`` need the grid's size (``where``: the YAML's path and the row's line, for errors)."""
    from convcalc.core.notation import format_shape
    from convcalc.graph.analysis import analyze
    from convcalc.specfile.loader import build

    path, line = where
    if not isinstance(f, int) or isinstance(f, bool):
        raise SpecError(f"row {index}: from {f!r}: expected one row", path, line, f"model.{index}")
    row = index + f if f < 0 else f
    partial = {"name": "partial", "input": format_shape(input_shape), "blocks": dict(builder.blocks), "layers": layers}
    report = analyze(build(partial, path, 1_000_000))
    prefix = f"model.{row}"
    shape = next(r.output_shape for r in reversed(report.rows) if r.name == prefix or r.name.startswith(prefix + "."))
    if len(shape) != 3:
        raise SpecError(f"row {index}: needs a grid (H, W, C) from row {row}, got {format_shape(shape)}", path, line)
    return shape[0], shape[1]
