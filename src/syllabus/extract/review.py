"""Review of extracted facts by domain experts: what waits for a decision, and the decisions.

Extracted concepts, their definitions and proposed relations wait for review. A decision is a row
of ``review_decision`` (who, when, an optional note) keyed by content-derived ids, so it outlives
re-ingest and re-extraction: :func:`apply_decisions` runs at the end of every ``extract``, turning
accepted relations into asserted ones and rejected ones into ``rejected``; rejected concepts are
never selected again (see :func:`rejected_concepts`) and a rejected definition is never chosen.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from syllabus.errors import SyllabusError, check_choice
from syllabus.store import gate
from syllabus.store.tables import Chunk, Concept, Document, Evidence, Relation, ReviewDecision

C, R, E, K, D, V = (t.__table__ for t in (Concept, Relation, Evidence, Chunk, Document, ReviewDecision))
KINDS = ("concept", "definition", "relation")
DEFINITION_PREFIX = "def:"  # review ids of definitions: def:<concept id>


def text_sha(text: str) -> str:
    """The hash a definition decision is keyed by (whitespace-normalised text)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


@dataclass(frozen=True)
class Proposed:
    """One fact waiting for review, with the evidence a reviewer needs."""

    id: str  # concept id, relation id, or def:<concept id>
    kind: str
    discipline: str
    statement: str
    confidence: float | None
    gated: bool  # held back from compile by [compile] min_confidence
    evidence: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {**asdict(self), "evidence": list(self.evidence)}


def _decided(session: Session, kind: str) -> set[tuple[str, str]]:
    return {(r.target, r.text_sha) for r in session.execute(select(V.c.target, V.c.text_sha).where(V.c.kind == kind))}


def _evidence(session: Session, where, limit: int = 2) -> tuple[dict, ...]:
    rows = session.execute(select(E.c.sentence, E.c.extractor, E.c.score, D.c.path, K.c.ordinal)
                           .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id)
                           .where(where).order_by(E.c.score.desc(), D.c.path, K.c.ordinal, E.c.char_start).limit(limit))
    return tuple({"document": r.path, "chunk": r.ordinal, "extractor": r.extractor, "score": r.score,
                  "sentence": " ".join(r.sentence.split())} for r in rows)


def proposed_facts(session: Session, disciplines: list[str], kinds: tuple[str, ...] = KINDS,
                   min_confidence: float = 0.5, limit: int | None = None,
                   include_proposed: bool = True) -> list[Proposed]:
    """Facts of *disciplines* that wait for a decision, in a stable order (relations by falling
    confidence), without their evidence: :func:`with_evidence` reads it for the ones shown."""
    out: list[Proposed] = []
    bar = gate.threshold(min_confidence, include_proposed)  # below it, a definition is held back
    labels = dict(session.execute(select(C.c.id, C.c.pref_label).where(C.c.discipline.in_(disciplines))).all())
    if "relation" in kinds:
        decided = _decided(session, "relation")
        for r in session.execute(select(R).where(R.c.discipline.in_(disciplines), R.c.origin == "extracted",
                                                 R.c.status == "proposed")
                                 .order_by(R.c.confidence.desc(), R.c.id)):
            if (r.id, "") in decided:
                continue
            out.append(Proposed(r.id, "relation", r.discipline,
                                f"{labels.get(r.subject_id, r.subject_id)} {r.predicate} {labels.get(r.object_id, r.object_id)}",
                                r.confidence, not include_proposed or r.confidence < min_confidence, ()))
    concepts = session.execute(select(C.c.id, C.c.discipline, C.c.pref_label, C.c.definition,
                                      C.c.definition_confidence).where(
        C.c.discipline.in_(disciplines), C.c.origin == "extracted", C.c.status == "active").order_by(C.c.id)).all()
    if "concept" in kinds:
        decided = _decided(session, "concept")
        held = set(session.scalars(select(C.c.id).where(C.c.discipline.in_(disciplines), C.c.origin == "extracted",
                                                        ~gate.concept_passes(min_confidence, include_proposed))))
        for c in concepts:
            if (c.id, "") not in decided:
                out.append(Proposed(c.id, "concept", c.discipline, c.pref_label, None, c.id in held, ()))
    if "definition" in kinds:
        decided = _decided(session, "definition")
        for c in concepts:
            if c.definition and (c.id, text_sha(c.definition)) not in decided:
                confidence = 1.0 if c.definition_confidence is None else c.definition_confidence
                out.append(Proposed(DEFINITION_PREFIX + c.id, "definition", c.discipline,
                                    f"{c.pref_label}: {' '.join(c.definition.split())}", confidence,
                                    confidence < bar, ()))
    return out[:limit] if limit else out


def with_evidence(session: Session, facts: list[Proposed]) -> list[Proposed]:
    """*facts* with the evidence a reviewer needs (best sentences first, document and chunk)."""
    out = []
    for f in facts:
        if f.kind == "relation":
            where, n = E.c.relation_id == f.id, 2
        elif f.kind == "concept":
            where, n = E.c.concept_id == f.id, 1
        else:
            where, n = and_(E.c.concept_id == f.id[len(DEFINITION_PREFIX):], E.c.extractor == "syllabus.definition"), 1
        out.append(replace(f, evidence=_evidence(session, where, n)))
    return out


def decide(session: Session, ids: list[str], decision: str, reviewer: str, note: str | None = None,
           now: datetime | None = None) -> list[dict]:
    """Record *decision* (accept | reject) on each fact id and apply it; all or nothing.

    Unknown ids raise E160 before anything is written; deciding a fact again replaces the decision."""
    check_choice("decision", decision, ("accept", "reject"))
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    targets = []
    for fact_id in ids:
        if fact_id.startswith(DEFINITION_PREFIX):
            row = session.execute(select(C.c.id, C.c.discipline, C.c.definition).where(
                C.c.id == fact_id[len(DEFINITION_PREFIX):], C.c.origin == "extracted")).first()
            if row is None or not row.definition:
                raise SyllabusError("E160", id=fact_id, detail="no extracted concept with a definition has that id")
            targets.append(("definition", row.id, text_sha(row.definition), row.discipline))
            continue
        rel = session.execute(select(R.c.id, R.c.discipline).where(R.c.id == fact_id, R.c.origin == "extracted")).first()
        if rel is not None:
            targets.append(("relation", rel.id, "", rel.discipline))
            continue
        con = session.execute(select(C.c.id, C.c.discipline).where(C.c.id == fact_id, C.c.origin == "extracted")).first()
        if con is None:
            raise SyllabusError("E160", id=fact_id, detail="no extracted concept, relation or definition has that id")
        targets.append(("concept", con.id, "", con.discipline))
    out = []
    for kind, target, sha, discipline in targets:
        values = dict(discipline=discipline, decision=decision, reviewer=reviewer, decided_at=stamp, note=note)
        existing = session.scalar(select(V.c.id).where(V.c.kind == kind, V.c.target == target, V.c.text_sha == sha))
        if existing is None:
            session.execute(insert(V).values(kind=kind, target=target, text_sha=sha, **values))
        else:
            session.execute(update(V).where(V.c.id == existing).values(**values))
        out.append({"id": (DEFINITION_PREFIX + target) if kind == "definition" else target, "kind": kind,
                    "decision": decision, "reviewer": reviewer, "decided_at": stamp})
    for discipline in sorted({t[3] for t in targets}):
        apply_decisions(session, discipline)
    return out


def apply_decisions(session: Session, discipline: str) -> dict[str, int]:
    """Bring the discipline's extracted facts in line with the decisions on them."""
    counts = {"accepted": 0, "rejected": 0, "concepts_removed": 0, "definitions_cleared": 0}
    rows = session.execute(select(V.c.kind, V.c.target, V.c.text_sha, V.c.decision)
                           .where(V.c.discipline == discipline).order_by(V.c.id)).all()
    for r in rows:
        if r.kind == "relation":
            status = "asserted" if r.decision == "accept" else "rejected"
            res = session.execute(update(R).where(R.c.id == r.target, R.c.origin == "extracted",
                                                  R.c.status != status).values(status=status))
            counts["accepted" if r.decision == "accept" else "rejected"] += res.rowcount or 0
        elif r.kind == "concept" and r.decision == "reject":
            res = session.execute(Concept.__table__.delete().where(C.c.id == r.target, C.c.origin == "extracted"))
            counts["concepts_removed"] += res.rowcount or 0
        elif r.kind == "definition":
            definition = session.scalar(select(C.c.definition).where(C.c.id == r.target))
            if not definition or text_sha(definition) != r.text_sha:
                continue
            if r.decision == "reject":
                session.execute(update(C).where(C.c.id == r.target).values(definition=None,
                                                                           definition_confidence=None))
                counts["definitions_cleared"] += 1
            else:  # accepted: compiled whatever the gate says
                res = session.execute(update(C).where(C.c.id == r.target, or_(
                    C.c.definition_confidence.is_(None), C.c.definition_confidence != 1.0)).values(
                    definition_confidence=1.0))
                counts["accepted"] += res.rowcount or 0
    return counts


def rejected_concepts(session: Session, discipline: str) -> frozenset[str]:
    """Ids of extracted concepts a reviewer rejected (extraction never selects them again)."""
    return frozenset(session.scalars(select(V.c.target).where(V.c.discipline == discipline, V.c.kind == "concept",
                                                              V.c.decision == "reject")))


def definition_decisions(session: Session, discipline: str, decision: str) -> set[tuple[str, str]]:
    """(concept id, text hash) of definitions a reviewer accepted or rejected (*decision*)."""
    return {(r.target, r.text_sha) for r in session.execute(
        select(V.c.target, V.c.text_sha).where(V.c.discipline == discipline, V.c.kind == "definition",
                                               V.c.decision == decision))}


def held_back(session: Session, disciplines: list[str], min_confidence: float,
              include_proposed: bool = True) -> dict[str, dict[str, int]]:
    """Per discipline: extracted relations, definitions and concepts the review gate keeps out of
    compile (``held_back``, see :mod:`syllabus.store.gate`) and all facts that wait for a decision
    (``waiting``)."""
    counts = {d: {"held_back": 0, "waiting": 0} for d in disciplines}
    queries = (
        select(R.c.discipline, func.count()).where(R.c.origin == "extracted", R.c.status == "proposed",
                                                   ~gate.relation_passes(min_confidence, include_proposed))
        .where(R.c.discipline.in_(disciplines)).group_by(R.c.discipline),
        select(C.c.discipline, func.count()).where(gate.definition_held(min_confidence, include_proposed))
        .where(C.c.discipline.in_(disciplines)).group_by(C.c.discipline),
        select(C.c.discipline, func.count()).where(C.c.origin == "extracted", C.c.status == "active",
                                                   ~gate.concept_passes(min_confidence, include_proposed))
        .where(C.c.discipline.in_(disciplines)).group_by(C.c.discipline),
    )
    for query in queries:
        for d, n in session.execute(query):
            counts[d]["held_back"] += n
    for fact in proposed_facts(session, disciplines, min_confidence=min_confidence,
                               include_proposed=include_proposed):
        counts[fact.discipline]["waiting"] += 1
    return counts
