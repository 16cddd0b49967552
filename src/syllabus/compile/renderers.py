"""Renderers: one graph unit -> the tasks it can teach, each with its template context.

A renderer reads the graph through a :class:`Reader` that records every unit it touched; those
units (and their fingerprints) are the example's dependencies, so a dependency can never be
forgotten. Choices (true or false, which sibling, option order) are made from hashes of the
seed and the unit, never from a random generator, so a compile is reproducible and an
unrelated edit does not reshuffle other examples. Third-party renderers register under the
``syllabus.renderers`` entry-point group (:mod:`syllabus.compile.registry` finds them all).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from syllabus.compile.graph import ConceptView, Graph, LabelView

LETTERS = "ABCDEFGH"
CHOICE_OPTIONS = 4

PHRASES = {
    "is_a": {"verb": "is a kind of", "verb_plural": "are kinds of", "verb_base": "count as a kind of",
             "forward": "What is {s} a kind of?", "backward": "Name kinds of {o}.", "choice": "a kind of"},
    "part_of": {"verb": "is part of", "verb_plural": "are parts of", "verb_base": "count as part of",
                "forward": "What is {s} part of?", "backward": "What are the parts of {o}?", "choice": "part of"},
    "causes": {"verb": "causes", "verb_plural": "cause", "verb_base": "cause",
               "forward": "What does {s} cause?", "backward": "What causes {o}?"},
    "requires": {"verb": "requires", "verb_plural": "require", "verb_base": "require",
                 "forward": "What does {s} require?", "backward": "What requires {o}?"},
    "has_property": {"verb": "has the property", "verb_plural": "have the property", "verb_base": "have the property",
                     "forward": "What property does {s} have?", "backward": "What has the property {o}?"},
    "used_for": {"verb": "is used for", "verb_plural": "are used for", "verb_base": "serve for",
                 "forward": "What is {s} used for?", "backward": "What is used for {o}?"},
    "related_to": {"verb": "is related to", "verb_plural": "are related to", "verb_base": "relate to",
                   "forward": "What is {s} related to?", "backward": "What is related to {o}?"},
}
RULE_REASONS = {
    "transitive_is_a": "A kind of a kind of something is itself a kind of that thing.",
    "transitive_part_of": "A part of a part of something is itself part of that thing.",
    "property_inheritance": "A kind of thing has the properties of what it is a kind of.",
    "causal_composition": "When one thing causes another that in turn causes a third, the first leads to the third.",
    "prerequisite_chain": "What a prerequisite requires is required as well.",
}


def phrase(predicate: str) -> dict:
    words = predicate.replace("_", " ")
    return PHRASES.get(predicate, {"verb": words, "verb_plural": words, "verb_base": words,
                                   "forward": f"What does {{s}} {words}?", "backward": f"What {words} {{o}}?"})


class Reader:
    """The graph as a renderer sees it; records the unit keys it reads."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.keys: set[str] = set()

    def concept(self, cid: str) -> ConceptView | None:
        self.keys.add(f"concept:{cid}")
        return self.graph.concept(cid)

    def label(self, cid: str) -> LabelView | None:
        """Just the concept's name: a dependency on its label only, not its definition or evidence."""
        self.keys.add(f"label:{cid}")
        return self.graph.label(cid)

    def out_edges(self, cid: str):
        self.keys.add(f"out:{cid}")
        return self.graph.out_edges(cid)

    def in_edges(self, cid: str):
        self.keys.add(f"in:{cid}")
        return self.graph.in_edges(cid)

    def relation(self, rid: str):
        self.keys.add(f"relation:{rid}")
        return self.graph.relation(rid)

    def chain(self, hid: str):
        self.keys.add(f"chain:{hid}")
        return self.graph.chain(hid)

    def gap(self, gid: str):
        self.keys.add(f"gap:{gid}")
        return self.graph.gap(gid)

    # graph helpers used by several tasks
    def parents(self, cid: str, predicate: str = "is_a") -> list[str]:
        return [e.object for e in self.out_edges(cid) if e.predicate == predicate]

    def children(self, cid: str, predicate: str = "is_a") -> list[str]:
        return [e.subject for e in self.in_edges(cid) if e.predicate == predicate]

    def ancestors(self, cid: str, predicate: str = "is_a", limit: int = 64) -> set[str]:
        seen: set[str] = set()
        todo = [cid]
        while todo and len(seen) < limit:
            for p in self.parents(todo.pop(), predicate):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen


@dataclass
class Task:
    """One example to render: the task, its template context, the units and evidence it cites."""

    name: str
    context: dict
    units: list[str]
    evidence: list = field(default_factory=list)
    phrasing: str | None = None  # the template folder when it differs from the name (patch.x.1 -> patch.x)
    variant: int | None = None  # a fixed phrasing (index into the sorted phrasings) instead of a hashed one


TaskFn = Callable[[Reader, str, "Choice"], "Task | None"]


@dataclass(frozen=True)
class Choice:
    """Deterministic choices from the seed and a unit id."""

    seed: int
    unit: str

    def rank(self, items, salt: str) -> list:
        """Items in a fixed pseudo-random order; adding an item moves no other relative to each other."""
        prefix = f"{self.seed}|{self.unit}|{salt}|"
        return sorted(set(items), key=lambda x: (zlib.crc32((prefix + x).encode()), x))

    def flag(self, salt: str) -> bool:
        return zlib.crc32(f"{self.seed}|{self.unit}|{salt}".encode()) % 2 == 0

    def index(self, n: int, salt: str) -> int:
        return zlib.crc32(f"{self.seed}|{self.unit}|{salt}".encode()) % n


@dataclass(frozen=True)
class Renderer:
    name: str
    version: int
    kind: str  # the unit kind it renders: concept | relation | chain
    tasks: tuple[tuple[str, TaskFn], ...]

    @cached_property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


# -- concept tasks ------------------------------------------------------------------------------
def _concept_definition(r: Reader, cid: str, ch: Choice) -> Task | None:
    c = r.concept(cid)
    if c is None or not c.definition:
        return None
    ev = _evidence_beyond(c.evidence, c.definition)
    return Task("concept.definition", {"concept": c, "evidence": ev}, [f"concept:{cid}"], list(c.evidence[:1]))


def _concept_term(r: Reader, cid: str, ch: Choice) -> Task | None:
    c = r.concept(cid)
    if c is None or not c.definition:
        return None
    return Task("concept.term", {"concept": c}, [f"concept:{cid}"])


def _concept_synonyms(r: Reader, cid: str, ch: Choice) -> Task | None:
    c = r.concept(cid)
    if c is None or not c.alt_labels:
        return None
    return Task("concept.synonyms", {"concept": c}, [f"concept:{cid}"])


def _concept_true_false(r: Reader, cid: str, ch: Choice) -> Task | None:
    c = r.concept(cid)
    if c is None:
        return None
    parents = [p for p in r.parents(cid) if r.label(p)]
    if not parents:
        return None
    parent = r.label(ch.rank(parents, "parent")[0])
    truth = ch.flag("truth")
    if not truth:
        # graph-derived false statements: a wrong parent (a sibling of the parent), a sibling's definition;
        # looked for only now, so a true statement does not depend on the relatives it never names
        ancestors = r.ancestors(cid)
        wrong_parents = [w for gp in r.parents(parent.id) for w in r.children(gp)
                         if w != parent.id and w != cid and w not in ancestors and r.label(w)]
        siblings = [s for s in r.children(parent.id) if s != cid and (sc := r.concept(s)) and sc.definition
                    and sc.definition != c.definition]
        kinds = (["wrong_parent"] if wrong_parents else []) + \
            (["sibling_definition"] if siblings and c.definition else [])
        truth = not kinds
    units = [f"concept:{cid}", f"label:{parent.id}"]
    if truth:
        if c.definition and ch.flag("true-kind"):
            statement = f"{c.label} is {_lower(_definiens_phrase(c))}"
            support = _define_sentence(c)
        else:
            statement = f"{c.label} is a kind of {parent.label}."
            support = f"{_upper(c.label)} is a kind of {parent.label}." + (f" {_define_sentence(c)}" if c.definition
                                                                           else "")
        return Task("concept.true_false", {"concept": c, "truth": True, "statement": statement, "support": support,
                                           "correction": ""}, units, list(c.evidence[:1]))
    kind = ch.rank(kinds, "false-kind")[0]
    if kind == "wrong_parent":
        w = r.label(ch.rank(wrong_parents, "wrong-parent")[0])
        statement = f"{c.label} is a kind of {w.label}."
        correction = f"{_upper(c.label)} is a kind of {parent.label}, not of {w.label}."
        units.append(f"label:{w.id}")
    else:
        s = r.concept(ch.rank(siblings, "sibling")[0])
        statement = f"{c.label} is {_lower(_definiens_phrase(s))}"
        correction = f"That describes {s.label}. {_define_sentence(c)}"
        units.append(f"concept:{s.id}")
    return Task("concept.true_false", {"concept": c, "truth": False, "statement": statement, "support": "",
                                       "correction": correction}, units)


def _concept_choice(r: Reader, cid: str, ch: Choice) -> Task | None:
    c = r.label(cid)
    if c is None:
        return None
    for predicate in ("is_a", "part_of"):
        kids = [k for k in r.children(cid, predicate) if r.label(k)]
        if kids:
            break
    else:
        return None
    correct = r.label(ch.rank(kids, "correct")[0])
    # distractors: near the concept in the taxonomy, but not (transitively) under it
    near = set()
    for p in r.parents(cid, "is_a") + r.parents(cid, "part_of"):
        near.add(p)
        for s in r.children(p, "is_a") + r.children(p, "part_of"):
            near.add(s)
            near.update(r.children(s, predicate))
    candidates = []
    for d in ch.rank(near - {cid} - set(kids), "distractor"):
        if r.label(d) and cid not in r.ancestors(d, predicate):
            candidates.append(d)
        if len(candidates) == CHOICE_OPTIONS - 1:
            break
    if len(candidates) < CHOICE_OPTIONS - 1:
        return None
    option_ids = ch.rank([correct.id, *candidates], "order")
    options = [{"letter": LETTERS[i], "label": r.label(o).label, "id": o} for i, o in enumerate(option_ids)]
    answer = options[option_ids.index(correct.id)]
    return Task("concept.choice", {"concept": c, "options": options, "answer": answer,
                                   "relation_phrase": PHRASES[predicate]["choice"]},
                [f"label:{cid}", *(f"label:{o}" for o in option_ids)])


# -- relation tasks -----------------------------------------------------------------------------
def _relation_direction(forward: bool):
    def task(r: Reader, rid: str, ch: Choice) -> Task | None:
        rel = r.relation(rid)
        if rel is None:
            return None
        anchor = rel.subject if forward else rel.object
        group = [e for e in (r.out_edges(anchor) if forward else r.in_edges(anchor)) if e.predicate == rel.predicate]
        if min(e.relation for e in group) != rid:  # one question per (anchor, predicate): its first relation asks it
            return None
        others = sorted({e.object if forward else e.subject for e in group})
        # a single answer is also defined (full concept); several are only named
        views = [r.concept(o) for o in others] if len(others) == 1 else [r.label(o) for o in others]
        subject, obj = r.label(rel.subject), r.label(rel.object)
        ctx = {"phrase": phrase(rel.predicate), "subject": subject, "object": obj,
               "objects": views if forward else [obj], "subjects": [subject] if forward else views,
               "evidence": rel.evidence[0] if rel.evidence and len(group) == 1 else None}
        units = [f"relation:{e.relation}" for e in group]
        name = "relation.forward" if forward else "relation.backward"
        return Task(name, ctx, units, list(rel.evidence[:1]) if len(group) == 1 else [])
    return task


def _relation_how(r: Reader, rid: str, ch: Choice) -> Task | None:
    rel = r.relation(rid)
    if rel is None:
        return None
    ctx = {"phrase": phrase(rel.predicate), "subject": r.concept(rel.subject), "object": r.label(rel.object),
           "evidence": rel.evidence[0] if rel.evidence else None}
    return Task("relation.how_related", ctx, [f"relation:{rid}"], list(rel.evidence[:1]))


def _relation_true_false(r: Reader, rid: str, ch: Choice) -> Task | None:
    rel = r.relation(rid)
    if rel is None:
        return None
    subject, obj = r.label(rel.subject), r.label(rel.object)
    truth = ch.flag("truth")
    claimed = obj
    if not truth:
        actual = {e.object for e in r.out_edges(rel.subject) if e.predicate == rel.predicate}
        # plausible wrong objects: the object's siblings, then its parents' other relatives
        near = [s for p in r.parents(rel.object) for s in r.children(p) if s != rel.object]
        near += [e.object for e in r.out_edges(rel.object) if e.predicate == rel.predicate]
        wrong = [w for w in ch.rank(near, "wrong") if w not in actual and w != rel.subject and r.label(w)
                 and (rel.predicate != "is_a" or w not in r.ancestors(rel.subject))]
        if wrong:
            claimed = r.label(wrong[0])
        else:
            truth = True
    ctx = {"phrase": phrase(rel.predicate), "subject": subject, "object": obj, "claimed": claimed, "truth": truth,
           "evidence": rel.evidence[0] if rel.evidence else None}
    units = [f"relation:{rid}"] + ([] if truth else [f"label:{claimed.id}"])
    return Task("relation.true_false", ctx, units, list(rel.evidence[:1]) if truth else [])


# -- chain task ---------------------------------------------------------------------------------
def chain_context(r: Reader, chain) -> tuple[dict, list]:
    """Template context of a chain walk (each step with its first evidence) and the evidence cited."""
    steps, evidence = [], []
    for rid in chain.relation_ids:
        rel = r.relation(rid)
        ev = rel.evidence[0] if rel.evidence else None
        evidence += [ev] if ev else []
        steps.append({"subject": r.label(rel.subject), "object": r.label(rel.object),
                      "verb": phrase(rel.predicate)["verb"], "evidence": ev, "source": rel.source})
    ctx = {"steps": steps, "subject": r.label(chain.subject), "object": r.label(chain.object),
           "conclusion": phrase(chain.predicate), "rule": chain.rule, "rule_reason": RULE_REASONS.get(chain.rule, "")}
    return ctx, evidence


def _chain_explain(r: Reader, hid: str, ch: Choice) -> Task | None:
    chain = r.chain(hid)
    if chain is None:
        return None
    ctx, evidence = chain_context(r, chain)
    return Task("chain.explain", ctx, [f"chain:{hid}", *(f"relation:{x}" for x in chain.relation_ids)], evidence)


# -- helpers ------------------------------------------------------------------------------------
def _evidence_beyond(evidence, definition: str):
    """The first evidence sentence that adds something beyond the definition itself."""
    for e in evidence:
        if e.sentence.strip() and e.sentence.strip() not in (definition or ""):
            return e
    return None


def _definiens_phrase(c: ConceptView) -> str:
    from syllabus.compile.templates import definiens

    return definiens(c).replace("this term", c.label)


def _define_sentence(c: ConceptView) -> str:
    from syllabus.compile.templates import define

    return define(c)


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower(text: str) -> str:
    from syllabus.compile.templates import _first_lower

    return _first_lower(text)


BUILTIN = (
    Renderer("concept", 3, "concept", (
        ("definition", _concept_definition), ("term", _concept_term), ("synonyms", _concept_synonyms),
        ("true_false", _concept_true_false), ("choice", _concept_choice))),
    Renderer("relation", 2, "relation", (
        ("forward", _relation_direction(True)), ("backward", _relation_direction(False)),
        ("how_related", _relation_how), ("true_false", _relation_true_false))),
    Renderer("chain", 2, "chain", (("explain", _chain_explain),)),
)
