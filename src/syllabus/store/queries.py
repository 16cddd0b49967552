"""Read-side queries for inspection commands: one concept in full, concept lists, chain lists."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from syllabus.errors import SyllabusError
from syllabus.store.tables import (
    Chain,
    Chunk,
    Concept,
    Document,
    Evidence,
    Label,
    Relation,
)

C, L, R, E, K, D, H = (t.__table__ for t in (Concept, Label, Relation, Evidence, Chunk, Document, Chain))


@lru_cache(maxsize=64)
def _source_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def source_line(root: Path, doc_path: str, snippet: str) -> int | None:
    """The 1-based line of the source file where *snippet* starts (markup between words allowed)."""
    text = _source_text(str(root / doc_path) if not Path(doc_path).is_absolute() else doc_path)
    words = re.findall(r"\w+", snippet)[:8]
    if text is None or not words:
        return None
    match = re.search(r"\W+".join(map(re.escape, words)), text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _evidence(session: Session, root: Path, condition, limit: int) -> list[dict]:
    rows = session.execute(
        select(E.c.id, E.c.extractor, E.c.extractor_version, E.c.char_start, E.c.char_end, E.c.sentence, E.c.score,
               K.c.id.label("chunk"), K.c.text, D.c.path)
        .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id).where(condition)
        .order_by(D.c.path, K.c.ordinal, E.c.char_start, E.c.id).limit(limit))
    return [{"id": r.id, "extractor": f"{r.extractor}@{r.extractor_version}", "document": r.path,
             "line": source_line(root, r.path, r.sentence), "chunk": r.chunk,
             "span": [r.char_start, r.char_end], "text": r.text[r.char_start:r.char_end], "sentence": r.sentence,
             "score": r.score} for r in rows]


def concept_detail(session: Session, concept_id: str, root: Path, evidence_limit: int = 20) -> dict:
    """Everything about one concept: labels, definition, relations both ways, evidence."""
    row = session.execute(select(C).where(C.c.id == concept_id)).first()
    if row is None:
        raise SyllabusError("E030", id=concept_id)
    labels = [{"kind": k, "text": t, "origin": o} for k, t, o in session.execute(
        select(L.c.kind, L.c.text, L.c.origin).where(L.c.concept_id == concept_id).order_by(L.c.kind, L.c.text))]
    rows = session.execute(select(R).where(or_(R.c.subject_id == concept_id, R.c.object_id == concept_id))
                           .order_by(R.c.predicate, R.c.subject_id, R.c.object_id)).all()
    ends = {r.subject_id for r in rows} | {r.object_id for r in rows}
    pref = dict(session.execute(select(C.c.id, C.c.pref_label).where(C.c.id.in_(ends))).all())
    counts = dict(session.execute(select(E.c.relation_id, func.count()).where(E.c.relation_id.in_([r.id for r in rows]))
                                  .group_by(E.c.relation_id)).all())
    relations = [{"id": r.id, "subject": r.subject_id, "subject_label": pref.get(r.subject_id),
                  "predicate": r.predicate, "object": r.object_id, "object_label": pref.get(r.object_id),
                  "origin": r.origin, "status": r.status, "confidence": r.confidence, "evidence": counts.get(r.id, 0)}
                 for r in rows]
    total = session.scalar(select(func.count()).select_from(E).where(E.c.concept_id == concept_id))
    return {"id": row.id, "discipline": row.discipline, "label": row.pref_label, "definition": row.definition,
            "type": row.type, "origin": row.origin, "status": row.status, "source": row.source, "labels": labels,
            "relations": relations, "evidence_total": total,
            "evidence": _evidence(session, root, E.c.concept_id == concept_id, evidence_limit)}


def concept_list(session: Session, discipline: str | None = None, origin: str | None = None) -> list[dict]:
    q = select(C.c.id, C.c.discipline, C.c.pref_label, C.c.origin, C.c.status, C.c.type).order_by(C.c.id)
    if discipline:
        q = q.where(C.c.discipline == discipline)
    if origin:
        q = q.where(C.c.origin == origin)
    counts = dict(session.execute(select(E.c.concept_id, func.count()).where(E.c.concept_id.isnot(None))
                                  .group_by(E.c.concept_id)).all())
    return [{"id": r.id, "discipline": r.discipline, "label": r.pref_label, "origin": r.origin, "status": r.status,
             "type": r.type, "evidence": counts.get(r.id, 0)} for r in session.execute(q)]


def chain_list(session: Session, discipline: str | None = None, split: str | None = None) -> list[dict]:
    pref = dict(session.execute(select(C.c.id, C.c.pref_label)).all())
    rel = {r.id: (r.subject_id, r.predicate, r.object_id) for r in session.execute(
        select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id))}
    q = select(H).order_by(H.c.discipline, H.c.rule, H.c.id)
    if discipline:
        q = q.where(H.c.discipline == discipline)
    if split:
        q = q.where(H.c.split == split)
    out = []
    for h in session.execute(q):
        steps = [list(rel[rid]) for rid in json.loads(h.relation_ids)]
        out.append({"id": h.id, "discipline": h.discipline, "rule": h.rule, "split": h.split, "hops": h.hops,
                    "relations": json.loads(h.relation_ids), "steps": steps,
                    "conclusion": [h.subject_id, h.predicate, h.object_id],
                    "text": " ; ".join(f"{pref.get(s) or s} {p} {pref.get(o) or o}" for s, p, o in steps)
                    + f" => {pref.get(h.subject_id)} {h.predicate} {pref.get(h.object_id)}"})
    return out
