"""Values that differ between block instances or repeat copies, as block arguments and ``${...}`` expressions.

Every expression written here is one :mod:`convcalc.specfile.expressions` evaluates: argument names, Python
literals (numbers, strings, lists, True/False/None), arithmetic, comparisons and ``a if c else b``.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass
from typing import Any


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # the member has no such item: any value fits
RESERVED = {"i", "input", "true", "false", "True", "False", "None"}  # names the expressions give another meaning


@dataclass(frozen=True)
class Expr:
    """A ``$arg`` or ``${expression}`` string, written as it is (quoted when YAML needs it)."""

    text: str


def normalised(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [normalised(item) for item in value]
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    return value


def value_key(value: Any) -> str:
    """Equal values have equal keys, and ``1``, ``1.0`` and ``True`` differ (as they do in a spec)."""
    return repr(normalised(value))


def same_value(a: Any, b: Any) -> bool:
    return value_key(a) == value_key(b)


def identifier(text: str) -> str:
    """A block argument name from free text: word characters, not a keyword or a name expressions reserve."""
    name = re.sub(r"\W+", "_", text).strip("_") or "arg"
    if name[0].isdigit():
        name = "_" + name
    return name + "_" if keyword.iskeyword(name) or name in RESERVED else name


def literal(value: Any) -> str | None:
    """``value`` as a Python literal the expressions read back to the same value; None when there is none."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        items = [literal(item) for item in value]
        return None if any(item is None for item in items) else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    return None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ArgNamer:
    """The arguments of one block: each a vector of values, one per member (None in ``known`` where no member
    item fixed it yet)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.args: dict[str, list[Any]] = {}
        self.known: dict[str, list[bool]] = {}

    def express(self, vector: list[Any], hint: str, fallback: str | None = None, boolean: bool = False) -> Any:
        """The constant when every present value is equal, else ``$arg`` for an existing argument with these values
        (or a new one), ``${arg * c}``/``${arg // c}`` for a multiple of one, ``${not flag}`` or
        ``${A if flag else B}`` for a value that follows a boolean argument."""
        present = [value for value in vector if value is not ABSENT]
        if all(same_value(value, present[0]) for value in present) and not boolean:
            return present[0]
        for name in self.args:
            if self.fits(vector, name, lambda value, arg: same_value(value, arg)):
                self.fill(vector, name)
                return Expr("$" + name)
        derived = self.derived(vector, present)
        if derived is not None:
            return derived
        name = self.new_name(hint, fallback)
        self.args[name] = [value if value is not ABSENT else present[0] for value in vector]
        self.known[name] = [value is not ABSENT for value in vector]
        return Expr("$" + name)

    def derived(self, vector: list[Any], present: list[Any]) -> Expr | None:
        flags = [name for name, values in self.args.items() if all(isinstance(value, bool) for value in values)]
        if all(isinstance(value, list) for value in present):
            return self.flagged_list(vector, flags)
        if all(isinstance(value, bool) for value in present):
            for name in flags:
                if self.fits(vector, name, lambda value, arg: value is (not arg)) and self.settle(
                        vector, name, lambda value: not value):
                    return Expr(f"${{not {name}}}")
        if all(is_int(value) for value in present):
            for name, values in self.args.items():
                if not all(is_int(value) and value > 0 for value in values):
                    continue
                for column in range(self.width):
                    if vector[column] is not ABSENT and self.known[name][column]:
                        factor, divisor = vector[column] // values[column], values[column] // max(vector[column], 1)
                        break
                else:
                    continue
                if (factor >= 2 and self.fits(vector, name, lambda value, arg, factor=factor: value == arg * factor)
                        and self.settle(vector, name, lambda value, factor=factor: value // factor if value % factor == 0
                                        and value > 0 else None)):
                    return Expr(f"${{{name} * {factor}}}")
                if (divisor >= 2 and self.fits(vector, name, lambda value, arg, divisor=divisor: value == arg // divisor)
                        and self.settle(vector, name, lambda value, divisor=divisor: value * divisor or None)):
                    return Expr(f"${{{name} // {divisor}}}")
        distinct = {value_key(value): value for value in present}
        if len(distinct) == 2:
            first, second = distinct.values()
            for name in flags:
                if self.fits(vector, name, lambda value, arg: same_value(value, first if arg else second)):
                    yes, no, when = literal(first), literal(second), first
                elif self.fits(vector, name, lambda value, arg: same_value(value, second if arg else first)):
                    yes, no, when = literal(second), literal(first), second
                else:
                    continue
                if yes is not None and no is not None and self.settle(
                        vector, name, lambda value, when=when: same_value(value, when)):
                    return Expr(f"${{{yes} if {name} else {no}}}")
        return None

    def flagged_list(self, vector: list[Any], flags: list[str]) -> Expr | None:
        """Lists that are prefixes of the longest, each further stretch present where a boolean argument is true:
        ``${['input', 'a'] + (['b', 'c'] if with_b else [])}`` (a dense block's concat of all its layers)."""
        longest = max((value for value in vector if value is not ABSENT), key=len)
        if any(value is not ABSENT and value != longest[: len(value)] for value in vector):
            return None
        stretches: list[tuple[list[Any], str | None]] = []
        for position, item in enumerate(longest):
            presence = [ABSENT if value is ABSENT else position < len(value) for value in vector]
            flag = None
            if not all(value is ABSENT or value for value in presence):
                flag = next((name for name in flags if self.fits(presence, name, lambda value, arg: value is arg)
                             and self.settle(presence, name, lambda value: value)), None)
                if flag is None:
                    return None
            if stretches and stretches[-1][1] == flag:
                stretches[-1][0].append(item)
            else:
                stretches.append(([item], flag))
        parts = [literal(items) if flag is None else f"({literal(items)} if {flag} else [])" for items, flag in stretches]
        if any(part is None for part in parts) or stretches[0][1] is not None:
            return None
        text = "${" + " + ".join(parts) + "}"  # type: ignore[arg-type]
        return Expr(text) if len(text) < 1000 else None

    def fits(self, vector: list[Any], name: str, relation: Any) -> bool:
        """Every value known in both ``vector`` and argument ``name`` is in ``relation`` to it."""
        values, known = self.args[name], self.known[name]
        return all(value is ABSENT or not known[column] or relation(value, values[column])
                   for column, value in enumerate(vector))  # fmt: skip

    def settle(self, vector: list[Any], name: str, inverse: Any) -> bool:
        """Where argument ``name`` is not known yet but ``vector`` is present, the value the argument must take for
        the derived expression to give ``vector``'s (``inverse``; None: none can): set it, or refuse the relation.
        Without this the argument would keep a placeholder there, and the expression a wrong value."""
        settled = {column: inverse(value) for column, value in enumerate(vector)
                   if value is not ABSENT and not self.known[name][column]}  # fmt: skip
        if any(value is None for value in settled.values()):
            return False
        for column, value in settled.items():
            self.args[name][column], self.known[name][column] = value, True
        return True

    def fill(self, vector: list[Any], name: str) -> None:
        for column, value in enumerate(vector):
            if value is not ABSENT and not self.known[name][column]:
                self.args[name][column], self.known[name][column] = value, True

    def new_name(self, hint: str, fallback: str | None) -> str:
        for name in (hint, fallback):
            if name and name not in self.args:
                return name
        base = fallback or hint
        number = 2
        while f"{base}_{number}" in self.args:
            number += 1
        return f"{base}_{number}"


def across_copies(values: list[Any]) -> Any:
    """The values of one argument over the copies of a repeat, as one value or an expression of the copy index
    ``i``: the constant, ``${i == 0}``/``${i > 0}`` or ``${A if i == 0 else B}`` when only the first copy
    differs, ``${a + d * i}`` for whole numbers in steps of d; None when none of these fits."""
    first, rest = values[0], values[1:]
    if all(same_value(value, first) for value in rest):
        return first
    if all(same_value(value, rest[0]) for value in rest):
        if first is True and rest[0] is False:
            return Expr("${i == 0}")
        if first is False and rest[0] is True:
            return Expr("${i > 0}")
        yes, no = literal(first), literal(rest[0])
        if yes is not None and no is not None:
            return Expr(f"${{{yes} if i == 0 else {no}}}")
        return None
    if all(is_int(value) for value in values):
        step = values[1] - values[0]
        if all(values[k] == first + step * k for k in range(len(values))):
            return Expr(f"${{{first} + {step} * i}}" if first else f"${{{step} * i}}")
    return None
