from collections import Counter

from syllabus.extract.terms import TermOccurrence, TermStats, candidate_terms, termhood


def test_candidates_are_trimmed_lemmatised_noun_phrases(nlp):
    doc = nlp("The terminal velocities of falling bodies depend on the drag force. It was fine. "
              "Terminal velocities differ.")
    norms = {t.norm for t in candidate_terms(doc)}
    assert {"terminal velocity of falling body", "drag force", "terminal velocity"} <= norms
    assert not any(n in ("it", "the drag force") for n in norms)
    for t in candidate_terms(doc):
        assert doc.text[t.start_char:t.end_char] == t.surface


def test_termhood_prefers_frequent_spread_specific_multiword_terms():
    stats = TermStats()
    for i in range(6):
        stats.add(TermOccurrence("drag force", "drag force", 0, 1), f"doc{i % 3}")
    for i in range(6):
        stats.add(TermOccurrence("force", "force", 0, 1), "doc0")
    stats.add(TermOccurrence("odd thing", "odd thing", 0, 1), "doc1")
    background = Counter(stats.frequency)
    background["force"] += 200  # common in other disciplines too
    scores = termhood(stats, background, sum(background.values()))
    assert scores["drag force"] > scores["force"] > 0
    assert scores["drag force"] > scores["odd thing"]


def test_cached_parse_round_trips_everything_extraction_reads(nlp):
    from syllabus.extract.nlp import from_bytes, to_bytes

    doc = nlp("Kinetic energy (KE) is a form of energy.  It  grows.\nA cell contains a nucleus.")
    back = from_bytes(to_bytes(doc), nlp.vocab)
    assert back.text == doc.text
    assert [(t.lemma_, t.pos_, t.dep_, t.head.i, t.is_sent_start) for t in back] == \
        [(t.lemma_, t.pos_, t.dep_, t.head.i, t.is_sent_start) for t in doc]
    assert [c.text for c in back.noun_chunks] == [c.text for c in doc.noun_chunks]
    assert len(from_bytes(to_bytes(nlp("")), nlp.vocab)) == 0
