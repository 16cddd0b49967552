"""Benchmark items from the graph: unit tests (L1 concepts, L2 edges) and integration tests (L3 chains).

Levels and kinds (multiple choice, ``options`` choices, default 4):

* L1 ``definition_to_term`` -- "Which <discipline> term matches this definition? <definition with
  the term masked>" -> the concept's label; ``term_to_definition`` -- "Which of the following
  is the definition of X?" -> its masked definition among other concepts' definitions.
* L2 ``relation_object`` -- "X causes which of the following?" and ``relation_subject`` --
  "Which of the following causes Y?", one of each per usable relation.
* L3 ``chain_conclusion`` -- from *bench* chains only (train chains feed training examples):
  "Through a chain of effects, X ultimately causes which of the following?" -> the chain's
  conclusion object, which no single edge gives.

The graph is the compiler's usable graph (:class:`~syllabus.compile.graph.Graph` with the
``[compile]`` usability settings). Distractors are concepts of the same discipline drawn from
siblings, the reversed relation, concepts reached by a different predicate, concepts in the same
role or of the same type, and near misses by label-embedding similarity (MiniLM, cached in the
store; only in disciplines of at most ``Settings.near_miss_limit`` concepts, as embedding a large
uncached graph on CPU takes minutes); they are scored by source, similarity to the answer and closeness of length to the
answer's, and one that is correct by *any* path is never used: for ``(X, p, ?)`` nothing reached
from X by a path ``is_a* p (p|is_a)*``, nor a kind of the end of a p edge, nor what such a
kind's p edges lead to in turn (see :func:`closure`; for ``is_a`` itself: nothing in ``is_a+``;
``related_to`` is read both ways), nor X, nor a concept
sharing a label with one of those; for L1 nothing sharing a label or the definition with the answer.

``item.trace`` is ``{"concepts", "relations", "chain"}`` (the units the item exercises, also one
``item_unit`` row each) plus ``"options"`` (the concept id behind each choice) and ``"sources"``
(why each choice is there: ``answer`` or the distractor's source).

Answer positions and the dev/test split are balanced per (discipline, level, kind): items are
taken in the order of a hash of their key and each gets the least used position and the smaller
split so far (ties by hash), so each position holds 1/n of a stratum and each split half, to
within one item. Both are *sticky*: an item whose key (level, kind, concepts, relations, chain)
already has a row keeps its split and answer position, so a graph edit never moves an item from
dev to test. An item's id is ``it-`` + a hash of (level, kind, trace, question, choices, answer),
so a rebuild of the same graph is a no-op; generated items that can no longer be derived (or
whose distractors changed) are deleted with their results, and the report counts them.
"""
from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from syllabus.compile.fingerprint import canonical, digest
from syllabus.compile.graph import Graph, Usability
from syllabus.compile.renderers import phrase
from syllabus.compile.templates import definiens
from syllabus.store.batch import BATCH, delete_ids
from syllabus.store.tables import Chain, Item, ItemUnit, Result

I, IU, H, RS = (t.__table__ for t in (Item, ItemUnit, Chain, Result))

LEVELS = ("L1", "L2", "L3")
SPLITS = ("dev", "test")
SYMMETRIC = {"related_to"}
NEAR_MISSES = 8  # embedding neighbours considered per answer concept
POOL = 12  # candidates drawn from a large pool (same type, same role, whole discipline)
MAX_PER_POOL = 4 * POOL  # candidates taken from a structural pool (a hub's siblings or neighbours)
LENGTH_WEIGHT = 0.6  # score penalty per unit of |log(length ratio)| between a distractor and the answer
BONUS = {"sibling": 1.0, "reversed": 1.0, "other_predicate": 0.9, "neighbour": 0.8, "same_role": 0.7,
         "same_type": 0.6, "near_miss": 0.5, "discipline": 0.0}
FORWARD = {"is_a": "{S} is a kind of which of the following?", "part_of": "{S} is part of which of the following?",
           "has_property": "Which of the following is a property of {s}?",
           "used_for": "{S} is used for which of the following?"}
CHAIN_QUESTIONS = {
    "transitive_is_a": "{S} is, through intermediate kinds, a kind of which of the following?",
    "transitive_part_of": "{S} is, through intermediate wholes, part of which of the following?",
    "property_inheritance": "Which of the following properties does {s} inherit from the kinds it belongs to?",
    "causal_composition": "Through a chain of effects, {s} ultimately causes which of the following?",
    "prerequisite_chain": "Through its prerequisites, {s} ultimately requires which of the following?",
}


@dataclass(frozen=True)
class Settings:
    options: int = 4
    seed: int = 0
    usability: Usability = Usability()
    embedding_model: str = "all-MiniLM-L6-v2"
    near_miss_limit: int = 5000  # larger disciplines get no embedding near misses (embedding them is slow on CPU)

    @classmethod
    def from_workspace(cls, ws, options: int = 4, seed: int = 0) -> "Settings":
        c = ws.config.compile
        return cls(options, seed, Usability(c.include_proposed, c.min_confidence), ws.config.extract.embedding_model)


@dataclass
class Draft:
    """An item before its answer position and split are chosen."""

    discipline: str
    level: str
    kind: str
    question: str
    answer: tuple[str, str]  # (concept id, text)
    distractors: list[tuple[str, str, str]]  # (concept id, text, source)
    concepts: list[str]
    relations: list[str] = field(default_factory=list)
    chain: str | None = None

    @property
    def key(self) -> tuple:
        return self.level, self.kind, tuple(self.concepts), tuple(self.relations), self.chain


@dataclass
class BuildReport:
    disciplines: list[str]
    options: int
    seed: int
    new: int = 0
    removed: int = 0
    removed_with_results: int = 0
    unchanged: int = 0
    skipped: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)  # discipline -> level -> {items, dev, test, leaked}
    decontamination: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("disciplines", "options", "seed", "new", "removed",
                                               "removed_with_results", "unchanged", "skipped", "counts",
                                               "decontamination", "seconds")}


def _upper(text: str) -> str:
    return text if text[1:2].isupper() else text[:1].upper() + text[1:]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _names(text: str, concept) -> bool:
    """The text names the concept at a word start (also inflected: "chromosomes" for "chromosome")."""
    low = text.casefold()
    for name in (concept.label, *concept.alt_labels):
        name = name.casefold()
        at = low.find(name)
        while name and at >= 0:
            if at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_"):
                return True
            at = low.find(name, at + 1)
    return False


def closure(out: dict, into: dict, x: str, p: str) -> frozenset:
    """Every y that (x, p, y) may hold for by some path (for ``is_a``: the ``is_a+`` ancestors).

    *out* and *into* map predicate -> node -> neighbours. States of the walk: ``start`` (x and
    its ancestors: what x inherits from), ``hit`` (the end of a p edge), ``anc`` (an ancestor
    of a hit: x causes a kind of it), ``down`` (a kind of a hit: a part of a cell is part of
    each kind of cell). Every state but ``start`` is an answer; p edges always lead to ``hit``.
    Kinds of ancestors are not followed (that would reach the whole taxonomy).
    """
    isa_up, isa_down, step = out.get("is_a", {}), into.get("is_a", {}), out.get(p, {})
    seen: set[tuple[str, str]] = set()
    todo = [(x, "start")]
    while todo:
        node, state = todo.pop()
        if p == "is_a":
            nxt = [(o, "hit") for o in isa_up.get(node, ())]
        else:
            nxt = [(o, "hit") for o in step.get(node, ())]
            if state != "down":
                nxt += [(o, "start" if state == "start" else "anc") for o in isa_up.get(node, ())]
            if state in ("hit", "down"):
                nxt += [(k, "down") for k in isa_down.get(node, ())]
        for n in nxt:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return frozenset(n for n, state in seen if state != "start")


class _View:
    """One discipline's usable graph as adjacency maps, with labels, pools and embedding neighbours."""

    def __init__(self, graph: Graph, discipline: str, settings: Settings) -> None:
        keys = graph.unit_keys(discipline)
        self.discipline, self.settings = discipline, settings
        self.ids = sorted(k.split(":", 1)[1] for k in keys if k.startswith("concept:"))
        self.c = {cid: graph.concept(cid) for cid in self.ids}
        self.rels = [graph.relation(k.split(":", 1)[1]) for k in keys if k.startswith("relation:")]
        self.usable = {r.id for r in self.rels}
        self.index = {cid: i for i, cid in enumerate(self.ids)}
        self.ranks = np.array([int(digest(f"{settings.seed}|rank|{cid}", 8), 16) for cid in self.ids], dtype=np.uint64)
        self.out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.into: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        role_s, role_o = defaultdict(set), defaultdict(set)
        for r in self.rels:
            self.out[r.predicate][r.subject].append(r.object)
            self.into[r.predicate][r.object].append(r.subject)
            if r.predicate in SYMMETRIC:
                self.out[r.predicate][r.object].append(r.subject)
                self.into[r.predicate][r.subject].append(r.object)
            role_s[r.predicate].add(r.subject)
            role_o[r.predicate].add(r.object)
        self.labels = {cid: {_fold(c.label), *(_fold(a) for a in c.alt_labels)} for cid, c in self.c.items()}
        owners = defaultdict(set)
        for cid, labels in self.labels.items():
            for label in labels:
                owners[label].add(cid)
        self.same = {cid: frozenset(o for label in labels for o in owners[label]) for cid, labels in self.labels.items()}
        self.defn = {cid: definiens(c) for cid, c in self.c.items() if c.definition}
        # definitions fit to stand as options: they name neither their own term nor "this term"
        self.options = {cid: text for cid, text in self.defn.items()
                        if not _names(text, self.c[cid]) and "this term" not in text.casefold()}
        by_type = defaultdict(list)
        for cid, c in self.c.items():
            if c.type:
                by_type[c.type].append(cid)
        self.pools = {("type", t): self._shuffle(v) for t, v in by_type.items()}
        self.pools.update({("subject", p): self._shuffle(v) for p, v in role_s.items()})
        self.pools.update({("object", p): self._shuffle(v) for p, v in role_o.items()})
        self.pools[("all", "")] = self._shuffle(self.ids)
        self._closure: dict[tuple[str, str], frozenset] = {}
        self.vectors = np.zeros((len(self.ids), 1), dtype=np.float32)
        self.near: dict[str, list[str]] = {}

    # -- pools ----------------------------------------------------------------------------------
    def _shuffle(self, ids) -> list[str]:
        return sorted(set(ids), key=lambda x: digest(f"{self.settings.seed}|pool|{x}", 8))

    def sample(self, pool: tuple[str, str], salt: str) -> list[str]:
        """A window of at most POOL ids of a pool, starting at a place chosen by *salt*."""
        ids = self.pools.get(pool, [])
        if len(ids) <= POOL:
            return ids
        start = int(digest(f"{self.settings.seed}|{salt}", 8), 16) % len(ids)
        return ids[start:start + POOL] + ids[:max(0, start + POOL - len(ids))]

    def siblings(self, cid: str) -> list[str]:
        return [s for p in ("is_a", "part_of") for parent in self.out[p].get(cid, ()) for s in self.into[p][parent]]

    def neighbours(self, cid: str, skip: str | None = None) -> list[str]:
        return [o for p, adj in sorted(self.out.items()) if p != skip for o in adj.get(cid, ())] + \
               [s for p, adj in sorted(self.into.items()) if p != skip for s in adj.get(cid, ())]

    def set_vectors(self, vectors: np.ndarray) -> None:
        """Label embeddings (rows in id order) and each concept's nearest labels."""
        self.vectors = vectors
        n = len(self.ids)
        k = min(NEAR_MISSES, n - 1)
        if k <= 0:
            return
        for start in range(0, n, 2048):
            sims = vectors[start:start + 2048] @ vectors.T
            rows = np.arange(sims.shape[0])
            sims[rows, rows + start] = -np.inf
            top = np.argpartition(-sims, k, axis=1)[:, :k]
            for r, cols in zip(rows.tolist(), top):
                cols = sorted(cols.tolist(), key=lambda j: (-sims[r, j], j))
                self.near[self.ids[start + r]] = [self.ids[j] for j in cols]

    # -- correctness --------------------------------------------------------------------------
    def closure(self, x: str, p: str) -> frozenset:
        if (x, p) not in self._closure:
            self._closure[(x, p)] = closure(self.out, self.into, x, p)
        return self._closure[(x, p)]

    def wrong_object(self, x: str, p: str, d: str) -> bool:
        """d (or a concept sharing a label with it) is no answer to (x, p, ?)."""
        reach = self.closure(x, p)
        return not any(c == x or c in reach for c in self.same[d])

    def wrong_subject(self, p: str, y: str, d: str) -> bool:
        """d (or a concept sharing a label with it) is no answer to (?, p, y)."""
        ys = self.same[y]
        return not any(c in ys or ys & self.closure(c, p) for c in self.same[d])

    # -- choosing distractors -----------------------------------------------------------------
    def pick(self, answer: str, answer_text: str, pools: list[tuple[str, list[str]]], text_of, ok,
             salt: str) -> list[tuple[str, str, str]] | None:
        """The best ``options - 1`` distractors, or None when too few pass *ok*.

        Candidates are scored first (source, similarity, length) and checked in score order, so
        the costlier correctness check runs on a handful of them only.
        """
        need = self.settings.options - 1
        source: dict[str, str] = {}
        for name, ids in pools:
            for cid in ids[:MAX_PER_POOL]:
                source.setdefault(cid, name)
        for cid in self.near.get(answer, ()):
            source.setdefault(cid, "near_miss")
        source.pop(answer, None)
        cands = [(cid, text, src) for cid, src in source.items() if (text := text_of(cid))]
        if len(cands) < need:
            return None
        idx = np.fromiter((self.index[c] for c, _, _ in cands), dtype=np.int64, count=len(cands))
        score = np.fromiter((BONUS[src] for _, _, src in cands), dtype=np.float64, count=len(cands))
        if self.vectors.shape[1] > 1:
            score += self.vectors[idx] @ self.vectors[self.index[answer]]
        lengths = np.fromiter((len(t) for _, t, _ in cands), dtype=np.float64, count=len(cands))
        score -= LENGTH_WEIGHT * np.abs(np.log((lengths + 1) / (len(answer_text) + 1)))
        tie = self.ranks[idx] ^ np.uint64(int(digest(f"{self.settings.seed}|{salt}", 8), 16))
        order = np.lexsort((tie, -np.round(score, 9))).tolist()
        seen = {_fold(answer_text)}
        chosen = []
        for i in order:
            cid, text, src = cands[i]
            folded = _fold(text)
            if folded in seen or not ok(cid):
                continue
            seen.add(folded)
            chosen.append((cid, text, src))
            if len(chosen) == need:
                return chosen
        return None


# -- drafts ---------------------------------------------------------------------------------------
def _concept_drafts(v: _View, skipped: Counter) -> list[Draft]:
    drafts = []
    for x in v.ids:
        c = v.c[x]
        text = v.defn.get(x)
        if not text or len(text.split()) < 4:
            skipped["L1: no usable definition"] += 1
            continue
        if _names(text, c):
            skipped["L1: the definition names the term (an inflected form)"] += 1
            continue
        pools = [("sibling", v.siblings(x)), ("neighbour", v.neighbours(x)),
                 ("same_type", v.sample(("type", c.type), f"type|{x}") if c.type else []),
                 ("discipline", v.sample(("all", ""), f"all|{x}"))]

        def not_x(d: str, x: str = x) -> bool:
            return not (v.labels[d] & v.labels[x]) and _fold(v.defn.get(d, "")) != _fold(v.defn[x])

        label = lambda d: v.c[d].label  # noqa: E731
        picked = v.pick(x, c.label, pools, label, not_x, f"L1t|{x}")
        # "Which chemistry term ..." would give away the concept "chemistry": drop the field then
        field = "" if _names(v.discipline, c) else f"{v.discipline} "
        question = f"Which {field}term matches this definition? {text}"
        if picked:
            drafts.append(Draft(v.discipline, "L1", "definition_to_term", question, (x, c.label), picked, [x]))
        else:
            skipped["L1: too few distractors"] += 1
        picked = v.pick(x, text, pools, v.options.get, not_x, f"L1d|{x}")
        if picked:
            drafts.append(Draft(v.discipline, "L1", "term_to_definition",
                                f"Which of the following is the definition of {c.label}?", (x, text), picked, [x]))
        else:
            skipped["L1: too few distractors"] += 1
    return drafts


def _relation_drafts(v: _View, skipped: Counter) -> list[Draft]:
    drafts = []
    label = lambda d: v.c[d].label  # noqa: E731
    for r in sorted(v.rels, key=lambda r: r.id):
        x, p, y = r.subject, r.predicate, r.object
        s_label, o_label = v.c[x].label, v.c[y].label
        verb = phrase(p)["verb"]
        forward = FORWARD.get(p, "{S} " + verb + " which of the following?").format(S=_upper(s_label), s=s_label)
        pools = [("reversed", v.into[p].get(x, [])), ("other_predicate", v.neighbours(x, skip=p)),
                 ("sibling", v.siblings(y)), ("same_role", v.sample(("object", p), f"obj|{r.id}")),
                 ("same_type", v.sample(("type", v.c[y].type), f"type|{y}") if v.c[y].type else []),
                 ("discipline", v.sample(("all", ""), f"all|{r.id}"))]
        picked = v.pick(y, o_label, pools, label, lambda d: v.wrong_object(x, p, d), f"L2o|{r.id}")
        if picked:
            drafts.append(Draft(v.discipline, "L2", "relation_object", forward, (y, o_label), picked, [x, y], [r.id]))
        else:
            skipped["L2: too few distractors"] += 1
        backward = f"Which of the following {verb} {o_label}?"
        pools = [("reversed", v.out[p].get(y, [])), ("other_predicate", v.neighbours(y, skip=p)),
                 ("sibling", v.siblings(x)), ("same_role", v.sample(("subject", p), f"subj|{r.id}")),
                 ("same_type", v.sample(("type", v.c[x].type), f"type|{x}") if v.c[x].type else []),
                 ("discipline", v.sample(("all", ""), f"all|{r.id}"))]
        picked = v.pick(x, s_label, pools, label, lambda d: v.wrong_subject(p, y, d), f"L2s|{r.id}")
        if picked:
            drafts.append(Draft(v.discipline, "L2", "relation_subject", backward, (x, s_label), picked, [x, y],
                                [r.id]))
        else:
            skipped["L2: too few distractors"] += 1
    return drafts


def _chain_drafts(session: Session, v: _View, skipped: Counter) -> list[Draft]:
    drafts = []
    label = lambda d: v.c[d].label  # noqa: E731
    rows = session.execute(select(H).where(H.c.discipline == v.discipline, H.c.split == "bench").order_by(H.c.id))
    by_id = {r.id: r for r in v.rels}
    for h in rows:
        rids = json.loads(h.relation_ids)
        x, p, z = h.subject_id, h.predicate, h.object_id
        if not set(rids) <= v.usable or x not in v.c or z not in v.c:
            skipped["L3: chain uses unusable facts"] += 1
            continue
        if z in v.out[p].get(x, ()) or z not in v.closure(x, p):
            skipped["L3: conclusion is a direct edge or not derivable"] += 1
            continue
        nodes = [x] + [by_id[rid].object for rid in rids]
        s_label = v.c[x].label
        template = CHAIN_QUESTIONS.get(h.rule, "{S} ultimately " + phrase(p)["verb"] + " which of the following?")
        question = template.format(S=_upper(s_label), s=s_label)
        other = [o for n in nodes[:-1] for o in v.neighbours(n, skip=p)]
        pools = [("other_predicate", other), ("reversed", v.into[p].get(x, [])), ("sibling", v.siblings(z)),
                 ("same_role", v.sample(("object", p), f"obj|{h.id}")),
                 ("same_type", v.sample(("type", v.c[z].type), f"type|{z}") if v.c[z].type else []),
                 ("discipline", v.sample(("all", ""), f"all|{h.id}"))]
        picked = v.pick(z, v.c[z].label, pools, label, lambda d: v.wrong_object(x, p, d), f"L3|{h.id}")
        if picked:
            drafts.append(Draft(v.discipline, "L3", "chain_conclusion", question, (z, v.c[z].label), picked,
                                list(dict.fromkeys(nodes)), rids, h.id))
        else:
            skipped["L3: too few distractors"] += 1
    return drafts


def draft_items(session: Session, ws, disciplines: list[str], settings: Settings) -> tuple[list[Draft], Counter]:
    """Every item the usable graph of *disciplines* yields, before positions and splits."""
    from syllabus.extract.embeddings import embed

    graph = Graph(session, settings.usability)
    views = []
    for name in disciplines:
        graph.preload(name)
        views.append(_View(graph, name, settings))
    near = [v for v in views if 1 < len(v.ids) <= settings.near_miss_limit]
    texts = [v.c[cid].label for v in near for cid in v.ids]
    if texts:  # one call for every label, most of them already cached by extraction
        vectors = embed(session, settings.embedding_model, texts)
        start = 0
        for v in near:
            v.set_vectors(vectors[start:start + len(v.ids)])
            start += len(v.ids)
    skipped: Counter = Counter()
    drafts = []
    for v in views:
        drafts += _concept_drafts(v, skipped) + _relation_drafts(v, skipped) + _chain_drafts(session, v, skipped)
    return drafts, skipped


# -- positions, splits, ids -----------------------------------------------------------------------
def _trace_key(level: str, kind: str, trace: dict) -> tuple:
    return level, kind, tuple(trace.get("concepts", ())), tuple(trace.get("relations", ())), trace.get("chain")


def assign(drafts: list[Draft], previous: dict[tuple, tuple[str, int]], settings: Settings) -> list[dict]:
    """Item rows: answer position and split balanced per (discipline, level, kind), sticky by key."""
    strata: dict[tuple, list[Draft]] = defaultdict(list)
    for d in drafts:
        strata[(d.discipline, d.level, d.kind)].append(d)
    rows = []
    k = settings.options
    key_text = {id(d): canonical(d.key) for d in drafts}  # each draft's key, serialised once
    for _, group in sorted(strata.items()):
        order = sorted(group, key=lambda d: digest(f"{settings.seed}|{key_text[id(d)]}", 8))
        splits, positions = Counter({s: 0 for s in SPLITS}), Counter({i: 0 for i in range(k)})
        chosen: dict[tuple, list] = {}
        for d in order:
            split, pos = previous.get(d.key, (None, None))
            if split in SPLITS:
                splits[split] += 1
            if pos is not None and 0 <= pos < k:
                positions[pos] += 1
            chosen[d.key] = [split if split in SPLITS else None, pos if pos is not None and 0 <= pos < k else None]
        for d in order:
            pick = chosen[d.key]
            h = int(digest(f"{settings.seed}|place|{key_text[id(d)]}", 8), 16)
            if pick[0] is None:
                low = min(splits.values())
                ties = [s for s in SPLITS if splits[s] == low]
                pick[0] = ties[h % len(ties)]
                splits[pick[0]] += 1
            if pick[1] is None:
                low = min(positions.values())
                ties = [i for i in range(k) if positions[i] == low]
                pick[1] = ties[(h // 2) % len(ties)]
                positions[pick[1]] += 1
            rows.append(_row(d, pick[0], pick[1], settings, key_text[id(d)]))
    return rows


def _row(d: Draft, split: str, answer: int, settings: Settings, key_text: str) -> dict:
    others = sorted(d.distractors[:settings.options - 1],
                    key=lambda t: digest(f"{settings.seed}|slot|{key_text}|{t[0]}", 8))
    options = others[:answer] + [(d.answer[0], d.answer[1], "answer")] + others[answer:]
    choices = [text for _, text, _ in options]
    trace = {"concepts": d.concepts, "relations": d.relations, "chain": d.chain,
             "options": [cid for cid, _, _ in options], "sources": [src for _, _, src in options]}
    item_id = "it-" + digest(canonical([d.level, d.kind, trace, d.question, choices, answer]), 12)
    return {"id": item_id, "discipline": d.discipline, "level": d.level, "kind": d.kind, "source": "generated",
            "benchmark": None, "external_id": None, "question": d.question, "choices": canonical(choices),
            "answer": answer, "trace": canonical(trace), "split": split, "leak": None}


def unit_keys(trace: dict) -> list[str]:
    """The item_unit keys of a trace: its concepts, relations and chain."""
    keys = [f"concept:{c}" for c in trace.get("concepts", ())] + [f"relation:{r}" for r in trace.get("relations", ())]
    keys += [f"chain:{trace['chain']}"] if trace.get("chain") else []
    return sorted(set(keys))


# -- the build ------------------------------------------------------------------------------------
def build_items(session: Session, ws, disciplines: list[str], settings: Settings) -> BuildReport:
    """Make the generated items of *disciplines* exactly those the graph yields; decontaminate; report."""
    from syllabus.bench.decontaminate import decontaminate

    started = time.perf_counter()
    report = BuildReport(disciplines, settings.options, settings.seed)
    drafts, skipped = draft_items(session, ws, disciplines, settings)
    report.skipped = dict(sorted(skipped.items()))
    existing = session.execute(select(I.c.id, I.c.level, I.c.kind, I.c.trace, I.c.split, I.c.answer).where(
        I.c.source == "generated", I.c.discipline.in_(disciplines))).all()
    previous = {_trace_key(r.level, r.kind, json.loads(r.trace)): (r.split, r.answer) for r in existing}
    rows = assign(drafts, previous, settings)
    wanted = {r["id"]: r for r in rows}
    have = {r.id for r in existing}
    gone = sorted(have - set(wanted))
    for i in range(0, len(gone), BATCH):
        report.removed_with_results += session.scalar(
            select(func.count(func.distinct(RS.c.item_id))).where(RS.c.item_id.in_(gone[i:i + BATCH]))) or 0
    delete_ids(session, RS, gone, "item_id")
    delete_ids(session, IU, gone, "item_id")
    delete_ids(session, I, gone)
    new = [r for item_id, r in sorted(wanted.items()) if item_id not in have]
    for i in range(0, len(new), 5000):
        session.execute(insert(I), new[i:i + 5000])
    units = [{"item_id": r["id"], "unit": u} for r in new for u in unit_keys(json.loads(r["trace"]))]
    for i in range(0, len(units), 20_000):
        session.execute(insert(IU), units[i:i + 20_000])
    report.new, report.removed, report.unchanged = len(new), len(gone), len(wanted) - len(new)
    report.decontamination = decontaminate(session, ws, disciplines).to_dict()
    report.counts = item_counts(session, disciplines)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def item_counts(session: Session, disciplines: list[str]) -> dict:
    """discipline -> level -> {items, dev, test, leaked} over every item (generated and imported)."""
    counts: dict = defaultdict(lambda: defaultdict(lambda: {"items": 0, "dev": 0, "test": 0, "leaked": 0}))
    leaked_expr = case((I.c.leak.is_(None), 0), else_=1)
    q = (select(I.c.discipline, I.c.level, I.c.split, leaked_expr, func.count())
         .where(I.c.discipline.in_(disciplines)).group_by(I.c.discipline, I.c.level, I.c.split, leaked_expr))
    for discipline, level, split, leaked, n in session.execute(q):
        cell = counts[discipline][level]
        cell["items"] += n
        cell[split] += n
        cell["leaked"] += n if leaked else 0
    return {d: dict(sorted(levels.items())) for d, levels in sorted(counts.items())}


def list_items(session: Session, *, level: str | None = None, split: str | None = None,
               discipline: str | None = None, leaked: bool = False) -> list[dict]:
    """Items with their answer and trace; leaking items only when *leaked* (and then only those)."""
    q = select(I).where(I.c.leak.is_not(None) if leaked else I.c.leak.is_(None))
    for col, value in ((I.c.level, level), (I.c.split, split), (I.c.discipline, discipline)):
        if value:
            q = q.where(col == value)
    out = []
    for r in session.execute(q.order_by(I.c.discipline, I.c.level, I.c.kind, I.c.id)):
        choices = json.loads(r.choices)
        out.append({"id": r.id, "discipline": r.discipline, "level": r.level, "kind": r.kind, "source": r.source,
                    "benchmark": r.benchmark, "external_id": r.external_id, "question": r.question,
                    "choices": choices, "answer": r.answer,
                    "answer_text": choices[r.answer] if 0 <= r.answer < len(choices) else None,
                    "trace": json.loads(r.trace), "split": r.split, "leak": r.leak})
    return out
