"""The parse stage: spaCy over new or changed chunks, parses cached in the store.

Each chunk's parse (compact bytes, see :func:`nlp.to_bytes`) and its noun-phrase term candidates are stored, keyed by the
model id, so later stages and later runs never parse the same text twice. The work function
is pure (texts in, bytes and candidates out) and runs behind an :mod:`executor`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from syllabus.extract.executor import make_executor
from syllabus.extract.nlp import from_bytes, load_pipeline, to_bytes
from syllabus.extract.terms import VERSION as TERMS_VERSION
from syllabus.extract.terms import candidate_terms
from syllabus.store.tables import Chunk, ChunkExtraction, ChunkParse, Document

K, D, P, X = Chunk.__table__, Document.__table__, ChunkParse.__table__, ChunkExtraction.__table__
TERMS = "syllabus.terms"
_BATCH_CHUNKS = 512
_TASKS_PER_WORKER = 8  # with several workers, tasks small enough that none waits long for the last one
_worker_nlp = None


def _init_worker(model: str | None) -> None:
    global _worker_nlp
    _worker_nlp = load_pipeline(model)


def terms_payload(doc) -> str:
    return json.dumps([[t.norm, t.surface, t.start_char, t.end_char, t.sent_start, t.sent_end]
                       for t in candidate_terms(doc)], separators=(",", ":"))


def parse_texts(batch: tuple[list[str], int]) -> list[tuple[bytes, str]]:
    """Parse texts; for each, the parse bytes and the JSON list of term candidates."""
    texts, batch_size = batch
    return [(to_bytes(doc), terms_payload(doc)) for doc in _worker_nlp.pipe(texts, batch_size=batch_size)]


def terms_state(model: str) -> str:
    return f"{model}|terms@{TERMS_VERSION}"


def refresh_terms(session: Session, discipline: str, model: str, nlp) -> int:
    """Recompute cached term candidates from cached parses when the candidate code changed."""
    state = terms_state(model)
    fresh = select(X.c.chunk_id).where(X.c.extractor == TERMS, X.c.state == state)
    ids = list(session.scalars(select(P.c.chunk_id).join(K, K.c.id == P.c.chunk_id).join(D, D.c.id == K.c.document_id)
                               .where(D.c.discipline == discipline, P.c.model == model, P.c.chunk_id.not_in(fresh))
                               .order_by(P.c.chunk_id)))
    for i in range(0, len(ids), _BATCH_CHUNKS):
        batch = ids[i:i + _BATCH_CHUNKS]
        rows = session.execute(select(P.c.chunk_id, P.c.data).where(P.c.chunk_id.in_(batch))).all()
        session.execute(delete(X).where(X.c.chunk_id.in_(batch), X.c.extractor == TERMS))
        session.execute(insert(X), [dict(chunk_id=c, extractor=TERMS, state=state,
                                         payload=terms_payload(from_bytes(data, nlp.vocab))) for c, data in rows])
    return len(ids)


@dataclass
class ParseReport:
    chunks: int = 0
    words: int = 0


def pending_chunks(session: Session, discipline: str, model: str) -> list[str]:
    """Ids of the discipline's chunks with no parse by *model*."""
    done = select(P.c.chunk_id).where(P.c.model == model)
    return list(session.scalars(select(K.c.id).join(D, D.c.id == K.c.document_id)
                                .where(D.c.discipline == discipline, K.c.id.not_in(done)).order_by(K.c.id)))


def task_size(chunks: int, workers: int, batch_size: int) -> int:
    """Chunks per parse task: large for one process; with several, enough tasks to keep all busy."""
    if workers <= 1:
        return _BATCH_CHUNKS
    return max(batch_size, min(_BATCH_CHUNKS, -(-chunks // (workers * _TASKS_PER_WORKER))))


def parse_pending(session: Session, discipline: str, model_name: str | None, model: str, workers: int = 1,
                  batch_size: int = 64, progress: Callable[[int], None] | None = None) -> ParseReport:
    """Parse every pending chunk of *discipline* and store parses and term candidates."""
    ids = pending_chunks(session, discipline, model)
    report = ParseReport()
    if not ids:
        return report
    size = task_size(len(ids), workers, batch_size)
    batches = [ids[i:i + size] for i in range(0, len(ids), size)]

    def inputs():
        for batch in batches:
            rows = dict(session.execute(select(K.c.id, K.c.text).where(K.c.id.in_(batch))).all())
            yield [rows[i] for i in batch], batch_size

    executor = make_executor(workers, _init_worker, (model_name,))
    try:
        for batch, results in zip(batches, executor.map(parse_texts, inputs())):
            session.execute(delete(P).where(P.c.chunk_id.in_(batch)))
            session.execute(delete(X).where(X.c.chunk_id.in_(batch), X.c.extractor == TERMS))
            session.execute(insert(P), [dict(chunk_id=c, model=model, data=r[0]) for c, r in zip(batch, results)])
            session.execute(insert(X), [dict(chunk_id=c, extractor=TERMS, state=terms_state(model), payload=r[1])
                                        for c, r in zip(batch, results)])
            report.chunks += len(batch)
            if progress:
                progress(len(batch))
    finally:
        executor.close()
    return report
