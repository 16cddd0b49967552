"""The review gate on a real store: what compile renders with and without proposed facts."""
import pytest
from sqlalchemy import insert, select

from syllabus.store import gate, open_store
from syllabus.store.tables import Concept, Discipline, Relation, ReviewDecision

C, R = Concept.__table__, Relation.__table__
CONCEPTS = [  # id, label, origin, definition, its confidence
    ("d:onto", "tuple", "ontology", "An immutable sequence.", None),
    ("d:x-list-comprehension", "list comprehension", "extracted", None, None),
    ("d:x-code", "code", "extracted", None, None),
    ("d:x-iterator", "iterator", "extracted", "An iterator is an object that yields items.", 0.8),
    ("d:x-namespace", "namespace", "extracted", "A namespace is a mapping from names to objects.", 1.0),
    ("d:x-scope", "scope", "extracted", "A scope is a region.", 0.5),
    ("d:x-accepted", "decorator", "extracted", None, None),
]
RELATIONS = [("r-asserted", "asserted", 0.3), ("r-high", "proposed", 0.8), ("r-low", "proposed", 0.5)]


@pytest.fixture
def session(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with st.transaction() as s:
        s.execute(insert(Discipline.__table__).values(name="d", prefix="d", iri="https://x/"))
        for cid, label, origin, definition, conf in CONCEPTS:
            s.execute(insert(C).values(id=cid, discipline="d", pref_label=label, origin=origin, status="active",
                                       definition=definition, definition_confidence=conf))
        for (rid, status, conf), subject in zip(RELATIONS, ("d:x-code", "d:x-iterator", "d:x-scope")):
            s.execute(insert(R).values(id=rid, discipline="d", subject_id=subject, predicate="is_a",
                                       object_id="d:onto", origin="extracted", status=status, confidence=conf))
        s.execute(insert(ReviewDecision.__table__).values(discipline="d", kind="concept", target="d:x-accepted",
                                                          text_sha="", decision="accept", reviewer="ana",
                                                          decided_at="2026-12-07T00:00:00Z"))
        yield s
    st.close()


def _ids(session, table, condition):
    return set(session.scalars(select(table.c.id).where(condition)))


def test_with_proposed_facts_the_gate_is_the_confidence(session):
    assert _ids(session, R, gate.relation_passes(0.75, True)) == {"r-asserted", "r-high"}
    assert _ids(session, C, gate.definition_held(0.75, True)) == {"d:x-scope"}
    assert _ids(session, C, gate.concept_passes(0.75, True)) == {
        "d:onto", "d:x-list-comprehension", "d:x-iterator", "d:x-namespace", "d:x-accepted"}


def test_without_proposed_facts_only_accepted_ones_pass(session):
    assert _ids(session, R, gate.relation_passes(0.75, False)) == {"r-asserted"}
    assert _ids(session, C, gate.definition_held(0.75, False)) == {"d:x-iterator", "d:x-scope"}
    assert _ids(session, C, gate.concept_passes(0.75, False)) == {"d:onto", "d:x-namespace", "d:x-accepted"}
