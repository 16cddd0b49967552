"""Shared CLI plumbing: global options, output helpers and the error boundary."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from syllabus.errors import SyllabusError


@dataclass
class State:
    workspace: str | None = None
    quiet: bool = False


STATE = State()


class SyllabusGroup(TyperGroup):
    """Turns :class:`SyllabusError` into a coded message on stderr and exit code 2."""

    def invoke(self, ctx):  # noqa: D401 - click API
        try:
            return super().invoke(ctx)
        except SyllabusError as exc:
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            busy = _busy_store(exc)
            if busy is None:
                raise
            print_error(busy)
            raise typer.Exit(busy.exit_code) from None


def _busy_store(exc: Exception) -> SyllabusError | None:
    """E014 for a query that waited too long for another command's lock on the store, else None."""
    if "sqlalchemy" not in sys.modules:  # not loaded: no store was opened (the CLI starts without it)
        return None
    from sqlalchemy.exc import DBAPIError

    from syllabus.store.engine import store_busy

    if isinstance(exc, DBAPIError) and store_busy(exc):
        return SyllabusError("E014", url="the workspace's store", detail=str(exc.orig).strip())
    return None


def print_error(exc: SyllabusError) -> None:
    typer.echo(f"error {exc.code}: {exc.message}\n  fix: {exc.fix}", err=True)


def workspace():
    """The workspace selected by --workspace / SYLLABUS_WORKSPACE / the current folder."""
    from syllabus.config import load_workspace

    return load_workspace(STATE.workspace)


def store(ws, *, check: bool = True):
    from syllabus.store import open_store

    return open_store(ws.store_url, check=check)


@contextmanager
def transaction(ws):
    """One all-or-nothing session on the workspace's store, closed afterwards."""
    st = store(ws)
    try:
        with st.transaction() as session:
            yield session
    finally:
        st.close()


def disciplines(ws, name: str | None) -> list[str]:
    """The discipline named (checked), or all declared ones."""
    if name:
        ws.discipline(name)
        return [name]
    return ws.discipline_names()


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def info(message: str) -> None:
    if not STATE.quiet:
        typer.echo(message)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def pick_discipline(ws, name: str | None, what: str) -> str:
    """The discipline named, or the only one declared; otherwise E006."""
    if name:
        ws.discipline(name)
        return name
    names = ws.discipline_names()
    if len(names) == 1:
        return names[0]
    raise SyllabusError("E006", what=what, known=", ".join(names)
                        or "none is declared yet: `syllabus discipline add NAME --prefix P` declares one")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        t.add_column(col, justify="right" if i else "left")
    for row in rows:
        t.add_row(*[str(x) for x in row])
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = 160
    console.print(t)
