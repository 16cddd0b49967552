"""A read-only view of the graph for compiling: concepts, edges, relations, chains and their evidence.

The same :class:`Graph` serves a full compile (everything loaded in bulk, a few queries) and an
incremental one (only what is asked for, loaded lazily by key), so both render identical
examples. Only *usable* facts are visible: active concepts (not external stubs), relations that
are asserted — or proposed with enough confidence when ``include_proposed`` — between visible
concepts, and train chains.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from syllabus.config import CompileConfig
from syllabus.store import gate
from syllabus.store.tables import Chain, Chunk, Concept, Document, Evidence, Gap, Label, Relation

C, L, R, E, K, D, H = (t.__table__ for t in (Concept, Label, Relation, Evidence, Chunk, Document, Chain))
G = Gap.__table__
REPAIRED = ("patched", "verified")

EVIDENCE_PER_UNIT = 2
# concept evidence preference: a definitional sentence says most about a concept
_EXTRACTOR_RANK = {"syllabus.definition": 0, "syllabus.synonym": 1, "syllabus.relation": 1, "syllabus.term": 2}
ALT_KINDS = ("alt", "exact", "abbreviation")


@dataclass(frozen=True, slots=True)
class EvidenceView:
    id: int
    document: str
    chunk: str
    start: int
    end: int
    sentence: str

    def to_dict(self) -> dict:
        return {"id": self.id, "document": self.document, "chunk": self.chunk, "span": [self.start, self.end]}


@dataclass(frozen=True, slots=True)
class ConceptView:
    id: str
    discipline: str
    label: str
    definition: str | None
    type: str | None
    alt_labels: tuple[str, ...]
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True, slots=True)
class LabelView:
    """Just a concept's name (what a renderer reads when only the label matters)."""

    id: str
    discipline: str
    label: str


@dataclass(frozen=True, slots=True)
class Edge:
    relation: str
    subject: str
    predicate: str
    object: str


@dataclass(frozen=True, slots=True)
class RelationView:
    id: str
    discipline: str
    subject: str
    predicate: str
    object: str
    origin: str
    status: str
    confidence: float
    source: str | None
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True, slots=True)
class ChainView:
    id: str
    discipline: str
    rule: str
    relation_ids: tuple[str, ...]
    subject: str
    predicate: str
    object: str


@dataclass(frozen=True, slots=True)
class GapView:
    """A repaired gap: what patch examples render (its budget and choices live in detail["repair"])."""

    id: str
    discipline: str
    kind: str
    unit: str
    status: str
    repair: dict


@dataclass(frozen=True)
class Usability:
    include_proposed: bool = True
    min_confidence: float = CompileConfig.model_fields["min_confidence"].default

    def relation_condition(self):
        return gate.relation_passes(self.min_confidence, self.include_proposed)

    def definition_column(self):
        """A concept's definition as compile sees it: one the review gate holds back reads as none."""
        return case((gate.definition_held(self.min_confidence, self.include_proposed), None),
                    else_=C.c.definition).label("definition")

    def concept_condition(self):
        """Concepts compile renders (see :mod:`syllabus.store.gate`)."""
        return and_(_CONCEPT_OK, gate.concept_passes(self.min_confidence, self.include_proposed))

    def concept_columns(self) -> tuple:
        return (C.c.id, C.c.discipline, C.c.pref_label, self.definition_column(), C.c.type)


_CONCEPT_OK = and_(C.c.status == "active", C.c.origin != "external", C.c.pref_label.is_not(None))


class Graph:
    """Usable graph facts by id; loads lazily unless :meth:`preload` was called for a discipline."""

    def __init__(self, session: Session, usability: Usability = Usability()) -> None:
        self.session = session
        self.usability = usability
        self._concepts: dict[str, ConceptView | None] = {}
        self._labels: dict[str, LabelView | None] = {}
        self._relations: dict[str, RelationView | None] = {}
        self._chains: dict[str, ChainView | None] = {}
        self._gaps: dict[str, GapView | None] = {}
        self._out: dict[str, tuple[Edge, ...]] = {}
        self._in: dict[str, tuple[Edge, ...]] = {}
        self._complete: set[str] = set()  # disciplines loaded in full

    # -- bulk loading -------------------------------------------------------------------------
    def preload(self, discipline: str) -> None:
        """Load a whole discipline in a handful of queries (for full compiles)."""
        if discipline in self._complete:
            return
        # concept, relation and evidence rows (the bulk of a load) are unpacked by position: a row's
        # attribute lookup by name costs more than the rest of its handling
        concept_rows = self.session.execute(select(*self.usability.concept_columns()).where(
            C.c.discipline == discipline, self.usability.concept_condition())).all()
        ids = {r[0] for r in concept_rows}
        alts = _alt_labels(self.session, C.c.discipline == discipline, ids)
        cev = _evidence(self.session, E.c.concept_id, C.c.discipline == discipline, concept=True)
        for r in concept_rows:
            self._concepts[r[0]] = _concept(r, alts.get(r[0], ()), cev.get(r[0], ()))
        rel_rows = self.session.execute(select(*_RELATION_COLUMNS).where(R.c.discipline == discipline,
                                                                         self.usability.relation_condition())).all()
        rel_rows = [r for r in rel_rows if r[2] in ids and r[4] in ids]
        rev = _evidence(self.session, E.c.relation_id, R.c.discipline == discipline, concept=False)
        out: dict[str, list[Edge]] = defaultdict(list)
        into: dict[str, list[Edge]] = defaultdict(list)
        for r in rel_rows:
            rid, _, subject, predicate, obj = r[:5]
            self._relations[rid] = _relation(r, rev.get(rid, ()))
            edge = Edge(rid, subject, predicate, obj)
            out[subject].append(edge)
            into[obj].append(edge)
        for cid in ids:
            self._out[cid] = _sorted_edges(out.get(cid, ()))
            self._in[cid] = _sorted_edges(into.get(cid, ()))
        usable = set(self._relations)
        for r in self.session.execute(select(H).where(H.c.discipline == discipline, H.c.split == "train")).all():
            view = _chain(r)
            self._chains[r.id] = view if set(view.relation_ids) <= usable else None
        for r in self.session.execute(select(G).where(G.c.discipline == discipline, G.c.status.in_(REPAIRED))).all():
            self._gaps[r.id] = _gap(r)
        self._complete.add(discipline)

    # -- lookups ------------------------------------------------------------------------------
    def concept(self, cid: str) -> ConceptView | None:
        if cid not in self._concepts:
            self._load_concepts([cid])
        return self._concepts[cid]

    def label(self, cid: str) -> LabelView | None:
        view = self._labels.get(cid)
        if view is None and cid not in self._labels:
            c = self.concept(cid)
            view = self._labels[cid] = None if c is None else LabelView(c.id, c.discipline, c.label)
        return view

    def relation(self, rid: str) -> RelationView | None:
        if rid not in self._relations:
            row = self.session.execute(select(*_RELATION_COLUMNS).where(R.c.id == rid,
                                                                        self.usability.relation_condition())).first()
            view = None
            if row is not None and self.concept(row[2]) and self.concept(row[4]):
                ev = _evidence(self.session, E.c.relation_id, E.c.relation_id == rid, concept=False)
                view = _relation(row, ev.get(rid, ()))
            self._relations[rid] = view
        return self._relations[rid]

    def chain(self, hid: str) -> ChainView | None:
        if hid not in self._chains:
            row = self.session.execute(select(H).where(H.c.id == hid, H.c.split == "train")).first()
            view = _chain(row) if row is not None else None
            if view is not None and not all(self.relation(r) for r in view.relation_ids):
                view = None
            self._chains[hid] = view
        return self._chains[hid]

    def gap(self, gid: str) -> GapView | None:
        if gid not in self._gaps:
            row = self.session.execute(select(G).where(G.c.id == gid, G.c.status.in_(REPAIRED))).first()
            self._gaps[gid] = _gap(row) if row is not None else None
        return self._gaps[gid]

    def out_edges(self, cid: str) -> tuple[Edge, ...]:
        if cid not in self._out:
            self._out[cid] = self._edges(R.c.subject_id == cid)
        return self._out[cid]

    def in_edges(self, cid: str) -> tuple[Edge, ...]:
        if cid not in self._in:
            self._in[cid] = self._edges(R.c.object_id == cid)
        return self._in[cid]

    def unit_keys(self, discipline: str) -> list[str]:
        """Every unit key of a preloaded discipline, sorted."""
        self.preload(discipline)
        keys = []
        for cid, view in self._concepts.items():
            if view is not None and view.discipline == discipline:
                keys += [f"concept:{cid}", f"label:{cid}", f"out:{cid}", f"in:{cid}"]
        keys += [f"relation:{rid}" for rid, v in self._relations.items() if v is not None and v.discipline == discipline]
        keys += [f"chain:{hid}" for hid, v in self._chains.items() if v is not None and v.discipline == discipline]
        keys += [f"gap:{gid}" for gid, v in self._gaps.items() if v is not None and v.discipline == discipline]
        return sorted(keys)

    # -- internals ----------------------------------------------------------------------------
    def _edges(self, condition) -> tuple[Edge, ...]:
        rows = self.session.execute(select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id)
                                    .where(condition, self.usability.relation_condition())).all()
        edges = [Edge(*r) for r in rows]
        missing = sorted({x for e in edges for x in (e.subject, e.object)} - self._concepts.keys())
        if missing:  # the endpoints in one query, not one each
            self._load_concepts(missing)
        return _sorted_edges(e for e in edges if self.concept(e.subject) and self.concept(e.object))

    def _load_concepts(self, ids: list[str]) -> None:
        rows = self.session.execute(select(*self.usability.concept_columns()).where(
            C.c.id.in_(ids), self.usability.concept_condition())).all()
        found = {r[0] for r in rows}
        alts = _alt_labels(self.session, C.c.id.in_(ids), found)
        ev = _evidence(self.session, E.c.concept_id, E.c.concept_id.in_(ids), concept=True)
        for cid in ids:
            self._concepts[cid] = None
        for r in rows:
            self._concepts[r[0]] = _concept(r, alts.get(r[0], ()), ev.get(r[0], ()))


def _sorted_edges(edges) -> tuple[Edge, ...]:
    return tuple(sorted(edges, key=lambda e: (e.predicate, e.subject, e.object, e.relation)))


_RELATION_COLUMNS = (R.c.id, R.c.discipline, R.c.subject_id, R.c.predicate, R.c.object_id, R.c.origin, R.c.status,
                     R.c.confidence, R.c.source)


def _concept(r, alts, evidence) -> ConceptView:
    """The view of a row of :meth:`Usability.concept_columns`."""
    cid, discipline, label, definition, kind = r
    return ConceptView(cid, discipline, label, (definition or "").strip() or None, kind, tuple(alts), tuple(evidence))


def _relation(r, evidence) -> RelationView:
    """The view of a row of ``_RELATION_COLUMNS``."""
    rid, discipline, subject, predicate, obj, origin, status, confidence, source = r
    return RelationView(rid, discipline, subject, predicate, obj, origin, status, round(float(confidence), 4), source,
                        tuple(evidence))


def _chain(r) -> ChainView:
    return ChainView(r.id, r.discipline, r.rule, tuple(json.loads(r.relation_ids)), r.subject_id, r.predicate,
                     r.object_id)


def _gap(r) -> GapView | None:
    repair = json.loads(r.detail or "{}").get("repair") or {}
    return GapView(r.id, r.discipline, r.kind, r.unit, r.status, repair) if repair.get("examples") else None


def _alt_labels(session: Session, condition, ids: set[str]) -> dict[str, tuple[str, ...]]:
    rows = session.execute(select(L.c.concept_id, L.c.text, C.c.pref_label).join(C, C.c.id == L.c.concept_id)
                           .where(condition, L.c.kind.in_(ALT_KINDS))).all()
    out: dict[str, set[str]] = defaultdict(set)
    for cid, text, pref in rows:
        text = text.strip()
        if cid in ids and text and text.casefold() != (pref or "").casefold():
            out[cid].add(text)
    return {cid: tuple(sorted(texts)) for cid, texts in out.items()}


def _evidence(session: Session, target, condition, *, concept: bool) -> dict[str, tuple[EvidenceView, ...]]:
    """The best few evidence rows per target: definitional first, then by score, then source order."""
    q = (select(target.label("target"), E.c.id, E.c.extractor, E.c.score, E.c.char_start, E.c.char_end, E.c.sentence,
                K.c.id.label("chunk"), K.c.ordinal, D.c.path)
         .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id).where(target.is_not(None)))
    owner = C if concept else R
    q = q.join(owner, owner.c.id == target).where(condition)
    # each row as its sort key (rank, -score, document, chunk ordinal, start, evidence id) followed by the
    # rest of its view: the ids are unique, so a plain sort never compares past the key
    best: dict[str, list] = defaultdict(list)
    rank = _EXTRACTOR_RANK.get
    for target, eid, extractor, score, start, end, sentence, chunk, ordinal, path in session.execute(q):
        best[target].append((rank(extractor, 3), -score, path, ordinal, start, eid, chunk, end, sentence))
    out = {}
    for key, rows in best.items():
        rows.sort()
        out[key] = tuple(EvidenceView(r[5], r[2], r[6], r[4], r[7], r[8]) for r in rows[:EVIDENCE_PER_UNIT])
    return out
