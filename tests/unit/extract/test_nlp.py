"""The pipeline Syllabus parses with annotates exactly as plain spaCy does."""
import numpy as np
import pytest

TEXTS = [
    "Kinetic energy (KE) is a form of energy.  It  grows.\nA cell contains a nucleus.",
    "There's a cat. There are n't any, and there were none. It gets worse; it got worse.",
    "I ain't gonna do it, y'all. Let's go! C'mon, nothin' gotta change.  \n\n  ",
    "The `os.path` module's join() returns a str: see PEP 8 -- e.g. `sys.argv[1:]`.",
    "", " ", "\n\n", "Go.",
]


@pytest.fixture(scope="module")
def plain(nlp):
    import spacy

    from syllabus.extract.nlp import DISABLED

    return spacy.load(nlp.meta["lang"] + "_" + nlp.meta["name"], exclude=list(DISABLED))


def test_fast_ruler_finds_the_matchers_matches(plain):
    from syllabus.extract.nlp import FastRulerMatch

    ruler = plain.get_pipe("attribute_ruler")
    fast = FastRulerMatch(ruler)
    assert fast.patterns  # the model's patterns are handled by the lookup, not a second Matcher
    with plain.select_pipes(disable=["attribute_ruler", "lemmatizer"]):
        docs = list(plain.pipe(TEXTS * 2))
    with plain.select_pipes(disable=["attribute_ruler", "lemmatizer", "parser"]):  # as labels are parsed
        docs += list(plain.pipe(TEXTS))
    for doc in docs:
        assert fast(doc) == ruler.match(doc)


def test_syllabus_pipeline_annotates_like_plain_spacy(nlp, plain):
    from spacy.attrs import DEP, HEAD, LEMMA, MORPH, NORM, POS, SENT_START, TAG

    attrs = [LEMMA, POS, TAG, DEP, HEAD, MORPH, SENT_START, NORM]
    assert nlp.pipe_names == plain.pipe_names
    for ours, theirs in zip(nlp.pipe(TEXTS), plain.pipe(TEXTS)):
        assert np.array_equal(ours.to_array(attrs), theirs.to_array(attrs))
        assert [str(t.morph) for t in ours] == [str(t.morph) for t in theirs]
