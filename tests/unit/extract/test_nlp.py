"""The pipeline Syllabus parses with annotates exactly as plain spaCy does."""
from pathlib import Path

import numpy as np
import pytest

TEXTS = [
    "Kinetic energy (KE) is a form of energy.  It  grows.\nA cell contains a nucleus.",
    "There's a cat. There are n't any, and there were none. It gets worse; it got worse.",
    "I ain't gonna do it, y'all. Let's go! C'mon, nothin' gotta change.  \n\n  ",
    "The `os.path` module's join() returns a str: see PEP 8 -- e.g. `sys.argv[1:]`.",
    "", " ", "\n\n", "Go.",
]
CORPORA = Path(__file__).resolve().parents[3] / "corpora"


def _corpus_paragraphs() -> list[str]:
    """The sample corpus, paragraph by paragraph (several thousand words of ordinary prose)."""
    return [p for f in sorted(CORPORA.rglob("*.*")) for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]


def _fresh(name: str, fast: bool):
    import spacy

    from syllabus.extract.fastpipe import speed_up
    from syllabus.extract.nlp import DISABLED

    nlp = spacy.load(name, exclude=list(DISABLED))
    if fast:
        speed_up(nlp)
    return nlp


@pytest.fixture(scope="module")
def model_name(nlp):
    return nlp.meta["lang"] + "_" + nlp.meta["name"]


@pytest.fixture(scope="module")
def plain(model_name):
    return _fresh(model_name, fast=False)


def _annotations(doc):
    from spacy.attrs import DEP, HEAD, LEMMA, MORPH, NORM, POS, SENT_START, TAG

    return doc.to_array([LEMMA, POS, TAG, DEP, HEAD, MORPH, SENT_START, NORM]), [str(t.morph) for t in doc]


def _same(ours, theirs) -> None:
    (a, morph_a), (b, morph_b) = _annotations(ours), _annotations(theirs)
    assert np.array_equal(a, b), ours.text
    assert morph_a == morph_b, ours.text


def test_fast_ruler_finds_the_matchers_matches(plain):
    from syllabus.extract.fastpipe import FastRulerMatch

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
    from syllabus.extract.fastpipe import FastRulerAnnotations

    assert nlp.pipe_names == plain.pipe_names
    assert isinstance(nlp.get_pipe("attribute_ruler").set_annotations, FastRulerAnnotations)
    assert type(nlp.get_pipe("lemmatizer"))._memoised
    texts = TEXTS + _corpus_paragraphs()
    assert sum(len(t.split()) for t in texts) > 10_000
    for ours, theirs in zip(nlp.pipe(texts, batch_size=16), plain.pipe(texts, batch_size=16)):
        _same(ours, theirs)
    for text in TEXTS[:4]:  # a single call (Language.__call__) takes the same route
        _same(nlp(text), plain(text))


def test_lemmatizer_that_overwrites_matches_spacy(model_name):
    ours, theirs = _fresh(model_name, fast=True), _fresh(model_name, fast=False)
    for nlp in (ours, theirs):
        nlp.get_pipe("lemmatizer").overwrite = True
    for a, b in zip(ours.pipe(TEXTS), theirs.pipe(TEXTS)):
        _same(a, b)


def test_ruler_patterns_added_later_take_the_rulers_own_route(model_name):
    ours, theirs = _fresh(model_name, fast=True), _fresh(model_name, fast=False)
    for nlp in (ours, theirs):
        nlp.get_pipe("attribute_ruler").add([[{"LOWER": "cat"}]], {"NORM": "feline", "POS": "PROPN"})
    for a, b in zip(ours.pipe(TEXTS), theirs.pipe(TEXTS)):
        _same(a, b)
    assert [t.norm_ for t in ours(TEXTS[1]) if t.lower_ == "cat"] == ["feline"]


def test_ruler_index_outside_its_span_fails_as_in_spacy(model_name):
    for fast in (True, False):
        nlp = _fresh(model_name, fast)
        nlp.get_pipe("attribute_ruler").add([[{"LOWER": "cat"}]], {"POS": "PROPN"}, index=3)
        with pytest.raises(ValueError, match="E1001"):
            nlp(TEXTS[1])
