"""New-concept candidates: noun phrases scored for termhood.

Score = C-value (Frantzi et al.: longer terms gain; a term nested in longer candidates is
credited with those occurrences minus their mean) x spread (1 + ln of the number of
documents) x domain specificity (relative frequency in this discipline over all disciplines,
square-rooted) x general-English rarity (from wordfreq's Zipf frequency: "place" or "ball" are
everyday words, "centrosome" is not), so frequent everyday nouns score low.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

VERSION = "2"  # bump when candidate_terms changes: cached candidates are recomputed from parses
_LEADING = {"DET", "PRON", "NUM", "PUNCT", "CCONJ", "ADP", "PART", "SYM", "X", "SPACE"}
_WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")
_GENERIC = {"thing", "way", "example", "case", "part", "kind", "type", "form", "number", "amount", "term", "lot",
            "use", "result", "fact", "time", "one", "other", "idea", "point", "question", "answer", "section",
            "chapter", "figure", "table", "value", "word", "name", "sort", "deal", "order", "level", "rest",
            "change", "law", "quantity", "process", "structure", "chain", "path", "region", "group", "series",
            "step", "stage", "end", "place", "reason", "role", "rule", "statement", "sum", "half", "pair",
            "job", "life", "material", "product", "difference", "version", "call", "default", "success",
            "failure", "return", "instance", "reference", "field"}


@dataclass(frozen=True)
class TermOccurrence:
    norm: str  # lemmatised, lower-case key
    surface: str
    start_char: int
    end_char: int
    sent_start: int = 0  # the sentence it occurs in (char offsets)
    sent_end: int = 0


def _of_phrases(doc):
    """Noun chunks, each extended by a short "of" complement ("center of mass", "radius of gyration")."""
    chunks = list(doc.noun_chunks)
    by_start = {c.start: c for c in chunks}
    for chunk in chunks:
        nxt = chunk.end
        if nxt + 1 < len(doc) and doc[nxt].lower_ == "of" and doc[nxt].head.i == chunk.root.i:
            tail = by_start.get(nxt + 1)
            if tail is not None and len(tail) <= 3 and not any(t.pos_ in ("DET", "PRON", "NUM") for t in tail):
                yield doc[chunk.start:tail.end], tail.root
                continue
        yield chunk, chunk.root


def candidate_terms(doc) -> list[TermOccurrence]:
    """Noun phrases (with a short "of" complement) trimmed of determiners and pronouns, 1-5 words,
    headed by a noun; the key lemmatises the last word."""
    out = []
    for chunk, _ in _of_phrases(doc):
        tokens = list(chunk)
        while tokens and (tokens[0].pos_ in _LEADING or tokens[0].is_stop):
            tokens.pop(0)
        while tokens and tokens[-1].pos_ in _LEADING:
            tokens.pop()
        if not tokens or len(tokens) > 5 or tokens[-1].pos_ not in ("NOUN", "PROPN"):
            continue
        words = [t.lemma_.lower() if (t is tokens[-1] or t.nbor(1).lower_ == "of") and t.pos_ == "NOUN" else t.lower_
                 for t in tokens]
        head = words[words.index("of") - 1] if "of" in words[1:-1] else words[-1]
        if not all(_WORD.match(w) or w == "of" for w in words) or head in _GENERIC or all(t.is_stop for t in tokens):
            continue
        norm = " ".join(words)
        span = doc[tokens[0].i: tokens[-1].i + 1]
        sent = span.sent
        out.append(TermOccurrence(norm, span.text, span.start_char, span.end_char, sent.start_char, sent.end_char))
    return out


def rarity(term: str) -> float:
    """How far a term is from everyday English: 0.05 (very common) .. 1.5 (rare), by Zipf frequency."""
    from wordfreq import zipf_frequency

    return min(max((6.0 - zipf_frequency(term, "en")) / 3.0, 0.05), 1.5)


@dataclass
class TermStats:
    """Occurrence counts of candidate terms over one discipline (and totals over all)."""

    frequency: Counter = field(default_factory=Counter)
    documents: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    surfaces: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    places: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # norm -> [(chunk, occurrence)]

    def add(self, occurrence: TermOccurrence, document: object, chunk: str | None = None) -> None:
        self.frequency[occurrence.norm] += 1
        self.documents[occurrence.norm].add(document)
        self.surfaces[occurrence.norm][occurrence.surface] += 1
        if chunk is not None:
            self.places[occurrence.norm].append((chunk, occurrence))


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
        scores[term] = round(cvalue * spread * min(specificity, 10.0) ** 0.5 * rarity(term), 6)
    return scores
