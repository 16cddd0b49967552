"""Patch renderers: targeted examples for repaired gaps (see syllabus.debug.repair).

A gap unit ``gap:ID`` carries its repair plan in ``detail["repair"]``: how many examples, the
distractors the model chose, the train chains to teach from. Each gap kind has its own tasks:

- concept gap: contrastive definition examples that name and correct the distractor the model
  chose, alternating with the definition grounded in evidence;
- weak or (accepted) missing edge: relation examples from the evidence, in both directions;
- reasoning break: step-by-step walks of *train* chains sharing the failing chain's rule and
  predicate (the graph view exposes no bench chain, so the failing chain can never be used).
"""
from __future__ import annotations

from syllabus.compile.renderers import RULE_REASONS, Choice, Reader, Renderer, Task, phrase


def _concept_gap(r: Reader, g, ch: Choice) -> list[Task]:
    cid = g.unit.split(":", 1)[1]
    c = r.concept(cid)
    if c is None or not c.definition:
        return []
    chosen = [x for x in g.repair.get("chosen", []) if x and x.casefold() != c.label.casefold()]
    tasks = []
    for i in range(int(g.repair["examples"])):
        evidence = c.evidence[i % len(c.evidence)] if c.evidence else None
        if chosen and i % 2 == 0:
            ctx = {"concept": c, "wrong": chosen[(i // 2) % len(chosen)], "evidence": evidence}
            tasks.append(Task(f"patch.contrast.{i + 1}", ctx, [g.unit], [evidence] if evidence else [],
                              phrasing="patch.contrast"))
        else:
            tasks.append(Task(f"patch.definition.{i + 1}", {"concept": c, "evidence": evidence}, [g.unit],
                              [evidence] if evidence else [], phrasing="patch.definition"))
    return tasks


def _edge(r: Reader, g, ch: Choice, rid: str) -> list[Task]:
    rel = r.relation(rid)
    if rel is None:
        return []
    subject, obj = r.concept(rel.subject), r.concept(rel.object)
    tasks = []
    for i in range(int(g.repair["examples"])):
        evidence = rel.evidence[i % len(rel.evidence)] if rel.evidence else None
        ctx = {"phrase": phrase(rel.predicate), "subject": subject, "object": obj, "evidence": evidence,
               "direction": ("forward", "backward", "both")[i % 3]}
        tasks.append(Task(f"patch.relation.{i + 1}", ctx, [g.unit, f"relation:{rid}"], [evidence] if evidence else [],
                          phrasing="patch.relation"))
    return tasks


def _weak_edge(r: Reader, g, ch: Choice) -> list[Task]:
    return _edge(r, g, ch, g.unit.split(":", 1)[1])


def _missing_edge(r: Reader, g, ch: Choice) -> list[Task]:
    """Only once the proposed relation for the pair is confirmed (asserted) does it teach anything."""
    rid = g.repair.get("relation")
    return _edge(r, g, ch, rid) if rid else []


def _reasoning_break(r: Reader, g, ch: Choice) -> list[Task]:
    tasks = []
    for i, hid in enumerate(g.repair.get("chains", [])[: int(g.repair["examples"])]):
        chain = r.chain(hid)
        if chain is None:
            continue
        steps, evidence = [], []
        for rid in chain.relation_ids:
            rel = r.relation(rid)
            ev = rel.evidence[0] if rel.evidence else None
            evidence += [ev] if ev else []
            steps.append({"subject": r.label(rel.subject), "object": r.label(rel.object),
                          "verb": phrase(rel.predicate)["verb"], "evidence": ev, "source": rel.source})
        ctx = {"steps": steps, "subject": r.label(chain.subject), "object": r.label(chain.object),
               "conclusion": phrase(chain.predicate), "rule_reason": RULE_REASONS.get(chain.rule, "")}
        tasks.append(Task(f"patch.chain.{i + 1}", ctx, [g.unit, f"chain:{hid}"], evidence, phrasing="patch.chain"))
    return tasks


_BY_KIND = {"concept_gap": _concept_gap, "weak_edge": _weak_edge, "missing_edge": _missing_edge,
            "reasoning_break": _reasoning_break}


def _patch(r: Reader, gid: str, ch: Choice) -> list[Task]:
    g = r.gap(gid)
    if g is None or g.kind not in _BY_KIND:
        return []
    return _BY_KIND[g.kind](r, g, ch)


PATCH = Renderer("patch", 1, "gap", (("patch", _patch),))
