"""What the report shows, read from the store: pure functions returning plain data.

Everything here reads in SQL and in a stable order, so the same store gives the same data. The
per-concept data comes in batches (:func:`concept_batches`): a batch of concepts in id order with
their labels, relations both ways (with evidence sentences), examples, items, results and gaps,
so that a 250k-concept store is rendered without holding it in memory. Lists that can grow with
the store are capped per concept (the caps are in :class:`Limits`); a page says how many it left
out.
"""
from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from syllabus.store.tables import (
    Chunk,
    Concept,
    Document,
    Evidence,
    Example,
    Gap,
    Item,
    ItemUnit,
    Label,
    Relation,
    Result,
    Run,
)

C, L, R, E, K, D, X, I, IU, RS, RN, G = (t.__table__ for t in (
    Concept, Label, Relation, Evidence, Chunk, Document, Example, Item, ItemUnit, Result, Run, Gap))


@dataclass(frozen=True)
class Limits:
    """Caps that keep a concept page small whatever the store holds."""

    batch: int = 500  # concepts read and rendered at a time
    relations: int = 60  # per direction
    evidence_per_relation: int = 2
    concept_evidence: int = 5
    examples: int = 12
    items: int = 20
    runs: int = 5  # result columns on a concept page (the newest runs)
    graph_nodes: int = 24
    gaps: int = 2000  # rows of the gaps page
    builds: int = 12  # builds listed (newest), each diffed against its parent
    review: int = 200  # facts waiting for review listed on the review page


# --- runs --------------------------------------------------------------------------------------

def runs(session: Session) -> list[dict]:
    """Every run, oldest first, with its accuracy over scored items."""
    acc = {r.run_id: (int(r.n), int(r.ok or 0)) for r in session.execute(
        select(RS.c.run_id, func.count().label("n"), func.sum(RS.c.correct).label("ok")).group_by(RS.c.run_id))}
    out = []
    for r in session.execute(select(RN.c.id, RN.c.model, RN.c.backend, RN.c.split, RN.c.started)
                             .order_by(RN.c.started, RN.c.id)):
        n, ok = acc.get(r.id, (0, 0))
        out.append({"id": r.id, "model": r.model, "backend": r.backend, "split": r.split, "started": r.started,
                    "scored": n, "correct": ok, "accuracy": (ok / n) if n else None})
    return out


# --- overview ----------------------------------------------------------------------------------

def _scope(discipline: str):
    return C.c.discipline == discipline, C.c.status == "active", C.c.origin != "external"


def coverage(session: Session, discipline: str, run: str | None) -> dict:
    """Active concepts of the discipline and how many have a definition, evidence, a kept example, an
    item, and (in *run*) passing items: at least one scored item and none failing."""
    from syllabus.debug.queries import report_counts

    total = session.scalar(select(func.count()).select_from(C).where(*_scope(discipline))) or 0
    missing = report_counts(session, discipline, ("no_definition", "no_evidence", "no_example", "no_item"))
    passing = 0
    if run is not None:
        unit = literal("concept:") + C.c.id
        per = (select(IU.c.unit, func.min(RS.c.correct).label("worst"))
               .join(RS, and_(RS.c.item_id == IU.c.item_id, RS.c.run_id == run))
               .join(C, IU.c.unit == unit).where(*_scope(discipline)).group_by(IU.c.unit).subquery())
        passing = session.scalar(select(func.count()).select_from(per).where(per.c.worst == 1)) or 0
    rows = [("definition", total - missing["no_definition"]), ("evidence", total - missing["no_evidence"]),
            ("examples", total - missing["no_example"]), ("items", total - missing["no_item"]),
            ("passing items", passing)]
    return {"concepts": total, "run": run,
            "bars": [{"name": n, "count": int(c), "share": (c / total) if total else 0.0} for n, c in rows]}


def relation_table(session: Session, discipline: str) -> dict:
    """Relations by predicate x origin, and by status."""
    by: dict[str, dict[str, int]] = defaultdict(dict)
    origins: set[str] = set()
    for p, o, n in session.execute(select(R.c.predicate, R.c.origin, func.count()).where(R.c.discipline == discipline)
                                   .group_by(R.c.predicate, R.c.origin).order_by(R.c.predicate, R.c.origin)):
        by[p][o] = int(n)
        origins.add(o)
    statuses = {s: int(n) for s, n in session.execute(
        select(R.c.status, func.count()).where(R.c.discipline == discipline).group_by(R.c.status).order_by(R.c.status))}
    return {"origins": sorted(origins), "rows": [{"predicate": p, "counts": by[p], "total": sum(by[p].values())}
                                                 for p in sorted(by)], "by_status": statuses}


def review_summary(session: Session, ws, discipline: str, limits: Limits) -> dict:
    """Facts of the review gate: how many it holds back from compile ([compile] min_confidence), how
    many wait for a decision, and the first of those with their evidence."""
    from syllabus.extract.review import held_back, proposed_facts

    c = ws.config.compile
    counts = held_back(session, [discipline], c.min_confidence, c.include_proposed)[discipline]
    facts = [f.to_dict() for f in proposed_facts(session, [discipline], min_confidence=c.min_confidence,
                                                 limit=limits.review, include_proposed=c.include_proposed)]
    for kind, target, n in (("relation", E.c.relation_id, limits.evidence_per_relation), ("concept", E.c.concept_id, 1)):
        ids = sorted({f["id"].removeprefix("def:") for f in facts if (f["kind"] == "relation") == (kind == "relation")})
        rows = {}
        for chunk in _chunks(ids, 900):
            rows.update(_evidence_rows(session, ws.root, target, chunk, n))
        for f in facts:
            if (f["kind"] == "relation") == (kind == "relation"):
                f["evidence"] = rows.get(f["id"].removeprefix("def:"), [])
    return {"held_back": int(counts["held_back"]), "waiting": int(counts["waiting"]),
            "min_confidence": c.min_confidence, "facts": facts}


def overview(session: Session, ws, discipline: str, run: str | None, limits: Limits) -> dict:
    from syllabus.store.stats import store_status

    status = store_status(session).get(discipline) or {}
    return {"name": discipline, "status": status, "coverage": coverage(session, discipline, run),
            "relations": relation_table(session, discipline),
            "review": review_summary(session, ws, discipline, limits)}


def concept_index(session: Session, discipline: str, page: int) -> Iterator[list[dict]]:
    """The discipline's concepts in id order, *page* at a time (id, label, origin, status)."""
    last = None
    while True:
        q = select(C.c.id, C.c.pref_label, C.c.origin, C.c.status).where(C.c.discipline == discipline)
        if last is not None:
            q = q.where(C.c.id > last)
        rows = session.execute(q.order_by(C.c.id).limit(page)).all()
        if not rows:
            return
        yield [{"id": r.id, "label": r.pref_label, "origin": r.origin, "status": r.status} for r in rows]
        last = rows[-1].id


def search_entries(session: Session, disciplines: list[str], page: int = 5000) -> Iterator[list[list[str]]]:
    """[label, concept id] for every label of the disciplines' concepts, by concept id then label."""
    for d in disciplines:
        last = None
        while True:
            q = select(C.c.id).where(C.c.discipline == d)
            if last is not None:
                q = q.where(C.c.id > last)
            ids = session.scalars(q.order_by(C.c.id).limit(page)).all()
            if not ids:
                break
            rows = session.execute(select(L.c.concept_id, L.c.text).where(L.c.concept_id.in_(ids))
                                   .order_by(L.c.concept_id, L.c.text)).all()
            prefs = session.execute(select(C.c.id, C.c.pref_label).where(C.c.id.in_(ids)).order_by(C.c.id)).all()
            entries = sorted({(r.concept_id, r.text) for r in rows} | {(p.id, p.pref_label or p.id) for p in prefs})
            yield [[text, cid] for cid, text in entries]
            last = ids[-1]


# --- gaps --------------------------------------------------------------------------------------

def gaps(session: Session, disciplines: list[str], run: str | None, limits: Limits) -> dict:
    """The best-scored gaps of the disciplines (all runs, or *run*), each with its first failing items."""
    from syllabus.debug.queries import list_gaps

    rows: list[dict] = []
    total = 0
    for d in disciplines:
        total += session.scalar(select(func.count()).select_from(G).where(
            G.c.discipline == d, *([G.c.run_id == run] if run else []))) or 0
        rows += list_gaps(session, discipline=d, run=run, limit=limits.gaps)
    rows.sort(key=lambda g: (-g["score"], g["kind"], g["id"]))
    rows = rows[:limits.gaps]
    items_of = {}
    for chunk in _chunks([g["id"] for g in rows], 500):
        for gid, items, unit_concepts in session.execute(select(G.c.id, G.c["items"], G.c.concept_a)
                                                         .where(G.c.id.in_(chunk))):
            items_of[gid] = (json.loads(items or "[]"), unit_concepts)
    wanted = sorted({i for ids, _ in items_of.values() for i in ids[:3]})
    questions = {}
    for chunk in _chunks(wanted, 500):
        questions.update(dict(session.execute(select(I.c.id, I.c.question).where(I.c.id.in_(chunk))).all()))
    for g in rows:
        ids, concept = items_of.get(g["id"], ([], None))
        g["concept"] = concept
        g["failing_items"] = [{"id": i, "question": questions.get(i)} for i in ids[:3]]
    return {"total": int(total), "rows": rows, "kinds": sorted({g["kind"] for g in rows})}


def _chunks(values: list, n: int) -> Iterator[list]:
    for i in range(0, len(values), n):
        yield values[i:i + n]


# --- builds and the experiment -----------------------------------------------------------------

def builds(session: Session, root: Path, limits: Limits) -> list[dict]:
    """The newest builds (newest first), each with the diff from its parent when both folders exist."""
    from syllabus.compile.provenance import diff_builds, list_builds

    every = list_builds(session, root)
    present = {r["id"] for r in every if r["present"]}
    rows = every[-limits.builds:]
    for r in rows:
        r["diff"] = None
        if r["parent"] and r["present"] and r["parent"] in present:
            d = diff_builds(root, r["parent"], r["id"])
            r["diff"] = {k: d[k] for k in ("added", "removed", "changed", "unchanged")}
            r["diff"]["by_discipline_task"] = d["by_discipline_task"]
    return rows[::-1]


def latest_experiment(ws) -> dict | None:
    """The newest repair experiment report (report.json) under the workspace's benchmarks/results, if any."""
    found = []
    base = ws.root / "benchmarks" / "results"
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            rep = folder / "report.json"
            if rep.is_file():
                found.append((rep.stat().st_mtime_ns, folder.name, rep))
    if not found:
        return None
    _, name, rep = max(found)
    try:
        data = json.loads(rep.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    arms = (data.get("summary") or {}).get("all", {}).get("arms", {})
    return {"name": name, "verdict": [str(v) for v in data.get("verdict") or []],
            "arms": {k: v.get("mean") for k, v in sorted(arms.items())},
            "chart": str(rep.with_name("report.png")) if rep.with_name("report.png").is_file() else None,
            "model": (data.get("meta") or {}).get("model")}


# --- concept pages -----------------------------------------------------------------------------

@dataclass
class ConceptPage:
    """One concept with everything its page shows."""

    id: str
    discipline: str
    label: str | None
    definition: str | None
    type: str | None
    origin: str
    status: str
    source: str | None
    labels: list[dict] = field(default_factory=list)
    out: list[dict] = field(default_factory=list)
    into: list[dict] = field(default_factory=list)
    more_out: int = 0
    more_in: int = 0
    evidence: list[dict] = field(default_factory=list)
    evidence_total: int = 0
    examples: list[dict] = field(default_factory=list)
    examples_total: int = 0
    bench_items: list[dict] = field(default_factory=list)
    items_total: int = 0
    gaps: list[dict] = field(default_factory=list)


class ExampleReader:
    """Reads compiled examples of one build folder by id (its index maps ids to file offsets)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.index = None
        self._files: dict[Path, int] = {}
        if folder is not None:
            from syllabus.compile.build import load_index

            self.index = load_index(folder)

    def get(self, example_id: str) -> dict | None:
        if self.index is None:
            return None
        from syllabus.compile import layout

        ids = self.index["ids"]
        i = int(np.searchsorted(ids, example_id.encode()))
        if i >= len(ids) or ids[i].decode() != example_id or bool(self.index["dropped"][i]):
            return None
        path = layout.example_file(self.folder, example_id)
        if path not in self._files:
            if len(self._files) >= 64:
                self.close()
            self._files[path] = os.open(path, os.O_RDONLY)
        return json.loads(os.pread(self._files[path], int(self.index["len"][i]), int(self.index["off"][i])))

    def close(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()


def _ranked(q, partition, order, limit: int):
    """Rows of *q* numbered within *partition* by *order*, first *limit* of each."""
    sub = q.add_columns(func.row_number().over(partition_by=partition, order_by=order).label("rank")).subquery()
    return select(sub).where(sub.c.rank <= limit)


@lru_cache(maxsize=32)
def _source(path: str) -> tuple[str, list[int]] | None:
    """A corpus file's text and the offsets where its lines start."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text, [0] + [m.end() for m in re.finditer("\n", text)]


def line_of(root: Path, doc_path: str, sentence: str) -> int | None:
    """The 1-based line of the corpus file where *sentence* starts: its first words found as they
    are (a bisect over the line offsets), else :func:`syllabus.store.queries.source_line`, which
    allows markup between the words."""
    from syllabus.store.queries import source_line

    src = _source(str(root / doc_path) if not Path(doc_path).is_absolute() else doc_path)
    if src is None:
        return None
    text, starts = src
    head = sentence.strip()[:60]
    at = text.find(head) if head else -1
    if at >= 0:
        return bisect_right(starts, at)
    return source_line(root, doc_path, sentence)


def _evidence_rows(session: Session, root: Path, target, ids: list, limit: int) -> dict:
    q = (select(target.label("target"), E.c.sentence, E.c.score, E.c.extractor, E.c.char_start, D.c.path,
                K.c.ordinal, K.c.section)
         .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id).where(target.in_(ids)))
    order = (E.c.score.desc(), D.c.path, K.c.ordinal, E.c.char_start, E.c.id)
    out: dict[str, list[dict]] = defaultdict(list)
    for r in session.execute(_ranked(q, target, order, limit)):
        out[r.target].append({"sentence": " ".join(r.sentence.split()), "document": r.path, "chunk": r.ordinal,
                              "section": r.section, "line": line_of(root, r.path, r.sentence),
                              "extractor": r.extractor, "score": r.score})
    for key, v in out.items():
        v.sort(key=lambda e: (-e["score"], e["document"], e["chunk"], e["sentence"]))
        out[key] = list({(e["document"], e["chunk"], e["sentence"]): e for e in v}.values())  # one per sentence
    return out


def _relations(session: Session, ids: list[str], mine, other, limits: Limits) -> tuple[dict, dict]:
    """Relations where the concept is *mine* (subject_id or object_id), first per concept; and the totals."""
    q = select(R.c.id, mine.label("me"), other.label("other"), R.c.predicate, R.c.origin, R.c.status,
               R.c.confidence).where(mine.in_(ids))
    rows = session.execute(_ranked(q, mine, (R.c.predicate, other, R.c.origin), limits.relations)).all()
    totals = dict(session.execute(select(mine, func.count()).where(mine.in_(ids)).group_by(mine)).all())
    by: dict[str, list] = defaultdict(list)
    for r in rows:
        by[r.me].append({"id": r.id, "other": r.other, "predicate": r.predicate, "origin": r.origin,
                         "status": r.status, "confidence": r.confidence})
    for v in by.values():
        v.sort(key=lambda r: (r["predicate"], r["other"], r["origin"]))
    return by, totals


def concept_batches(session: Session, ws, discipline: str, *, reader: ExampleReader, run_ids: list[str],
                    limits: Limits) -> Iterator[tuple[list[ConceptPage], dict[str, tuple[str | None, str]]]]:
    """The discipline's concepts in id order, a batch at a time, each batch with the (label,
    discipline) of every concept its pages link to."""
    last = None
    while True:
        q = select(C).where(C.c.discipline == discipline)
        if last is not None:
            q = q.where(C.c.id > last)
        rows = session.execute(q.order_by(C.c.id).limit(limits.batch)).all()
        if not rows:
            return
        last = rows[-1].id
        yield _batch(session, ws, rows, reader, run_ids, limits)


def _batch(session: Session, ws, rows, reader: ExampleReader, run_ids: list[str], limits: Limits):
    ids = [r.id for r in rows]
    pages = {r.id: ConceptPage(r.id, r.discipline, r.pref_label, r.definition, r.type, r.origin, r.status, r.source)
             for r in rows}
    for cid, text, kind, origin in session.execute(select(L.c.concept_id, L.c.text, L.c.kind, L.c.origin)
                                                   .where(L.c.concept_id.in_(ids))
                                                   .order_by(L.c.concept_id, L.c.kind, L.c.text)):
        pages[cid].labels.append({"text": text, "kind": kind, "origin": origin})
    out, n_out = _relations(session, ids, R.c.subject_id, R.c.object_id, limits)
    into, n_in = _relations(session, ids, R.c.object_id, R.c.subject_id, limits)
    rel_ids = sorted({r["id"] for v in (*out.values(), *into.values()) for r in v})
    rel_ev: dict = {}
    for chunk in _chunks(rel_ids, 900):
        rel_ev.update(_evidence_rows(session, ws.root, E.c.relation_id, chunk, limits.evidence_per_relation))
    rel_ev_n = {}
    for chunk in _chunks(rel_ids, 900):
        rel_ev_n.update(dict(session.execute(select(E.c.relation_id, func.count()).where(E.c.relation_id.in_(chunk))
                                             .group_by(E.c.relation_id)).all()))
    linked = set(ids) | {r["other"] for v in (*out.values(), *into.values()) for r in v}
    for cid in ids:
        p = pages[cid]
        for mine, src, total, attr in ((p.out, out, n_out, "more_out"), (p.into, into, n_in, "more_in")):
            for r in src.get(cid, []):
                mine.append({**r, "evidence": rel_ev.get(r["id"], []), "evidence_total": int(rel_ev_n.get(r["id"], 0))})
            setattr(p, attr, int(total.get(cid, 0)) - len(mine))
    ev = _evidence_rows(session, ws.root, E.c.concept_id, ids, limits.concept_evidence)
    ev_n = dict(session.execute(select(E.c.concept_id, func.count()).where(E.c.concept_id.in_(ids))
                                .group_by(E.c.concept_id)).all())
    keys = {f"concept:{i}": i for i in ids}
    ex_q = select(X.c.unit, X.c.id, X.c.task, X.c.renderer, X.c.template).where(X.c.unit.in_(list(keys)),
                                                                                  X.c.dropped.is_(None))
    for r in session.execute(_ranked(ex_q, X.c.unit, (X.c.task, X.c.id), limits.examples)):
        body = reader.get(r.id)
        if body is not None:
            pages[keys[r.unit]].examples.append({"id": r.id, "task": r.task, "renderer": r.renderer,
                                                 "template": r.template, "messages": body.get("messages", []),
                                                 "evidence": body.get("provenance", {}).get("evidence", [])})
    for unit, n in session.execute(select(X.c.unit, func.count()).where(X.c.unit.in_(list(keys)), X.c.dropped.is_(None))
                                   .group_by(X.c.unit)):
        pages[keys[unit]].examples_total = int(n)
    item_q = (select(IU.c.unit, I.c.id, I.c.level, I.c.kind, I.c.split, I.c.question, I.c.choices, I.c.answer,
                     I.c.leak).join(I, I.c.id == IU.c.item_id).where(IU.c.unit.in_(list(keys))))
    item_ids = []
    for r in session.execute(_ranked(item_q, IU.c.unit, (I.c.level, I.c.id), limits.items)):
        choices = json.loads(r.choices)
        pages[keys[r.unit]].bench_items.append({"id": r.id, "level": r.level, "kind": r.kind, "split": r.split,
                                          "question": r.question, "answer": choices[r.answer] if 0 <= r.answer < len(choices) else None,
                                          "leak": bool(r.leak), "results": {}})
        item_ids.append(r.id)
    for unit, n in session.execute(select(IU.c.unit, func.count()).where(IU.c.unit.in_(list(keys))).group_by(IU.c.unit)):
        pages[keys[unit]].items_total = int(n)
    results: dict[str, dict[str, int]] = defaultdict(dict)
    if run_ids:
        for chunk in _chunks(sorted(set(item_ids)), 900):
            for item, run, correct in session.execute(select(RS.c.item_id, RS.c.run_id, RS.c.correct)
                                                      .where(RS.c.item_id.in_(chunk), RS.c.run_id.in_(run_ids))):
                results[item][run] = int(correct)
    for p in pages.values():
        p.examples.sort(key=lambda x: (x["task"], x["id"]))
        p.bench_items.sort(key=lambda i: (i["level"], i["id"]))
        for i in p.bench_items:
            i["results"] = results.get(i["id"], {})
    for g in session.execute(select(G.c.id, G.c.kind, G.c.unit, G.c.score, G.c.status, G.c.run_id, G.c.concept_a,
                                    G.c.concept_b, G.c["items"])
                             .where(or_(G.c.concept_a.in_(ids), G.c.concept_b.in_(ids)))
                             .order_by(G.c.score.desc(), G.c.id)):
        for cid in dict.fromkeys(c for c in (g.concept_a, g.concept_b) if c in pages):
            pages[cid].gaps.append({"id": g.id, "kind": g.kind, "unit": g.unit, "score": g.score, "status": g.status,
                                    "run": g.run_id, "failing": len(json.loads(g.items or "[]"))})
    for cid in ids:
        p = pages[cid]
        p.evidence = ev.get(cid, [])
        p.evidence_total = int(ev_n.get(cid, 0))
    names = {}
    for chunk in _chunks(sorted(linked), 900):
        for cid, label, disc in session.execute(select(C.c.id, C.c.pref_label, C.c.discipline).where(C.c.id.in_(chunk))):
            names[cid] = (label, disc)
    return [pages[i] for i in ids], names

