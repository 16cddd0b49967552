"""Sense checks with the real sentence-embedding model: a common-word ontology label links only
where the passages are about the ontology's sense of it."""
import pytest
from sqlalchemy import insert

from syllabus.config import ExtractConfig
from syllabus.extract.calibration import sense_threshold
from syllabus.extract.senses import is_ambiguous, rejected_senses, sense_profiles
from syllabus.store import open_store
from syllabus.store.tables import Concept, Discipline, Label, Relation

MODEL = ExtractConfig().embedding_model
THRESHOLD = sense_threshold(ExtractConfig().sense_threshold)

# Written for this test: the behavioural sense of "memory", as a biology ontology has it.
CONCEPTS = {
    "B:memory": ("memory", "The activities by which an animal stores, keeps and later recalls learned "
                           "information, such as the location of food or a learned fear."),
    "B:learning": ("learning", None),
    "B:behavior": ("behavior", None),
    "B:long-term-memory": ("long-term memory", None),
}
EDGES = [("B:memory", "is_a", "B:behavior"), ("B:long-term-memory", "is_a", "B:memory"),
         ("B:memory", "related_to", "B:learning")]

ABOUT_ANIMALS = [
    ("Rats trained in the water maze form a memory of where the hidden platform lies.",
     "Rats trained in the water maze form a memory of where the hidden platform lies. After a week "
     "they swim straight to it, which shows that the learned location was stored and recalled."),
    ("Bees keep a memory of flower colours that gave them nectar.",
     "Bees keep a memory of flower colours that gave them nectar. Foragers return to those colours "
     "on the next day; learning of this kind fades when the reward stops."),
    ("Fear memory in mice depends on the amygdala.",
     "Fear memory in mice depends on the amygdala. An animal that learned to fear a tone freezes "
     "when it hears the tone again, days later."),
]
ABOUT_PROGRAMS = [
    ("The interpreter frees the memory of an object when its reference count drops to zero.",
     "The interpreter frees the memory of an object when its reference count drops to zero. "
     "Cycles of references are found by the garbage collector, which runs from time to time."),
    ("A list of a million integers takes about eight megabytes of memory.",
     "A list of a million integers takes about eight megabytes of memory. An array from the array "
     "module stores the same numbers more compactly, as raw machine values."),
    ("Use a generator to avoid holding the whole file in memory.",
     "Use a generator to avoid holding the whole file in memory. The loop then reads one line at "
     "a time from the file object and the program's footprint stays small."),
]


@pytest.fixture
def session(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with st.transaction() as s:
        s.execute(insert(Discipline.__table__).values(name="bio", prefix="B", iri="https://x/"))
        for cid, (label, definition) in CONCEPTS.items():
            s.execute(insert(Concept.__table__).values(id=cid, discipline="bio", pref_label=label,
                                                       definition=definition, origin="ontology", status="active"))
            s.execute(insert(Label.__table__).values(concept_id=cid, kind="pref", text=label, origin="ontology"))
        for i, (subj, pred, obj) in enumerate(EDGES):
            s.execute(insert(Relation.__table__).values(id=f"r{i}", discipline="bio", subject_id=subj,
                                                        predicate=pred, object_id=obj, origin="ontology"))
        yield s
    st.close()


def test_which_labels_are_ambiguous():
    assert is_ambiguous("memory") and is_ambiguous("ATP") and is_ambiguous("point")
    assert is_ambiguous("mitochondrion") and not is_ambiguous("long-term memory")


def test_profiles_cover_only_ambiguous_labels(session):
    profiles = sense_profiles(session, "bio")
    assert "B:memory" in profiles.profiles and "B:long-term-memory" not in profiles.profiles
    text = profiles.profiles["B:memory"]
    assert "recalls learned information" in text and "behavior" in text and "long-term memory" in text
    assert "memory" in profiles.words


def _checks(passages):
    return [("B:memory", chunk, sentence) for sentence, chunk in passages]


def test_wrong_sense_is_rejected_right_sense_kept(session):
    profiles = sense_profiles(session, "bio")
    assert rejected_senses(session, MODEL, profiles, _checks(ABOUT_PROGRAMS), THRESHOLD) == {"B:memory"}
    assert rejected_senses(session, MODEL, profiles, _checks(ABOUT_ANIMALS), THRESHOLD) == frozenset()
    # a corpus that uses the sense a few times keeps it, though as many passages are about programs
    mixed = _checks(ABOUT_PROGRAMS + ABOUT_ANIMALS)
    assert rejected_senses(session, MODEL, profiles, mixed, THRESHOLD) == frozenset()
