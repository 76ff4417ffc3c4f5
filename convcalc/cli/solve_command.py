"""``convcalc solve``: the inverse question for one layer (convcalc.core.solve), rendered by report/solve_output."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from convcalc.cli.common import run_core
from convcalc.report.formats import SolveFormat, SolveOp

EPILOG = (
    "Examples: convcalc solve --in 224 --out 112; convcalc solve --in 640x640 --out 320x160 --k 3; "
    "convcalc solve --in 112 --out 224 --op deconv; convcalc solve --in 224 --same --k 3 --s 2\n\n"
    "Search bounds: k <= 11, d <= 3 (avgpool 1), s <= max(4, ceil(larger size / smaller size)); padding: conv a "
    "total T <= 2d(k-1) split (T//2, T - T//2), deconv a symmetric p <= d(k-1), pooling p <= k//2. A value given "
    "with --k, --s, --p or --d replaces its bound. Ranked: fewest input pixels skipped, no dilation, symmetric "
    "padding, small kernels, small strides, little padding."
)


def solve(
    in_: Annotated[str, typer.Option("--in", "--input", help="Input size per spatial dimension, no channels: 224 or 640x640.")],
    out: Annotated[Optional[str], typer.Option("--out", help="Wanted output size: 112, or one per dimension: 320x160.")] = None,
    op: Annotated[SolveOp, typer.Option("--op", help="conv, deconv (transposed, with output_padding), maxpool or avgpool (with ceil_mode).")] = SolveOp.CONV,
    k: Annotated[Optional[str], typer.Option("--k", help="Fix the kernel size: 3, or one per dimension: 3x5.")] = None,
    s: Annotated[Optional[str], typer.Option("--s", help="Fix the stride.")] = None,
    p: Annotated[Optional[str], typer.Option("--p", help="Fix a symmetric padding.")] = None,
    d: Annotated[Optional[str], typer.Option("--d", help="Fix the dilation.")] = None,
    same: Annotated[bool, typer.Option("--same", help="The padding that keeps the size (ceil(n/s) with --s) for --k and --d: PyTorch's padding='same', TensorFlow's SAME, symmetric ints.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Show the best N choices per dimension; 0 shows all.")] = 20,
    format: Annotated[SolveFormat, typer.Option("--format", help="table or json.")] = SolveFormat.TABLE,
) -> None:
    """Which kernel, stride, padding and dilation take one size to another (the inverse of `convcalc layer`)."""
    from convcalc.core import solve as solver
    from convcalc.report.solve_output import solve_json, solve_table

    sizes = run_core(lambda: sizes_of(in_, "in", None))
    values = {name: run_core(lambda: sizes_of(text, name, len(sizes), 0 if name == "p" else 1))  # noqa: B023
              for name, text in (("k", k), ("s", s), ("p", p), ("d", d)) if text is not None}  # fmt: skip
    if same:
        run_core(lambda: check_same(op, out, values))
        ones = (1,) * len(sizes)
        answers = solver.same(sizes, values["k"], values.get("s", ones), values.get("d", ones))
    else:
        if out is None:
            run_core(lambda: refuse("is required (or --same for the padding that keeps the size)", "out"))
        targets = run_core(lambda: sizes_of(out, "out", len(sizes)))
        fixed = [solver.Fixed(*(values[name][i] if name in values else None for name in "kspd")) for i in range(len(sizes))]
        answers = run_core(lambda: solver.solve(op.value, sizes, targets, fixed))
    if format == "json":
        print(solve_json(answers, limit, same))
    else:
        print(solve_table(op.value, answers, limit, same))


def sizes_of(text: str, param: str, rank: int | None, minimum: int = 1) -> tuple[int, ...]:
    """``640x640`` -> (640, 640); one value for every dimension of --in, or one per dimension."""
    from convcalc.core.notation import parse_ints
    from convcalc.errors import InputError

    values = parse_ints(text, param, "size such as 224 or 640x640" if param in ("in", "out") else "value such as 3 or 3x5")
    if any(value < minimum for value in values):
        raise InputError(f"must be >= {minimum}, got {text!r}", param)
    if rank is None or len(values) == rank:
        return values
    if len(values) == 1:
        return values * rank
    raise InputError(f"has {len(values)} values but --in has {rank}", param)


def refuse(message: str, param: str) -> None:
    from convcalc.errors import InputError

    raise InputError(message, param)


def check_same(op: SolveOp, out: str | None, values: dict[str, tuple[int, ...]]) -> None:
    """--same works the padding out for a conv of a given kernel: it takes --k (--s, --d), not --out or --p."""
    if op != SolveOp.CONV:
        refuse(f"works for --op conv only, got {op.value}", "same")
    if out is not None:
        refuse("--same keeps the size (ceil(n/s) with --s): leave --out out", "out")
    if "p" in values:
        refuse("--same works the padding out: leave --p out", "p")
    if "k" not in values:
        refuse("--same needs the kernel size", "k")
