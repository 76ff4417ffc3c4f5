"""``convcalc solve`` as a plain-text table (one block per dimension question, 80 columns for the usual sizes) or
as JSON: a list of ``{dimensions, input, k, s, p, d, output_padding, ceil, output, receptive_field, covers_all,
uncovered}`` (``rule`` too for ``--same``), best first. Padding is written ``1`` when symmetric, ``0,1``
(before, after) when not; in JSON always ``[before, after]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc.core.solve import DimensionAnswer, Solution
from convcalc.report.json_output import to_json

# The columns of each op: (title, right-aligned); the cells come from CELLS.
COLUMNS = {
    "conv": ("k", "s", "p", "d", "output", "field", "covers all"),
    "deconv": ("k", "s", "p", "d", "out_pad", "output", "field", "covers all"),
    "maxpool": ("k", "s", "p", "d", "ceil", "output", "field", "covers all"),
    "avgpool": ("k", "s", "p", "ceil", "output", "field", "covers all"),
    "same": ("k", "s", "d", "p", "output", "field", "covers all", "rule"),
}
LEFT = {"p", "covers all", "rule"}


def pad_text(solution: Solution) -> str:
    before, after = solution.pad
    return str(before) if before == after else f"{before},{after}"


def covers_text(solution: Solution) -> str:
    """yes; or how many input positions no window reads (deconv: output positions no input reaches)."""
    if solution.covers_all:
        return "yes"
    what = "unreached" if solution.op == "deconv" else "skipped"
    return f"no: {solution.uncovered:,} {what}"


CELLS = {
    "k": lambda s: str(s.kernel),
    "s": lambda s: str(s.stride),
    "p": pad_text,
    "d": lambda s: str(s.dilation),
    "out_pad": lambda s: str(s.output_padding),
    "ceil": lambda s: "yes" if s.ceil else "no",
    "output": lambda s: f"{s.output:,}",
    "field": lambda s: f"{s.receptive_field:,}",
    "covers all": covers_text,
    "rule": lambda s: rules_text(s.rules),
}


def rules_text(rules: Sequence[str]) -> str:
    """``PyTorch padding=3``, ``PyTorch padding='same'``, ``TensorFlow SAME`` -> ``PyTorch padding=3 or 'same'; TF SAME``."""
    torch = [rule.removeprefix("PyTorch padding=") for rule in rules if rule.startswith("PyTorch padding=")]
    parts = [f"PyTorch padding={' or '.join(torch)}"] if torch else []
    return "; ".join(parts + ["TF SAME" if rule == "TensorFlow SAME" else rule for rule in rules if rule not in
                              [f"PyTorch padding={value}" for value in torch]])


def columns(lines_of: Sequence[str], rows: list[list[str]]) -> list[str]:
    """Plain columns two spaces apart, numbers right-aligned."""
    widths = [max(len(title), *(len(row[i]) for row in rows)) for i, title in enumerate(lines_of)]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.ljust(w) if title in LEFT else cell.rjust(w) for title, cell, w in zip(lines_of, cells, widths)]
        return ("  " + "  ".join(parts)).rstrip()

    return [line(lines_of), *(line(row) for row in rows)]


def heading(op: str, answer: DimensionAnswer, shown: int, same: bool) -> str:
    where = f"{', '.join(answer.dims)}: " if len(answer.dims) and answer.dims[0] != "L" else ""
    count = len(answer.solutions)
    if same:
        stride = answer.solutions[0].stride
        size = "the size" if stride == 1 else f"the size ceil({answer.size}/{stride})"
        return f"{where}{answer.size} -> {answer.target}: {count} padding{'s keep' if count != 1 else ' keeps'} {size}"
    head = f"{where}{op} {answer.size} -> {answer.target}: {count:,} choice{'s' * (count != 1)}"
    return head + (f", the best {shown} shown (--limit 0 shows all)" if shown < count else "")


def solve_table(op: str, answers: Sequence[DimensionAnswer], limit: int, same: bool = False) -> str:
    """One block per answer: a heading, the columns, the notes."""
    titles = COLUMNS["same" if same else op]
    blocks = []
    for answer in answers:
        shown = answer.solutions[:limit] if limit else answer.solutions
        rows = [[CELLS[title](solution) for title in titles] for solution in shown]
        lines = [heading(op, answer, len(shown), same), *columns(titles, rows), *answer.notes]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def solution_dict(answer: DimensionAnswer, solution: Solution, same: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "dimensions": list(answer.dims),
        "input": answer.size,
        "k": solution.kernel,
        "s": solution.stride,
        "p": list(solution.pad),
        "d": solution.dilation,
        "output_padding": solution.output_padding,
        "ceil": solution.ceil,
        "output": solution.output,
        "receptive_field": solution.receptive_field,
        "covers_all": solution.covers_all,
        "uncovered": solution.uncovered,
    }
    if same:
        data["rule"] = list(solution.rules)
    return data


def solve_json(answers: Sequence[DimensionAnswer], limit: int, same: bool = False) -> str:
    """Every shown solution of every answer, in order, as one JSON list."""
    return to_json([
        solution_dict(answer, solution, same)
        for answer in answers
        for solution in (answer.solutions[:limit] if limit else answer.solutions)
    ])  # fmt: skip
