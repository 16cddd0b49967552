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
