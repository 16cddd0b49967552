"""Diagnosis: attribute a run's failed items to units of the graph and record them as gaps.

Only items of one split are read (``dev``; test items measure improvement and must never feed
repair), and items flagged by decontamination (``item.leak``) are left out. Everything is loaded
set-based: the run's results with their items, and the trace index (``item_unit``) of those items,
in two queries; the graph is read only for the units that failing items touch.

Gap kinds and their scores (all in [0, 1]; higher = more likely at fault):

* ``concept_gap`` -- a concept whose L1 probes fail. Score: the Laplace-smoothed failure share of
  its L1 items, ``(failed + 1) / (n + 2)`` (the posterior mean under a uniform prior), so more
  failing probes weigh more than one (1/1 -> 0.67, 2/2 -> 0.75, 1/2 -> 0.5). Also a concept with
  no L1 probe of its own that failing items touch and that has no kept training example (no
  ``example`` row with unit ``concept:ID`` and no drop reason) in a discipline that has been
  compiled; its score is then the Ochiai score below. ``detail.chosen`` lists the distractors the
  model picked on the failed items (most frequent first) so repair can correct them.
* ``weak_edge`` -- a relation whose L2 probes fail while no L1 probe of either endpoint fails.
  Score: Laplace failure share of its L2 items. Endpoints without probes are listed in
  ``detail.unprobed``.
* ``reasoning_break`` -- a chain whose L3 items fail while every L1/L2 probe along it passes
  (the chain's relations, their endpoints, and the L3 items' own traces). Score: Laplace failure
  share of its L3 items.
* ``missing_edge`` -- an external (``EXT``, imported) item fails and links two concepts with no
  path of at most ``max_path`` usable relations between them (undirected): unit ``pair:A|B``
  (sorted), score the Laplace failure share of the EXT items linking both, and ``detail.evidence``
  the corpus sentences that mention both (concept evidence in the same chunk and sentence).
* ``suspicious`` -- a unit with no probes of its own (relation without L2, concept without L1,
  chain without L3 items) touched by failing items: Ochiai, ``failed(u) / sqrt(F * (failed(u) +
  passed(u)))`` over the items whose trace includes it, ``F`` = failed items of its discipline;
  kept when ``failed(u) > 0`` and the score is at least ``min_suspicion``.

Gap ids hash (run, kind, unit). Re-diagnosing a run replaces its ``open`` gaps and keeps the ones
already ``patched``, ``verified`` or ``dismissed``. A ``patched`` gap of another, earlier run
whose failing items this run all passes becomes ``verified``.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.orm import Session, aliased

from syllabus.compile.graph import Usability
from syllabus.debug.unit_keys import fill_gap_concepts
from syllabus.errors import SyllabusError
from syllabus.store.tables import Chain, Concept, Evidence, Example, Gap, Item, ItemUnit, Relation, Result, Run
from syllabus.vocabulary import GAP_KINDS, ITEM_LEVELS

KINDS = GAP_KINDS  # the report lists kinds, and sorts gaps of equal score, in this order
LEVELS = ITEM_LEVELS
PROBE_LEVEL = {"concept": "L1", "relation": "L2", "chain": "L3"}
DETAIL_FAILURES = 20  # failed items described per gap (the items list is always complete)
EVIDENCE_SENTENCES = 5
BATCH = 500

I, IU, RS, RN, G, C, R, H, E, X = (t.__table__ for t in (Item, ItemUnit, Result, Run, Gap, Concept, Relation, Chain,
                                                          Evidence, Example))


@dataclass
class Outcome:
    """One scored item of the run."""

    level: str
    discipline: str
    source: str
    correct: bool
    prediction: int
    answer: int
    choices_json: str  # parsed only for failed items

    def failure(self, item: str) -> dict:
        choices = json.loads(self.choices_json)
        chosen = choices[self.prediction] if 0 <= self.prediction < len(choices) else None
        expected = choices[self.answer] if 0 <= self.answer < len(choices) else None
        return {"item": item, "level": self.level, "prediction": self.prediction, "chosen": chosen,
                "expected": expected}


@dataclass
class FoundGap:
    id: str
    kind: str
    unit: str
    discipline: str
    score: float
    items: list[str]
    detail: dict
    status: str = "open"
    label: str = ""


@dataclass
class DiagnosisReport:
    run: str
    split: str
    items: int
    correct: int
    accuracy: float | None
    by_level: dict[str, dict]
    by_discipline: dict[str, dict]
    gaps: list[FoundGap]
    by_kind: dict[str, int]
    written: int = 0
    kept: list[str] = field(default_factory=list)  # this run's gaps already patched/verified/dismissed
    verified: list[str] = field(default_factory=list)  # earlier patched gaps this run verified
    leaked_skipped: int = 0
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def gap_id(run_id: str, kind: str, unit: str) -> str:
    return "gap:" + hashlib.sha256("\x1f".join((run_id, kind, unit)).encode()).hexdigest()[:24]


def laplace(failed: int, n: int) -> float:
    """Posterior mean failure rate under a uniform prior."""
    return (failed + 1) / (n + 2)


def ochiai(failed: int, passed: int, total_failed: int) -> float:
    if failed == 0 or total_failed == 0:
        return 0.0
    return failed / math.sqrt(total_failed * (failed + passed))


def diagnose(session: Session, run_id: str, split: str = "dev", *, max_path: int = 3, min_suspicion: float = 0.1,
             usability: Usability = Usability(), write: bool = True) -> DiagnosisReport:
    """Diagnose run *run_id* on *split* items, write its gaps (unless *write* is false), return the report."""
    if split != "dev":
        raise SyllabusError("E152", split=split)
    run = session.execute(select(RN.c.id, RN.c.started).where(RN.c.id == run_id)).first()
    if run is None:
        raise SyllabusError("E081", run=run_id)
    scope = and_(RS.c.run_id == run_id, I.c.split == split)
    outcomes = _load_outcomes(session, scope)
    leaked = session.execute(select(RS.c.item_id).join(I, I.c.id == RS.c.item_id)
                             .where(scope, I.c.leak.is_not(None))).all()
    unit_items, item_units = _load_trace(session, scope)
    d = _Diagnosis(session, outcomes, unit_items, item_units, run_id, max_path, min_suspicion, usability)
    gaps = d.run()
    _label(session, gaps)
    report = _report(run_id, split, outcomes, gaps, len(leaked),
                     {"max_path": max_path, "min_suspicion": min_suspicion})
    if write:
        _write(session, run, outcomes, report)
    return report


# -- loading --------------------------------------------------------------------------------------
def _load_outcomes(session: Session, scope) -> dict[str, Outcome]:
    rows = session.execute(
        select(RS.c.item_id, RS.c.prediction, RS.c.correct, I.c.level, I.c.discipline, I.c.source, I.c.answer,
               I.c.choices)
        .join(I, I.c.id == RS.c.item_id).where(scope, I.c.leak.is_(None)).order_by(RS.c.item_id)).all()
    return {r.item_id: Outcome(r.level, r.discipline, r.source, bool(r.correct), r.prediction, r.answer,
                               r.choices) for r in rows}


def _load_trace(session: Session, scope) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    rows = session.execute(
        select(IU.c.item_id, IU.c.unit).join(RS, RS.c.item_id == IU.c.item_id).join(I, I.c.id == IU.c.item_id)
        .where(scope, I.c.leak.is_(None)).order_by(IU.c.unit, IU.c.item_id)).all()
    unit_items: dict[str, list[str]] = defaultdict(list)
    item_units: dict[str, list[str]] = defaultdict(list)
    for item, unit in rows:
        unit_items[unit].append(item)
        item_units[item].append(unit)
    return unit_items, item_units


def _batched(session: Session, query, column, keys) -> list:
    keys = sorted(set(keys))
    rows = []
    for i in range(0, len(keys), BATCH):
        rows += session.execute(query.where(column.in_(keys[i:i + BATCH]))).all()
    return rows


def _ids(units, kind: str) -> list[str]:
    prefix = kind + ":"
    return [u[len(prefix):] for u in units if u.startswith(prefix)]


# -- attribution ----------------------------------------------------------------------------------
class _Diagnosis:
    def __init__(self, session, outcomes, unit_items, item_units, run_id, max_path, min_suspicion, usability):
        self.s = session
        self.out = outcomes
        self.unit_items = unit_items
        self.item_units = item_units
        self.run_id = run_id
        self.max_path = max_path
        self.min_suspicion = min_suspicion
        self.usability = usability
        self.failed = {i for i, o in outcomes.items() if not o.correct}
        self.failed_by_disc = Counter(outcomes[i].discipline for i in self.failed)
        self.gaps: list[FoundGap] = []
        self.adj: dict[str, set[str]] = defaultdict(set)
        self.expanded: set[str] = set()
        self._probes: dict[tuple[str, str], list[str]] = {}

    # helpers
    def probes(self, unit: str) -> list[str]:
        """The unit's own probes: L1 items of a concept, L2 of a relation, L3 of a chain."""
        got = self._probes.get(unit)
        if got is None:
            level = PROBE_LEVEL.get(unit.split(":", 1)[0])
            got = self._probes[unit] = [i for i in self.unit_items.get(unit, ()) if self.out[i].level == level]
        return got

    def failing(self, items) -> list[str]:
        return [i for i in items if i in self.failed]

    def discipline(self, unit: str) -> str:
        return self.out[self.unit_items[unit][0]].discipline

    def spectrum(self, unit: str) -> tuple[float, list[str], int]:
        items = self.unit_items[unit]
        failed = self.failing(items)
        return ochiai(len(failed), len(items) - len(failed), self.failed_by_disc[self.discipline(unit)]), failed, len(items)

    def add(self, kind: str, unit: str, discipline: str, score: float, items: list[str], detail: dict) -> None:
        every = [self.out[i].failure(i) for i in items]
        chosen = Counter(f["chosen"] for f in every if f["chosen"] is not None)
        detail = {**detail, "failures": every[:DETAIL_FAILURES],
                  "chosen": [text for text, _ in sorted(chosen.items(), key=lambda kv: (-kv[1], kv[0]))]}
        self.gaps.append(FoundGap(gap_id(self.run_id, kind, unit), kind, unit, discipline, round(score, 6),
                                  sorted(items), detail))

    def run(self) -> list[FoundGap]:
        units = sorted(self.unit_items)
        touched_failing = [u for u in units if self.failing(self.unit_items[u])]
        failed_l1 = {u for u in units if u.startswith("concept:") and self.failing(self.probes(u))}
        self._concepts([u for u in touched_failing if u.startswith("concept:")])
        self._edges([u for u in touched_failing if u.startswith("relation:") and self.failing(self.probes(u))],
                    failed_l1)
        self._chains([u for u in touched_failing if u.startswith("chain:") and self.failing(self.probes(u))])
        self._missing_edges()
        order = {k: i for i, k in enumerate(KINDS)}
        self.gaps.sort(key=lambda g: (-g.score, order[g.kind], g.unit))
        return self.gaps

    def _concepts(self, units: list[str]) -> None:
        unprobed = [u for u in units if not self.probes(u)]
        no_example = self._without_examples(unprobed)
        for u in units:
            l1 = self.probes(u)
            if l1:
                failed = self.failing(l1)
                if failed:
                    self.add("concept_gap", u, self.discipline(u), laplace(len(failed), len(l1)), failed,
                             {"reason": "l1_failed", "probes": len(l1)})
                continue
            score, failed, n = self.spectrum(u)
            if score < self.min_suspicion:
                continue
            if u in no_example:
                self.add("concept_gap", u, self.discipline(u), score, failed,
                         {"reason": "no_example", "touching": n})
            else:
                self.add("suspicious", u, self.discipline(u), score, failed, {"touching": n})

    def _without_examples(self, units: list[str]) -> set[str]:
        """Concept units with no kept example, in disciplines that have been compiled."""
        if not units:
            return set()
        compiled = set(self.s.execute(select(X.c.discipline).where(X.c.dropped.is_(None)).distinct()).scalars())
        candidates = [u for u in units if self.discipline(u) in compiled]
        with_example = {r.unit for r in _batched(self.s, select(X.c.unit).where(X.c.dropped.is_(None)).distinct(),
                                                 X.c.unit, candidates)}
        return set(candidates) - with_example

    def _edges(self, failing_relations: list[str], failed_l1: set[str]) -> None:
        rel_units = [u for u in self.unit_items if u.startswith("relation:")]
        for u in rel_units:  # relations without L2 probes: spectrum only
            if not self.probes(u):
                score, failed, n = self.spectrum(u)
                if failed and score >= self.min_suspicion:
                    self.add("suspicious", u, self.discipline(u), score, failed, {"touching": n})
        ends = self._endpoints(_ids(failing_relations, "relation"))
        for u in failing_relations:
            l2 = self.probes(u)
            failed = self.failing(l2)
            rid = u.split(":", 1)[1]
            endpoints = ends.get(rid) or sorted({c for i in l2 for c in _ids(self.item_units[i], "concept")})
            keys = [f"concept:{c}" for c in endpoints]
            if any(k in failed_l1 for k in keys):
                continue  # explained by a concept gap
            self.add("weak_edge", u, self.discipline(u), laplace(len(failed), len(l2)), failed,
                     {"probes": len(l2), "endpoints": endpoints,
                      "unprobed": [k for k in keys if not self.probes(k)]})

    def _endpoints(self, relation_ids: list[str]) -> dict[str, list[str]]:
        rows = _batched(self.s, select(R.c.id, R.c.subject_id, R.c.object_id), R.c.id, relation_ids)
        return {r.id: [r.subject_id, r.object_id] for r in rows}

    def _chains(self, failing_chains: list[str]) -> None:
        for u in self.unit_items:
            if u.startswith("chain:") and not self.probes(u):
                score, failed, n = self.spectrum(u)
                if failed and score >= self.min_suspicion:
                    self.add("suspicious", u, self.discipline(u), score, failed, {"touching": n})
        chains = {r.id: json.loads(r.relation_ids) for r in
                  _batched(self.s, select(H.c.id, H.c.relation_ids), H.c.id, _ids(failing_chains, "chain"))}
        ends = self._endpoints([rid for rids in chains.values() for rid in rids])
        for u in failing_chains:
            l3 = self.probes(u)
            rids = chains.get(u.split(":", 1)[1], [])
            along = {f"relation:{r}" for r in rids} | {f"concept:{c}" for r in rids for c in ends.get(r, ())}
            along |= {x for i in l3 for x in self.item_units[i] if not x.startswith("chain:")}
            probes = [i for x in sorted(along) for i in self.probes(x)]
            if self.failing(probes):
                continue  # a lower level already fails
            failed = self.failing(l3)
            self.add("reasoning_break", u, self.discipline(u), laplace(len(failed), len(l3)), failed,
                     {"probes": len(l3), "relations": rids, "probes_passed": len(set(probes)),
                      "unprobed": sorted(x for x in along if not self.probes(x))})

    def _missing_edges(self) -> None:
        ext_failed = [i for i, o in self.out.items() if o.level == "EXT" and o.source == "imported" and not o.correct]
        pairs: dict[tuple[str, str], None] = {}
        for i in ext_failed:
            cs = sorted(set(_ids(self.item_units.get(i, ()), "concept")))
            for a in range(len(cs)):
                for b in range(a + 1, len(cs)):
                    pairs[(cs[a], cs[b])] = None
        if not pairs:
            return
        # meet in the middle: dist(a, b) <= k iff ball(a, ceil(k/2)) meets ball(b, floor(k/2))
        near = self._balls({a for a, _ in pairs}, (self.max_path + 1) // 2)
        far = self._balls({b for _, b in pairs}, self.max_path // 2)
        missing = [(a, b) for a, b in pairs if near[a].isdisjoint(far[b])]
        sentences = self._shared_sentences(missing)
        for a, b in missing:
            linking = [i for i in self.unit_items[f"concept:{a}"]
                       if self.out[i].level == "EXT" and f"concept:{b}" in self.item_units[i]]
            failed = self.failing(linking)
            self.add("missing_edge", f"pair:{a}|{b}", self.out[failed[0]].discipline, laplace(len(failed), len(linking)),
                     failed, {"concepts": [a, b], "max_path": self.max_path, "evidence": sentences.get((a, b), [])})

    def _balls(self, starts: set[str], radius: int) -> dict[str, set[str]]:
        """Every concept within *radius* undirected usable relations of each start, expanded layer by layer."""
        balls = {s: {s} for s in starts}
        frontiers = {s: {s} for s in starts}
        for _ in range(radius):
            self._expand(set().union(*frontiers.values()))
            for s in starts:
                nxt = {m for n in frontiers[s] for m in self.adj.get(n, ())} - balls[s]
                balls[s] |= nxt
                frontiers[s] = nxt
        return balls

    def _expand(self, nodes: set[str]) -> None:
        """Load the usable neighbours of *nodes* (between active, non-external concepts) into ``self.adj``."""
        todo = sorted(nodes - self.expanded)
        self.expanded |= nodes
        cs, co = aliased(C), aliased(C)
        q = (select(R.c.subject_id, R.c.object_id)
             .join(cs, cs.c.id == R.c.subject_id).join(co, co.c.id == R.c.object_id)
             .where(self.usability.relation_condition(), cs.c.status == "active", cs.c.origin != "external",
                    co.c.status == "active", co.c.origin != "external"))
        for column in (R.c.subject_id, R.c.object_id):
            for s, o in _batched(self.s, q, column, todo):
                self.adj[s].add(o)
                self.adj[o].add(s)

    def _shared_sentences(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
        if not pairs:
            return {}
        rows = _batched(self.s, select(E.c.concept_id, E.c.chunk_id, E.c.sentence), E.c.concept_id,
                        {c for p in pairs for c in p})
        where: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for cid, chunk, sentence in rows:
            where[cid].add((chunk, sentence))
        out = {}
        for a, b in pairs:
            shared = sorted(where.get(a, set()) & where.get(b, set()))[:EVIDENCE_SENTENCES]
            out[(a, b)] = [{"chunk": chunk, "sentence": sentence} for chunk, sentence in shared]
        return out


# -- labels, report, writing ----------------------------------------------------------------------
def _label(session: Session, gaps: list[FoundGap]) -> None:
    units = [g.unit for g in gaps]
    rels = {r.id: r for r in _batched(session, select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id), R.c.id,
                                      _ids(units, "relation"))}
    chains = {r.id: r for r in _batched(session, select(H.c.id, H.c.rule, H.c.subject_id, H.c.predicate,
                                                        H.c.object_id), H.c.id, _ids(units, "chain"))}
    concepts = set(_ids(units, "concept"))
    concepts |= {c for r in rels.values() for c in (r.subject_id, r.object_id)}
    concepts |= {c for r in chains.values() for c in (r.subject_id, r.object_id)}
    concepts |= {c for p in _ids(units, "pair") for c in p.split("|")}
    names = {r.id: r.pref_label or r.id for r in _batched(session, select(C.c.id, C.c.pref_label), C.c.id, concepts)}

    def name(cid: str) -> str:
        return names.get(cid, cid)

    for g in gaps:
        kind, key = g.unit.split(":", 1)
        if kind == "concept":
            g.label = name(key)
        elif kind == "relation" and key in rels:
            r = rels[key]
            g.label = f"{name(r.subject_id)} {r.predicate} {name(r.object_id)}"
        elif kind == "chain" and key in chains:
            r = chains[key]
            g.label = f"{name(r.subject_id)} {r.predicate} {name(r.object_id)} ({r.rule})"
        elif kind == "pair":
            a, b = key.split("|", 1)
            g.label = f"{name(a)} | {name(b)}"
        else:
            g.label = g.unit


def _accuracy(outcomes) -> dict:
    n = len(outcomes)
    ok = sum(o.correct for o in outcomes)
    return {"items": n, "correct": ok, "accuracy": round(ok / n, 4) if n else None}


def _report(run_id, split, outcomes, gaps, leaked, options) -> DiagnosisReport:
    values = list(outcomes.values())
    by_level: dict[str, list] = defaultdict(list)
    by_disc: dict[str, list] = defaultdict(list)
    for o in values:
        by_level[o.level].append(o)
        by_disc[o.discipline].append(o)
    total = _accuracy(values)
    levels = sorted(by_level, key=lambda lv: (LEVELS.index(lv) if lv in LEVELS else len(LEVELS), lv))
    return DiagnosisReport(run_id, split, total["items"], total["correct"], total["accuracy"],
                           {lv: _accuracy(by_level[lv]) for lv in levels},
                           {d: _accuracy(by_disc[d]) for d in sorted(by_disc)}, gaps,
                           {k: sum(g.kind == k for g in gaps) for k in KINDS}, leaked_skipped=leaked, options=options)


def _started(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _write(session: Session, run, outcomes: dict[str, Outcome], report: DiagnosisReport) -> None:
    """Replace the run's open gaps; keep its handled ones; verify earlier patched gaps this run passes."""
    session.execute(delete(G).where(G.c.run_id == run.id, G.c.status == "open"))
    handled = dict(session.execute(select(G.c.id, G.c.status).where(G.c.run_id == run.id)).all())
    rows = []
    for g in report.gaps:
        if g.id in handled:
            g.status = handled[g.id]
            report.kept.append(g.id)
            continue
        rows.append({"id": g.id, "run_id": run.id, "kind": g.kind, "unit": g.unit, "discipline": g.discipline,
                     "score": g.score, "items": json.dumps(g.items), "status": "open", "build": None,
                     "detail": json.dumps(g.detail, sort_keys=True, ensure_ascii=False)})
    for i in range(0, len(rows), BATCH):
        session.execute(insert(G), rows[i:i + BATCH])
    fill_gap_concepts(session, run.id)
    report.written = len(rows)
    this_start = _started(run.started)
    patched = session.execute(select(G.c.id, G.c["items"], RN.c.started).join(RN, RN.c.id == G.c.run_id)
                              .where(G.c.status == "patched", G.c.run_id != run.id).order_by(G.c.id)).all()
    for gid, items, started in patched:
        items = json.loads(items)
        earlier = _started(started)
        if this_start and earlier and earlier > this_start:
            continue  # this run predates the run that found the gap
        if items and all(i in outcomes and outcomes[i].correct for i in items):
            report.verified.append(gid)
    for i in range(0, len(report.verified), BATCH):
        session.execute(update(G).where(G.c.id.in_(report.verified[i:i + BATCH])).values(status="verified"))
