"""Precision-first rules, each on a sentence of the kind real manuals hold: what must NOT become a fact."""
import pytest

from syllabus.config import ExtractConfig
from syllabus.extract.mentions import LabelIndex
from syllabus.extract.patterns import find_relations
from syllabus.extract.resolve import admissible
from syllabus.extract.terms import TermOccurrence, TermStats, candidate_terms, is_citation, looks_like_name

LABELS = [("PARAM", "parameter"), ("STR", "string"), ("TUP", "tuple"), ("SEQ", "sequence"), ("MOD", "module"),
          ("CD", "class definition"), ("FN", "function"), ("ARG", "argument"), ("MODEL", "model"),
          ("GRAPH", "graph"), ("CONT", "container"), ("BIKE", "bicycle"), ("SYS", "system"), ("OBJ", "object"),
          ("PY", "Python"), ("LANG", "language")]


@pytest.fixture(scope="module")
def found(nlp):
    index = LabelIndex(nlp, LABELS)

    def go(text):
        doc = nlp(text)
        return {(f.kind, f.subject[0], f.predicate, f.object[0] if f.object else None)
                for f in find_relations(doc, index.find(doc))}
    return go


@pytest.mark.parametrize("sentence", [
    "The parameter is a string.",  # one parameter, not the kind
    "This tells me that the argument is some kind of container.",
    "If the module contains class definitions, they are reloaded.",  # a supposition
    "Python raises an error when a function that requires an argument is called.",  # restrictive clause
    "The graphical model of a machine is a fully connected graph.",  # a narrower model
    "This module is a part of Python.",
    "Containers usually are sequences or mappings.",  # true of some containers
    "Most tuples are sequences of numbers.",  # a quantified subject
    "When a function is an object, it can be passed around.",  # a supposition
    "Functions are first class objects in Python.",  # "class object" is inside a longer term
    "A string with a prefix is a sequence.",  # a narrower string
    "Each tuple is exactly half a container.",  # no kind of thing
])
def test_no_relation_from_sentences_that_state_no_general_fact(found, sentence):
    assert not {f for f in found(sentence) if f[0] == "relation"}


@pytest.mark.parametrize("sentence, triple", [
    ("A tuple is a sequence that cannot be changed.", ("TUP", "is_a", "SEQ")),
    ("Tuples are sequences.", ("TUP", "is_a", "SEQ")),
    ("A tuple is also a sequence.", ("TUP", "is_a", "SEQ")),
    ("A module can contain class definitions.", ("CD", "part_of", "MOD")),
])
def test_general_statements_still_give_relations(found, sentence, triple):
    assert ("relation", *triple) in found(sentence)


@pytest.mark.parametrize("sentence, defined", [
    ("A tuple is a sequence that cannot be changed once it is made.", True),
    ("The parameters are the object, the name of the method and the argument values.", False),  # a list
    ("A bicycle is an interesting system in that it has several rigid bodies.", False),  # evaluative
    ("A module is an example of what a package can hold for you.", False),  # no genus
    ("The tuple is a sequence that the function returns to its caller.", False),  # one particular tuple
    ("Python is a language", False),  # not a whole sentence
    ("A module is a notoriously hard topic to teach to beginners.", False),  # a remark, no genus
    ("A tuple is usually a sequence of a few small numbers.", False),  # hedged
])
def test_definitions_only_from_definitional_sentences_about_the_term(found, sentence, defined):
    assert any(f[0] == "definition" for f in found(sentence)) is defined


def test_candidates_drop_generic_modifiers_citations_and_normalise_heads(nlp):
    norms = {t.norm for t in candidate_terms(nlp("Run the following code in a terminal. "
                                                 "Algorithms need data. Kinematics studies motion."))}
    assert "code" in norms and "following code" not in norms
    assert {"algorithm", "data", "kinematics"} <= norms and "datum" not in norms and "kinematic" not in norms
    assert not candidate_terms(nlp("Smith et al. describe the kernel density estimator in detail."))
    assert is_citation("Journal of Machine Learning Research, 12, pp. 2825-2830") and not is_citation("A tuple.")


def _stats(entries):
    stats = TermStats()
    for norm, surface, n in entries:
        for i in range(n):
            stats.add(TermOccurrence(norm, surface, 0, len(surface)), f"section{i % 4}")
    return stats


def test_single_general_words_and_names_are_not_terms():
    stats = _stats([("detail", "detail", 30), ("information", "information", 40), ("tuple", "tuple", 30),
                    ("namespace", "namespace", 20), ("guido van rossum", "Guido van Rossum", 5),
                    ("neural computation", "Neural Computation", 4), ("list comprehension", "list comprehension", 6),
                    ("filler", "filler", 4000)])
    total, cfg = sum(stats.frequency.values()), ExtractConfig()
    assert admissible("tuple", stats, total, cfg) and admissible("namespace", stats, total, cfg)
    assert not admissible("detail", stats, total, cfg) and not admissible("information", stats, total, cfg)
    assert not admissible("guido van rossum", stats, total, cfg)
    assert not admissible("neural computation", stats, total, cfg)
    assert admissible("list comprehension", stats, total, cfg)
    assert looks_like_name({"Guido van Rossum": 3}) and not looks_like_name({"Reference Frame": 1, "reference frame": 9})


def test_proper_nouns_fragments_and_lemmas():
    stats = _stats([("euler", "Euler", 30), ("cauchy", "Cauchy", 20), ("numpy", "NumPy", 20), ("python", "Python", 30),
                    ("ing", "ing", 25), ("eigenvalue", "eigenvalue", 30), ("programmer", "programmer", 30),
                    ("filler", "filler", 4000)])
    total, cfg = sum(stats.frequency.values()), ExtractConfig()
    assert not admissible("euler", stats, total, cfg) and not admissible("cauchy", stats, total, cfg)  # names
    assert admissible("numpy", stats, total, cfg) and admissible("eigenvalue", stats, total, cfg)
    assert not admissible("ing", stats, total, cfg)  # what is left of "comput- ing"
    assert not admissible("programmer", stats, total, cfg)


def test_heads_keep_words_the_lemmatiser_would_break(nlp):
    norms = {t.norm for t in candidate_terms(nlp("An alias names an object. Aliases are names. "
                                                 "The matrices have eigenvalues."))}
    assert "alias" in norms and "alia" not in norms
    assert {"matrix", "eigenvalue"} <= norms


def test_library_class_names_are_not_terms():
    stats = _stats([("kanesmethod object", "KanesMethod object", 12), ("numpy array", "NumPy array", 3),
                    ("numpy array", "numpy array", 9), ("rigid body", "rigid body", 12), ("filler", "filler", 4000)])
    total, cfg = sum(stats.frequency.values()), ExtractConfig()
    assert not admissible("kanesmethod object", stats, total, cfg)
    assert admissible("numpy array", stats, total, cfg) and admissible("rigid body", stats, total, cfg)
