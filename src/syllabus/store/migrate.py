"""Alembic migrations driven from Python: upgrade, downgrade, current, head."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from syllabus.errors import SyllabusError


def migrations_path() -> Path:
    """The Alembic script folder (``migrations/``, installed as package ``syllabus_migrations``)."""
    import syllabus_migrations

    return Path(syllabus_migrations.__file__).resolve().parent


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_path()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _script().get_current_head()


def revisions() -> list[str]:
    """All revisions, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def is_empty(conn: Connection) -> bool:
    return not inspect(conn).get_table_names()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the store to *revision* in one transaction; returns the new revision."""
    return _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Downgrade the store to *revision* (``base`` removes every table)."""
    return _run(engine, command.downgrade, revision)


def _run(engine: Engine, fn, revision: str) -> str | None:
    if revision not in ("head", "base") and revision not in revisions() and not revision.startswith(("-", "+")):
        raise SyllabusError("E012", rev=revision)
    with engine.begin() as conn:
        try:
            fn(alembic_config(conn), revision)
        except CommandError as exc:
            raise SyllabusError("E012", rev=revision) from exc
        return current_revision(conn)
