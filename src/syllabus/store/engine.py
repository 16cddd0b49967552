"""Opening the store: engine, schema check and one transaction per command."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
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
    bulk: bool = False  # opened for one transaction that writes most of the database (see open_store)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        if self.bulk and self.engine.dialect.name == "sqlite":
            _back_to_wal(self.engine)
        self.engine.dispose()


def make_engine(url: str, *, bulk: bool = False) -> Engine:
    """An engine with foreign keys enforced on SQLite and the parent folder created (*bulk*: see open_store)."""
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
        event.listen(engine, "connect", partial(_sqlite_pragmas, bulk=bulk))
    return engine


def _sqlite_pragmas(dbapi_conn, _record, bulk: bool = False) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers go on while a command writes. A bulk transaction uses a rollback journal: WAL
    # would write every new page twice (into the log, then again when the log is checkpointed at
    # commit), and a rollback journal keeps only the old content of pages that existed before.
    # The journal mode belongs to the file: a connection opened while a bulk transaction runs (or
    # after one was killed) may fail to switch it back to WAL; it then reads in rollback mode.
    try:
        cur.execute(f"PRAGMA journal_mode={'DELETE' if bulk else 'WAL'}")
    except sqlite3.OperationalError:  # locked by a bulk transaction in progress
        pass
    # FULL: without WAL, NORMAL could leave a corrupt file after a power cut at the wrong moment
    cur.execute(f"PRAGMA synchronous={'FULL' if bulk else 'NORMAL'}")
    # a 128 MB page cache (the default is 2 MB): a large compile inserts millions of rows into indexes
    cur.execute("PRAGMA cache_size=-131072")
    cur.close()


#: SQLite result codes (the primary code, the low byte of an extended one) for a lock another connection holds
SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
#: PostgreSQL SQLSTATEs for a transaction that lost to another one's lock: serialization failure,
#: deadlock detected, lock not available (lock_timeout, NOWAIT), object in use
POSTGRES_BUSY_STATES = frozenset({"40001", "40P01", "55P03", "55006"})


def store_busy(exc: BaseException) -> bool:
    """Whether the driver's error code says another connection holds a lock the command needed.

    *exc* is a SQLAlchemy DBAPIError (the driver's exception is its ``orig``) or a driver exception:
    sqlite3 errors carry ``sqlite_errorcode``, psycopg errors ``sqlstate``. The message text is
    never read: it differs between versions and locales, and a table or value may be named "locked"."""
    driver = getattr(exc, "orig", None) or exc
    code = getattr(driver, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in SQLITE_BUSY_CODES
    return getattr(driver, "sqlstate", None) in POSTGRES_BUSY_STATES


def _back_to_wal(engine: Engine) -> None:
    """After a bulk transaction: the file goes back to WAL (a connection opened later would do it too)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except OperationalError:  # another connection holds the file: the next one to open switches it
        pass


def display_url(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_store(url: str, *, check: bool = True, bulk: bool = False) -> Store:
    """Open the store at *url*.

    *bulk*: for one transaction that writes most of the database (a compile from nothing writes
    millions of rows). On SQLite the file is then in rollback-journal mode until :meth:`Store.close`,
    which writes each new page once instead of twice (about 1.3 GB less, and no checkpoint at commit,
    for a 250k-concept compile), but other processes cannot read the store meanwhile: they wait,
    and get E014 if the wait runs out. Only the compile, which holds the workspace's compile lock,
    asks for it.

    An empty database is brought to the head revision automatically (nothing can be lost);
    a database at an older revision is refused with E010 so that upgrading stays a deliberate
    step the user can back up for.
    """
    engine = make_engine(url, bulk=bulk)
    store = Store(engine, display_url(url), bulk)
    if not check:
        return store
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
            empty = current is None and migrate.is_empty(conn)
    except OperationalError as exc:
        engine.dispose()
        raise SyllabusError("E014" if store_busy(exc) else "E011", url=store.url,
                            detail=str(exc.orig).strip()) from exc
    head = migrate.head_revision()
    if empty:
        migrate.upgrade(engine, "head")
    elif current != head:
        engine.dispose()
        if current is not None and current not in migrate.revisions():
            raise SyllabusError("E013", url=store.url, current=current)
        raise SyllabusError("E010", url=store.url, current=current or "none", head=head)
    return store
