"""The graph change journal: triggers record every touched unit, on both backends, cascades included."""
from sqlalchemy import delete, insert, select, update

from syllabus.store import open_store
from syllabus.store.tables import (
    Chunk,
    Concept,
    Discipline,
    Document,
    Evidence,
    GraphChange,
    Label,
    Relation,
)


def _journal(session) -> list[str]:
    units = session.execute(select(GraphChange.unit).order_by(GraphChange.seq)).scalars().all()
    session.execute(delete(GraphChange))
    return sorted(set(units))


def test_triggers_journal_units(store_url):
    store = open_store(store_url)
    with store.transaction() as s:
        s.execute(insert(Discipline).values(name="physics", prefix="phys", iri="https://x/"))
        for cid in ("phys:A", "phys:B"):
            s.execute(insert(Concept).values(id=cid, discipline="physics", pref_label=cid, origin="ontology",
                                             status="active"))
        assert _journal(s) == ["concept:phys:A", "concept:phys:B"]
        s.execute(insert(Label).values(concept_id="phys:A", kind="alt", text="a"))
        assert _journal(s) == ["concept:phys:A"]
        s.execute(insert(Relation).values(id="rel:1", discipline="physics", subject_id="phys:A", predicate="is_a",
                                          object_id="phys:B", origin="ontology", status="asserted", confidence=1.0))
        assert _journal(s) == ["concept:phys:A", "concept:phys:B", "relation:rel:1"]
        s.execute(update(Concept).where(Concept.id == "phys:B").values(definition="b"))
        assert _journal(s) == ["concept:phys:B"]
        s.execute(insert(Document).values(id=1, discipline="physics", path="a.txt", sha256="x", n_words=1))
        s.execute(insert(Chunk).values(id="chk:1", document_id=1, ordinal=0, char_start=0, char_end=1, text="a",
                                       sha256="x"))
        s.execute(insert(Evidence).values(relation_id="rel:1", chunk_id="chk:1", char_start=0, char_end=1,
                                          sentence="a", extractor="t", extractor_version="1"))
        assert _journal(s) == ["relation:rel:1"]
        # a cascade from a deleted document reaches the evidence trigger
        s.execute(delete(Document).where(Document.id == 1))
        assert _journal(s) == ["relation:rel:1"]
        s.execute(delete(Concept).where(Concept.id == "phys:A"))  # cascades to its label and relation
        assert _journal(s) == ["concept:phys:A", "concept:phys:B", "relation:rel:1"]
    store.close()
