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

from syllabus.compile.renderers import Choice, Reader, Renderer, Task, chain_context, phrase
from syllabus.vocabulary import repair_kind


def _concept_gap(r: Reader, g, ch: Choice) -> list[Task]:
    """Distinct (task, wrong option or evidence, phrasing) combinations, contrastive ones first."""
    cid = g.unit.split(":", 1)[1]
    c = r.concept(cid)
    if c is None or not c.definition:
        return []
    chosen = [x for x in g.repair.get("chosen", []) if x and x.casefold() != c.label.casefold()]
    evidence = list(c.evidence) or [None]
    contrast = [("contrast", {"wrong": w, "evidence": evidence[k % len(evidence)]}, v)
                for k, w in enumerate(chosen) for v in range(2)]
    plain = [("definition", {"evidence": e}, v) for e in evidence for v in range(2)]
    combos = [x for pair in zip(contrast, plain) for x in pair] + contrast[len(plain):] + plain[len(contrast):]
    tasks = []
    for i, (kind, extra, variant) in enumerate(combos[: int(g.repair["examples"])]):
        ev = extra["evidence"]
        tasks.append(Task(f"patch.{kind}.{i + 1}", {"concept": c, **extra}, [g.unit], [ev] if ev else [],
                          phrasing=f"patch.{kind}", variant=variant))
    return tasks


def _edge(r: Reader, g, ch: Choice, rid: str) -> list[Task]:
    rel = r.relation(rid)
    if rel is None:
        return []
    subject, obj = r.concept(rel.subject), r.concept(rel.object)
    combos = [(d, e, v) for e in (list(rel.evidence) or [None]) for d in ("forward", "backward", "both")
              for v in range(2)]
    tasks = []
    for i, (direction, evidence, variant) in enumerate(combos[: int(g.repair["examples"])]):
        ctx = {"phrase": phrase(rel.predicate), "subject": subject, "object": obj, "evidence": evidence,
               "direction": direction}
        tasks.append(Task(f"patch.relation.{i + 1}", ctx, [g.unit, f"relation:{rid}"], [evidence] if evidence else [],
                          phrasing="patch.relation", variant=variant))
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
        ctx, evidence = chain_context(r, chain)
        # the failing bench chain (g.unit) is not a source of this example, so it is not listed
        tasks.append(Task(f"patch.chain.{i + 1}", ctx, [f"chain:{hid}"], evidence, phrasing="patch.chain",
                          variant=i))
    return tasks


_BY_KIND = {"concept_gap": _concept_gap, "weak_edge": _weak_edge, "missing_edge": _missing_edge,
            "reasoning_break": _reasoning_break}


def _patch(r: Reader, gid: str, ch: Choice) -> list[Task]:
    g = r.gap(gid)
    if g is None:
        return []
    kind = repair_kind(g.kind, g.unit)
    return _BY_KIND[kind](r, g, ch) if kind in _BY_KIND else []


PATCH = Renderer("patch", 2, "gap", (("patch", _patch),))
