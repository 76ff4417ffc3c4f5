"""`net --verify` in `net`'s four formats: one line when PyTorch agrees, else the table of differences."""

from __future__ import annotations

from typing import Any

from convcalc.report.csv_output import csv_text
from convcalc.report.json_output import to_json
from convcalc.report.markdown import grid_markdown
from convcalc.report.numbers import grouped
from convcalc.report.terminal import layout

COLUMNS = ("layer", "what", "convcalc", "PyTorch")


def verify_agreement(report: Any, checked: int) -> str:
    """The one line `net --verify` prints when PyTorch agrees."""
    return f"{report.name}: PyTorch agrees on the output shape and params of all {checked} layers ({grouped(report.params)} params)."


def difference_cells(differences: list[Any]) -> list[list[str]]:
    return [[d.layer, d.what, d.convcalc, d.torch] for d in differences]


def differences_count(differences: list[Any]) -> str:
    return f"{len(differences)} difference(s) between convcalc and PyTorch"


def differences_text(differences: list[Any]) -> str:
    """The table of differences between convcalc and PyTorch."""
    return "\n".join(layout(COLUMNS, difference_cells(differences), set()) + [differences_count(differences)])


def verify_text(report: Any, differences: list[Any], checked: int) -> str:
    """The agreement line, or the table of differences."""
    return differences_text(differences) if differences else verify_agreement(report, checked)


def verify_json(report: Any, differences: list[Any], checked: int) -> str:
    """Whether PyTorch agrees, how many layers it checked, and every difference."""
    data = {
        "name": report.name,
        "agrees": not differences,
        "layers_checked": checked,
        "params": report.params,
        "differences": [{"layer": d.layer, "what": d.what, "convcalc": d.convcalc, "torch": d.torch} for d in differences],
    }
    return to_json(data)


def verify_markdown(report: Any, differences: list[Any], checked: int) -> str:
    if not differences:
        return verify_agreement(report, checked)
    lines = grid_markdown(COLUMNS, difference_cells(differences), set())
    return "\n".join([*lines, "", differences_count(differences)])


def verify_csv(report: Any, differences: list[Any], checked: int) -> str:
    """One row per difference (none: PyTorch agrees; the exit code says so too)."""
    return csv_text(["layer", "what", "convcalc", "torch"], difference_cells(differences))


VERIFY_FORMATS = {"table": verify_text, "json": verify_json, "markdown": verify_markdown, "csv": verify_csv}


def verify_output(format: str, report: Any, differences: list[Any], checked: int) -> str:
    """`net --verify` in any of `net`'s formats."""
    return VERIFY_FORMATS[format](report, differences, checked)
