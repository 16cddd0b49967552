"""Alembic migrations driven from Python: upgrade, downgrade, current, head."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from syllabus.errors import SyllabusError

# Alembic itself is imported only by the functions that run migrations: every command opens the
# store and checks its revision, and importing Alembic for that took 0.2 s of each command's start-up
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def migrations_path() -> Path:
    """The Alembic script folder (``migrations/``, installed as package ``syllabus_migrations``)."""
    import syllabus_migrations

    return Path(syllabus_migrations.__file__).resolve().parent


def alembic_config(connection: Connection | None = None, url: str | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_path()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision: the one no migration file names as its ``down_revision``.

    Read from the files' ``revision = ...`` lines, without importing Alembic; when they do not
    give exactly one head, Alembic decides.
    """
    revs, downs = set(), set()
    for path in (migrations_path() / "versions").glob("[!_]*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(source), _DOWN.search(source)
        if rev is None or down is None:
            return _script().get_current_head()
        revs.add(rev.group(1))
        downs |= set(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revs - downs
    return heads.pop() if len(heads) == 1 else _script().get_current_head()


def revisions() -> list[str]:
    """All revisions, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def current_revision(conn: Connection) -> str | None:
    """The store's revision (Alembic's ``alembic_version`` table), None when it has none."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:  # several heads: let Alembic say what that means
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()
    return versions[0] if versions else None


def is_empty(conn: Connection) -> bool:
    return not inspect(conn).get_table_names()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the store to *revision* in one transaction; returns the new revision."""
    from alembic import command

    return _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Downgrade the store to *revision* (``base`` removes every table)."""
    from alembic import command

    return _run(engine, command.downgrade, revision)


def _run(engine: Engine, fn, revision: str) -> str | None:
    from alembic.util.exc import CommandError

    if revision not in ("head", "base") and revision not in revisions() and not revision.startswith(("-", "+")):
        raise SyllabusError("E012", rev=revision)
    with engine.begin() as conn:
        try:
            fn(alembic_config(conn), revision)
        except CommandError as exc:
            raise SyllabusError("E012", rev=revision) from exc
        return current_revision(conn)
