"""Garbage collection: extracted facts that no evidence supports any more are removed."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from syllabus.store.batch import delete_ids
from syllabus.store.tables import Concept, Evidence, Relation

C, E, R = Concept.__table__, Evidence.__table__, Relation.__table__


def collect_garbage(session: Session, discipline: str | None = None, concepts: bool = True) -> dict[str, int]:
    """Remove extracted relations (and concepts) that no evidence supports any more."""
    supported = select(E.c.relation_id).where(E.c.relation_id.isnot(None))
    q = select(R.c.id).where(R.c.origin == "extracted", R.c.id.not_in(supported))
    if discipline:
        q = q.where(R.c.discipline == discipline)
    stale = list(session.scalars(q))
    delete_ids(session, R, stale)
    if not concepts:
        return {"relations": len(stale), "concepts": 0}
    mentioned = select(E.c.concept_id).where(E.c.concept_id.isnot(None))
    q = select(C.c.id).where(C.c.origin == "extracted", C.c.id.not_in(mentioned))
    if discipline:
        q = q.where(C.c.discipline == discipline)
    orphans = list(session.scalars(q))
    delete_ids(session, C, orphans)
    return {"relations": len(stale), "concepts": len(orphans)}
