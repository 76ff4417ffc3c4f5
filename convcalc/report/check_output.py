"""The output of ``convcalc check``: text lines (``--format table``), GitHub Actions annotations, JSON, and the
lines of ``--update``. Results in, text out; the numbers in failure messages are written by the checks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convcalc.check.editor import UpdateResult
    from convcalc.check.expectations import CheckResult, Failure, FileResult
    from convcalc.errors import SpecError


def plural(count: int, noun: str) -> str:
    """``"1 spec"``, ``"2 specs"``."""
    return f"{count} {noun}{'s' * (count != 1)}"


def skipped_text(count: int) -> str:
    return f"{plural(count, 'other file')} skipped: not {'a spec' if count == 1 else 'specs'}"


def no_specs_message(searched: Sequence[str], skipped: int = 0) -> str:
    """The one line of a run that found nothing to check."""
    where = f" in {', '.join(searched)}" if searched else ""
    others = f"; {skipped_text(skipped)}" if skipped else ""
    return f"no specs found{where}{others} (--allow-empty to accept that)"


def run_error(result: CheckResult) -> str | None:
    """The "no specs found" message of a run that checked nothing and may not; else None."""
    if result.empty and not result.allow_empty:
        return no_specs_message(result.searched, len(result.files))
    return None


def summary(result: CheckResult) -> str:
    """``"2 specs, 7 expectations, 1 failed, 1 invalid (1 other file skipped: not a spec)"``."""
    error = run_error(result)
    if error is not None:
        return error
    specs = [file for file in result.specs if file.error is None]  # the invalid are counted apart
    checked = sum(file.checked for file in specs)
    text = f"{plural(len(specs), 'spec')}, {plural(checked, 'expectation')}"
    if result.failures:
        text += f", {len(result.failures)} failed"
    elif checked:
        text += ", all hold"
    if result.errors:
        text += f", {len(result.errors)} invalid"
    skipped = len(result.files) - len(result.specs)
    if skipped:
        text += f" ({skipped_text(skipped)})"
    return text


def error_message(error: SpecError) -> str:
    """The SpecError without its file and line (they go into the location)."""
    return f"layer '{error.layer}': {error.message}" if error.layer else error.message


def error_location(result: FileResult) -> str:
    error = result.error
    assert error is not None
    return f"{result.file}:{error.line}" if error.line else result.file


def failure_location(failure: Failure) -> str:
    return f"{failure.file}:{failure.line}" if failure.line else failure.file


# --------------------------------------------------------------------------- the formats


def text_lines(result: CheckResult) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines): one line per failed expectation then the summary; spec errors on stderr, and
    "no specs found" alone when nothing was checked."""
    error = run_error(result)
    if error is not None:
        return [], [error]
    out = [f"{failure_location(failure)}: {failure.message}" for failure in result.failures]
    err = [f"{error_location(r)}: {error_message(r.error)}" for r in result.errors]  # type: ignore[arg-type]
    out.append(summary(result))
    return out, err


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(kind: str, title: str, message: str, file: str | None = None, line: int | None = None) -> str:
    """One GitHub Actions workflow command: ``::error file=F,line=N,title=T::message``."""
    where = ""
    if file is not None:
        where = f"file={_escape_property(file)}" + (f",line={line}" if line else "") + ","
    return f"::{kind} {where}title={title}::{_escape_data(message)}"


def github_lines(result: CheckResult) -> list[str]:
    """GitHub Actions workflow commands: ``::error file=F,line=N::message``, then the summary as a notice."""
    lines = []
    for file_result in result.files:
        error = file_result.error
        if error is not None:
            lines.append(_annotation("error", "convcalc: invalid spec", error_message(error), file_result.file, error.line))
        for failure in file_result.failures:
            lines.append(_annotation("error", "convcalc check", failure.message, failure.file, failure.line))
    lines.append(_annotation("error" if result.exit_code else "notice", "convcalc check", summary(result)))
    return lines


def failure_dict(failure: Failure) -> dict[str, Any]:
    return {"line": failure.line, "key": failure.key, "layer": failure.layer, "message": failure.message,
            "actual": failure.actual, "expected": failure.expected}  # fmt: skip


def file_dict(result: FileResult) -> dict[str, Any]:
    error = result.error
    return {
        "file": result.file,
        "status": result.status,
        "checked": result.checked,
        "failures": [failure_dict(failure) for failure in result.failures],
        "error": None if error is None else {"line": error.line, "message": error_message(error)},
    }


def check_dict(result: CheckResult) -> dict[str, Any]:
    """The JSON document of a run: every file, the counts, the run's error and the exit code."""
    return {
        "files": [file_dict(file) for file in result.files],
        "specs": len(result.specs),
        "checked": sum(file.checked for file in result.files),
        "failed": len(result.failures),
        "invalid": len(result.errors),
        "error": run_error(result),
        "exit_code": result.exit_code,
    }


def json_text(result: CheckResult) -> str:
    return json.dumps(check_dict(result), indent=2)


def update_lines(results: Iterable[UpdateResult]) -> list[str]:
    """--update: one line per file (updated, unchanged or skipped), then the layers that got no expectation."""
    lines = []
    for result in results:
        if not result.spec:
            lines.append(f"{result.file}: skipped, not a spec")
            continue
        state = "updated" if result.changed else "unchanged"
        lines.append(f"{result.file}: {state}, {plural(result.written, 'expectation')}")
        lines.extend(f"  skipped {reason}" for reason in result.skipped)
    return lines
