"""The same integrity rules hold on SQLite and PostgreSQL: keys, cascades, checks, rollback."""
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from syllabus.store import open_store
from syllabus.store.tables import Chunk, Concept, Discipline, Document, Evidence, Label, Relation


@pytest.fixture
def store(store_url):
    st = open_store(store_url)
    with st.transaction() as s:
        s.execute(insert(Discipline.__table__).values(name="d", prefix="d", iri="https://d/"))
        for cid in ("d:A", "d:B"):
            s.execute(insert(Concept.__table__).values(id=cid, discipline="d", origin="ontology", status="active"))
        s.execute(insert(Relation.__table__).values(id="r1", discipline="d", subject_id="d:A", predicate="is_a",
                                                    object_id="d:B", origin="ontology", status="asserted",
                                                    confidence=1.0))
        s.execute(insert(Document.__table__).values(id=1, discipline="d", path="a.txt", sha256="0" * 64, n_words=3))
        s.execute(insert(Chunk.__table__).values(id="c1", document_id=1, ordinal=0, char_start=0, char_end=5,
                                                 text="A is B", sha256="1" * 64))
        s.execute(insert(Evidence.__table__).values(relation_id="r1", chunk_id="c1", char_start=0, char_end=6,
                                                    sentence="A is B", extractor="t", extractor_version="1", score=1))
    yield st
    st.close()


def _count(st, table):
    with st.transaction() as s:
        return s.scalar(select(func.count()).select_from(table.__table__))


def test_deleting_a_concept_cascades_to_relations_and_evidence(store):
    with store.transaction() as s:
        s.execute(delete(Concept.__table__).where(Concept.__table__.c.id == "d:B"))
    assert _count(store, Relation) == 0 and _count(store, Evidence) == 0


def test_deleting_a_document_cascades_to_chunks_and_evidence(store):
    with store.transaction() as s:
        s.execute(delete(Document.__table__))
    assert _count(store, Chunk) == 0 and _count(store, Evidence) == 0 and _count(store, Relation) == 1


@pytest.mark.parametrize("table, values", [
    (Concept, dict(id="d:C", discipline="nowhere", origin="ontology", status="active")),
    (Concept, dict(id="d:C", discipline="d", origin="guessed", status="active")),
    (Relation, dict(id="r2", discipline="d", subject_id="d:A", predicate="is_a", object_id="d:B",
                    origin="ontology", status="asserted", confidence=1.0)),
    (Relation, dict(id="r3", discipline="d", subject_id="d:A", predicate="x", object_id="d:Missing",
                    origin="ontology", status="asserted", confidence=1.0)),
    (Label, dict(concept_id="d:A", kind="pref", text="a")),
    (Evidence, dict(chunk_id="c1", char_start=0, char_end=1, sentence="s", extractor="t", extractor_version="1",
                    score=1.0)),
])
def test_constraints_reject_bad_rows(store, table, values):
    if table is Label:
        with store.transaction() as s:
            s.execute(insert(Label.__table__).values(**values))
    with pytest.raises(IntegrityError):
        with store.transaction() as s:
            s.execute(insert(table.__table__).values(**values))


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as s:
            s.execute(insert(Concept.__table__).values(id="d:C", discipline="d", origin="ontology", status="active"))
            raise RuntimeError("boom")
    assert _count(store, Concept) == 2
