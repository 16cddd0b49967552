"""Relation, definition and synonym patterns on real spaCy parses (the offline English model)."""
import pytest

from syllabus.extract.mentions import LabelIndex
from syllabus.extract.patterns import find_relations

LABELS = [("F", "net force"), ("F0", "force"), ("A", "acceleration"), ("V", "change in velocity"), ("Fr", "friction"),
          ("T", "tension"), ("C", "contact force"), ("M", "magnitude"), ("D", "direction"), ("W", "work"),
          ("E", "energy"), ("KE", "kinetic energy"), ("R", "ribosome"), ("P", "protein"), ("Cell", "cell"),
          ("N", "nucleus"), ("Tr", "translation"), ("mRNA", "mRNA"), ("Mito", "mitochondrion"), ("Cr", "cristae"),
          ("ATP", "ATP"), ("G", "glycolysis"), ("Glu", "glucose")]


@pytest.fixture(scope="module")
def run(nlp):
    index = LabelIndex(nlp, LABELS)

    def go(text):
        doc = nlp(text)
        return {(f.kind, f.subject, f.predicate, f.object, f.text) for f in find_relations(doc, index.find(doc))}
    return go


@pytest.mark.parametrize("sentence, triples", [
    ("A net force causes acceleration, which leads to a change in velocity.",
     [("F", "causes", "A"), ("A", "causes", "V")]),
    ("Contact forces such as friction and tension act at surfaces.", [("Fr", "is_a", "C"), ("T", "is_a", "C")]),
    ("Friction is a kind of contact force.", [("Fr", "is_a", "C")]),
    ("Every force has a magnitude and a direction.", [("F0", "has_property", "M"), ("F0", "has_property", "D")]),
    ("Translation requires mRNA and ribosomes.", [("Tr", "requires", "mRNA"), ("Tr", "requires", "R")]),
    ("The cristae are part of the mitochondrion.", [("Cr", "part_of", "Mito")]),
    ("A cell contains a nucleus.", [("N", "part_of", "Cell")]),
    ("Proteins are produced by ribosomes.", [("R", "causes", "P")]),
    ("Glycolysis depends on glucose and produces ATP.", [("G", "requires", "Glu"), ("G", "causes", "ATP")]),
    ("Forces, including friction, are vectors.", [("Fr", "is_a", "F0")]),
    ("Acceleration, also called the rate of change of velocity, is caused by a net force.", [("F", "causes", "A")]),
])
def test_relation_patterns_link_the_right_noun_phrases(run, sentence, triples):
    found = {(s[0], p, o[0]) for kind, s, p, o, _ in run(sentence) if kind == "relation"}
    assert found == set(triples)


def test_definitions_synonyms_and_abbreviations(run):
    out = run("Kinetic energy (KE) is a form of energy that a moving body has.")
    assert ("abbreviation", ("KE",), None, (), "KE") in out
    assert any(k == "definition" and s == ("KE",) for k, s, *_ in out)
    out = run("Acceleration, also called the rate of change of velocity, is caused by a net force.")
    assert ("synonym", ("A",), None, (), "rate of change of velocity") in out
    out = run("Work refers to energy transferred by a force.")
    assert any(k == "definition" and s == ("W",) for k, s, *_ in out)


def test_unlinked_noun_phrases_give_nothing(run):
    assert not [x for x in run("The weather causes delays in spring.") if x[0] == "relation"]


def test_mentions_are_case_insensitive_lemma_aware_and_longest(nlp):
    index = LabelIndex(nlp, LABELS)
    doc = nlp("Net forces act on it. Ribosomes build proteins. The net force on it grows. ATP but not atp.")
    found = [(doc.text[m.start_char:m.end_char], m.concept_ids, m.score) for m in index.find(doc)]
    assert ("Net forces", ("F",), 0.9) in found  # lemma-only match scores lower
    assert ("Ribosomes", ("R",), 0.9) in found
    assert ("net force", ("F",), 1.0) in found  # longest wins over "force"
    assert ("ATP", ("ATP",), 1.0) in found and not any(t == "atp" for t, _, _ in found)


@pytest.mark.parametrize("sentence", [
    "A cell does not contain a nucleus.",
    "Prokaryotic cells have no nucleus.",
    "Friction never causes acceleration.",
])
def test_denied_statements_give_no_relation(run, sentence):
    assert not [x for x in run(sentence) if x[0] == "relation"]
