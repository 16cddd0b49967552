"""`syllabus ingest`: corpus files -> documents and chunks in the store.

A document is identified by (discipline, path) and its content hash. An unchanged file is a
no-op. A changed file keeps the chunks whose text is unchanged (their ids hash the path, the
chunk text and its occurrence number, so evidence on them survives with updated offsets),
removes the others with their evidence, and adds new ones; facts of origin ``extracted`` left
without evidence are then removed and counted. Each file is written inside a savepoint, so a
bad file is skipped with a coded warning and never leaves partial rows.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from syllabus.config import Workspace
from syllabus.corpus.chunking import chunk_document
from syllabus.corpus.readers import SUPPORTED, read_file, reader_for
from syllabus.errors import SyllabusError
from syllabus.ontology.sync import ensure_discipline
from syllabus.store.batch import delete_ids
from syllabus.store.gc import collect_garbage
from syllabus.store.tables import Chunk, Document

D, K = Document.__table__, Chunk.__table__


@dataclass
class Skipped:
    file: str
    code: str
    message: str


@dataclass
class IngestReport:
    discipline: str
    documents_added: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    documents_removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks: int = 0
    words: int = 0
    facts_removed: dict = field(default_factory=lambda: {"relations": 0, "concepts": 0})
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def corpus_files(roots: list[Path]) -> list[Path]:
    """Every non-hidden file under *roots* (files or folders), sorted."""
    out = []
    for root in roots:
        if root.is_file():
            out.append(root)
        elif root.is_dir():
            out += [p for p in root.rglob("*") if p.is_file() and not any(
                part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(set(out))


def chunk_id(discipline: str, path: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{discipline}\x1f{path}\x1f{occurrence}\x1f{text}".encode()).hexdigest()
    return "chk:" + digest[:28]


def ingest(session: Session, ws: Workspace, discipline: str, paths: list[Path] | None = None,
           prune: bool = False) -> IngestReport:
    """Sync corpus files of *discipline* into the store inside the caller's transaction."""
    ensure_discipline(session, ws, discipline)
    cfg = ws.config.ingest
    roots = [ws.path(p) for p in (paths or ws.discipline(discipline).corpora)]
    report = IngestReport(discipline)
    seen: set[str] = set()
    for path in corpus_files(roots):
        shown = ws.relative(path)
        seen.add(shown)
        if reader_for(path) is None:
            report.skipped.append(_skip(SyllabusError("E045", file=shown, suffix=path.suffix or "(none)",
                                                      known=", ".join(SUPPORTED))))
            continue
        try:
            with session.begin_nested():
                _ingest_file(session, discipline, path, shown, cfg, report)
        except SyllabusError as exc:
            report.skipped.append(_skip(exc))
    if prune:
        _prune(session, discipline, roots, seen, ws, report)
    if report.chunks_removed or report.documents_removed:
        report.facts_removed = collect_garbage(session, discipline)
    for n_words, in session.execute(select(D.c.n_words).where(D.c.discipline == discipline)):
        report.words += n_words
    report.chunks = session.scalar(select(func.count()).select_from(K).join(D, D.c.id == K.c.document_id)
                                   .where(D.c.discipline == discipline))
    return report


def _skip(exc: SyllabusError) -> Skipped:
    return Skipped(exc.fields.get("file", ""), exc.code, exc.message)


def _ingest_file(session: Session, discipline: str, path: Path, shown: str, cfg, report: IngestReport) -> None:
    size = path.stat().st_size
    if size > cfg.max_file_bytes:
        raise SyllabusError("E044", file=shown, size=size, limit=cfg.max_file_bytes)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    row = session.execute(select(D.c.id, D.c.sha256).where(D.c.discipline == discipline, D.c.path == shown)).first()
    if row is not None and row.sha256 == sha:
        report.documents_unchanged += 1
        return
    result = read_file(path, shown=shown, jsonl_field=cfg.jsonl_field, max_bytes=cfg.max_file_bytes)
    spans = chunk_document(result, cfg.chunk_words)
    n_words = sum(len(s.text.split()) for s in spans)
    occurrences: dict[str, int] = {}
    wanted = []
    for span in spans:
        n = occurrences.get(span.text, 0)
        occurrences[span.text] = n + 1
        wanted.append((chunk_id(discipline, shown, span.text, n), span))
    if row is None:
        doc_id = session.execute(insert(D).values(discipline=discipline, path=shown, sha256=sha, n_words=n_words)
                                 .returning(D.c.id)).scalar_one()
        report.documents_added += 1
        existing: set[str] = set()
    else:
        doc_id = row.id
        session.execute(update(D).where(D.c.id == doc_id).values(sha256=sha, n_words=n_words))
        report.documents_changed += 1
        existing = set(session.scalars(select(K.c.id).where(K.c.document_id == doc_id)))
        stale = sorted(existing - {cid for cid, _ in wanted})
        delete_ids(session, K, stale)
        report.chunks_removed += len(stale)
        # kept chunks move out of the way of the (document, ordinal) key, then take their new places
        session.execute(update(K).where(K.c.document_id == doc_id).values(ordinal=-1 - K.c.ordinal))
    new_rows = []
    for cid, span in wanted:
        values = dict(ordinal=span.ordinal, section=span.section, char_start=span.start, char_end=span.end)
        if cid in existing:
            session.execute(update(K).where(K.c.id == cid).values(**values))
        else:
            new_rows.append(dict(id=cid, document_id=doc_id, text=span.text,
                                 sha256=hashlib.sha256(span.text.encode()).hexdigest(), **values))
    if new_rows:
        session.execute(insert(K), new_rows)
    report.chunks_added += len(new_rows)


def _prune(session: Session, discipline: str, roots: list[Path], seen: set[str], ws: Workspace,
           report: IngestReport) -> None:
    """Remove documents whose files are gone from the scanned folders."""
    prefixes = [ws.relative(r) for r in roots]
    for doc_id, path in session.execute(select(D.c.id, D.c.path).where(D.c.discipline == discipline)).all():
        inside = any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)
        if inside and path not in seen and not ws.path(path).exists():
            session.execute(delete(D).where(D.c.id == doc_id))
            report.documents_removed += 1
