"""Opening the store: engine, schema check and one transaction per command."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from syllabus.errors import SyllabusError
from syllabus.store import migrate


@dataclass
class Store:
    """A database holding the graph; :meth:`transaction` gives one all-or-nothing session."""

    engine: Engine
    url: str

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    """An engine with foreign keys enforced on SQLite and the parent folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SyllabusError("E011", url=url, detail=str(exc)) from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url)
    except Exception as exc:  # missing driver, bad options
        raise SyllabusError("E011", url=display_url(url), detail=str(exc)) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # a 128 MB page cache (the default is 2 MB): a large compile inserts millions of rows into indexes
    cur.execute("PRAGMA cache_size=-131072")
    cur.close()


def display_url(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_store(url: str, *, check: bool = True) -> Store:
    """Open the store at *url*.

    An empty database is brought to the head revision automatically (nothing can be lost);
    a database at an older revision is refused with E010 so that upgrading stays a deliberate
    step the user can back up for.
    """
    engine = make_engine(url)
    store = Store(engine, display_url(url))
    if not check:
        return store
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
            empty = current is None and migrate.is_empty(conn)
    except OperationalError as exc:
        engine.dispose()
        raise SyllabusError("E011", url=store.url, detail=str(exc.orig).strip()) from exc
    head = migrate.head_revision()
    if empty:
        migrate.upgrade(engine, "head")
    elif current != head:
        engine.dispose()
        if current is not None and current not in migrate.revisions():
            raise SyllabusError("E013", url=store.url, current=current)
        raise SyllabusError("E010", url=store.url, current=current or "none", head=head)
    return store
