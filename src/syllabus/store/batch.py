"""Bulk deletes by id, in batches small enough for every backend's parameter limit."""
from __future__ import annotations

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

BATCH = 500


def delete_ids(session: Session, table: Table, ids: list, column: str = "id") -> int:
    """Delete the rows of *table* whose *column* is in *ids*; returns how many ids were given."""
    col = table.c[column]
    for i in range(0, len(ids), BATCH):
        session.execute(delete(table).where(col.in_(ids[i:i + BATCH])))
    return len(ids)
