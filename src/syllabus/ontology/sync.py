"""Importing an ontology file is a sync: the store is made to hold exactly what the file says.

Concepts and relations of origin ``ontology`` remember the file they came from. Re-importing a
file adds what is new, updates what changed and removes what the file no longer has; facts of
any other origin are never touched. A removed concept that something else still points at (a
relation from another file or origin, or evidence) is kept, detached from the file and marked
``deprecated`` instead of deleted. Objects of relations that no file defines (for example
``UBERON:...`` in the Cell Ontology) are kept as ``external`` stubs while referenced.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from syllabus.config import Workspace
from syllabus.errors import SyllabusError
from syllabus.ontology.curie import workspace_curies
from syllabus.ontology.formats import detect_format, read_bytes
from syllabus.ontology.model import ParsedOntology
from syllabus.ontology.reader import read_ontology
from syllabus.store.ids import relation_id
from syllabus.store.tables import (
    Concept,
    Discipline,
    Evidence,
    Label,
    OntologySource,
    Relation,
)

IMPORTER_VERSION = "syllabus-ontology-import/1"
_BATCH = 500

C, L, R, S = Concept.__table__, Label.__table__, Relation.__table__, OntologySource.__table__


@dataclass
class SyncReport:
    discipline: str
    file: str
    format: str
    unchanged_file: bool = False
    concepts_added: int = 0
    concepts_changed: int = 0
    concepts_removed: int = 0
    concepts_deprecated: int = 0
    relations_added: int = 0
    relations_removed: int = 0
    externals_added: int = 0
    externals_removed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return any(v for k, v in asdict(self).items() if isinstance(v, int) and not isinstance(v, bool))


def ensure_discipline(session: Session, workspace: Workspace, name: str) -> None:
    """Create or update the discipline row from syllabus.toml."""
    cfg = workspace.discipline(name)
    row = session.get(Discipline, name)
    if row is None:
        session.add(Discipline(name=name, prefix=cfg.prefix, iri=cfg.iri))
        session.flush()
    elif (row.prefix, row.iri) != (cfg.prefix, cfg.iri):
        row.prefix, row.iri = cfg.prefix, cfg.iri


def import_file(session: Session, workspace: Workspace, discipline: str, path: Path,
                fmt: str | None = None, force: bool = False) -> SyncReport:
    """Sync one ontology file into the store inside the caller's transaction."""
    ensure_discipline(session, workspace, discipline)
    path = workspace.path(path)
    shown = workspace.relative(path)
    fmt = detect_format(path, fmt)
    data = read_bytes(path, shown)
    sha = hashlib.sha256(data).hexdigest()
    report = SyncReport(discipline, shown, fmt)
    if not force and _unchanged(session, discipline, shown, fmt, sha):
        report.unchanged_file = True
        return report
    parsed = read_ontology(path, workspace_curies(workspace), shown, fmt, data)
    _check_duplicates(parsed)
    _sync(session, discipline, shown, parsed, report)
    n_concepts, n_relations = _owned_counts(session, shown)
    session.execute(delete(S).where(S.c.discipline == discipline, S.c.path == shown))
    session.execute(insert(S).values(discipline=discipline, path=shown, format=fmt, sha256=sha,
                                     importer=IMPORTER_VERSION, n_concepts=n_concepts, n_relations=n_relations))
    return report


def _owned_counts(session: Session, shown: str) -> tuple[int, int]:
    """How many concepts and relations of origin ontology the file *shown* owns."""
    return (session.scalar(select(func.count()).select_from(C).where(C.c.source == shown, C.c.origin == "ontology")),
            session.scalar(select(func.count()).select_from(R).where(R.c.source == shown, R.c.origin == "ontology")))


def _unchanged(session: Session, discipline: str, shown: str, fmt: str, sha: str) -> bool:
    row = session.execute(select(S).where(S.c.discipline == discipline, S.c.path == shown)).first()
    if row is None or (row.sha256, row.format, row.importer) != (sha, fmt, IMPORTER_VERSION):
        return False
    n_concepts, n_relations = _owned_counts(session, shown)
    return _owned_counts(session, shown) == (row.n_concepts, row.n_relations)


def _check_duplicates(parsed: ParsedOntology) -> None:
    seen: dict[str, object] = {}
    for concept in parsed.concepts:
        if concept.id in seen:
            raise SyllabusError("E026", file=parsed.path, id=concept.id,
                                where=f" (first at {seen[concept.id]}, again at {concept.where})")
        seen[concept.id] = concept.where


def _chunks(items: list, size: int = _BATCH):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _sync(session: Session, discipline: str, shown: str, parsed: ParsedOntology, report: SyncReport) -> None:
    wanted = parsed.concept_map()
    wanted_ids = sorted(wanted)
    # Who owns each id the file defines, right now?
    existing: dict[str, object] = {}
    for batch in _chunks(wanted_ids):
        for row in session.execute(select(C).where(C.c.id.in_(batch))):
            existing[row.id] = row
    for cid in wanted_ids:
        row = existing.get(cid)
        if row is not None and row.origin == "ontology" and row.source not in (None, shown):
            raise SyllabusError("E025", file=shown, id=cid, owner=f"{row.source} (discipline {row.discipline})")
    owned = {row.id: row for row in session.execute(select(C).where(C.c.source == shown, C.c.origin == "ontology"))}
    labels: dict[str, set[tuple[str, str]]] = {}
    for row in session.execute(select(L.c.concept_id, L.c.kind, L.c.text).join(C, C.c.id == L.c.concept_id)
                               .where(C.c.source == shown, C.c.origin == "ontology", L.c.origin == "ontology")):
        labels.setdefault(row.concept_id, set()).add((row.kind, row.text))

    new_rows, changed_rows, label_rows, relabel = [], [], [], []
    for cid in wanted_ids:
        record = wanted[cid]
        values = dict(id=cid, discipline=discipline, pref_label=record.pref_label, definition=record.definition,
                      type=record.type, origin="ontology", status=record.status, source=shown)
        current = owned.get(cid)
        if current is None:
            if cid in existing:  # adopt an external stub or an extracted concept
                changed_rows.append(values)
                relabel.append(cid)
                report.concepts_added += 1
            else:
                new_rows.append(values)
                report.concepts_added += 1
            label_rows += [dict(concept_id=cid, kind=k, text=t, origin="ontology") for k, t in sorted(record.labels)]
            continue
        old = (current.discipline, current.pref_label, current.definition, current.type, current.status)
        new = (discipline, record.pref_label, record.definition, record.type, record.status)
        if old != new or labels.get(cid, set()) != record.labels:
            changed_rows.append(values)
            relabel.append(cid)
            label_rows += [dict(concept_id=cid, kind=k, text=t, origin="ontology") for k, t in sorted(record.labels)]
            report.concepts_changed += 1

    wanted_labels = {(r["concept_id"], r["kind"], r["text"]) for r in label_rows}
    for batch in _chunks(relabel):
        session.execute(delete(L).where(L.c.concept_id.in_(batch), L.c.origin == "ontology"))
        # an extracted label the file now states is accepted into the ontology
        for row in session.execute(select(L.c.id, L.c.concept_id, L.c.kind, L.c.text).where(L.c.concept_id.in_(batch))):
            if (row.concept_id, row.kind, row.text) in wanted_labels:
                session.execute(delete(L).where(L.c.id == row.id))
    for values in changed_rows:
        session.execute(update(C).where(C.c.id == values["id"]).values(**values))
    for batch in _chunks(new_rows, 5000):
        session.execute(insert(C), batch)
    for batch in _chunks(label_rows, 5000):
        session.execute(insert(L), batch)

    _sync_relations(session, discipline, shown, parsed, report)
    _remove_concepts(session, sorted(set(owned) - set(wanted)), report)
    _collect_externals(session, report)


def _sync_relations(session: Session, discipline: str, shown: str, parsed: ParsedOntology,
                    report: SyncReport) -> None:
    wanted = {r.key for r in parsed.relations}
    current = {(row.subject_id, row.predicate, row.object_id): row.id for row in session.execute(
        select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id).where(R.c.source == shown, R.c.origin == "ontology"))}
    stale = sorted(current[k] for k in set(current) - wanted)
    for batch in _chunks(stale):
        session.execute(delete(R).where(R.c.id.in_(batch)))
    report.relations_removed += len(stale)
    to_add = sorted(wanted - set(current))
    if not to_add:
        return
    ids = {relation_id(s, p, o, "ontology"): (s, p, o) for s, p, o in to_add}
    taken = set()
    for batch in _chunks(sorted(ids)):
        taken.update(session.scalars(select(R.c.id).where(R.c.id.in_(batch))))
    objects = sorted({o for _, _, o in to_add} | {s for s, _, _ in to_add})
    known = set()
    for batch in _chunks(objects):
        known.update(session.scalars(select(C.c.id).where(C.c.id.in_(batch))))
    stubs = [dict(id=o, discipline=discipline, pref_label=None, definition=None, type=None, origin="external",
                  status="active", source=None) for o in objects if o not in known]
    for batch in _chunks(stubs, 5000):
        session.execute(insert(C), batch)
    report.externals_added += len(stubs)
    rows = [dict(id=rid, discipline=discipline, subject_id=s, predicate=p, object_id=o, origin="ontology",
                 status="asserted", confidence=1.0, source=shown)
            for rid, (s, p, o) in sorted(ids.items()) if rid not in taken]
    for batch in _chunks(rows, 5000):
        session.execute(insert(R), batch)
    report.relations_added += len(rows)


def _remove_concepts(session: Session, gone: list[str], report: SyncReport) -> None:
    """Delete concepts the file dropped; keep those something still points at.

    A dropped concept that only ontology relations still reference becomes an external stub
    (exactly what importing the file into an empty store would give); one that evidence or a
    fact of another origin references is kept, detached from the file and deprecated.
    """
    if not gone:
        return
    E = Evidence.__table__
    by_ontology: set[str] = set()
    by_other: set[str] = set()
    for batch in _chunks(gone):
        for s, o, origin in session.execute(select(R.c.subject_id, R.c.object_id, R.c.origin).where(
                or_(R.c.subject_id.in_(batch), R.c.object_id.in_(batch)))):
            (by_ontology if origin == "ontology" else by_other).update((s, o))
        by_other.update(session.scalars(select(E.c.concept_id).where(E.c.concept_id.in_(batch))))
        by_other.update(session.scalars(select(L.c.concept_id).where(L.c.concept_id.in_(batch), L.c.origin != "ontology")))
    deprecate = sorted(set(gone) & by_other)
    stub = sorted((set(gone) & by_ontology) - by_other)
    drop = sorted(set(gone) - by_ontology - by_other)
    for batch in _chunks(deprecate):
        session.execute(update(C).where(C.c.id.in_(batch)).values(status="deprecated", source=None))
    for batch in _chunks(stub):
        session.execute(delete(L).where(L.c.concept_id.in_(batch)))
        session.execute(update(C).where(C.c.id.in_(batch)).values(
            origin="external", status="active", source=None, pref_label=None, definition=None, type=None))
    for batch in _chunks(drop):
        session.execute(delete(L).where(L.c.concept_id.in_(batch)))
        session.execute(delete(C).where(C.c.id.in_(batch)))
    report.concepts_deprecated += len(deprecate)
    report.concepts_removed += len(drop) + len(stub)
    report.externals_added += len(stub)


def _collect_externals(session: Session, report: SyncReport) -> None:
    """Remove external stubs that no relation points at any more."""
    used = select(R.c.object_id).union(select(R.c.subject_id))
    orphans = sorted(session.scalars(select(C.c.id).where(C.c.origin == "external", C.c.id.not_in(used))))
    for batch in _chunks(orphans):
        session.execute(delete(C).where(C.c.id.in_(batch)))
    report.externals_removed += len(orphans)


def declared_files(workspace: Workspace, discipline: str) -> list[Path]:
    files = [workspace.path(p) for p in workspace.discipline(discipline).ontologies]
    if not files:
        raise SyllabusError("E027", name=discipline)
    return files

