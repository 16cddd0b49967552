"""Ontology lint: structural errors and hygiene warnings over one discipline's files."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from syllabus.ontology.model import Location, ParsedOntology

# code -> (severity, title)
RULES = {
    "L001": ("error", "is_a cycle"),
    "L002": ("error", "reference to an undefined concept"),
    "L003": ("error", "duplicate id"),
    "L004": ("error", "duplicate preferred label"),
    "L005": ("error", "relation to a deprecated concept"),
    "L101": ("warning", "missing definition"),
    "L102": ("warning", "missing label"),
    "L103": ("warning", "orphan concept"),
    "L104": ("warning", "reference to a concept of another ontology"),
    "L105": ("warning", "likely duplicate concept"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    concept: str
    message: str
    where: str

    @property
    def severity(self) -> str:
        return RULES[self.code][0]

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "rule": RULES[self.code][1],
                "concept": self.concept, "message": self.message, "where": self.where}


def lint(ontologies: list[ParsedOntology], own_prefix: str | None = None) -> list[Finding]:
    """Check a discipline's parsed files together; findings sorted by severity, code, place.

    References to ids with *own_prefix* that no file defines are errors; references to other
    ontologies' ids (``GO:...`` from the Cell Ontology) are warnings.
    """
    findings: list[Finding] = []
    first: dict[str, Location | None] = {}
    concepts = {}
    for onto in ontologies:
        for c in onto.concepts:
            if c.id in first:
                findings.append(Finding("L003", c.id, f"{c.id} is defined again (first at {first[c.id]})", str(c.where)))
            else:
                first[c.id] = c.where
                concepts[c.id] = c
    relations = [r for onto in ontologies for r in onto.relations]
    active = {cid for cid, c in concepts.items() if c.status == "active"}

    by_label: dict[str, list[str]] = defaultdict(list)
    for cid in sorted(active):
        c = concepts[cid]
        if c.pref_label:
            by_label[c.pref_label.casefold()].append(cid)
        else:
            findings.append(Finding("L102", cid, f"{cid} has no preferred label", str(c.where)))
        if not c.definition:
            findings.append(Finding("L101", cid, f"{cid} ({c.pref_label or 'no label'}) has no definition", str(c.where)))
    for label, ids in sorted(by_label.items()):
        if len(ids) > 1:
            for cid in ids[1:]:
                findings.append(Finding("L004", cid, f"{cid} shares the preferred label '{label}' with {ids[0]}",
                                        str(concepts[cid].where)))

    connected: set[str] = set()
    for r in relations:
        connected.update((r.subject, r.object))
        for end in (r.object, r.subject):
            if end not in concepts:
                foreign = own_prefix is not None and not end.startswith(own_prefix + ":")
                code = "L104" if foreign else "L002"
                findings.append(Finding(code, r.subject, f"{r.subject} {r.predicate} {end}: {end} is not defined",
                                        str(r.where)))
            elif concepts[end].status == "deprecated":
                findings.append(Finding("L005", r.subject, f"{r.subject} {r.predicate} {r.object}: {end} is deprecated",
                                        str(r.where)))
    for cid in sorted(active - connected):
        findings.append(Finding("L103", cid, f"{cid} ({concepts[cid].pref_label}) has no parent, child or relation",
                                str(concepts[cid].where)))

    findings += _shared_synonyms(concepts, active)
    graph = nx.DiGraph((r.subject, r.object) for r in relations if r.predicate == "is_a")
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            cycle = sorted(component)
            findings.append(Finding("L001", cycle[0], "is_a cycle through " + " -> ".join(cycle + [cycle[0]]),
                                    str(concepts[cycle[0]].where) if cycle[0] in concepts else ""))
    order = {"error": 0, "warning": 1}
    return sorted(set(findings), key=lambda f: (order[f.severity], f.code, f.where, f.concept, f.message))


def _shared_synonyms(concepts: dict, active: set[str]) -> list[Finding]:
    """Two active concepts with the same label text (any kind) are likely duplicates."""
    owners: dict[str, set[str]] = defaultdict(set)
    for cid in active:
        for _, text in concepts[cid].labels:
            owners[text.casefold()].add(cid)
    out = []
    for text, ids in sorted(owners.items()):
        ids_ = sorted(ids)
        for other in ids_[1:]:
            if (concepts[ids_[0]].pref_label or "").casefold() == (concepts[other].pref_label or "").casefold():
                continue  # already L004
            out.append(Finding("L105", other, f"{other} and {ids_[0]} share the label '{text}'", str(concepts[other].where)))
    return out


def likely_duplicates(ontologies: list[ParsedOntology], embed, threshold: float) -> list[Finding]:
    """Pairs of active concepts whose "label: definition" embeddings are at least *threshold*
    similar (cosine). *embed* maps texts to unit vectors; ontology concepts are never merged,
    so a near pair is reported for an expert to decide."""
    concepts = {c.id: c for onto in ontologies for c in onto.concepts if c.status == "active" and c.pref_label}
    ids = sorted(concepts)
    if len(ids) < 2:
        return []
    vectors = embed([f"{concepts[i].pref_label}: {concepts[i].definition or ''}" for i in ids])
    sims = vectors @ vectors.T
    out = []
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            if sims[a, b] >= threshold:
                x, y = concepts[ids[a]], concepts[ids[b]]
                out.append(Finding("L105", y.id, f"{y.id} ({y.pref_label}) is {sims[a, b]:.2f} similar to "
                                   f"{x.id} ({x.pref_label})", str(y.where)))
    return out
