"""Unit keys (``concept:ID``, ``relation:ID``, ``chain:ID``, ``pair:A|B``) taken apart in SQL.

Both SQLite and PostgreSQL run every expression here. :func:`fill_gap_concepts` stores on each
gap the concepts its unit touches (``gap.concept_a`` / ``gap.concept_b``), which is what lets
``gaps --under`` answer from two indexes.
"""
from __future__ import annotations

from sqlalchemy import Integer, and_, case, func, select, update
from sqlalchemy.orm import Session

from syllabus.store.tables import Chain, Gap, Relation

G, R, H = Gap.__table__, Relation.__table__, Chain.__table__


def position(session: Session, text, needle: str):
    """1-based position of *needle* in *text* (0 when absent)."""
    name = "strpos" if session.get_bind().dialect.name == "postgresql" else "instr"
    return getattr(func, name)(text, needle, type_=Integer)


def prefixed(column, prefix: str):
    """*column* starts with *prefix* (a range both backends answer from an index on it)."""
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def pair_ids(session: Session, unit):
    """The two concept ids of a ``pair:A|B`` unit key."""
    bar = position(session, unit, "|")
    n = len("pair:")
    # never a negative length: PostgreSQL may evaluate it for keys that are not pairs, and refuses one
    return func.substr(unit, n + 1, case((bar > n, bar - n - 1), else_=0)), func.substr(unit, bar + 1)


def fill_gap_concepts(session: Session, run_id: str) -> None:
    """Set ``concept_a`` / ``concept_b`` on run *run_id*'s gaps from their unit keys."""
    of_run = G.c.run_id == run_id
    session.execute(update(G).where(of_run, prefixed(G.c.unit, "concept:"))
                    .values(concept_a=func.substr(G.c.unit, len("concept:") + 1), concept_b=None))
    for prefix, table in (("relation:", R), ("chain:", H)):
        key = func.substr(G.c.unit, len(prefix) + 1)
        session.execute(update(G).where(of_run, prefixed(G.c.unit, prefix)).values(
            concept_a=select(table.c.subject_id).where(table.c.id == key).scalar_subquery(),
            concept_b=select(table.c.object_id).where(table.c.id == key).scalar_subquery()))
    first, second = pair_ids(session, G.c.unit)
    session.execute(update(G).where(of_run, prefixed(G.c.unit, "pair:"), position(session, G.c.unit, "|") > 0)
                    .values(concept_a=first, concept_b=second))
