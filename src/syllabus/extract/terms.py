"""New-concept candidates: noun phrases scored for termhood.

Score = C-value (Frantzi et al.: longer terms gain, terms nested in longer ones lose the
occurrences those account for) x spread (1 + ln of the number of documents) x domain
specificity (relative frequency in this discipline over that in all disciplines, with add-one
smoothing), so a phrase frequent everywhere ("the same way") scores low.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

_LEADING = {"DET", "PRON", "NUM", "PUNCT", "CCONJ", "ADP", "PART", "SYM", "X", "SPACE"}
_WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")
_GENERIC = {"thing", "way", "example", "case", "part", "kind", "type", "form", "number", "amount", "term", "lot",
            "use", "result", "fact", "time", "one", "other", "idea", "point", "question", "answer", "section",
            "chapter", "figure", "table", "value", "word", "name", "sort", "deal", "order", "level", "rest"}


@dataclass(frozen=True)
class TermOccurrence:
    norm: str  # lemmatised, lower-case key
    surface: str
    start_char: int
    end_char: int
    root: int  # token index of the phrase head


def candidate_terms(doc) -> list[TermOccurrence]:
    """Noun phrases trimmed of determiners and pronouns, 1-5 words, headed by a noun."""
    out = []
    for chunk in doc.noun_chunks:
        tokens = list(chunk)
        while tokens and (tokens[0].pos_ in _LEADING or tokens[0].is_stop):
            tokens.pop(0)
        while tokens and tokens[-1].pos_ in _LEADING:
            tokens.pop()
        if not tokens or len(tokens) > 5 or tokens[-1].pos_ not in ("NOUN", "PROPN"):
            continue
        words = [t.lower_ for t in tokens[:-1]] + [tokens[-1].lemma_.lower()]
        if not all(_WORD.match(w) for w in words) or words[-1] in _GENERIC or all(t.is_stop for t in tokens):
            continue
        norm = " ".join(words)
        span = doc[tokens[0].i: tokens[-1].i + 1]
        out.append(TermOccurrence(norm, span.text, span.start_char, span.end_char, tokens[-1].i))
    return out


@dataclass
class TermStats:
    """Occurrence counts of candidate terms over one discipline (and totals over all)."""

    frequency: Counter = field(default_factory=Counter)
    documents: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    surfaces: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, occurrence: TermOccurrence, document: object) -> None:
        self.frequency[occurrence.norm] += 1
        self.documents[occurrence.norm].add(document)
        self.surfaces[occurrence.norm][occurrence.surface.lower()] += 1


def termhood(stats: TermStats, background: Counter | None = None, background_total: int | None = None) -> dict[str, float]:
    """Score every candidate; *background* holds frequencies over all disciplines."""
    freq = stats.frequency
    nested: dict[str, list[str]] = defaultdict(list)
    terms = sorted(freq)
    for longer in terms:
        words = longer.split()
        for n in range(1, len(words)):
            for i in range(len(words) - n + 1):
                shorter = " ".join(words[i:i + n])
                if shorter in freq and shorter != longer:
                    nested[shorter].append(longer)
    total = sum(freq.values()) or 1
    background = background or freq
    background_total = background_total or total
    scores = {}
    for term in terms:
        length = len(term.split())
        # candidates are maximal noun phrases, so a term's string also occurs inside every longer
        # candidate containing it: count those, minus their mean (the C-value nesting correction)
        containers = nested.get(term, [])
        f = freq[term]
        if containers:
            inside = sum(freq[c] for c in containers)
            f = f + inside - inside / len(containers)
        cvalue = math.log2(length + 1) * max(f, 0.0)
        spread = 1 + math.log(len(stats.documents[term]))
        specificity = (freq[term] / total) / ((background.get(term, 0) + 1) / (background_total + 1))
        scores[term] = round(cvalue * spread * min(specificity, 10.0) ** 0.5, 6)
    return scores
