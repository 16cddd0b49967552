"""E014 (store busy) is recognised by the driver's error code, on SQLite and PostgreSQL alike:
a lock another connection holds is busy, any other error is not, whatever its message says."""
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from syllabus.cli.common import _busy_store
from syllabus.store import open_store
from syllabus.store.engine import store_busy


def _query_error(store, sql: str, setup: str | None = None) -> DBAPIError:
    with pytest.raises(DBAPIError) as raised:
        with store.transaction() as s:
            if setup:
                s.execute(text(setup))
            s.execute(text(sql))
    return raised.value


def test_an_error_whose_message_mentions_a_lock_is_not_busy(store_url):
    """A missing table named like a lock: the old string match called it E014."""
    store = open_store(store_url)
    try:
        for name in ("locked_rows", "busy_workers"):
            error = _query_error(store, f"SELECT * FROM {name}")
            assert name in str(error.orig)
            assert not store_busy(error) and _busy_store(error) is None
    finally:
        store.close()


def test_a_lock_held_by_another_connection_is_busy(store_url, tmp_path):
    if store_url.startswith("sqlite"):
        path = store_url.removeprefix("sqlite:///")
        open_store(store_url).close()
        store = open_store(store_url + "?timeout=0.1", check=False)  # no connection yet: its first query meets the lock
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA journal_mode=DELETE")
        holder.execute("BEGIN EXCLUSIVE")
        try:
            error = _query_error(store, "SELECT count(*) FROM alembic_version")
            assert error.orig.sqlite_errorname in ("SQLITE_BUSY", "SQLITE_LOCKED")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            store.close()
    else:
        import psycopg

        store = open_store(store_url)
        url = store.engine.url
        holder = psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                 dbname=url.database)
        try:
            holder.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")  # held until the rollback
            error = _query_error(store, "SELECT count(*) FROM alembic_version", setup="SET LOCAL lock_timeout = '100ms'")
            assert error.orig.sqlstate == "55P03"  # lock_not_available; the message says "lock timeout"
        finally:
            holder.rollback()
            holder.close()
            store.close()
    assert store_busy(error)
    coded = _busy_store(error)
    assert coded is not None and coded.code == "E014" and coded.exit_code == 2


def test_driver_exceptions_are_read_by_code_too():
    busy = sqlite3.OperationalError("anything")
    busy.sqlite_errorcode, busy.sqlite_errorname = 517, "SQLITE_BUSY_SNAPSHOT"  # an extended code of SQLITE_BUSY
    assert store_busy(busy)
    other = sqlite3.OperationalError("database is locked")  # the text alone, with no code, is not enough
    other.sqlite_errorcode = 1  # SQLITE_ERROR
    assert not store_busy(other)
