"""Review through an exported ontology file edited in git.

``syllabus ontology export --include-proposed`` writes the extracted facts next to the ontology's,
each marked PROPOSED (OBO: a ``comment: PROPOSED`` line in the stanza and ``{status="proposed"}``
on relation lines; Turtle: ``# PROPOSED`` comments). A domain expert edits that file: deleting a
proposed stanza or relation line rejects it, removing its PROPOSED mark accepts it, deleting a
concept's ``def:`` / ``skos:definition`` rejects that definition; whatever keeps its mark waits.
:func:`file_decisions` reads the edited file back into those decisions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from syllabus.extract.review import DEFINITION_PREFIX, proposed_facts
from syllabus.ontology.curie import Curies
from syllabus.ontology.reader import read_ontology
from syllabus.ontology.writers import property_iri
from syllabus.store.tables import Relation

R = Relation.__table__


@dataclass
class Marks:
    """What the edited file still marks PROPOSED."""

    concepts: set[str] = field(default_factory=set)
    relations: set[tuple[str, str, str]] = field(default_factory=set)


def obo_marks(text: str) -> Marks:
    marks, current = Marks(), None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            current = None
        elif line.startswith("id:") and current is None:
            current = line[3:].strip()
        elif current and line.startswith("comment:") and "PROPOSED" in line:
            marks.concepts.add(current)
        elif current and 'status="proposed"' in line:
            tag, _, value = line.partition(":")
            words = value.split("{")[0].split()
            if tag == "is_a" and words:
                marks.relations.add((current, "is_a", words[0]))
            elif tag == "relationship" and len(words) >= 2:
                marks.relations.add((current, words[0], words[1]))
    return marks


_TTL_SUBJECT = re.compile(r"^(<[^>]+>|[\w.-]*:[\w.-]*)\s+a\s+owl:Class")
_TTL_TARGET = re.compile(r"(?:rdfs:subClassOf|skos:related|owl:someValuesFrom)\s+(<[^>]+>|[\w.-]*:[\w.-]*)")
_TTL_PROPERTY = re.compile(r"owl:onProperty\s+(<[^>]+>|[\w.-]*:[\w.-]*)")


def ttl_marks(text: str, curies: Curies, predicates: dict[str, str]) -> Marks:
    """Marks in Turtle written by the exporter (*predicates*: property IRI -> predicate name)."""
    def ident(token: str) -> str:
        return curies.compress(token[1:-1] if token.startswith("<") else curies.expand(token))

    marks, current, concept_marked = Marks(), None, False
    for line in text.splitlines():
        if line.startswith("# PROPOSED concept"):
            concept_marked = True
            continue
        subject = _TTL_SUBJECT.match(line)
        if subject:
            current = ident(subject.group(1))
            if concept_marked:
                marks.concepts.add(current)
            concept_marked = False
        if current is None or "# PROPOSED" not in line:
            continue
        body = line.split("# PROPOSED")[0]
        target = _TTL_TARGET.search(body)
        if not target:
            continue
        prop = _TTL_PROPERTY.search(body)
        if prop:
            token = prop.group(1)
            iri = token[1:-1] if token.startswith("<") else curies.expand(token)
            predicate = predicates.get(iri, curies.compress(iri))
        else:
            predicate = "related_to" if "skos:related" in body else "is_a"
        marks.relations.add((current, predicate, ident(target.group(1))))
    return marks


def file_decisions(session: Session, discipline: str, path: Path, curies: Curies,
                   fmt: str | None = None) -> dict[str, list[str]]:
    """Fact ids to accept and to reject, read from an edited export of *discipline*."""
    parsed = read_ontology(path, curies, fmt=fmt)
    text = path.read_text(encoding="utf-8")
    if parsed.format == "obo":
        marks = obo_marks(text)
    else:
        predicates = session.scalars(select(R.c.predicate).where(R.c.discipline == discipline).distinct())
        marks = ttl_marks(text, curies, {property_iri(p, curies): p for p in predicates})
    concepts = parsed.concept_map()
    triples = parsed.relation_keys()
    out: dict[str, list[str]] = {"accept": [], "reject": []}
    waiting = proposed_facts(session, [discipline])
    rel_ids = {f.id for f in waiting if f.kind == "relation"}
    triple_of = {r.id: (r.subject_id, r.predicate, r.object_id)
                 for r in session.execute(select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id)
                                          .where(R.c.id.in_(rel_ids)))}
    for fact in waiting:
        if fact.kind == "relation":
            triple = triple_of[fact.id]
            if triple not in triples:
                out["reject"].append(fact.id)
            elif triple not in marks.relations:
                out["accept"].append(fact.id)
        elif fact.kind == "concept":
            if fact.id not in concepts:
                out["reject"].append(fact.id)
            elif fact.id not in marks.concepts:
                out["accept"].append(fact.id)
        elif fact.kind == "definition":
            cid = fact.id[len(DEFINITION_PREFIX):]
            if cid in concepts and not concepts[cid].definition:
                out["reject"].append(fact.id)
    return out
