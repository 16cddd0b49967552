"""Import is a sync: add, change, remove; idempotent; extracted facts untouched."""
from snapshot import graph_contents, whole_store
from sqlalchemy import insert, select

from syllabus.config import load_workspace
from syllabus.store import open_store
from syllabus.store.tables import Chunk, Concept, Document, Evidence, Relation

HEADER = """@prefix m: <https://example.org/mini/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix syl: <https://w3id.org/syllabus/vocab#> .
"""


def write(workspace, body):
    (workspace / "ontologies" / "mini.ttl").write_text(HEADER + body)


def test_first_import_then_nothing(workspace, sync):
    first = sync()
    assert (first.concepts_added, first.relations_added, first.externals_added) == (8, 9, 1)
    url = load_workspace(workspace).store_url
    before = whole_store(url)
    again = sync()
    assert again.unchanged_file and not again.changed
    forced = sync(force=True)
    assert not forced.unchanged_file and not forced.changed
    assert whole_store(url) == before


def test_changes_and_removals_are_counted(workspace, sync):
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\nm:B a owl:Class ; rdfs:label "b" ; rdfs:subClassOf m:A .\n'
                     'm:C a owl:Class ; rdfs:label "c" ; rdfs:subClassOf m:A .\n')
    sync()
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" ; skos:definition "new" .\n'
                     'm:B a owl:Class ; rdfs:label "b" ; skos:altLabel "bee" .\n'
                     'm:D a owl:Class ; rdfs:label "d" ; rdfs:subClassOf m:B .\n')
    r = sync()
    assert (r.concepts_added, r.concepts_changed, r.concepts_removed) == (1, 2, 1)
    assert (r.relations_added, r.relations_removed) == (1, 2)
    contents = graph_contents(load_workspace(workspace).store_url)
    assert [c[0] for c in contents["concepts"]] == ["mini:A", "mini:B", "mini:D"]
    assert ("mini:B", "alt", "bee") in contents["labels"]


def test_extracted_facts_are_never_touched(workspace, sync):
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\nm:B a owl:Class ; rdfs:label "b" .\n')
    sync()
    url = load_workspace(workspace).store_url
    st = open_store(url)
    with st.transaction() as s:
        s.execute(insert(Concept.__table__).values(id="mini:x-lever", discipline="mini", pref_label="lever",
                                                   origin="extracted", status="active"))
        s.execute(insert(Relation.__table__).values(id="rel:x", discipline="mini", subject_id="mini:x-lever",
                                                    predicate="is_a", object_id="mini:B", origin="extracted",
                                                    status="proposed", confidence=0.7))
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\n')  # B removed, but an extracted fact points at it
    r = sync()
    assert (r.concepts_removed, r.concepts_deprecated) == (0, 1)
    with st.transaction() as s:
        assert s.execute(select(Concept.__table__.c.origin, Concept.__table__.c.status)
                         .where(Concept.__table__.c.id == "mini:B")).one() == ("ontology", "deprecated")
        assert s.scalar(select(Relation.__table__.c.status).where(Relation.__table__.c.id == "rel:x")) == "proposed"
        assert s.scalar(select(Concept.__table__.c.origin).where(Concept.__table__.c.id == "mini:x-lever")) == "extracted"
    assert not sync().changed  # the deprecated concept is detached: the next import is a no-op
    st.close()


def test_concept_with_evidence_is_deprecated_not_deleted(workspace, sync):
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\nm:B a owl:Class ; rdfs:label "b" .\n')
    sync()
    st = open_store(load_workspace(workspace).store_url)
    with st.transaction() as s:
        s.execute(insert(Document.__table__).values(id=1, discipline="mini", path="t.txt", sha256="0" * 64, n_words=1))
        s.execute(insert(Chunk.__table__).values(id="k", document_id=1, ordinal=0, char_start=0, char_end=1, text="b",
                                                 sha256="0" * 64))
        s.execute(insert(Evidence.__table__).values(concept_id="mini:B", chunk_id="k", char_start=0, char_end=1,
                                                    sentence="b", extractor="t", extractor_version="1", score=1))
    st.close()
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\n')
    assert sync().concepts_deprecated == 1


def test_dropped_concept_still_referenced_becomes_an_external_stub(workspace, sync):
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\nm:B a owl:Class ; rdfs:label "b" ; rdfs:subClassOf m:A .\n')
    sync()
    write(workspace, 'm:B a owl:Class ; rdfs:label "b" ; rdfs:subClassOf m:A .\n')
    r = sync()
    assert (r.concepts_removed, r.externals_added) == (1, 1)
    concepts = graph_contents(load_workspace(workspace).store_url)["concepts"]
    assert ("mini:A", "mini", None, None, None, "external", "active") in concepts
    write(workspace, 'm:B a owl:Class ; rdfs:label "b" .\n')
    assert sync().externals_removed == 1


def test_second_file_cannot_redefine_a_concept(workspace, sync):
    write(workspace, 'm:A a owl:Class ; rdfs:label "a" .\n')
    sync()
    (workspace / "ontologies" / "other.ttl").write_text(HEADER + 'm:A a owl:Class ; rdfs:label "other a" .\n')
    import pytest

    from syllabus.errors import SyllabusError
    with pytest.raises(SyllabusError) as err:
        sync("ontologies/other.ttl")
    assert err.value.code == "E025" and "ontologies/mini.ttl" in err.value.message
