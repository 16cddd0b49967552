"""Canonical dumps of a store, to compare contents across imports, formats and backends."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect, select, text

from syllabus.store.tables import Concept, Label, Relation


def graph_contents(url: str) -> dict:
    """Concepts, labels and relations, without surrogate keys or file paths, sorted."""
    engine = create_engine(url)
    C, L, R = Concept.__table__, Label.__table__, Relation.__table__
    with engine.connect() as conn:
        concepts = sorted(tuple(r) for r in conn.execute(select(
            C.c.id, C.c.discipline, C.c.pref_label, C.c.definition, C.c.type, C.c.origin, C.c.status)))
        labels = sorted(tuple(r) for r in conn.execute(select(L.c.concept_id, L.c.kind, L.c.text)))
        relations = sorted(tuple(r) for r in conn.execute(select(
            R.c.id, R.c.discipline, R.c.subject_id, R.c.predicate, R.c.object_id, R.c.origin, R.c.status,
            R.c.confidence)))
    engine.dispose()
    return {"concepts": concepts, "labels": labels, "relations": relations}


def whole_store(url: str) -> dict:
    """Every row of every table (or None when the database has no tables)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = sorted(inspect(conn).get_table_names())
        out = {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')))) for t in tables}
    engine.dispose()
    return out
