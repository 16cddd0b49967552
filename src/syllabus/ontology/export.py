"""Exporting a discipline from the store as an ontology file (Turtle or OBO)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from syllabus.config import Workspace
from syllabus.errors import SyllabusError
from syllabus.ontology.curie import workspace_curies
from syllabus.ontology.model import ConceptRecord, ParsedOntology, RelationRecord
from syllabus.ontology.writers import write_obo, write_turtle
from syllabus.store.tables import Concept, Label, Relation

EXPORT_FORMATS = ("ttl", "obo")


def load_discipline(session: Session, discipline: str, origins: tuple[str, ...] = ("ontology",)) -> ParsedOntology:
    """The store's concepts and relations of *discipline* as a :class:`ParsedOntology`."""
    C, L, R = Concept.__table__, Label.__table__, Relation.__table__
    concepts: dict[str, ConceptRecord] = {}
    for row in session.execute(select(C).where(C.c.discipline == discipline, C.c.origin.in_(origins)).order_by(C.c.id)):
        concepts[row.id] = ConceptRecord(id=row.id, pref_label=row.pref_label, definition=row.definition,
                                         type=row.type, status=row.status)
    for row in session.execute(select(L.c.concept_id, L.c.kind, L.c.text).join(C, C.c.id == L.c.concept_id)
                               .where(C.c.discipline == discipline, C.c.origin.in_(origins))):
        concepts[row.concept_id].labels.add((row.kind, row.text))
    relations = [RelationRecord(row.subject_id, row.predicate, row.object_id) for row in session.execute(
        select(R.c.subject_id, R.c.predicate, R.c.object_id).where(
            R.c.discipline == discipline, R.c.origin.in_(origins), R.c.status == "asserted")
        .order_by(R.c.subject_id, R.c.predicate, R.c.object_id))
        if row.subject_id in concepts]
    return ParsedOntology(path=f"store:{discipline}", format="store", concepts=list(concepts.values()),
                          relations=relations)


def render(session: Session, workspace: Workspace, discipline: str, fmt: str) -> str:
    """The discipline's ontology facts serialised as *fmt* (``ttl`` or ``obo``)."""
    if fmt not in EXPORT_FORMATS:
        raise SyllabusError("E021", file="--format", format=fmt, known=", ".join(EXPORT_FORMATS))
    cfg = workspace.discipline(discipline)
    ontology = load_discipline(session, discipline)
    if fmt == "obo":
        return write_obo(ontology, discipline)
    return write_turtle(ontology, workspace_curies(workspace), cfg.iri.rstrip("/#_"))

