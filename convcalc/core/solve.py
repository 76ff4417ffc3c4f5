"""The inverse question for one layer: which (k, s, p, d) take an input size n to an output size t, one spatial
dimension at a time (``convcalc solve``).

Each op's search works the forward formula backwards (the stride interval, or the padding, that gives t) and
every candidate is then checked by the forward formula of :mod:`convcalc.core.windows` before it is returned:

- conv: ``t = floor((n + p_before + p_after - d(k-1) - 1)/s) + 1``; for a total padding T the floor equals t - 1
  for the strides s in [floor(X/t) + 1, floor(X/(t-1))], X = n + T - d(k-1) - 1;
- deconv: ``t = (n-1)s - 2p + d(k-1) + output_padding + 1`` with output_padding < max(s, d) (PyTorch's rule), so
  output_padding = t + 2p - d(k-1) - 1 - (n-1)s for the strides that leave it in range;
- pooling (PyTorch): the conv formula with symmetric padding p <= k//2, or with ``ceil_mode`` rounding up and the
  last window dropped when it starts at or past n + p; candidates where ceil(X/s) is t - 1 or t.

The search bounds (:class:`Bounds`) are part of the answer: k <= 11, d <= 3 (avgpool: 1), s <= max(4,
ceil(larger size / smaller size)); padding: conv a total T <= 2 d(k-1), split (T//2, T - T//2) (symmetric, or the
odd pixel at the end as TensorFlow pads); deconv a symmetric p <= d(k-1); pooling a symmetric p <= k//2. A value
the user fixes (``--k 13``) replaces its bound. Solutions are ranked: fewest input positions skipped, no dilation,
symmetric padding, small kernels, small strides, little padding, floor before ceil, no output_padding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from convcalc.core.notation import dim_names
from convcalc.core.receptive import Field, forward
from convcalc.core.windows import (
    Pad,
    Window,
    conv_length,
    deconv_field,
    deconv_length,
    pool_length,
    same_padding,
    uncovered_inputs,
)
from convcalc.errors import InputError, ShapeError

OPS = ("conv", "deconv", "maxpool", "avgpool")


@dataclass(frozen=True)
class Bounds:
    """How far the search looks; a fixed value replaces its bound. The stride bound is at least ``stride`` and at
    least the ratio ceil(larger/smaller) of the two sizes, so that 224 -> 7 (s 32) is found."""

    kernel: int = 11
    stride: int = 4
    dilation: int = 3

    def max_stride(self, n: int, target: int) -> int:
        """s <= max(stride, ceil(max(n, t) / min(n, t)))."""
        return max(self.stride, -(-max(n, target) // min(n, target)))


@dataclass(frozen=True)
class Fixed:
    """Values the user fixed for one dimension (None: searched). ``padding`` is a symmetric padding."""

    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None


@dataclass(frozen=True)
class Solution:
    """One (k, s, p, d) that gives ``output`` from the input size; ``uncovered`` input positions no window reads
    (for deconv: output positions no input reaches); ``rules`` names who pads this way (``--same`` only)."""

    op: str
    kernel: int
    stride: int
    pad: Pad
    dilation: int
    output: int
    receptive_field: int
    uncovered: int
    output_padding: int | None = None
    ceil: bool | None = None
    rules: tuple[str, ...] = ()

    @property
    def covers_all(self) -> bool:
        return self.uncovered == 0

    @property
    def symmetric(self) -> bool:
        return self.pad[0] == self.pad[1]

    def rank(self) -> tuple[int, ...]:
        """Sort key: skipped positions, dilation, asymmetric padding, kernel, stride, padding, ceil, output_padding."""
        return (self.uncovered, self.dilation, not self.symmetric, self.kernel, self.stride, sum(self.pad),
                bool(self.ceil), self.output_padding or 0)  # fmt: skip


@dataclass(frozen=True)
class DimensionAnswer:
    """The solutions for the dimensions that share one question (same sizes and fixed values), best first."""

    dims: tuple[str, ...]
    size: int
    target: int
    solutions: tuple[Solution, ...]
    notes: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- the forward check


def check(op: str, n: int, solution: Solution) -> int:
    """The output size the forward formula of core/windows.py gives for a solution (raises ShapeError if none)."""
    window = Window(solution.kernel, solution.stride, solution.dilation, solution.pad)
    if op == "conv":
        return conv_length(n, window)
    if op == "deconv":
        return deconv_length(n, window, solution.output_padding or 0)
    return pool_length(n, window, bool(solution.ceil))


def _build(op: str, n: int, target: int, k: int, s: int, d: int, pad: Pad, extra: int | None, ceil: bool | None) -> Solution | None:
    """A candidate, kept only if the forward formula gives ``target`` (and PyTorch accepts it)."""
    window = Window(k, s, d, pad)
    if op == "deconv":
        if extra is None or not 0 <= extra < max(s, d):
            return None
        field_size = deconv_field(k, s, d)
        try:
            out = deconv_length(n, window, extra)
        except ShapeError:
            return None
        uncovered = uncovered_inputs(out, window, n) if out == target else 0  # outputs that no input reaches
    else:
        if op != "conv" and max(pad) > k // 2:  # PyTorch's pooling: padding at most half the kernel
            return None
        try:
            out = conv_length(n, window) if op == "conv" else pool_length(n, window, bool(ceil))
        except ShapeError:
            return None
        local = forward(Field.identity(1), (window.span,), (Fraction(s),), (Fraction(0),))
        field_size = int(local.receptive_field[0])
        uncovered = uncovered_inputs(n, window, out) if out == target else 0
    if out != target:
        return None
    return Solution(op, k, s, pad, d, out, field_size, uncovered, extra, ceil)


# --------------------------------------------------------------------------- the searches, one per op


def _values(fixed: int | None, top: int) -> range:
    return range(fixed, fixed + 1) if fixed is not None else range(1, top + 1)


def _strides(low: int, high: int, fixed: int | None, top: int) -> range:
    """The strides of [low, high] within 1..top (top is the fixed stride when there is one), or only the fixed one."""
    return range(max(low, 1, fixed or 1), min(high, top) + 1)


def _conv(n: int, t: int, fixed: Fixed, bounds: Bounds, top: int) -> Iterator[Solution | None]:
    """For each k, d and total padding T: the strides with floor(X/s) = t - 1, X = n + T - d(k-1) - 1."""
    for k in _values(fixed.kernel, bounds.kernel):
        for d in _values(fixed.dilation, bounds.dilation):
            span = d * (k - 1) + 1
            totals = [2 * fixed.padding] if fixed.padding is not None else range(2 * (span - 1) + 1)
            for total in totals:
                x = n + total - span
                if x < 0:
                    continue
                for s in _strides(x // t + 1, x // (t - 1) if t > 1 else top, fixed.stride, top):
                    yield _build("conv", n, t, k, s, d, (total // 2, total - total // 2), None, None)


def _deconv(n: int, t: int, fixed: Fixed, bounds: Bounds, top: int) -> Iterator[Solution | None]:
    """For each k, d and p: output_padding = X - (n-1)s, X = t + 2p - d(k-1) - 1, must lie in [0, max(s, d))."""
    for k in _values(fixed.kernel, bounds.kernel):
        for d in _values(fixed.dilation, bounds.dilation):
            span = d * (k - 1) + 1
            paddings = [fixed.padding] if fixed.padding is not None else range(span)
            for p in paddings:
                x = t + 2 * p - span
                if x < 0:
                    continue
                if n == 1:
                    low, high = (1 if d > x else x + 1), top
                else:
                    low, high = -(-(x - d + 2) // n), x // (n - 1)  # op <= s + d - 2 and op >= 0
                for s in _strides(low, high, fixed.stride, top):
                    yield _build("deconv", n, t, k, s, d, (p, p), x - (n - 1) * s, None)


def _pool(op: str) -> Callable[[int, int, Fixed, Bounds, int], Iterator[Solution | None]]:
    def search(n: int, t: int, fixed: Fixed, bounds: Bounds, top: int) -> Iterator[Solution | None]:
        """For each k, d, p <= k//2 and rounding: the strides where floor(X/s) or ceil(X/s) is near t - 1."""
        dilations = _values(fixed.dilation, bounds.dilation if op == "maxpool" else 1)
        for k in _values(fixed.kernel, bounds.kernel):
            for d in dilations:
                span = d * (k - 1) + 1
                paddings = [fixed.padding] if fixed.padding is not None else range(k // 2 + 1)
                for p in paddings:
                    x = n + 2 * p - span
                    if x >= 0:  # floor: as conv
                        for s in _strides(x // t + 1, x // (t - 1) if t > 1 else top, fixed.stride, top):
                            yield _build(op, n, t, k, s, d, (p, p), None, False)
                    low = -(-x // t) if x > 0 else 1  # ceil: ceil(X/s) in {t-1, t} (the last window may drop)
                    high = (x - 1) // (t - 2) if t > 2 else top
                    for s in _strides(low, high, fixed.stride, top):
                        yield _build(op, n, t, k, s, d, (p, p), None, True)

    return search


SEARCHES: dict[str, Callable[[int, int, Fixed, Bounds, int], Iterator[Solution | None]]] = {
    "conv": _conv,
    "deconv": _deconv,
    "maxpool": _pool("maxpool"),
    "avgpool": _pool("avgpool"),
}


def solve_dimension(op: str, n: int, target: int, fixed: Fixed = Fixed(), bounds: Bounds = Bounds()) -> list[Solution]:
    """Every (k, s, p, d) within the bounds that takes n to ``target`` with ``op``, best first; each one checked
    by the forward formula (a mismatch is a bug in the search and raises)."""
    top = fixed.stride if fixed.stride is not None else bounds.max_stride(n, target)
    found = {solution for solution in SEARCHES[op](n, target, fixed, bounds, top) if solution is not None}
    for solution in found:
        if check(op, n, solution) != target:  # the forward formula is the judge
            raise RuntimeError(f"convcalc solve: {solution} does not give {target} from {n}")
    return sorted(found, key=Solution.rank)


def nearest_outputs(op: str, n: int, target: int, fixed: Fixed = Fixed(), bounds: Bounds = Bounds()) -> list[int]:
    """The reachable sizes closest to ``target`` below and above it (for the error when none reaches it): the
    forward formula over the bounds, at the strides 1..64, the bound and those near the ratio of the sizes."""
    top = bounds.max_stride(n, target)
    ratios = {n // target, -(-n // target), target // n, -(-target // n)}
    strides = {s for s in (*range(1, 65), top, *(r + i for r in ratios for i in range(-2, 3))) if 1 <= s <= top}
    if fixed.stride is not None:
        strides = {fixed.stride}
    reached: set[int] = set()
    for s in strides:
        for k in _values(fixed.kernel, bounds.kernel):
            for d in _values(fixed.dilation, bounds.dilation if op in ("conv", "deconv", "maxpool") else 1):
                reached |= _outputs(op, n, k, s, d, fixed.padding)
    below = [size for size in reached if size < target]
    above = [size for size in reached if size > target]
    return ([max(below)] if below else []) + ([min(above)] if above else [])


def _outputs(op: str, n: int, k: int, s: int, d: int, padding: int | None) -> set[int]:
    """The sizes one (k, s, d) reaches over the paddings of the bounds (deconv: the ends of its output_padding range)."""
    span = d * (k - 1) + 1
    if op == "deconv":
        bases = [(n - 1) * s - 2 * p + span for p in ([padding] if padding is not None else range(span))]
        return {size for base in bases for size in (base, base + max(s, d) - 1) if size >= 1}
    if padding is not None:
        totals: Sequence[int] = [2 * padding]
    else:
        totals = range(2 * (span - 1) + 1) if op == "conv" else range(0, 2 * (k // 2) + 1, 2)
    sizes = set()
    for total in totals:
        window = Window(k, s, d, (total // 2, total - total // 2))
        for ceil in (False, True) if op != "conv" else (False,):
            try:
                sizes.add(conv_length(n, window) if op == "conv" else pool_length(n, window, ceil))
            except ShapeError:
                pass
    return sizes


# --------------------------------------------------------------------------- the whole question, every dimension


def solve(op: str, sizes: Sequence[int], targets: Sequence[int], fixed: Sequence[Fixed], bounds: Bounds = Bounds()) -> list[DimensionAnswer]:
    """The solutions per dimension; dimensions that ask the same question share one answer. Raises InputError or
    ShapeError naming the flag (``in``, ``out``, ``k``, ``d``) when the question is malformed or has no answer."""
    if op not in SEARCHES:
        raise InputError(f"unknown op {op!r}; choose {', '.join(OPS)}", "op")
    names = dim_names(len(sizes))
    questions: dict[tuple[int, int, Fixed], list[str]] = {}
    for name, n, t, values in zip(names, sizes, targets, fixed):
        if op == "avgpool" and values.dilation not in (None, 1):
            raise InputError(f"avgpool has no dilation (PyTorch's AvgPool takes none), got {values.dilation}", "d")
        questions.setdefault((n, t, values), []).append(name)
    answers = []
    for (n, t, values), dims in questions.items():
        solutions = solve_dimension(op, n, t, values, bounds)
        if not solutions:
            raise ShapeError(_no_solution(op, n, t, values, bounds, dims, len(names)), "out")
        answers.append(DimensionAnswer(tuple(dims), n, t, tuple(solutions)))
    return answers


def _no_solution(op: str, n: int, t: int, fixed: Fixed, bounds: Bounds, dims: list[str], rank: int) -> str:
    where = f"{', '.join(dims)}: " if rank > 1 else ""
    nearest = nearest_outputs(op, n, t, fixed, bounds)
    hint = ""
    if nearest:
        hint = f"; the nearest size{'s it reaches are' if len(nearest) > 1 else ' it reaches is'} {' and '.join(map(str, nearest))}"
    if op != "deconv" and t > n:
        hint += "; to upsample use --op deconv"
    elif op == "deconv" and t < n:
        hint += "; to downsample use --op conv"
    return f"{where}no {op} within the search bounds ({bounds_text(op, fixed, bounds, n, t)}) takes {n} to {t}{hint}"


def bounds_text(op: str, fixed: Fixed, bounds: Bounds, n: int, t: int) -> str:
    """The bounds in words, fixed values as given: 'k <= 11, s <= 4, d <= 3, p < d(k-1)+1'."""
    pads = {"conv": "padding per side <= d(k-1)", "deconv": "p <= d(k-1)"}.get(op, "p <= k//2")
    dilation = bounds.dilation if op != "avgpool" else 1
    parts = [
        f"k = {fixed.kernel}" if fixed.kernel is not None else f"k <= {bounds.kernel}",
        f"s = {fixed.stride}" if fixed.stride is not None else f"s <= {bounds.max_stride(n, t)}",
        f"p = {fixed.padding}" if fixed.padding is not None else pads,
        f"d = {fixed.dilation}" if fixed.dilation is not None else f"d <= {dilation}",
    ]
    return ", ".join(parts)


# --------------------------------------------------------------------------- --same: the padding that keeps the size


def same_solutions(n: int, kernel: int, stride: int = 1, dilation: int = 1) -> DimensionAnswer:
    """The paddings that give ceil(n/s) outputs (n at stride 1) for a conv of kernel k and dilation d:

    - PyTorch ``padding='same'`` (stride 1 only): total d(k-1), (total//2, total - total//2);
    - TensorFlow ``SAME``: total max((ceil(n/s)-1)s + d(k-1) + 1 - n, 0), the odd pixel at the end;
    - PyTorch's symmetric ``padding=p`` (an int): every p <= d(k-1) that gives the same size (none at stride 1
      when d(k-1) is odd)."""
    target = -(-n // stride)
    rules: dict[Pad, list[str]] = {}
    for p in range(dilation * (kernel - 1) + 1):
        window = Window(kernel, stride, dilation, (p, p))
        if window.padded(n) >= window.span and conv_length(n, window) == target:
            rules.setdefault((p, p), []).append(f"PyTorch padding={p}")
    if stride == 1:
        total = dilation * (kernel - 1)
        rules.setdefault((total // 2, total - total // 2), []).append("PyTorch padding='same'")
    rules.setdefault(same_padding(n, kernel, stride, dilation), []).append("TensorFlow SAME")
    solutions = []
    for pad, names in rules.items():
        found = _build("conv", n, target, kernel, stride, dilation, pad, None, None)
        if found is None:  # the forward formula disagrees: a bug
            raise RuntimeError(f"convcalc solve --same: padding {pad} does not give {target} from {n}")
        solutions.append(replace(found, rules=tuple(names)))
    notes = []
    if stride > 1:
        notes.append("PyTorch refuses padding='same' at stride > 1; TensorFlow's SAME gives ceil(n/s)")
    if stride == 1 and dilation * (kernel - 1) % 2:
        notes.append(f"no symmetric padding keeps the size: the total d(k-1) = {dilation * (kernel - 1)} is odd")
    return DimensionAnswer((), n, target, tuple(sorted(solutions, key=Solution.rank)), tuple(notes))


def same(sizes: Sequence[int], kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int]) -> list[DimensionAnswer]:
    """``--same`` for every dimension; dimensions with the same question share one answer."""
    names = dim_names(len(sizes))
    questions: dict[tuple[int, int, int, int], list[str]] = {}
    for name, *question in zip(names, sizes, kernels, strides, dilations):
        questions.setdefault(tuple(question), []).append(name)  # type: ignore[arg-type]
    answers = []
    for (n, k, s, d), dims in questions.items():
        answer = same_solutions(n, k, s, d)
        answers.append(DimensionAnswer(tuple(dims), answer.size, answer.target, answer.solutions, answer.notes))
    return answers
