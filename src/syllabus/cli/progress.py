"""A rich progress bar for long commands: on a terminal only, and never under --quiet or --json."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def wanted(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty() and sys.stdout.isatty()


@contextmanager
def progress_bar(description: str, *, quiet: bool = False) -> Iterator[Callable[[int, int | None, str | None], None]]:
    """Yields ``update(done, total=None, what=None)``; a no-op when no bar is wanted."""
    if not wanted(quiet):
        yield lambda done, total=None, what=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task(description, total=None)

    def update(done: int, total: int | None = None, what: str | None = None) -> None:
        bar.update(task, completed=done, total=total,
                   description=f"{description} {what}" if what else description)

    with bar:
        yield update
