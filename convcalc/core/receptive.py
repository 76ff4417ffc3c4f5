"""Receptive fields through a network, per spatial dimension, in input pixels (exact fractions).

A layer is described locally by (k, s, t): an output unit i sees k consecutive units of the layer's input,
starting at t + i*s. Through a chain, with the layer's input field (r, j, u) — receptive_field, jump, start —:

- forward (one pass, input to output): r' = r + (k - 1) j,  j' = j s,  u' = u + t j;
- backward (the seeds' recursion, from a layer back to the input): r_{l-1} = s_l r_l + (k_l - s_l),
  with the start u_{l-1} = s_l u_l + t_l, both in units of layer l-1's output.

At ``add``/``concat`` the field is the union (hull) of the inputs' fields; a merge of inputs with different jumps
is reported as misaligned. After flatten, global pooling or linear on flat input the field is the whole input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Field:
    """Receptive field of one output unit (unit 0), per dimension: its receptive_field (size), jump and start in
    input coordinates. ``whole`` marks layers whose units see the whole input (after flatten/global pooling)."""

    receptive_field: tuple[Fraction, ...]
    jump: tuple[Fraction, ...]
    start: tuple[Fraction, ...]
    whole: bool = False
    unknown: str = ""  # why the field cannot be tracked exactly past some layer (never a wrong number)
    # how the tensor's axes hold the input's grid axes, when not as "grid axes in order, then the channels" (None):
    # per tensor axis, its (grid axis, size) factors, row-major; grid axis -1 for values that are no grid position
    # (channels, new axes). Set by layout ops (flatten of the grid into tokens, permute, ...): convcalc/graph/layout.py
    axes: tuple[tuple[tuple[int, int], ...], ...] | None = None

    @staticmethod
    def identity(rank: int) -> Field:
        one, zero = (Fraction(1),) * rank, (Fraction(0),) * rank
        return Field(one, one, zero)

    @staticmethod
    def empty(rank: int) -> Field:
        """The field of a tensor that depends on no input position (a learnable ``param``, and what is computed from
        params alone): size 0, jump 0, so that forward keeps it empty; merges ignore it."""
        zero = (Fraction(0),) * rank
        return Field(zero, zero, zero)

    @property
    def is_empty(self) -> bool:
        """Whether this is :meth:`empty` (a real field is at least one input position wide)."""
        return bool(self.receptive_field) and not self.whole and not self.unknown and not any(self.receptive_field)

    @property
    def end(self) -> tuple[Fraction, ...]:
        return tuple(u + r for u, r in zip(self.start, self.receptive_field))


def forward(field: Field, receptive_field: Sequence[int], jump: Sequence[Fraction], start: Sequence[Fraction]) -> Field:
    """Through one layer whose local field is (k, s, t) = (receptive_field, jump, start) in units of its input:
    r' = r + (k-1) j;  j' = j s;  u' = u + t j. A whole or unknown field stays as it is.

    Two exact shortcuts, the same values as the Fraction arithmetic: a pointwise window (k = 1, s = 1, t = 0) gives
    the field back; whole numbers throughout (the usual conv and pooling) are computed as ints."""
    if field.whole or field.unknown:
        return field
    rank = len(field.receptive_field)
    if field.axes is None and len(receptive_field) == len(jump) == len(start) == rank:
        if all(k == 1 for k in receptive_field) and all(s == 1 for s in jump) and not any(start):
            return field
        values = (*field.receptive_field, *field.jump, *field.start, *receptive_field, *jump, *start)
        if all(type(v) is int or (type(v) is Fraction and v.denominator == 1) for v in values):
            r, j, u, k, s, t = (tuple(int(v) for v in values[n * rank : (n + 1) * rank]) for n in range(6))
            return Field(
                tuple(Fraction(r[d] + (k[d] - 1) * j[d]) for d in range(rank)),
                tuple(Fraction(j[d] * s[d]) for d in range(rank)),
                tuple(Fraction(u[d] + t[d] * j[d]) for d in range(rank)),
            )
    return Field(
        tuple(r + (k - 1) * j for r, k, j in zip(field.receptive_field, receptive_field, field.jump)),
        tuple(j * s for j, s in zip(field.jump, jump)),
        tuple(u + t * j for u, t, j in zip(field.start, start, field.jump)),
    )


def merge(fields: Sequence[Field], broadcast: Sequence[bool] = ()) -> tuple[Field, bool]:
    """The hull of the inputs' fields; returns (field, aligned) where aligned means equal jumps. A ``broadcast``
    input (one position repeated over the grid, as a squeeze-and-excitation gate) joins the hull but has no jump.
    An empty field (a param: it depends on no input position) is left out, as it adds nothing to the union."""
    kept = [(f, spread) for f, spread in zip(fields, [*broadcast, *[False] * len(fields)]) if not f.is_empty]
    if not kept:
        return fields[0], True
    fields, broadcast = [f for f, _ in kept], [spread for _, spread in kept]
    if any(f.whole for f in fields):
        whole = next(f for f in fields if f.whole)
        return whole, True
    if any(f.unknown for f in fields):  # part of the union is not known: neither is the union
        return next(f for f in fields if f.unknown), True
    start = tuple(min(values) for values in zip(*(f.start for f in fields)))
    end = tuple(max(values) for values in zip(*(f.end for f in fields)))
    gridded = [f for f, spread in zip(fields, [*broadcast, *[False] * len(fields)]) if not spread] or list(fields)
    jumps = [f.jump for f in gridded]
    aligned = all(j == jumps[0] for j in jumps)
    jump = tuple(max(values) for values in zip(*jumps))
    return Field(tuple(e - s for s, e in zip(start, end)), jump, start), aligned


def backward_step(
    receptive_field: Fraction, start: Fraction, kernel: int, jump: Fraction, offset: Fraction
) -> tuple[Fraction, Fraction]:
    """One step of the seeds' recursion through a layer of local field (k, s, t) = (kernel, jump, offset):
    r_{l-1} = s r_l + (k - s); u_{l-1} = s u_l + t."""
    return jump * receptive_field + (kernel - jump), jump * start + offset
