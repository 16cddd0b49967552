"""The parsed form of an ontology file, shared by readers, writers, sync, lint and diff."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a fact was read: a file and a line (OBO) or a subject IRI (RDF)."""

    file: str
    line: int | None = None
    subject: str | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.subject is not None:
            return f"{self.file} <{self.subject}>"
        return self.file


@dataclass
class ConceptRecord:
    id: str
    pref_label: str | None = None
    definition: str | None = None
    type: str | None = None
    status: str = "active"
    labels: set[tuple[str, str]] = field(default_factory=set)  # (kind, text), pref included
    where: Location | None = None

    def content(self) -> tuple:
        """Everything the store keeps for this concept, in a comparable form."""
        return (self.pref_label, self.definition, self.type, self.status, tuple(sorted(self.labels)))


@dataclass(frozen=True)
class RelationRecord:
    subject: str
    predicate: str
    object: str
    where: Location | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.predicate, self.object)


@dataclass
class ParsedOntology:
    """Concepts and relations of one file, in file order; duplicates are kept for lint."""

    path: str
    format: str
    concepts: list[ConceptRecord] = field(default_factory=list)
    relations: list[RelationRecord] = field(default_factory=list)
    predicates: dict[str, str] = field(default_factory=dict)  # declared relation name -> label
    # facts exported for review, not yet in the ontology: ("concept", id), ("label", id, kind, text),
    # ("relation", s, p, o) -> a note such as "confidence 0.85"
    proposed: dict[tuple, str] = field(default_factory=dict)

    def concept_map(self) -> dict[str, ConceptRecord]:
        """Concepts by id (the last definition wins; sync refuses duplicates before using this)."""
        return {c.id: c for c in self.concepts}

    def relation_keys(self) -> set[tuple[str, str, str]]:
        return {r.key for r in self.relations}
