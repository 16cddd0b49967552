"""Repair: turn diagnosed gaps into a patch plan that the incremental compiler renders.

``plan_repair`` allocates the example budget over the chosen gaps by score (largest remainder),
and for each gap records what its patch examples need in ``gap.detail["repair"]``:

- concept gap: the distractors the model actually chose on the failed items (to correct them);
- weak edge: nothing beyond the relation and its evidence;
- missing edge: a relation for the pair (``related_to``, origin ``patched``) backed by corpus
  sentences that mention both concepts; it is ``proposed`` with confidence 0 (so nothing renders
  it) until ``--accept-proposed`` (or the ontology file) confirms it;
- reasoning break: *train* chains with the failing chain's rule and predicate (never the failing
  bench chain itself).
Gaps move to ``patched``; the unit ``gap:ID`` is journalled so the compile picks it up.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from syllabus.compile.fingerprint import digest
from syllabus.errors import SyllabusError
from syllabus.store.ids import relation_id
from syllabus.store.tables import Chain, Concept, Evidence, Gap, GraphChange, Item, Relation, Result
from syllabus.vocabulary import repair_kind

G, H, R, E, I, S, J, C = (t.__table__ for t in (Gap, Chain, Relation, Evidence, Item, Result, GraphChange, Concept))
PATCH_EXTRACTOR = ("syllabus.repair", "1")
DEFINITION_OPTIONS = "term_to_definition"  # the L1 item kind whose options are definitions, not terms


@dataclass
class Allocation:
    gap: str
    kind: str
    unit: str
    score: float
    examples: int
    note: str = ""

    def to_dict(self) -> dict:
        return {"gap": self.gap, "kind": self.kind, "unit": self.unit, "score": self.score,
                "examples": self.examples, "note": self.note}


@dataclass
class RepairPlan:
    allocations: list[Allocation] = field(default_factory=list)
    relations_proposed: list[str] = field(default_factory=list)
    relations_accepted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"allocations": [a.to_dict() for a in self.allocations], "examples": sum(a.examples for a in
                                                                                      self.allocations),
                "relations_proposed": self.relations_proposed, "relations_accepted": self.relations_accepted}


def allocate(scores: list[tuple[str, float]], budget: int) -> dict[str, int]:
    """Split *budget* over gaps in proportion to their scores (largest remainder, ties by id)."""
    ranked = sorted(((gid, max(score, 0.0)) for gid, score in scores), key=lambda x: (-x[1], x[0]))
    total = sum(s for _, s in ranked)
    if budget <= 0 or not ranked:
        return {gid: 0 for gid, _ in ranked}
    if total == 0:
        ranked = [(gid, 1.0) for gid, _ in ranked]
        total = float(len(ranked))
    shares = [(gid, budget * s / total) for gid, s in ranked]
    out = {gid: int(share) for gid, share in shares}
    left = budget - sum(out.values())
    for gid, share in sorted(shares, key=lambda x: (-(x[1] - int(x[1])), x[0]))[:left]:
        out[gid] += 1
    return out


def select_gaps(session: Session, ids: list[str] | None, run: str | None) -> list:
    """The gaps to repair: the ids given (E086 for an unknown one), else every open gap (of a run)."""
    if ids:
        rows = session.execute(select(G).where(G.c.id.in_(ids))).all()
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise SyllabusError("E086", gap=missing[0])
        return sorted(rows, key=lambda r: (-r.score, r.id))
    q = select(G).where(G.c.status == "open")
    if run:
        q = q.where(G.c.run_id == run)
    return sorted(session.execute(q).all(), key=lambda r: (-r.score, r.id))


def plan_repair(session: Session, gaps: list, budget: int, *, accept_proposed: bool = False, seed: int = 0) -> RepairPlan:
    """Record each gap's repair plan, create pair relations for missing edges, journal the gap units."""
    plan = RepairPlan()
    shares = allocate([(g.id, g.score) for g in gaps], budget)
    for g in gaps:
        n = shares.get(g.id, 0)
        kind = repair_kind(g.kind, g.unit)
        repair: dict = {"examples": n}
        note = ""
        if n and kind == "concept_gap":
            repair["chosen"] = _chosen_distractors(session, g)
        elif n and kind == "missing_edge":
            rid, created = _pair_relation(session, g, accept_proposed)
            repair["relation"] = rid
            if rid is None:
                note = "no corpus sentence mentions both concepts: nothing to teach from"
            elif created and not accept_proposed:
                plan.relations_proposed.append(rid)
                note = "relation proposed: confirm it with --accept-proposed or in the ontology file"
        elif n and kind == "reasoning_break":
            repair["chains"] = _sibling_train_chains(session, g, n, seed)
            if not repair["chains"]:
                note = "no train chain shares this chain's rule and predicate"
        if accept_proposed and kind == "missing_edge" and repair.get("relation"):
            done = session.execute(update(R).where(R.c.id == repair["relation"], R.c.status == "proposed")
                                   .values(status="asserted", confidence=1.0))
            if done.rowcount or session.scalar(select(R.c.origin).where(R.c.id == repair["relation"])) == "patched":
                plan.relations_accepted.append(repair["relation"])
        detail = json.loads(g.detail or "{}")
        detail["repair"] = repair
        session.execute(update(G).where(G.c.id == g.id).values(status="patched", detail=json.dumps(detail,
                                                                                                  sort_keys=True)))
        session.execute(insert(J).values(unit=f"gap:{g.id}"))
        plan.allocations.append(Allocation(g.id, g.kind, g.unit, g.score, n, note))
    return plan


def mark_built(session: Session, gap_ids: list[str], build_id: str | None) -> None:
    if build_id:
        session.execute(update(G).where(G.c.id.in_(gap_ids)).values(build=build_id))


def _chosen_distractors(session: Session, g) -> list[str]:
    """The terms of the wrong options the model picked on the gap's failed items, most frequent first.

    The patch examples ask for a term, so an option is named by the term of the concept behind it
    (``trace["options"]``): a definition picked on a ``term_to_definition`` item becomes the term it
    defines. An option with no concept behind it (an imported item) is taken as written, except
    on items whose options are definitions."""
    items = json.loads(g.items or "[]")
    rows = session.execute(select(I.c.choices, I.c.trace, I.c.kind, S.c.prediction).join(S, S.c.item_id == I.c.id)
                           .where(S.c.run_id == g.run_id, S.c.item_id.in_(items), S.c.correct == 0)).all()
    picked: list[tuple[str | None, str | None]] = []  # (concept behind the option, its text when it is a term)
    for choices, trace, kind, prediction in rows:
        options = json.loads(choices)
        if not 0 <= prediction < len(options):
            continue
        behind = json.loads(trace or "{}").get("options") or []
        concept = behind[prediction] if prediction < len(behind) else None
        picked.append((concept, None if kind == DEFINITION_OPTIONS else options[prediction]))
    wanted = sorted({c for c, _ in picked if c})
    labels = dict(session.execute(select(C.c.id, C.c.pref_label).where(C.c.id.in_(wanted))).all()) if wanted else {}
    counts: dict[str, int] = {}
    for concept, text in picked:
        term = labels.get(concept) or text
        if term:
            counts[term] = counts.get(term, 0) + 1
    return [text for text, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]


def _pair_relation(session: Session, g, accept: bool) -> tuple[str | None, bool]:
    """An existing relation between the pair, or a new ``related_to`` backed by co-mention sentences."""
    a, b = g.unit.split(":", 1)[1].split("|", 1)
    existing = session.scalar(select(R.c.id).where(
        ((R.c.subject_id == a) & (R.c.object_id == b)) | ((R.c.subject_id == b) & (R.c.object_id == a)),
        R.c.status.in_(("asserted", "proposed"))).order_by(R.c.id).limit(1))
    if existing:
        return existing, False
    ea, eb = E.alias("ea"), E.alias("eb")
    rows = session.execute(select(ea.c.chunk_id, ea.c.char_start, ea.c.char_end, ea.c.sentence)
                           .join(eb, and_(eb.c.chunk_id == ea.c.chunk_id, eb.c.sentence == ea.c.sentence))
                           .where(ea.c.concept_id == a, eb.c.concept_id == b)
                           .order_by(ea.c.chunk_id, ea.c.char_start).limit(5)).all()
    if not rows:
        return None, False
    rid = relation_id(a, "related_to", b, "patched")
    session.execute(insert(R).values(id=rid, discipline=g.discipline, subject_id=a, predicate="related_to", object_id=b,
                                     origin="patched", status="asserted" if accept else "proposed",
                                     confidence=1.0 if accept else 0.0, source=f"repair of gap {g.id}"))
    for r in rows:
        session.execute(insert(E).values(relation_id=rid, chunk_id=r.chunk_id, char_start=r.char_start,
                                         char_end=r.char_end, sentence=r.sentence, extractor=PATCH_EXTRACTOR[0],
                                         extractor_version=PATCH_EXTRACTOR[1], score=0.5))
    return rid, True


def _sibling_train_chains(session: Session, g, n: int, seed: int) -> list[str]:
    failing = session.execute(select(H).where(H.c.id == g.unit.split(":", 1)[1])).first()
    if failing is None:
        return []
    ids = session.scalars(select(H.c.id).where(H.c.discipline == failing.discipline, H.c.rule == failing.rule,
                                               H.c.predicate == failing.predicate, H.c.split == "train",
                                               H.c.id != failing.id)).all()
    return sorted(ids, key=lambda h: digest(f"{seed}|{g.id}|{h}", 8))[:n]
