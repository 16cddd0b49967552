"""Garbage collection: extracted facts that no evidence supports any more are removed."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from syllabus.store.tables import Concept, Evidence, Relation

C, E, R = Concept.__table__, Evidence.__table__, Relation.__table__


def collect_garbage(session: Session, discipline: str | None = None, concepts: bool = True) -> dict[str, int]:
    """Remove extracted relations (and concepts) that no evidence supports any more."""
    supported = select(E.c.relation_id).where(E.c.relation_id.isnot(None))
    q = select(R.c.id).where(R.c.origin == "extracted", R.c.id.not_in(supported))
    if discipline:
        q = q.where(R.c.discipline == discipline)
    stale = list(session.scalars(q))
    for i in range(0, len(stale), 500):
        session.execute(delete(R).where(R.c.id.in_(stale[i:i + 500])))
    if not concepts:
        return {"relations": len(stale), "concepts": 0}
    mentioned = select(E.c.concept_id).where(E.c.concept_id.isnot(None))
    q = select(C.c.id).where(C.c.origin == "extracted", C.c.id.not_in(mentioned))
    if discipline:
        q = q.where(C.c.discipline == discipline)
    orphans = list(session.scalars(q))
    for i in range(0, len(orphans), 500):
        session.execute(delete(C).where(C.c.id.in_(orphans[i:i + 500])))
    return {"relations": len(stale), "concepts": len(orphans)}
