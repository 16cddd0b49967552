"""Counts for ``syllabus status``: what the store holds, per discipline."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syllabus.store.tables import (
    Chunk,
    Concept,
    Discipline,
    Document,
    Evidence,
    Label,
    Relation,
)


def store_status(session: Session) -> dict:
    """Per discipline: concepts by status and origin, labels, relations by predicate and origin,
    documents, chunks and evidence rows."""
    C, L, R, D, K, E = (t.__table__ for t in (Concept, Label, Relation, Document, Chunk, Evidence))
    out: dict[str, dict] = {}
    for name in session.scalars(select(Discipline.__table__.c.name).order_by(Discipline.__table__.c.name)):
        out[name] = {"concepts": {"active": 0, "deprecated": 0, "by_origin": {}}, "labels": 0,
                     "relations": {"total": 0, "by_predicate": {}, "by_origin": {}},
                     "documents": 0, "chunks": 0, "evidence": 0}
    for disc, status, origin, n in session.execute(
            select(C.c.discipline, C.c.status, C.c.origin, func.count()).group_by(C.c.discipline, C.c.status, C.c.origin)):
        entry = out[disc]["concepts"]
        if origin != "external":
            entry[status] += n
        entry["by_origin"][origin] = entry["by_origin"].get(origin, 0) + n
    for disc, n in session.execute(select(C.c.discipline, func.count()).join(L, L.c.concept_id == C.c.id)
                                   .group_by(C.c.discipline)):
        out[disc]["labels"] = n
    for disc, predicate, origin, n in session.execute(
            select(R.c.discipline, R.c.predicate, R.c.origin, func.count()).group_by(R.c.discipline, R.c.predicate, R.c.origin)):
        rel = out[disc]["relations"]
        rel["total"] += n
        rel["by_predicate"][predicate] = rel["by_predicate"].get(predicate, 0) + n
        rel["by_origin"][origin] = rel["by_origin"].get(origin, 0) + n
    for disc, n in session.execute(select(D.c.discipline, func.count()).group_by(D.c.discipline)):
        out[disc]["documents"] = n
    for disc, n in session.execute(select(D.c.discipline, func.count()).join(K, K.c.document_id == D.c.id)
                                   .group_by(D.c.discipline)):
        out[disc]["chunks"] = n
    for disc, n in session.execute(select(D.c.discipline, func.count()).select_from(E)
                                   .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id)
                                   .group_by(D.c.discipline)):
        out[disc]["evidence"] = n
    for entry in out.values():
        for key in ("by_predicate", "by_origin"):
            entry["relations"][key] = dict(sorted(entry["relations"][key].items()))
        entry["concepts"]["by_origin"] = dict(sorted(entry["concepts"]["by_origin"].items()))
    return out
