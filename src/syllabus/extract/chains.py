"""L3 reasoning chains: ordered relation paths, the inference rule that composes them, and the
conclusion they license.

Rules: transitive is_a, transitive part_of, property inheritance (is_a+ then has_property),
causal composition (causes+), prerequisite chains (requires+). A chain is kept only when its
conclusion is not already a direct edge (it must need the hops), one chain per (rule,
conclusion) — the shortest, then the first by relation ids — and at most ``per_concept_cap``
per start concept and rule. Splits are decided before anything is rendered: a chain is
``bench`` when the hash of its id falls under the configured ratio, so a chain's split never
changes when others are added or removed.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

import networkx as nx
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from syllabus.config import ChainsConfig
from syllabus.store.batch import delete_ids
from syllabus.store.tables import Chain, Concept, Relation

C, R, H = Concept.__table__, Relation.__table__, Chain.__table__

# rule -> (predicate repeated along the path, final predicate or None, conclusion predicate)
RULES = {
    "transitive_is_a": ("is_a", None, "is_a"),
    "transitive_part_of": ("part_of", None, "part_of"),
    "property_inheritance": ("is_a", "has_property", "has_property"),
    "causal_composition": ("causes", None, "causes"),
    "prerequisite_chain": ("requires", None, "requires"),
}


@dataclass(frozen=True)
class MinedChain:
    id: str
    rule: str
    relation_ids: tuple[str, ...]
    subject: str
    predicate: str
    object: str
    split: str


@dataclass
class ChainReport:
    discipline: str
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    by_rule: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"discipline": self.discipline, "added": self.added, "removed": self.removed,
                "unchanged": self.unchanged, "by_rule": self.by_rule}


def chain_id(rule: str, relation_ids: tuple[str, ...]) -> str:
    return "chn:" + hashlib.sha256(json.dumps([rule, list(relation_ids)]).encode()).hexdigest()[:24]


def split_of(cid: str, bench_ratio: float) -> str:
    bucket = int(hashlib.sha256(cid.encode()).hexdigest()[:8], 16) % 10_000
    return "bench" if bucket < round(bench_ratio * 10_000) else "train"


def load_graph(session: Session, discipline: str, cfg: ChainsConfig) -> nx.MultiDiGraph:
    """The discipline's active concepts and usable relations as a graph (edges keyed by id)."""
    active = set(session.scalars(select(C.c.id).where(C.c.discipline == discipline, C.c.status == "active")))
    q = select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id, R.c.status, R.c.confidence).where(
        R.c.discipline == discipline)
    graph = nx.MultiDiGraph()
    for rid, s, p, o, status, confidence in session.execute(q):
        usable = status == "asserted" or (cfg.include_proposed and status == "proposed"
                                          and confidence >= cfg.min_confidence)
        if usable and s in active and o in active:
            graph.add_edge(s, o, key=rid, predicate=p)
    return graph


def mine(graph: nx.MultiDiGraph, cfg: ChainsConfig) -> list[MinedChain]:
    """Every chain the rules license, deduplicated and capped, in a stable order."""
    direct = {(s, d["predicate"], o) for s, o, d in graph.edges(data=True)}
    out_edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for s, o, rid, d in sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[2])):
        out_edges.setdefault((s, d["predicate"]), []).append((rid, o))
    best: dict[tuple[str, str, str, str], MinedChain] = {}
    for rule, (step, last, conclusion) in RULES.items():
        for start in sorted(graph.nodes):
            found: list[MinedChain] = []
            stack = [(start, (), (start,))]
            while stack:
                node, rels, nodes = stack.pop()
                hops = len(rels)
                if last is not None and hops >= 1 and hops + 1 <= cfg.max_hops:
                    for rid, target in out_edges.get((node, last), []):
                        if target not in nodes:
                            found.append(_chain(rule, rels + (rid,), start, conclusion, target, cfg))
                if last is None and hops >= 2:
                    found.append(_chain(rule, rels, start, conclusion, node, cfg))
                if hops < cfg.max_hops - (1 if last else 0):
                    for rid, target in reversed(out_edges.get((node, step), [])):
                        if target not in nodes:
                            stack.append((target, rels + (rid,), nodes + (target,)))
            kept = 0
            for chain in sorted(found, key=lambda c: (len(c.relation_ids), c.relation_ids)):
                if (chain.subject, chain.predicate, chain.object) in direct:
                    continue
                key = (rule, chain.subject, chain.predicate, chain.object)
                if key in best:
                    continue
                if kept >= cfg.per_concept_cap:
                    break
                best[key] = chain
                kept += 1
    return sorted(best.values(), key=lambda c: c.id)


def _chain(rule, rels, start, predicate, end, cfg) -> MinedChain:
    cid = chain_id(rule, rels)
    return MinedChain(cid, rule, rels, start, predicate, end, split_of(cid, cfg.bench_ratio))


def sync_chains(session: Session, discipline: str, cfg: ChainsConfig) -> ChainReport:
    """Mine the discipline's chains and make the chain table hold exactly them."""
    chains = mine(load_graph(session, discipline, cfg), cfg)
    wanted = {c.id: c for c in chains}
    existing = set(session.scalars(select(H.c.id).where(H.c.discipline == discipline)))
    report = ChainReport(discipline)
    gone = sorted(existing - set(wanted))
    delete_ids(session, H, gone)
    new = [dict(id=c.id, discipline=discipline, rule=c.rule, relation_ids=json.dumps(list(c.relation_ids)),
                hops=len(c.relation_ids), subject_id=c.subject, predicate=c.predicate, object_id=c.object,
                split=c.split) for c in chains if c.id not in existing]
    if new:
        session.execute(insert(H), new)
    report.added, report.removed, report.unchanged = len(new), len(gone), len(wanted) - len(new)
    counts = Counter((c.rule, c.split) for c in chains)
    report.by_rule = {rule: {"train": counts[(rule, "train")], "bench": counts[(rule, "bench")]}
                      for rule in RULES if counts[(rule, "train")] or counts[(rule, "bench")]}
    return report
