"""Opening the store on SQLite: WAL for everyday commands, a rollback journal for one bulk transaction,
and E014 when another command holds the file."""
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from syllabus.cli.common import _busy_store
from syllabus.store import open_store


def _mode(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_a_bulk_store_writes_with_a_rollback_journal_and_closes_back_to_wal(tmp_path):
    path = tmp_path / "store.db"
    open_store(f"sqlite:///{path}").close()
    assert _mode(path) == "wal"
    bulk = open_store(f"sqlite:///{path}", bulk=True)
    with bulk.transaction() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "delete"
        assert s.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: no WAL to keep a power cut safe
        s.execute(text("CREATE TABLE t (x INTEGER)"))
        s.execute(text("INSERT INTO t VALUES (1)"))
    bulk.close()
    assert _mode(path) == "wal"
    plain = open_store(f"sqlite:///{path}")
    with plain.transaction() as s:
        assert s.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL, as WAL allows
        assert s.execute(text("SELECT x FROM t")).scalar() == 1
    plain.close()


def test_opening_a_store_another_command_holds_is_e014_and_a_query_error_is_e014_at_the_cli(tmp_path):
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}?timeout=0.2"  # how long a connection waits for a lock (5 s by default)
    open_store(url).close()
    opened = open_store(url, check=False)  # no connection yet: its first query meets the lock
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")  # what a compile from nothing holds while its rows spill to the file
    try:
        with pytest.raises(Exception) as raised:
            open_store(url)
        assert raised.value.code == "E014" and "locked" in raised.value.message
        with pytest.raises(OperationalError) as query:
            with opened.transaction() as s:
                s.execute(text("SELECT count(*) FROM alembic_version")).scalar()
        error = _busy_store(query.value)
        assert error is not None and error.code == "E014" and error.exit_code == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        opened.close()
    with pytest.raises(OperationalError) as other:
        with open_store(url).transaction() as s:
            s.execute(text("SELECT * FROM no_such_table"))
    assert _busy_store(other.value) is None  # any other database error is left as it is


def test_a_bulk_store_stays_in_wal_while_another_connection_has_the_file_open(tmp_path):
    path = tmp_path / "store.db"
    open_store(f"sqlite:///{path}").close()
    reader = sqlite3.connect(path)
    reader.execute("SELECT 1 FROM alembic_version").fetchall()  # an open WAL connection: the mode cannot change
    try:
        bulk = open_store(f"sqlite:///{path}", bulk=True)
        with bulk.transaction() as s:
            assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            s.execute(text("CREATE TABLE t (x INTEGER)"))
        bulk.close()
    finally:
        reader.close()
    assert _mode(path) == "wal"
