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


def load_discipline(session: Session, discipline: str, include_proposed: bool = False) -> ParsedOntology:
    """The store's ontology facts of *discipline* as a :class:`ParsedOntology`; with
    *include_proposed*, also extracted concepts, labels and proposed relations, marked as such."""
    C, L, R = Concept.__table__, Label.__table__, Relation.__table__
    origins = ("ontology", "extracted") if include_proposed else ("ontology",)
    label_origins = ("ontology", "resolved", "extracted") if include_proposed else ("ontology",)
    statuses = ("asserted", "proposed") if include_proposed else ("asserted",)
    concepts: dict[str, ConceptRecord] = {}
    proposed: dict[tuple, str] = {}
    for row in session.execute(select(C).where(C.c.discipline == discipline, C.c.origin.in_(origins)).order_by(C.c.id)):
        concepts[row.id] = ConceptRecord(id=row.id, pref_label=row.pref_label, definition=row.definition,
                                         type=row.type, status=row.status)
        if row.origin != "ontology":
            proposed[("concept", row.id)] = "extracted from the corpus"
    for row in session.execute(select(L.c.concept_id, L.c.kind, L.c.text, L.c.origin).join(C, C.c.id == L.c.concept_id)
                               .where(C.c.discipline == discipline, C.c.origin.in_(origins),
                                      L.c.origin.in_(label_origins))):
        concepts[row.concept_id].labels.add((row.kind, row.text))
        if row.origin != "ontology" and ("concept", row.concept_id) not in proposed:
            proposed[("label", row.concept_id, row.kind, row.text)] = f"{row.origin} label"
    relations = []
    for row in session.execute(select(R.c.subject_id, R.c.predicate, R.c.object_id, R.c.status, R.c.confidence).where(
            R.c.discipline == discipline, R.c.origin.in_(origins), R.c.status.in_(statuses))
            .order_by(R.c.subject_id, R.c.predicate, R.c.object_id)):
        # a proposal is exported only when both ends are (an asserted edge may point outside)
        if row.subject_id in concepts and (row.status == "asserted" or row.object_id in concepts):
            relations.append(RelationRecord(row.subject_id, row.predicate, row.object_id))
            if row.status == "proposed":
                proposed[("relation", row.subject_id, row.predicate, row.object_id)] = f"confidence {row.confidence:.2f}"
    return ParsedOntology(path=f"store:{discipline}", format="store", concepts=list(concepts.values()),
                          relations=relations, proposed=proposed)


def render(session: Session, workspace: Workspace, discipline: str, fmt: str, include_proposed: bool = False) -> str:
    """The discipline's ontology facts serialised as *fmt* (``ttl`` or ``obo``), optionally with
    extracted proposals marked for review."""
    if fmt not in EXPORT_FORMATS:
        raise SyllabusError("E021", file="--format", format=fmt, known=", ".join(EXPORT_FORMATS))
    cfg = workspace.discipline(discipline)
    ontology = load_discipline(session, discipline, include_proposed)
    if fmt == "obo":
        return write_obo(ontology, discipline)
    return write_turtle(ontology, workspace_curies(workspace), cfg.iri.rstrip("/#_"))

