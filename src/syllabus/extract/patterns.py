"""Relations, definitions and synonyms from dependency-parsed sentences.

Arguments are the heads of noun phrases (with their conjuncts) linked to concepts through the
mentions found in the sentence: a head token inside a mention of concept C stands for C. A
pattern fires only when both ends link, so subject and object are the right noun phrases
("the net force on a body causes its acceleration" -> net force causes acceleration).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from syllabus.extract.calibration import definition_confidence, relation_confidence
from syllabus.extract.mentions import Mention
from syllabus.extract.terms import GENERAL_NOUNS

VERSION = "4"

# (verb lemma, preposition or None) -> (predicate, reversed?, confidence)
VERB_RULES: dict[tuple[str, str | None], tuple[str, bool, float]] = {
    ("cause", None): ("causes", False, 0.85),
    ("produce", None): ("causes", False, 0.7),
    ("trigger", None): ("causes", False, 0.75),
    ("lead", "to"): ("causes", False, 0.8),
    ("result", "in"): ("causes", False, 0.8),
    ("give", "to"): ("causes", False, 0.5),
    ("require", None): ("requires", False, 0.85),
    ("need", None): ("requires", False, 0.75),
    ("depend", "on"): ("requires", False, 0.8),
    ("rely", "on"): ("requires", False, 0.7),
    ("contain", None): ("part_of", True, 0.7),
    ("consist", "of"): ("part_of", True, 0.8),
    ("compose", "of"): ("part_of", True, 0.8),
    ("make", "of"): ("part_of", True, 0.6),
    ("include", None): ("is_a", True, 0.5),
    ("have", None): ("has_property", False, 0.6),
    ("possess", None): ("has_property", False, 0.7),
    ("use", "for"): ("used_for", False, 0.8),
    ("use", "in"): ("used_for", False, 0.6),
}
KIND_NOUNS = {"kind", "type", "form", "example", "sort", "class", "category", "instance", "variety", "subtype"}
PROPERTY_NOUNS = {"property", "attribute", "characteristic", "feature"}
RELATIVE = {"which", "that", "who"}
PRONOUNS = {"it", "they", "this", "these"}


@dataclass(frozen=True)
class Found:
    kind: str  # "relation" | "definition" | "synonym" | "abbreviation"
    subject: tuple[str, ...]
    predicate: str | None
    object: tuple[str, ...]
    text: str | None  # definition sentence or label text
    start_char: int  # span in the doc
    end_char: int
    sentence: tuple[int, int]  # sentence char span
    confidence: float
    pattern: str


class Linker:
    """Maps tokens to the concepts of the mentions that cover them.

    A mention narrowed by a modifier outside it ("graphical model", "the model of an RBM") still
    links, but only where a narrower term stands safely for the wider one: as the object of a
    taxonomic claim ("X is a bipartite graph" -> X is_a graph), never as the subject of a fact."""

    def __init__(self, mentions: list[Mention], doc=None) -> None:
        self.by_token: dict[int, Mention] = {}
        self.narrowed: set[int] = set()  # token offsets of mentions narrowed by an outside modifier
        for m in mentions:
            if doc is not None and _specialised(doc, m):
                continue
            narrowed = doc is not None and _narrowed(doc, m)
            for i in range(m.start, m.end):
                self.by_token[i] = m
                if narrowed:
                    self.narrowed.add(i)

    def concepts(self, token) -> list[tuple[tuple[str, ...], object]]:
        """Concepts for a noun-phrase head and its conjuncts."""
        out = []
        for t in (token, *token.conjuncts):
            m = self.by_token.get(t.i)
            if m is not None:
                out.append((m.concept_ids, t))
        return out


def _specialised(doc, m: Mention) -> bool:
    """A mention whose head carries a noun compound or possessive outside it names something
    narrower ("solar system", "daughter cells", "the bob's weight"): it does not link."""
    head = doc[m.end - 1]
    if any(c.dep_ in ("compound", "poss") and not (m.start <= c.i < m.end) and c.pos_ in ("NOUN", "PROPN")
           for c in head.children):
        return True
    # a word outside that modifies a word inside is part of a longer term: "first class objects",
    # "the two-point theorem" are not mentions of "class object" or "point theorem"
    return any(doc[i].head.i != i and not (m.start <= c.i < m.end) and c.dep_ in _INNER_MODIFIERS
               for i in range(m.start, m.end - 1) for c in doc[i].children)


_INNER_MODIFIERS = {"amod", "compound", "nummod", "npadvmod", "advmod", "quantmod"}


_GENERIC_ADJ = {"same", "other", "following", "above", "given", "such", "various", "several", "many", "few",
                "certain", "new", "own", "whole", "entire", "every", "each", "any", "all", "some", "most", "more",
                "much", "main", "only", "first", "last", "single"}


def _narrowed(doc, m: Mention) -> bool:
    """The mention's head carries an adjective or an "of" phrase outside it that says which one
    ("graphical model", "the velocity of the particle", "mutable default argument")."""
    head = doc[m.end - 1]
    for c in head.children:
        if m.start <= c.i < m.end:
            continue
        if c.dep_ == "amod" and c.lower_ not in _GENERIC_ADJ:
            return True
        if c.dep_ == "prep" and c.lower_ in ("of", "with", "without") and c.i > head.i:
            return True  # "the velocity of the particle", "a string literal with an f prefix"
        if c.dep_ in ("nmod", "acl") and c.i > head.i:
            return True
    return False


_SPECIFIC_DET = {"the", "this", "that", "these", "those", "its", "their", "his", "her", "our", "your", "my",
                 "such", "which", "what", "whose"}


def _generic_reference(token) -> bool:
    """A subject that speaks of the kind, not one thing ("a tuple", "tuples", "every force"), as a
    taxonomic claim needs: "the parameter is a string" is about one parameter."""
    return not any(c.dep_ in ("det", "poss") and c.lower_ in _SPECIFIC_DET for c in token.children) and not any(
        c.dep_ == "poss" for c in token.children)


def _children(token, *deps):
    return [c for c in token.children if c.dep_ in deps]


def _pobj(token, prep: str):
    for c in token.children:
        if c.dep_ in ("prep", "agent", "dative") and c.lower_ == prep:
            return [p for p in c.children if p.dep_ == "pobj"]
    return []


def _subjects(verb):
    subs = _children(verb, "nsubj")
    if subs and subs[0].lower_ in RELATIVE and verb.dep_ == "relcl":
        noun = verb.head
        if noun.dep_ == "attr" and noun.head.lemma_ == "be":  # "X is a Y that needs Z": X needs Z
            return _children(noun.head, "nsubj") or [noun]
        if subs[0].lower_ == "that" or verb.doc[subs[0].i - 1].text != ",":
            return []  # restrictive: "a function that requires an argument" says which function, not that all do
        return [noun]  # "enzymes, which require cofactors, ..." states it of all
    if not subs and verb.dep_ == "relcl":
        return []
    if verb.dep_ in ("conj", "xcomp") and verb.head.pos_ in ("VERB", "AUX") and (
            not subs or subs[0].lower_ in PRONOUNS):  # "... requires X, and it requires Y"
        return _subjects(verb.head)
    return subs


def _span(*tokens):
    start = min(t.idx for t in tokens)
    end = max(t.idx + len(t.text) for t in tokens)
    return start, end


def find_relations(doc, mentions: list[Mention]) -> list[Found]:
    """Every relation, definition, synonym and abbreviation pattern match in *doc*, with the
    confidence calibrated for its pattern on judged facts (see :mod:`calibration`)."""
    return [_calibrated(f) for f in _find_all(doc, mentions)]


def _calibrated(f: Found) -> Found:
    if f.kind == "relation":
        return replace(f, confidence=relation_confidence(f.predicate, f.pattern, f.confidence))
    if f.kind == "definition":
        return replace(f, confidence=definition_confidence(f.pattern, f.confidence))
    return f


def _find_all(doc, mentions: list[Mention]) -> list[Found]:
    link = Linker(mentions, doc)
    out: list[Found] = []
    if not link.by_token:
        return out
    for sent in doc.sents:
        if not any(i in link.by_token for i in range(sent.start, sent.end)):
            continue  # every pattern needs a linked concept in the sentence
        sent_span = (sent.start_char, sent.end_char)
        for token in sent:
            if token.pos_ in ("VERB", "AUX"):
                out += _verb_patterns(token, link, sent_span)
                if token.lemma_ == "be":
                    out += _copula_patterns(token, link, sent_span, sent)
                if token.lemma_ == "refer":
                    out += _refers_to(token, link, sent_span, sent)
                if token.lemma_ in ("call", "know", "name", "term"):
                    out += _also_called(token, link, sent_span)
            if token.lower_ == "as" and token.dep_ == "prep":
                out += _such_as(token, link, sent_span)
            if token.lower_ == "including" and token.dep_ == "prep":
                out += _pairs(link, token.head, [p for p in token.children if p.dep_ == "pobj"], "is_a", True, 0.6,
                              "including", sent_span)
            if token.dep_ == "appos" and any(c.lower_ in ("a", "an") for c in token.children) \
                    and not _in_list(token) and not _negated(token):
                if token.i in link.by_token:
                    out += _pairs(link, token.head, [token], "is_a", False, 0.65, "apposition", sent_span, expand=False)
                out += _definition(link, token.head, sent, "apposition", sent_span)
        out += _abbreviations(sent, link, sent_span)
    return out


def _negated(token) -> bool:
    """"X does not cause Y", "cells have no nucleus": the statement is denied."""
    if any(c.dep_ == "neg" or c.lower_ in ("no", "never", "without") for c in token.children):
        return True
    return token.dep_ in ("dobj", "pobj", "attr") and _negated(token.head) if token.head is not token else False


def _in_list(token) -> bool:
    """An appositive inside an enumeration ("a body, a system or a process") is not a definition."""
    head = token.head
    return bool(_children(token, "conj", "cc")) or bool(_children(head, "conj", "cc")) or any(
        t.lower_ in ("and", "or") for t in token.doc[token.i: min(token.right_edge.i + 3, len(token.doc))])


def _pairs(link, subject_head, object_heads, predicate, reverse, confidence, pattern, sent_span,
           expand: bool = True) -> list[Found]:
    out = []
    subjects = link.concepts(subject_head)
    for obj in object_heads:
        if _negated(obj):
            continue
        for o_ids, o_tok in (link.concepts(obj) if expand else link.concepts(obj)[:1]):
            for s_ids, s_tok in subjects:
                a, b = (o_ids, s_ids) if reverse else (s_ids, o_ids)
                if set(a) & set(b):
                    continue
                subject_tok, object_tok = (o_tok, s_tok) if reverse else (s_tok, o_tok)
                if subject_tok.i in link.narrowed or (predicate != "is_a" and object_tok.i in link.narrowed):
                    continue  # a narrower thing's facts are not the wider concept's
                start, end = _span(s_tok, o_tok)
                # "a unit circle is a circle": the narrower term names its genus; calibration keeps it apart
                named = "|head" if predicate == "is_a" and subject_tok.lemma_.lower() == object_tok.lemma_.lower() else ""
                out.append(Found("relation", a, predicate, b, None, start, end, sent_span, confidence,
                                 pattern + named))
    return out


def _rules_by_lemma(rules: dict) -> dict[str, list[tuple[str | None, tuple[str, bool, float]]]]:
    """The (preposition, rule) pairs of each verb lemma, in their order."""
    out: dict[str, list] = {}
    for (lemma, prep), rule in rules.items():
        out.setdefault(lemma, []).append((prep, rule))
    return out


_RULES_BY_LEMMA = _rules_by_lemma(VERB_RULES)


def _verb_patterns(verb, link, sent_span) -> list[Found]:
    out = []
    lemma = verb.lemma_.lower()
    rules = _RULES_BY_LEMMA.get(lemma)
    if not rules or _negated(verb) or _conditional(verb):  # most verbs have no rule: nothing else to look at
        return out
    passive = bool(_children(verb, "nsubjpass", "auxpass"))
    qualifier = _qualifier(verb)
    for prep, (predicate, reverse, confidence) in rules:
        pattern = f"verb:{lemma}{' ' + prep if prep else ''}{qualifier}"
        if passive:
            subjects = _children(verb, "nsubjpass") or (
                _children(verb.head, "nsubj", "nsubjpass") if verb.dep_ == "conj" else [])
            if prep is None:  # "Y is caused by X" -> X causes Y
                for agent_obj in _pobj(verb, "by"):
                    for subj in subjects:
                        out += _pairs(link, agent_obj, [subj], predicate, reverse, confidence, pattern + " (passive)", sent_span)
            else:  # "X is composed of Y", "X is used for Y"
                objects = _pobj(verb, prep)
                if lemma == "use":  # "used for calculating X", "used to measure X"
                    for p in _children(verb, "prep"):
                        if p.lower_ == prep:
                            for pcomp in _children(p, "pcomp"):
                                objects += _children(pcomp, "dobj")
                    for xcomp in _children(verb, "xcomp"):
                        objects += _children(xcomp, "dobj")
                for subj in subjects:
                    out += _pairs(link, subj, objects, predicate, reverse, confidence, pattern, sent_span)
            continue
        if lemma == "use":
            continue  # active "we use X for Y" is about the speaker
        objects = _children(verb, "dobj") if prep is None else _pobj(verb, prep)
        if predicate == "has_property":  # "Python has many modules" counts things, it names no property
            objects = [o for o in objects if not any(c.lower_ in _QUANTIFIERS for c in o.children)]
        for subj in _subjects(verb):
            out += _pairs(link, subj, objects, predicate, reverse, confidence, pattern, sent_span)
    return out


_QUANTIFIERS = {"many", "several", "some", "few", "multiple", "various", "numerous", "two", "three", "more",
                "most", "all", "any", "no"}
_CONDITIONAL = {"if", "unless", "whether", "once", "until", "when", "whenever", "while", "because", "since",
                "although", "though"}
# adverbs that say "not always": a statement carrying one is not a general fact
_NOT_ALWAYS = {"usually", "often", "sometimes", "typically", "normally", "mostly", "generally", "frequently",
               "rarely", "seldom", "occasionally", "commonly", "mainly", "largely", "just", "merely", "simply",
               "probably", "perhaps", "possibly", "arguably", "essentially"}
_SOME = {"most", "some", "many", "few", "several", "certain", "various"}


def _not_always(verb) -> bool:
    """"Containers usually are sequences", "most dummy variables are ...": true of some, not all."""
    if any(c.dep_ == "advmod" and c.lower_ in _NOT_ALWAYS for c in verb.children):
        return True
    return any(d.lower_ in _SOME for s in _children(verb, "nsubj", "nsubjpass") for d in s.children
               if d.dep_ in ("amod", "det", "nummod"))
_HEDGES = {"may", "might", "could", "would", "should", "can"}


def _conditional(verb) -> bool:
    """"If the module contains X", "whether X needs Y": a supposition, not a statement."""
    return any(c.dep_ in ("mark", "advmod") and c.lower_ in _CONDITIONAL for c in verb.children) or (
        verb.dep_ in ("advcl", "ccomp") and any(c.dep_ == "mark" and c.lower_ in _CONDITIONAL
                                                  for c in verb.head.children if c.i < verb.i))


def _qualifier(verb) -> str:
    """Pattern suffixes that calibration keeps apart: a hedged verb ("can cause") and a subject
    that names one thing ("the class needs") are weaker evidence of a general fact."""
    out = ""
    if any(c.dep_ == "aux" and c.lower_ in _HEDGES for c in verb.children) or _not_always(verb):
        out += "|hedged"
    subjects = _children(verb, "nsubj", "nsubjpass")
    if subjects and not _generic_reference(subjects[0]):
        out += "|specific"
    return out


def _indefinite(attr, subj) -> bool:
    """"a Y" after "X is", or bare "Ys" after bare "Xs are": a class, not one thing."""
    if any(c.lower_ in ("a", "an") for c in attr.children):
        return True
    return not any(c.dep_ == "det" for c in attr.children) and not any(c.dep_ == "det" for c in subj.children) \
        and attr.lemma_.lower() != attr.lower_


def _copula_patterns(be, link, sent_span, sent) -> list[Found]:
    out = []
    if _negated(be) or _conditional(be) or _children(be, "aux") or _not_always(be):
        return out  # "X is not a Y", "if X is a Y", "X must be a Y", "Xs usually are Ys" state nothing about X
    subjects = [s for s in _children(be, "nsubj")
                if not any(c.lower_ in _SPECIFIC_DET - {"the"} for c in s.children if c.dep_ in ("det", "poss"))]
    for attr in _children(be, "attr"):
        if _children(attr, "predet", "quantmod") or any(c.lower_ == "half" for c in attr.children):
            continue  # "half a rectangle" is no kind of thing
        head_lemma = attr.lemma_.lower()
        of = _pobj(attr, "of")
        for subj in subjects:
            if head_lemma in KIND_NOUNS and of:
                if _generic_reference(subj):  # "the argument is some kind of container" is about one argument
                    out += _pairs(link, subj, of, "is_a", False, 0.9, f"copula:{head_lemma} of", sent_span)
            elif head_lemma == "part" and of:
                out += _pairs(link, subj, of, "part_of", False, 0.85, "copula:part of", sent_span)
            elif head_lemma in PROPERTY_NOUNS and of:
                out += _pairs(link, subj, of, "has_property", True, 0.8, f"copula:{head_lemma} of", sent_span)
            elif head_lemma == "cause" and of:
                out += _pairs(link, subj, of, "causes", False, 0.8, "copula:cause of", sent_span)
            elif head_lemma in ("result", "consequence", "effect") and of:
                out += _pairs(link, subj, of, "causes", True, 0.75, f"copula:{head_lemma} of", sent_span)
            elif not (of or _children(attr, "acl", "poss") or _children(subj, "poss", "nmod")
                      or _children(be, "aux", "mark")):
                # "X is a Y" is taxonomy; "X is the magnitude of Y", "X is the force multiplied
                # by ...", "its size is ...", "X must be a Y", "if X is a Y", "the X is a Y" are not
                if _generic_reference(subj) and _indefinite(attr, subj):
                    out += _pairs(link, subj, [attr], "is_a", False, 0.8, "copula:is a", sent_span)
            if any(c.lower_ in ("a", "an", "the") for c in attr.children) and _defines(be, attr):
                out += _definition(link, subj, sent, "copula", sent_span)
    return out


_NOT_A_GENUS = {"example", "idea", "way", "thing", "one", "lot", "bit", "problem", "question", "good", "case",
               "matter", "reason", "point", "part", "result", "topic", "area", "field", "subject", "story"}


_EVALUATIVE = {"interesting", "good", "great", "nice", "powerful", "useful", "simple", "important", "easy",
               "convenient", "handy", "popular", "excellent", "bad", "common", "typical", "usual", "special",
               "complicated", "hard", "difficult", "notorious", "tricky", "confusing", "elegant", "beautiful",
               "fascinating", "subtle", "significant", "basic", "fundamental", "key", "major", "central"}


def _defines(be, attr) -> bool:
    """A copula that states what something is: not denied, hedged or conditional, naming one genus
    ("a sequence", "an object"), not a list of things, "an example" or "an interesting system"."""
    return not _negated(be) and not _children(be, "aux", "mark") and attr.pos_ in ("NOUN", "PROPN") \
        and attr.lemma_.lower() not in _NOT_A_GENUS and attr.lemma_.lower() not in GENERAL_NOUNS \
        and not _children(attr, "conj") \
        and not any(c.dep_ == "amod" and (c.lower_ in _EVALUATIVE or _children(c, "advmod")) for c in attr.children)


def _whole_subject(link, subject_head, sent):
    """The mention that is the entire subject noun phrase (determiners aside) and starts the
    sentence, or None: the defined term must be what the sentence is about."""
    m = link.by_token.get(subject_head.i)
    if m is None or subject_head.i in link.narrowed:
        return None
    aside = {t.i for c in subject_head.children if c.dep_ == "appos" for t in c.subtree}  # "(KE)"
    words = [t for t in subject_head.subtree if t.dep_ not in ("det", "punct") and t.i not in aside]
    if not words or words[0].i < m.start or words[-1].i >= m.end:
        return None
    lead = [t for t in sent if t.i < subject_head.left_edge.i and not t.is_punct and not t.is_space]
    if len(lead) > 1 or any(c.lower_ in _SPECIFIC_DET - {"the"} for c in subject_head.children):
        return None
    return m


def _definition(link, subject_head, sent, pattern, sent_span) -> list[Found]:
    m = _whole_subject(link, subject_head, sent)
    words = [t for t in sent if not t.is_punct and not t.is_space]
    if m is None or not 6 <= len(words) <= 60 or not sent.text.rstrip().endswith("."):
        return []  # a definition is a whole declarative sentence
    if any(c.lower_ == "the" for c in subject_head.children if c.dep_ == "det"):
        return []  # "the parameters are ...", "the matrix is a notoriously hard topic": about particular ones
    # "a unit circle is a circle whose ..." speaks of any one; calibration keeps it apart from bare subjects
    pattern += "|indefinite" if any(c.lower_ in ("a", "an") for c in subject_head.children if c.dep_ == "det") else ""
    text = sent.doc.text[subject_head.left_edge.idx:sent.end_char].strip()  # without a lead-in ("IPython: ...")
    return [Found("definition", m.concept_ids, None, (), text, m.start_char, m.end_char, sent_span,
                  0.8, f"definition:{pattern}")]


def _refers_to(verb, link, sent_span, sent) -> list[Found]:
    if not _pobj(verb, "to"):
        return []
    out = []
    for subj in _subjects(verb):
        out += _definition(link, subj, sent, "refers to", sent_span)
    return out


def _also_called(verb, link, sent_span) -> list[Found]:
    """"X, also called Z, ..." / "X, also known as Z" (the small parser makes either verb the head)."""
    if verb.dep_ in ("acl", "advcl", "relcl"):
        named_head = verb.head
    elif any(c.lower_ == "also" for c in verb.children) and _children(verb, "nsubj"):
        named_head = _children(verb, "nsubj")[0]
    else:
        return []
    named = _children(verb, "oprd", "attr", "dobj") + _pobj(verb, "as")
    m = link.by_token.get(named_head.i)
    if m is None or not named:
        return []
    out = []
    for n in named:
        for t in (n, *n.conjuncts):
            words = [w for w in t.doc[t.left_edge.i: t.right_edge.i + 1] if w.pos_ not in ("DET", "PUNCT", "CCONJ")]
            words = [w for w in words if w.i <= t.i or w.head.i >= t.i]
            if words and not (len(words) == 1 and (words[0].pos_ == "PRON" or words[0].is_stop)):
                text = t.doc[words[0].i: words[-1].i + 1].text
                out.append(Found("synonym", m.concept_ids, None, (), text, m.start_char, t.idx + len(t.text),
                                 sent_span, 0.8, f"synonym:{verb.lemma_}"))
    return out


def _such_as(as_token, link, sent_span) -> list[Found]:
    if not (any(c.lower_ == "such" for c in as_token.children) or
            any(c.lower_ == "such" for c in as_token.head.children)):
        return []
    objects = [p for p in as_token.children if p.dep_ == "pobj"]
    return _pairs(link, as_token.head, objects, "is_a", True, 0.8, "hearst:such as", sent_span)


def _abbreviations(sent, link, sent_span) -> list[Found]:
    out = []
    tokens = list(sent)
    for i in range(1, len(tokens) - 2):
        left, inner, right = tokens[i], tokens[i + 1], tokens[i + 2]
        if left.text == "(" and right.text == ")" and inner.text.isalpha() and inner.text.isupper() \
                and 2 <= len(inner.text) <= 6:
            m = link.by_token.get(tokens[i - 1].i)
            if m is not None and m.end == tokens[i - 1].i + 1:
                initials = "".join(w[0] for w in sent.doc[m.start:m.end].text.replace("-", " ").split()).upper()
                if initials.startswith(inner.text[0]):
                    out.append(Found("abbreviation", m.concept_ids, None, (), inner.text, m.start_char,
                                     inner.idx + len(inner.text), sent_span, 0.9 if initials == inner.text else 0.6,
                                     "abbreviation"))
    return out
