"""Finding concept labels in parsed text: case-insensitive, lemma-aware, longest match wins."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    concept_ids: tuple[str, ...]  # more than one when several concepts share the label
    start: int  # token offsets in the doc
    end: int
    start_char: int
    end_char: int
    score: float  # 1.0 surface match, 0.9 lemma-only match

    @property
    def root(self) -> int:
        return self.end - 1


_NOT_NOMINAL = {"VERB", "AUX", "ADP", "DET", "PRON", "CCONJ", "SCONJ", "PART", "PUNCT"}


_NOMINAL_DEPS = {"nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "compound", "npadvmod", "oprd"}


def _nominal(token) -> bool:
    """Used as a noun, trusting the parse where the tagger slips ("... mRNA and ribosomes" tagged VERB)."""
    if token.pos_ not in _NOT_NOMINAL:
        return True
    if token.pos_ in ("DET", "PRON", "ADP", "CCONJ", "SCONJ", "PART", "PUNCT"):
        return False
    return token.dep_ in _NOMINAL_DEPS or (token.dep_ == "conj" and token.head.pos_ in ("NOUN", "PROPN"))


def _is_symbolic(text: str) -> bool:
    """Abbreviations and symbols (KE, ATP, F) match case-sensitively."""
    letters = [c for c in text if c.isalpha()]
    return len(text) <= 2 or (letters and all(c.isupper() for c in letters) and len(text) <= 6)


def lemma_key(token) -> str:
    """Lower-case lemma; plurals the small tagger mistook (capitalised "Ribosomes" as a proper
    noun or adverb) are singularised by rule."""
    return _lemma_key(token.lemma_.lower(), token.lower_, token.pos_ in ("VERB", "AUX"), token.is_stop)


def _lemma_key(lemma: str, word: str, verbal: bool, stop: bool) -> str:
    if lemma != word or verbal or stop:
        return lemma
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


# per vocabulary: (lemma, lower, pos, is_stop) -> hash of the lemma key (its string is in that vocabulary)
_NORM_MEMOS: dict[int, tuple[object, dict[tuple[int, int, int, int], int]]] = {}


def set_lemma_norms(doc):
    """Store :func:`lemma_key` in each token's NORM so a PhraseMatcher can match on it.

    The key depends only on (lemma, lower form, part of speech, stop word), so it is computed
    once per distinct combination (memoised across docs) and written back as one array."""
    import numpy as np
    from spacy.attrs import IS_STOP, LEMMA, LOWER, NORM, POS
    from spacy.symbols import AUX, VERB

    if not len(doc):
        return doc
    strings = doc.vocab.strings
    entry = _NORM_MEMOS.get(id(doc.vocab))
    if entry is None or entry[0] is not doc.vocab or len(entry[1]) > 1_000_000:
        if len(_NORM_MEMOS) >= 8:
            _NORM_MEMOS.clear()
        entry = _NORM_MEMOS[id(doc.vocab)] = (doc.vocab, {})
    memo = entry[1]
    norms = []
    for row in map(tuple, doc.to_array([LEMMA, LOWER, POS, IS_STOP]).tolist()):
        value = memo.get(row)
        if value is None:
            lemma, lower, pos, stop = row
            value = memo[row] = strings.add(
                _lemma_key(strings[lemma].lower(), strings[lower], pos in (VERB, AUX), bool(stop)))
        norms.append(value)
    doc.from_array([NORM], np.array(norms, dtype=np.uint64).reshape(-1, 1))
    return doc


class LabelIndex:
    """PhraseMatchers over a discipline's labels."""

    def __init__(self, nlp, labels: list[tuple[str, str]]) -> None:
        from spacy.matcher import PhraseMatcher

        self.nlp = nlp
        self.by_key: dict[str, set[str]] = defaultdict(set)
        self.orth = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.lemma = PhraseMatcher(nlp.vocab, attr="NORM")
        symbolic, plain = [], []
        for concept_id, text in labels:
            text = " ".join(text.split())
            if len(text) < 2:  # one-letter symbols ("a", "v", "I") collide with ordinary words
                continue
            (symbolic if _is_symbolic(text) else plain).append((concept_id, text))
        for concept_id, text in symbolic:
            self.by_key["O:" + text].add(concept_id)
        for concept_id, text in plain:
            self.by_key["L:" + text.lower()].add(concept_id)
        for key in sorted(k for k in self.by_key if k.startswith("O:")):
            self.orth.add(key, [nlp.make_doc(key[2:])])
        lower_keys = sorted(k for k in self.by_key if k.startswith("L:"))
        for key in lower_keys:
            self.lower.add(key, [nlp.make_doc(key[2:])])
        with nlp.select_pipes(disable=[p for p in nlp.pipe_names if p == "parser"]):
            for key, doc in zip(lower_keys, nlp.pipe([k[2:] for k in lower_keys], batch_size=256)):
                self.lemma.add(key, [set_lemma_norms(doc)])
        self.vocab = nlp.vocab

    def find(self, doc) -> list[Mention]:
        from spacy.util import filter_spans

        set_lemma_norms(doc)
        found: dict[tuple[int, int], tuple[set[str], float]] = {}
        for matcher, score in ((self.orth, 1.0), (self.lower, 1.0), (self.lemma, 0.9)):
            for match_id, start, end in matcher(doc):
                ids = self.by_key[self.vocab.strings[match_id]]
                current = found.get((start, end))
                if current is None:
                    found[(start, end)] = (set(ids), score)
                else:
                    current[0].update(ids)
                    found[(start, end)] = (current[0], max(current[1], score))
        # a one-word label must be used as a noun: "set" the verb, "listed" are not mentions
        spans = filter_spans([doc[s:e] for s, e in found if e - s > 1 or _nominal(doc[s])])
        out = []
        for span in sorted(spans, key=lambda sp: sp.start):
            ids, score = found[(span.start, span.end)]
            out.append(Mention(tuple(sorted(ids)), span.start, span.end, span.start_char, span.end_char, score))
        return out
