"""Entity resolution: termhood selection, acronym merges, embedding merges, cached embeddings."""
import pytest
from sqlalchemy import func, insert, select

from syllabus.config import ExtractConfig
from syllabus.extract.embeddings import embed
from syllabus.extract.resolve import resolve
from syllabus.extract.terms import TermOccurrence, TermStats
from syllabus.store import open_store
from syllabus.store.tables import Concept, Discipline, Embedding, Label


@pytest.fixture
def session(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with st.transaction() as s:
        s.execute(insert(Discipline.__table__).values(name="bio", prefix="BIO", iri="https://x/"))
        s.execute(insert(Concept.__table__).values(id="BIO:1", discipline="bio", pref_label="adenosine triphosphate",
                                                   origin="ontology", status="active"))
        s.execute(insert(Label.__table__).values(concept_id="BIO:1", kind="pref", text="adenosine triphosphate", origin="ontology"))
        s.execute(insert(Concept.__table__).values(id="BIO:2", discipline="bio", pref_label="plasma membrane",
                                                   origin="ontology", status="active"))
        s.execute(insert(Label.__table__).values(concept_id="BIO:2", kind="pref", text="plasma membrane",
                                                 origin="ontology"))
        yield s
    st.close()


def stats_of(terms):
    stats = TermStats()
    for norm, surface, n in terms:
        for i in range(n):
            stats.add(TermOccurrence(norm, surface, 0, len(surface)), f"doc{i % 3}", f"chunk{i}")
    return stats


def test_selection_acronyms_and_embedding_merges(session, nlp):
    stats = stats_of([("endoplasmic reticulum", "endoplasmic reticulum", 9), ("er", "ER", 6),
                      ("atp", "ATP", 5), ("cytoskeleton", "cytoskeleton", 8), ("cell skeleton", "cell skeleton", 6),
                      ("plasma membranes", "plasma membranes", 4), ("thing", "thing", 1)])
    cfg = ExtractConfig(term_threshold=0.0, min_term_frequency=3, min_term_sections=2, similarity_threshold=0.8)
    res = resolve(session, nlp, "bio", "BIO", cfg, {"bio": stats})
    labels = {c.label for c in res.concepts.values()}
    assert "endoplasmic reticulum" in labels and "cytoskeleton" in labels
    assert "ER" not in labels and "thing" not in labels
    er = next(c for c in res.concepts.values() if c.label == "endoplasmic reticulum")
    assert "ER" in er.merged and "er" in er.norms  # acronym merged with its expansion
    assert ("abbreviation", "ATP") in res.labels.get("BIO:1", set())  # acronym of an ontology label
    assert "plasma membranes" not in labels  # inflection/embedding variant of an ontology concept
    assert any(t.lower() == "plasma membranes" for _, t in res.labels.get("BIO:2", set()))
    assert all(cid.startswith("BIO:x-") for cid in res.concepts)


def test_embeddings_are_computed_once_and_cached(session):
    a = embed(session, "all-MiniLM-L6-v2", ["cell wall", "cell membrane"])
    n = session.scalar(select(func.count()).select_from(Embedding.__table__))
    b = embed(session, "all-MiniLM-L6-v2", ["cell membrane", "cell wall", "cell wall"])
    assert n == 2 and session.scalar(select(func.count()).select_from(Embedding.__table__)) == 2
    assert abs(float(a[0] @ b[1]) - 1.0) < 1e-5 and a.shape == (2, 384)


@pytest.mark.parametrize("short, long, expected", [
    ("ATP", "adenosine triphosphate", True), ("ER", "endoplasmic reticulum", True),
    ("KE", "kinetic energy", True), ("DNA", "deoxyribonucleic acid", True),
    ("ER", "cell membrane", False), ("XYZ", "kinetic energy", False), ("KE", "energy", False),
])
def test_abbreviation_rule(short, long, expected):
    from syllabus.extract.resolve import is_abbreviation
    assert is_abbreviation(short, long) is expected
