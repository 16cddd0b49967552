"""SQLAlchemy tables of the store (the system of record; see DESIGN.md, "Data model")."""
from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONCEPT_ORIGINS = ("ontology", "extracted", "patched")
CONCEPT_STATUSES = ("active", "deprecated")
RELATION_STATUSES = ("asserted", "proposed", "gap", "rejected")
LABEL_KINDS = ("pref", "alt", "exact", "narrow", "broad", "related", "abbreviation")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Discipline(Base):
    __tablename__ = "discipline"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(64))
    iri: Mapped[str] = mapped_column(Text)


class OntologySource(Base):
    """One imported ontology file: what was read, so an unchanged file is skipped."""

    __tablename__ = "ontology_source"
    discipline: Mapped[str] = mapped_column(ForeignKey("discipline.name", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    importer: Mapped[str] = mapped_column(String(64))
    n_concepts: Mapped[int] = mapped_column(Integer)
    n_relations: Mapped[int] = mapped_column(Integer)


class Concept(Base):
    __tablename__ = "concept"
    id: Mapped[str] = mapped_column(String(512), primary_key=True)
    discipline: Mapped[str] = mapped_column(ForeignKey("discipline.name", ondelete="CASCADE"))
    pref_label: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[str | None] = mapped_column(Text)
    # extracted concepts: the calibrated confidence of the definition (1.0 once a reviewer accepts it)
    definition_confidence: Mapped[float | None] = mapped_column(Float)
    type: Mapped[str | None] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    source: Mapped[str | None] = mapped_column(String(1024))
    __table_args__ = (
        CheckConstraint("origin IN ('ontology', 'extracted', 'patched', 'external')", name="origin"),
        CheckConstraint("status IN ('active', 'deprecated')", name="status"),
        # a discipline's concepts in id order: graph reports read their first rows without sorting
        Index("ix_concept_discipline_id", "discipline", "id"),
    )


class Label(Base):
    __tablename__ = "label"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("concept.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), server_default="ontology")
    __table_args__ = (UniqueConstraint("concept_id", "kind", "text"),)


class Relation(Base):
    __tablename__ = "relation"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    discipline: Mapped[str] = mapped_column(ForeignKey("discipline.name", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("concept.id", ondelete="CASCADE"))
    predicate: Mapped[str] = mapped_column(String(128))
    object_id: Mapped[str] = mapped_column(ForeignKey("concept.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="asserted")
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    source: Mapped[str | None] = mapped_column(String(1024))
    __table_args__ = (
        UniqueConstraint("subject_id", "predicate", "object_id", "origin"),
        CheckConstraint("status IN ('asserted', 'proposed', 'gap', 'rejected')", name="status"),
        Index("ix_relation_discipline_id", "discipline", "id"),
    )


class Document(Base):
    __tablename__ = "document"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    discipline: Mapped[str] = mapped_column(ForeignKey("discipline.name", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    n_words: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("discipline", "path"),)


class Chunk(Base):
    __tablename__ = "chunk"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(Text)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)


class Evidence(Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concept_id: Mapped[str | None] = mapped_column(ForeignKey("concept.id", ondelete="CASCADE"), index=True)
    relation_id: Mapped[str | None] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"), index=True)
    chunk_id: Mapped[str] = mapped_column(ForeignKey("chunk.id", ondelete="CASCADE"), index=True)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text)
    extractor: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float, default=1.0)
    __table_args__ = (
        CheckConstraint("(concept_id IS NULL) <> (relation_id IS NULL)", name="one_target"),
    )


class ChunkParse(Base):
    """A chunk's spaCy parse (see extract.nlp.to_bytes), so re-extraction after a graph edit skips parsing."""

    __tablename__ = "chunk_parse"
    chunk_id: Mapped[str] = mapped_column(ForeignKey("chunk.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ChunkExtraction(Base):
    """What extraction last ran on a chunk: extractor@version and the graph state it matched against."""

    __tablename__ = "chunk_extraction"
    chunk_id: Mapped[str] = mapped_column(ForeignKey("chunk.id", ondelete="CASCADE"), primary_key=True)
    extractor: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str | None] = mapped_column(Text)  # JSON the extractor keeps per chunk


class Embedding(Base):
    """Sentence embeddings, computed once per (model, text)."""

    __tablename__ = "embedding"
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    text_sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Chain(Base):
    """An L3 reasoning chain: ordered relations, the rule that composes them, its conclusion."""

    __tablename__ = "chain"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    discipline: Mapped[str] = mapped_column(ForeignKey("discipline.name", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    relation_ids: Mapped[str] = mapped_column(Text)  # JSON list, in path order
    hops: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[str] = mapped_column(ForeignKey("concept.id", ondelete="CASCADE"))
    predicate: Mapped[str] = mapped_column(String(128))
    object_id: Mapped[str] = mapped_column(ForeignKey("concept.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(8))
    __table_args__ = (CheckConstraint("split IN ('train', 'bench')", name="split"),)


Index("ix_label_text", Label.text)


class Unit(Base):
    """A compiled unit's fingerprint as of the last compile, with per-field hashes for plan reasons.

    Keys: ``concept:ID`` (content), ``out:ID`` / ``in:ID`` (a concept's edges), ``relation:ID``,
    ``chain:ID``.
    """

    __tablename__ = "unit"
    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    discipline: Mapped[str] = mapped_column(String(64), index=True)
    fp: Mapped[str] = mapped_column(String(32))
    fields: Mapped[str] = mapped_column(Text)  # JSON: field -> hash


class GraphChange(Base):
    """Journal of touched units, filled by database triggers on every graph write (see 0004)."""

    __tablename__ = "graph_change"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(600))


class Build(Base):
    __tablename__ = "build"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    parent: Mapped[str | None] = mapped_column(String(40))
    created: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024))
    selector: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[str] = mapped_column(Text)  # JSON: new/changed/unchanged/removed, kept, dropped


class Example(Base):
    """A rendered example of the latest build (kept, or dropped by a quality gate with its reason)."""

    __tablename__ = "example"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(40))  # unique: ix_example_id (an index a full compile rebuilds)
    unit: Mapped[str] = mapped_column(String(600), index=True)  # the primary unit (its render job)
    discipline: Mapped[str] = mapped_column(String(64))
    renderer: Mapped[str] = mapped_column(String(64))  # name@version
    task: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(256))
    template_sha: Mapped[str] = mapped_column(String(16))
    deps: Mapped[str] = mapped_column(Text)  # JSON: unit key -> fingerprint
    dropped: Mapped[str | None] = mapped_column(Text)  # quality-gate reason, or NULL when kept
    stale: Mapped[int] = mapped_column(Integer, default=0)  # a dependency changed; not yet re-rendered
    build: Mapped[str] = mapped_column(String(40))  # the build that rendered it


class ExampleDep(Base):
    """Reverse dependency index: unit key -> examples rendered from it (one b-tree; see migration 0007)."""

    __tablename__ = "example_dep"
    __table_args__ = {"sqlite_with_rowid": False}
    unit: Mapped[str] = mapped_column(String(600), primary_key=True)
    example: Mapped[int] = mapped_column(Integer, primary_key=True)


Index("ix_example_stale", Example.stale)
Index("ix_example_id", Example.id, unique=True)


class Item(Base):
    """A benchmark item: generated from the graph (L1/L2/L3) or imported, with the units it exercises."""

    __tablename__ = "item"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    discipline: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[str] = mapped_column(String(4))  # L1 | L2 | L3 | EXT
    kind: Mapped[str] = mapped_column(String(64))  # e.g. definition_to_term, relation_object, chain_conclusion
    source: Mapped[str] = mapped_column(String(16))  # generated | imported
    benchmark: Mapped[str | None] = mapped_column(String(256))  # imported: the file it came from
    external_id: Mapped[str | None] = mapped_column(String(256))
    question: Mapped[str] = mapped_column(Text)
    choices: Mapped[str] = mapped_column(Text)  # JSON list of strings
    answer: Mapped[int] = mapped_column(Integer)
    trace: Mapped[str] = mapped_column(Text)  # JSON: {"concepts": [...], "relations": [...], "chain": id | null}
    split: Mapped[str] = mapped_column(String(8))
    leak: Mapped[str | None] = mapped_column(Text)  # decontamination finding; such items are not scored
    __table_args__ = (CheckConstraint("split IN ('dev', 'test')", name="split"),
                      CheckConstraint("source IN ('generated', 'imported')", name="source"))


class ItemUnit(Base):
    """Trace index: item -> every unit key it exercises (concept:ID, relation:ID, chain:ID)."""

    __tablename__ = "item_unit"
    item_id: Mapped[str] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(600), primary_key=True, index=True)


class Run(Base):
    __tablename__ = "run"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    model: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text)  # JSON
    split: Mapped[str | None] = mapped_column(String(8))
    started: Mapped[str] = mapped_column(String(32))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class Result(Base):
    __tablename__ = "result"
    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True, index=True)
    prediction: Mapped[int] = mapped_column(Integer)
    correct: Mapped[int] = mapped_column(Integer)
    scores: Mapped[str | None] = mapped_column(Text)  # JSON list, one per choice


class Gap(Base):
    """A diagnosed weakness of the graph: a unit (or a concept pair) with its score and failing items."""

    __tablename__ = "gap"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # concept_gap | weak_edge | reasoning_break | missing_edge | suspicious
    unit: Mapped[str] = mapped_column(String(1200), index=True)  # unit key, or pair:A|B for a missing edge
    discipline: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[float] = mapped_column(Float)
    items: Mapped[str] = mapped_column(Text)  # JSON list of failing item ids
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: evidence sentences, chosen distractors, ...
    status: Mapped[str] = mapped_column(String(16), default="open")
    build: Mapped[str | None] = mapped_column(String(40))
    # the concepts the unit touches (a concept; a relation's or chain's subject and object; a pair),
    # filled by debug.unit_keys.fill_gap_concepts so that `gaps --under` joins a subtree on an index
    concept_a: Mapped[str | None] = mapped_column(String(512), index=True)
    concept_b: Mapped[str | None] = mapped_column(String(512), index=True)
    __table_args__ = (CheckConstraint("status IN ('open', 'patched', 'verified', 'dismissed')", name="status"),)


class ReviewDecision(Base):
    """A domain expert's verdict on an extracted fact, kept apart from the facts themselves.

    The target is a content-derived id (a concept id, a relation id, or a concept id plus the hash
    of a definition's text), so a decision survives re-ingest and re-extraction: a rejected fact
    never comes back, an accepted one is asserted whenever extraction finds it."""

    __tablename__ = "review_decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    discipline: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # concept | relation | definition
    target: Mapped[str] = mapped_column(String(512))
    text_sha: Mapped[str] = mapped_column(String(64), default="")  # definitions: sha256 of the text
    decision: Mapped[str] = mapped_column(String(8))  # accept | reject
    reviewer: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[str] = mapped_column(String(32))  # ISO 8601, UTC
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("kind", "target", "text_sha"),
                      CheckConstraint("decision IN ('accept', 'reject')", name="decision"),
                      CheckConstraint("kind IN ('concept', 'relation', 'definition')", name="kind"))
