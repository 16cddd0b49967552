"""The LLM extractor (``[extract] extractors = ["patterns", "llm"]``): concepts, definitions, relations per chunk.

Each chunk is one request to the ``[llm]`` server (through :mod:`syllabus.llm.client`, so cached,
bounded and budgeted). The answer is a :class:`ChunkFacts` JSON object; every concept, definition
and relation carries a verbatim quote, and anything whose quote is not in the chunk (after
whitespace normalisation) is dropped. What survives becomes evidence rows named ``llm.concept``,
``llm.definition`` and ``llm.relation``, whose version is the model and the prompt's hash, and
relations of origin ``extracted`` with status ``proposed``, scored :data:`UNJUDGED_SCORE` (below the
default compile gate, so LLM facts wait for review or a judge). Labels resolve to the discipline's
concepts (case-insensitive); new labels become extracted concepts ``<prefix>:llm-<slug>`` owned by
this extractor (source ``llm``) and removed once no evidence names them.

A chunk is asked again only when the model, the prompt or the discipline's other concepts change;
an answer that stays invalid (E183) leaves the chunk without LLM facts, to be asked on the next run.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from syllabus.llm.client import LLMClient, Request, estimate, prompt_version
from syllabus.ontology.vocab import CORE_PREDICATES
from syllabus.store.batch import delete_ids
from syllabus.store.ids import relation_id
from syllabus.store.tables import Chunk, ChunkExtraction, Concept, Document, Evidence, Label, Relation

K, D, X, C, L, R, E = (t.__table__ for t in (Chunk, Document, ChunkExtraction, Concept, Label, Relation, Evidence))
NAME = "llm"
SOURCE = "llm"  # Concept.source of the concepts this extractor creates
CONCEPT, DEFINITION, RELATION = "llm.concept", "llm.definition", "llm.relation"
EVIDENCE_KINDS = (CONCEPT, DEFINITION, RELATION)
UNJUDGED_SCORE = 0.4
TEMPLATE = "extract.chunk"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FoundConcept(_Answer):
    label: str = Field(min_length=1, max_length=200, description="the term as written in the text")
    quote: str = Field(min_length=1, description="a sentence of the text, copied exactly, that uses the term")
    definition: str | None = Field(None, description="a sentence of the text, copied exactly, that defines it")


class FoundRelation(_Answer):
    subject: str = Field(min_length=1, max_length=200)
    predicate: Literal[CORE_PREDICATES]  # type: ignore[valid-type]
    object: str = Field(min_length=1, max_length=200)
    quote: str = Field(min_length=1, description="the sentence of the text, copied exactly, that states it")


class ChunkFacts(_Answer):
    concepts: list[FoundConcept] = Field(default_factory=list)
    relations: list[FoundRelation] = Field(default_factory=list)


SYSTEM = (
    "You extract facts for a knowledge graph from a passage of a technical text. Return one JSON object "
    "matching this schema, and nothing else:\n{schema}\n"
    "concepts: the domain terms the passage is about (not people, venues, citations or everyday words), each "
    "with a quote: a sentence copied exactly from the passage that uses it, and a definition only when the "
    "passage defines it (copied exactly). relations: facts the passage states between two of those concepts, "
    "with predicate one of: {predicates}; quote the sentence that states it, copied exactly. "
    "Report only what the passage says; an empty list is a good answer."
)
USER = "Passage:\n{text}"
# the shape in the prompt (short); the full JSON schema goes in response_format where the server takes it
SCHEMA_TEXT = ('{"concepts": [{"label": str, "quote": str, "definition": str or null}], '
               '"relations": [{"subject": label, "predicate": str, "object": label, "quote": str}]}')
VERSION = prompt_version(TEMPLATE, SYSTEM, USER, SCHEMA_TEXT, json.dumps(ChunkFacts.model_json_schema(), sort_keys=True))


def messages(text: str) -> tuple[dict[str, str], ...]:
    """The conversation asking for one chunk's facts."""
    system = SYSTEM.format(schema=SCHEMA_TEXT, predicates=", ".join(CORE_PREDICATES))
    return ({"role": "system", "content": system}, {"role": "user", "content": USER.format(text=text)})


def extractor_version(model: str) -> str:
    """Model and prompt in 32 characters: ``<model tail>-<model hash>-<prompt hash>``."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "-", model.rstrip("/").rsplit("/", 1)[-1])[:12]
    return f"{tail}-{hashlib.sha256(model.encode()).hexdigest()[:6]}-{VERSION}"


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """The span of *quote* in *text*, comparing with runs of whitespace collapsed; None when absent."""
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, text)
    return (match.start(), match.end()) if match else None


def norm_label(label: str) -> str:
    return " ".join(label.lower().split())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class LLMReport:
    chunks_asked: int = 0
    chunks_failed: int = 0
    failed_units: list[str] = field(default_factory=list)
    concepts_added: int = 0
    relations_added: int = 0
    evidence: int = 0
    dropped_quotes: int = 0
    usage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class LLMStage:
    """The LLM extractor for one command: one client, run per discipline inside the caller's transaction."""

    def __init__(self, ws, command: str = "syllabus extract", *, extracts: bool = True, judges: bool = False) -> None:
        self.ws = ws
        self.extracts, self.judges = extracts, judges
        self.client = LLMClient.from_workspace(ws, command)
        self.version = extractor_version(self.client.cfg.model)
        self.reports: dict[str, LLMReport] = {}

    def close(self) -> dict[str, int]:
        return self.client.close()

    def judge(self, session: Session, discipline: str) -> tuple[dict, dict[str, float]]:
        """The judge's report and its scores of the proposed relations (see :mod:`syllabus.extract.llm_judge`)."""
        from syllabus.extract.llm_judge import judge

        report, scores = judge(session, discipline, self.client)
        return {**report.to_dict(), "usage": self.client.usage.to_dict()}, scores

    # ------------------------------------------------------------------ planning

    def pending(self, session: Session, discipline: str) -> tuple[str, list[tuple[str, str, str]]]:
        """The chunk state and the (chunk id, unit name, text) of chunks not yet extracted in it."""
        labels = sorted(self._labels(session, discipline, own=False))
        state = hashlib.sha256(json.dumps([self.version, labels]).encode()).hexdigest()
        done = select(X.c.chunk_id).where(X.c.extractor == NAME, X.c.state == state)
        rows = session.execute(select(K.c.id, D.c.path, K.c.ordinal, K.c.text).join(D, D.c.id == K.c.document_id)
                               .where(D.c.discipline == discipline, K.c.id.not_in(done)).order_by(K.c.id)).all()
        return state, [(cid, f"chunk {cid} ({path} #{ordinal})", text) for cid, path, ordinal, text in rows]

    def requests(self, chunks: list[tuple[str, str, str]]) -> list[Request]:
        return [Request(unit, TEMPLATE, VERSION, messages(text), answer=ChunkFacts) for _, unit, text in chunks]

    def plan(self, session: Session, discipline: str) -> dict:
        """Extraction's chunks and estimate (all zero when only judging), and the judge's when it is on."""
        _, chunks = self.pending(session, discipline) if self.extracts else (None, [])
        out = {"discipline": discipline, "chunks": len(chunks), **estimate(self.client, self.requests(chunks)).to_dict()}
        if self.judges:
            from syllabus.extract.llm_judge import judge_requests

            out["judge"] = estimate(self.client, [r for _, r in judge_requests(session, discipline)]).to_dict()
        return out

    # ------------------------------------------------------------------ running

    def run(self, session: Session, discipline: str, prefix: str, rejected: frozenset[str] = frozenset()) -> LLMReport:
        report = self.reports.setdefault(discipline, LLMReport())
        state, chunks = self.pending(session, discipline)
        answers = self.client.ask_all(self.requests(chunks))  # transport errors propagate: nothing written
        known = self._labels(session, discipline, own=True)
        owned = set(session.scalars(select(C.c.id).where(C.c.discipline == discipline, C.c.source == SOURCE)))
        onto_rel = {(r.subject_id, r.predicate, r.object_id): r.id for r in session.execute(
            select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id).where(R.c.origin == "ontology"))}
        extracted_rel = set(session.scalars(select(R.c.id).where(R.c.origin == "extracted")))
        ids = [c[0] for c in chunks]
        for i in range(0, len(ids), 500):
            session.execute(delete(E).where(E.c.chunk_id.in_(ids[i:i + 500]), E.c.extractor.in_(EVIDENCE_KINDS)))
            session.execute(delete(X).where(X.c.chunk_id.in_(ids[i:i + 500]), X.c.extractor == NAME))
        evidence, done = [], []
        for (chunk_id, unit, text), answer in zip(chunks, answers):
            report.chunks_asked += 1
            if not answer.ok:
                report.chunks_failed += 1
                report.failed_units.append(unit)
                continue
            done.append(chunk_id)
            facts: ChunkFacts = answer.data  # type: ignore[assignment]
            for found in facts.concepts:
                span = find_quote(text, found.quote)
                if span is None:
                    report.dropped_quotes += 1
                    continue
                cid = known.get(norm_label(found.label))
                if cid is None:
                    cid = f"{prefix}:llm-{_slug(found.label)}"
                    if cid in rejected or not _slug(found.label):
                        continue
                    if cid not in owned:
                        self._add_concept(session, discipline, cid, found.label)
                        owned.add(cid)
                        report.concepts_added += 1
                    known[norm_label(found.label)] = cid
                evidence.append(self._ev(chunk_id, CONCEPT, span, text, concept_id=cid))
                if found.definition:
                    dspan = find_quote(text, found.definition)
                    if dspan is None:
                        report.dropped_quotes += 1
                    else:
                        evidence.append(self._ev(chunk_id, DEFINITION, dspan, text, concept_id=cid))
            for rel in facts.relations:
                span = find_quote(text, rel.quote)
                s, o = known.get(norm_label(rel.subject)), known.get(norm_label(rel.object))
                if span is None:
                    report.dropped_quotes += 1
                    continue
                if s is None or o is None or s == o:
                    continue
                rid = onto_rel.get((s, rel.predicate, o))
                if rid is None:
                    rid = relation_id(s, rel.predicate, o, "extracted")
                    if rid not in extracted_rel:
                        extracted_rel.add(rid)
                        session.execute(insert(R), [dict(id=rid, discipline=discipline, subject_id=s,
                                                         predicate=rel.predicate, object_id=o, origin="extracted",
                                                         status="proposed", confidence=UNJUDGED_SCORE, source=None)])
                        report.relations_added += 1
                evidence.append(self._ev(chunk_id, RELATION, span, text, relation_id=rid))
        for i in range(0, len(evidence), 5000):
            session.execute(insert(E), evidence[i:i + 5000])
        report.evidence += len(evidence)
        if done:
            session.execute(insert(X), [dict(chunk_id=c, extractor=NAME, state=state, payload=None) for c in done])
        self._drop_unsupported(session, discipline)
        report.usage = self.client.usage.to_dict()
        return report

    def _ev(self, chunk_id: str, kind: str, span: tuple[int, int], text: str, concept_id=None, relation_id=None):
        start, end = span
        return dict(chunk_id=chunk_id, extractor=kind, extractor_version=self.version, char_start=start,
                    char_end=end, sentence=text[start:end], score=UNJUDGED_SCORE, concept_id=concept_id,
                    relation_id=relation_id)

    def _labels(self, session: Session, discipline: str, own: bool) -> dict[str, str]:
        """Normalised label -> concept id of the discipline's active concepts (first id wins on clashes)."""
        q = select(C.c.id, C.c.pref_label, C.c.source).where(C.c.discipline == discipline, C.c.status == "active")
        out: dict[str, str] = {}
        rows = [(cid, label, source) for cid, label, source in session.execute(q) if label]
        rows += list(session.execute(select(L.c.concept_id, L.c.text, C.c.source).join(C, C.c.id == L.c.concept_id)
                                     .where(C.c.discipline == discipline, C.c.status == "active")))
        for cid, label, source in sorted(rows, key=lambda r: (r[2] == SOURCE, r[0], r[1])):
            if own or source != SOURCE:
                out.setdefault(norm_label(label), cid)
        return out

    def _add_concept(self, session: Session, discipline: str, cid: str, label: str) -> None:
        session.execute(insert(C), [dict(id=cid, discipline=discipline, pref_label=" ".join(label.split()),
                                         definition=None, type=None, origin="extracted", status="active",
                                         source=SOURCE)])

    def _drop_unsupported(self, session: Session, discipline: str) -> None:
        """Concepts this extractor created that no evidence names any more."""
        named = select(E.c.concept_id).where(E.c.concept_id.is_not(None), E.c.extractor.in_(EVIDENCE_KINDS))
        gone = sorted(session.scalars(select(C.c.id).where(C.c.discipline == discipline, C.c.source == SOURCE,
                                                           C.c.id.not_in(named))))
        delete_ids(session, C, gone)


def llm_stage(ws, extractors: list[str], judge: bool = False) -> LLMStage | None:
    """The LLM stage when ``llm`` is among *extractors* or *judge* is on, else None (names: ``registry.check``)."""
    if NAME not in extractors and not judge:
        return None
    return LLMStage(ws, extracts=NAME in extractors, judges=judge)


def prefetch(ws, names: list[str], judge: bool = False) -> LLMStage | None:
    """Ask the LLM about every chunk not yet extracted, before extraction opens its write transaction.

    The store is only read (in a transaction closed before the first request), so a long LLM run
    does not hold the store's write lock; extraction then finds the answers in the cache. Returns
    the stage (its client keeps this command's counts) to hand to :func:`syllabus.extract.run.extract`.
    """
    from syllabus.store import open_store

    stage = llm_stage(ws, ws.config.extract.extractors, ws.config.extract.judge or judge)
    if stage is None or not stage.extracts:
        return stage
    store = open_store(ws.store_url)
    try:
        with store.transaction() as session:
            requests = [r for name in names for r in stage.requests(stage.pending(session, name)[1])]
    finally:
        store.close()
    stage.client.ask_all(requests)
    return stage


def count_llm_evidence(session: Session, discipline: str) -> int:
    return session.scalar(select(func.count()).select_from(E).join(K, K.c.id == E.c.chunk_id)
                          .join(D, D.c.id == K.c.document_id)
                          .where(D.c.discipline == discipline, E.c.extractor.in_(EVIDENCE_KINDS))) or 0
