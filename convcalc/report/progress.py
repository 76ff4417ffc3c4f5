"""Progress for work that may take seconds (large specs, PyTorch's import and tracing): a transient rich spinner or
bar on stderr when stderr is a terminal, and nothing at all otherwise (pipes, files and CI logs stay clean)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def enabled() -> bool:
    """Progress is shown only to a person: stderr is a terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def working(description: str, show: bool = True, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """Show ``description`` with a spinner (or a bar of ``total`` steps) while the body runs; yields a function
    that reports how many steps are done. Nothing is imported or drawn when not shown."""
    if not (show and enabled()):
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)
