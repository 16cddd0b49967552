"""New-concept candidates: noun phrases scored for termhood.

Score = C-value (Frantzi et al.: longer terms gain; a term nested in longer candidates is
credited with those occurrences minus their mean) x spread (1 + ln of the number of
sections it occurs in, so that one long document counts like several) x domain specificity (relative frequency in this discipline over all disciplines,
square-rooted) x general-English rarity (from wordfreq's Zipf frequency: "place" or "ball" are
everyday words, "centrosome" is not), so frequent everyday nouns score low.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

VERSION = "6"  # bump when candidate_terms changes: cached candidates are recomputed from parses
_LEADING = {"DET", "PRON", "NUM", "PUNCT", "CCONJ", "ADP", "PART", "SYM", "X", "SPACE"}
_WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")
_GENERIC = {"thing", "way", "example", "case", "part", "kind", "type", "form", "number", "amount", "term", "lot",
            "use", "result", "fact", "time", "one", "other", "idea", "point", "question", "answer", "section",
            "chapter", "figure", "table", "value", "word", "name", "sort", "deal", "order", "level", "rest",
            "change", "law", "quantity", "process", "structure", "chain", "path", "region", "group", "series",
            "step", "stage", "end", "place", "reason", "role", "rule", "statement", "sum", "half", "pair",
            "job", "life", "material", "product", "difference", "version", "call", "default", "success",
            "failure", "return", "instance", "reference", "field"}
# general academic and everyday nouns: never a domain concept on their own (they may still head
# one: "design approach" is judged by termhood like any phrase)
GENERAL_NOUNS = {
    "approach", "detail", "information", "purpose", "problem", "technique", "practice", "effect", "circumstance",
    "alternative", "mechanism", "convention", "feature", "content", "aspect", "issue", "situation", "context",
    "matter", "manner", "means", "option", "possibility", "choice", "need", "task", "goal", "aim", "attempt",
    "effort", "benefit", "advantage", "disadvantage", "drawback", "limitation", "requirement", "consideration",
    "discussion", "description", "explanation", "introduction", "overview", "summary", "note", "remark", "comment",
    "hint", "tip", "item", "piece", "bit", "stuff", "someone", "something", "anything", "everything", "nothing",
    "people", "person", "user", "reader", "author", "somebody", "everyone", "access", "creation", "declaration",
    "respect", "regard", "addition", "basis", "extent", "degree", "variety", "majority", "minority", "couple",
    "handful", "start", "beginning", "middle", "documentation", "tutorial", "guide", "manual", "book", "article",
    "paper", "report", "study", "research", "project", "tool", "sense", "meaning", "notion", "concept", "principle",
    "view", "opinion", "scenario", "occurrence", "today", "future", "past", "importance", "significance",
    "relevance", "usage", "strategy", "abstract", "computer", "machine", "message", "window", "copy", "collection",
    "environment", "improvement", "support", "help", "detail", "sample", "setting", "true", "false", "zero", "cross",
    "candidate", "importance", "alpha", "beta", "default", "ability", "capability", "functionality", "facility",
    "convenience", "efficiency", "simplicity", "complexity", "flexibility", "difficulty", "trouble", "mistake",
    "care", "attention", "interest", "concern", "question", "topic", "subject", "content", "material", "resource",
    "style", "look", "variant",
    # the parts of a book or a page, and the people who write or read it
    "preface", "appendix", "footnote", "chapter", "section", "subsection", "paragraph", "bibliography",
    "figure", "fig", "page", "lecture", "exercise", "snippet", "beginner", "writer", "engineer", "scientist",
    "mathematician", "physicist", "programmer", "student", "teacher", "expert", "developer", "novice", "colleague",
    # words of argument and manner, not of a field
    "observation", "objection", "intuition", "distinction", "consequence", "complication", "quirk", "clutter",
    "guise", "maneuver", "expedient", "foregoing", "implication", "refinement", "rudiment", "adjective", "verb",
    "noun", "pencil", "foo", "bar", "spam", "eggs", "ham", "thing", "way", "case", "kind", "sort", "part", "lot",
}
# what pdftotext leaves of a word hyphenated across a line break ("comput- ing")
FRAGMENT_SUFFIXES = {"ing", "tion", "tions", "sion", "ment", "ments", "ness", "ity", "ities", "ance", "ence", "ter",
                     "ble", "ive", "ous", "ful", "less", "ally", "ain", "ers", "ary", "ial", "ical"}
_MODIFIER_POS = {"ADJ", "VERB", "ADV"}
# adjectives that say where or how much, not what: stripped from the front of a candidate
GENERIC_MODIFIERS = {"following", "above", "below", "previous", "preceding", "next", "same", "other", "various",
                     "certain", "several", "many", "few", "new", "given", "whole", "entire", "such", "own", "usual",
                     "typical", "good", "bad", "best", "better", "great", "important", "useful", "possible",
                     "additional", "further", "corresponding", "appropriate", "relevant", "respective",
                     "necessary", "similar", "nice", "extra", "individual", "separate", "particular", "specific",
                     "different", "existing", "large", "small", "big", "little", "simple", "easy", "hard",
                     "interesting", "obvious", "usual", "convenient", "suitable", "arbitrary", "whatever"}


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


def head_key(token) -> str:
    """The counting key of a phrase's last word: its lemma, made robust to the small tagger.

    Plurals tagged as proper nouns ("Algorithms" at a sentence start) are singularised by rule;
    nouns in -ics (kinematics, physics) and "data" keep their surface form, which is the term."""
    word = token.lower_
    if word.endswith("ics") or word == "data":
        return word
    lemma = token.lemma_.lower()
    if token.pos_ == "NOUN" and lemma != word and _is_word_or_unknown(lemma, word) \
            and not (word.endswith(_NOT_PLURAL_ENDINGS) and lemma == word[:-1]):
        return lemma  # but not "alias" -> "alia", "multiplies" -> "multiplie"
    if token.pos_ in ("NOUN", "PROPN") and word.endswith("s") and not word.endswith(_NOT_PLURAL_ENDINGS):
        singular = word[:-3] + "y" if word.endswith("ies") else word[:-1]
        if _more_common_or_close(singular, word):  # "algorithms" -> "algorithm", but not "alias" -> "alia"
            return singular
    return word


_NOT_PLURAL_ENDINGS = ("ss", "us", "is", "os", "as")  # "class", "bus", "axis", "macos", "alias"


def _is_word_or_unknown(lemma: str, word: str) -> bool:
    """The lemmatiser's output is a word, or neither it nor the surface is one ("centrosome" is rare
    but fine; "multiplie" is not a word while "multiplies" is)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(lemma, "en") > 0 or zipf_frequency(word, "en") == 0


def _more_common_or_close(singular: str, plural: str) -> bool:
    from wordfreq import zipf_frequency

    zs = zipf_frequency(singular, "en")
    return zs >= 2.0 and zs >= zipf_frequency(plural, "en") - 0.5


def candidate_terms(doc) -> list[TermOccurrence]:
    """Noun phrases (with a short "of" complement) trimmed of determiners, pronouns and generic
    modifiers ("the following code" counts as "code"), 1-5 words, headed by a noun; the key
    normalises the head word (see :func:`head_key`). Sentences that are bibliographic references
    give no candidates."""
    out = []
    for chunk, _ in _of_phrases(doc):
        if is_citation(chunk.sent.text):
            continue
        tokens = list(chunk)
        while tokens and (tokens[0].pos_ in _LEADING or tokens[0].is_stop
                          or (tokens[0].lower_ in GENERIC_MODIFIERS and tokens[0].pos_ in _MODIFIER_POS)):
            tokens.pop(0)
        while tokens and tokens[-1].pos_ in _LEADING:
            tokens.pop()
        if not tokens or len(tokens) > 5 or tokens[-1].pos_ not in ("NOUN", "PROPN"):
            continue
        words = [head_key(t) if t is tokens[-1] or (t.nbor(1).lower_ == "of" and t.pos_ == "NOUN") else t.lower_
                 for t in tokens]
        head = words[words.index("of") - 1] if "of" in words[1:-1] else words[-1]
        if not all(_WORD.match(w) or w == "of" for w in words) or head in _GENERIC or all(t.is_stop for t in tokens):
            continue
        norm = " ".join(words)
        span = doc[tokens[0].i: tokens[-1].i + 1]
        sent = span.sent
        out.append(TermOccurrence(norm, span.text, span.start_char, span.end_char, sent.start_char, sent.end_char))
    return out


_CITATION = re.compile(r"\bet al\b|\(\s*(1[89]|20)\d\d[a-z]?\s*\)|\bpp\.\s*\d|\bvol\.\s*\d|\bdoi:|\bISBN\b"
                       r"|\bProc(eedings)?\b\.? of\b|\bJournal of\b", re.IGNORECASE)


def is_citation(sentence: str) -> bool:
    """A bibliographic reference or a sentence citing one (authors "et al.", "(1998)", "pp. 12")."""
    return bool(_CITATION.search(sentence))


def rarity(term: str) -> float:
    """How far a term is from everyday English: 0.05 (very common) .. 1.5 (rare), by Zipf frequency."""
    from wordfreq import zipf_frequency

    return min(max((6.0 - zipf_frequency(term, "en")) / 3.0, 0.05), 1.5)


@dataclass
class TermStats:
    """Occurrence counts of candidate terms over one discipline (and totals over all)."""

    frequency: Counter = field(default_factory=Counter)
    sections: dict[str, set] = field(default_factory=lambda: defaultdict(set))  # where it occurs: spread
    surfaces: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    places: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # norm -> [(chunk, occurrence)]

    def add(self, occurrence: TermOccurrence, section: object, chunk: str | None = None) -> None:
        """Count one occurrence in *section* (a document, or a section of a long one)."""
        self.frequency[occurrence.norm] += 1
        self.sections[occurrence.norm].add(section)
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
        spread = 1 + math.log(len(stats.sections[term]))
        specificity = (freq[term] / total) / ((background.get(term, 0) + 1) / (background_total + 1))
        scores[term] = round(cvalue * spread * min(specificity, 10.0) ** 0.5 * rarity(term), 6)
    return scores


def specificity(term: str, frequency: int, total: int) -> float:
    """log10 of how much more often *term* occurs here than in general English (the "weirdness"
    ratio of Ahmad et al.): its share of this discipline's candidate occurrences over its share of
    English words by wordfreq. Everyday words ("detail", "information") score near or below 1,
    domain words ("tuple", "namespace") 3 or more."""
    from wordfreq import zipf_frequency

    zipf = zipf_frequency(term, "en")
    general = 10 ** (zipf - 9) if zipf > 0 else 1e-9
    return round(math.log10((frequency / max(total, 1)) / general), 6)


_LOWER_JOINERS = {"of", "van", "von", "de", "der", "la", "le", "and", "the", "for", "in", "on"}


def looks_like_proper_noun(surfaces: dict[str, int]) -> bool:
    """A single word only ever written capitalised and rare in English ("Euler", "Cauchy",
    "Abramowitz"): a person, place or publisher named in the text, not a term. Frequent words
    ("Python") and words with capitals inside ("NumPy", "CPython") are kept."""
    from wordfreq import zipf_frequency

    if not surfaces:
        return False
    for surface in surfaces:
        if not (surface[:1].isupper() and surface[1:].islower()):
            return False
    return zipf_frequency(next(iter(surfaces)).lower(), "en") < 3.0


_CAMEL = re.compile(r"[a-z][A-Z]")


def names_code(surfaces: dict[str, int]) -> bool:
    """A phrase that names a class or function of one library ("KanesMethod object", "SymbolicSystem
    class"): a word with a capital inside in most of its occurrences. Its concept is the API's, not
    the field's."""
    total = sum(surfaces.values())
    camel = sum(n for surface, n in surfaces.items() if any(_CAMEL.search(w) for w in surface.split()[:-1]))
    return total > 0 and camel * 2 > total


def looks_like_name(surfaces: dict[str, int]) -> bool:
    """A multi-word phrase only ever written in title case ("Guido van Rossum", "Journal of Machine
    Learning Research", "Neural Computation"): a person, venue, organisation or title, not a term."""
    for surface in surfaces:
        words = surface.split()
        if len(words) < 2 or surface.isupper():
            return False
        if not all(w[0].isupper() for w in words if w.lower() not in _LOWER_JOINERS and w[0].isalpha()):
            return False
    return bool(surfaces)
