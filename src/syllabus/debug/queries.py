"""Gap queries and canned graph reports, answered in SQL (never by loading the graph).

* :func:`list_gaps` filters diagnosed gaps by discipline, kind, status, score, run and by a
  concept subtree: ``under`` = the concept, its descendants through ``is_a`` / ``part_of``
  (asserted or proposed; a recursive CTE that SQLite and PostgreSQL both run), and the
  relations, chains (by their conclusion's subject or object) and concept pairs that touch them.
* :func:`graph_report` lists, per discipline, active concepts without a definition, without
  evidence, without a kept training example (no ``example_dep`` row of a kept example reads
  ``concept:ID``), without a benchmark item (no ``item_unit`` row ``concept:ID``), and asserted
  or proposed relations without evidence: ``NOT EXISTS`` over the indexed reverse tables.
"""
from __future__ import annotations

import json

from sqlalchemy import Integer, and_, exists, func, literal, or_, select, union
from sqlalchemy.orm import Session

from syllabus.errors import SyllabusError
from syllabus.store.tables import Chain, Concept, Evidence, Example, ExampleDep, Gap, ItemUnit, Relation, Run

C, R, H, G, E, X, XD, IU, RN = (t.__table__ for t in (Concept, Relation, Chain, Gap, Evidence, Example, ExampleDep,
                                                      ItemUnit, Run))

KINDS = ("concept_gap", "weak_edge", "reasoning_break", "missing_edge", "suspicious")
STATUSES = ("open", "patched", "verified", "dismissed")
SORTS = ("score", "kind")
HIERARCHY = ("is_a", "part_of")
LIVE = ("asserted", "proposed")  # relation statuses that count as graph edges here
REPORTS = ("no_definition", "no_evidence", "no_example", "no_item", "relation_no_evidence")
COLUMNS = ("id", "kind", "unit", "label", "discipline", "score", "failing", "status", "run", "build")
_IN_BATCH = 500


# --- gaps ---------------------------------------------------------------------------------------

def subtree(concept_id: str):
    """Recursive CTE ``sub(id)``: *concept_id* and every concept below it by is_a / part_of."""
    sub = select(C.c.id.label("id")).where(C.c.id == concept_id).cte("sub", recursive=True)
    r = R.alias("r")
    return sub.union(select(r.c.subject_id).where(r.c.object_id == sub.c.id, r.c.predicate.in_(HIERARCHY),
                                                  r.c.status.in_(LIVE)))


def _position(session: Session, text, needle: str):
    """1-based position of *needle* in *text* (0 when absent), on SQLite and PostgreSQL."""
    name = "strpos" if session.get_bind().dialect.name == "postgresql" else "instr"
    return getattr(func, name)(text, needle, type_=Integer)


def _prefixed(prefix: str):
    """``gap.unit`` starts with *prefix* (a range both backends answer from the unit index)."""
    return and_(G.c.unit >= prefix, G.c.unit < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def under_gap_ids(session: Session, concept_id: str):
    """A SELECT of the ids of gaps in *concept_id*'s subtree (see the module docstring)."""
    sub = subtree(concept_id)
    ids = select(sub.c.id)
    concept_keys = select(literal("concept:") + sub.c.id)
    rel_keys = union(select(literal("relation:") + R.c.id).where(R.c.subject_id.in_(ids)),
                     select(literal("relation:") + R.c.id).where(R.c.object_id.in_(ids)))
    chains = (select(G.c.id).join(H, H.c.id == func.substr(G.c.unit, len("chain:") + 1))
              .where(_prefixed("chain:"), or_(H.c.subject_id.in_(ids), H.c.object_id.in_(ids))))
    bar = _position(session, G.c.unit, "|")
    first = func.substr(G.c.unit, len("pair:") + 1, bar - len("pair:") - 1)
    second = func.substr(G.c.unit, bar + 1)
    pairs = select(G.c.id).where(_prefixed("pair:"), bar > 0, or_(first.in_(ids), second.in_(ids)))
    return union(select(G.c.id).where(G.c.unit.in_(concept_keys)),
                 select(G.c.id).where(G.c.unit.in_(rel_keys)), chains, pairs)


def list_gaps(session: Session, *, discipline: str | None = None, kind: str | None = None,
              status: str | None = None, min_score: float | None = None, under: str | None = None,
              run: str | None = None, sort: str = "score", limit: int | None = None) -> list[dict]:
    """Gaps matching every given filter, best score first (or by kind), each with its unit's label."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    if under is not None and session.scalar(select(C.c.id).where(C.c.id == under)) is None:
        raise SyllabusError("E030", id=under)
    if run is not None and session.scalar(select(RN.c.id).where(RN.c.id == run)) is None:
        raise SyllabusError("E081", run=run)
    q = select(G.c.id, G.c.kind, G.c.unit, G.c.discipline, G.c.score, G.c["items"].label("failing_items"), G.c.status,
               G.c.run_id, G.c.build)
    for column, value in ((G.c.discipline, discipline), (G.c.kind, kind), (G.c.status, status), (G.c.run_id, run)):
        if value is not None:
            q = q.where(column == value)
    if min_score is not None:
        q = q.where(G.c.score >= min_score)
    if under is not None:
        q = q.where(G.c.id.in_(under_gap_ids(session, under)))
    order = [G.c.score.desc(), G.c.kind, G.c.id] if sort == "score" else [G.c.kind, G.c.score.desc(), G.c.id]
    q = q.order_by(*order)
    if limit is not None:
        q = q.limit(limit)
    rows = session.execute(q).all()
    labels = unit_labels(session, [r.unit for r in rows])
    return [dict(id=r.id, kind=r.kind, unit=r.unit, label=labels.get(r.unit), discipline=r.discipline,
                 score=r.score, failing=len(json.loads(r.failing_items or "[]")), status=r.status, run=r.run_id,
                 build=r.build) for r in rows]


def unit_labels(session: Session, units: list[str]) -> dict[str, str]:
    """Readable labels of unit keys: a concept's label, "subject predicate object" of a relation or
    of a chain's conclusion, "A | B" of a pair (ids stand in for missing labels)."""
    concepts, relations, chains = set(), set(), set()
    for unit in units:
        kind, _, key = unit.partition(":")
        if kind == "concept":
            concepts.add(key)
        elif kind == "pair":
            concepts.update(key.split("|", 1))
        elif kind == "relation":
            relations.add(key)
        elif kind == "chain":
            chains.add(key)
    triples: dict[str, tuple[str, str, str]] = {}
    for table, key, found in ((R, "relation", relations), (H, "chain", chains)):
        ids = sorted(found)
        for i in range(0, len(ids), _IN_BATCH):
            for row in session.execute(select(table.c.id, table.c.subject_id, table.c.predicate, table.c.object_id)
                                       .where(table.c.id.in_(ids[i:i + _IN_BATCH]))):
                triples[f"{key}:{row.id}"] = (row.subject_id, row.predicate, row.object_id)
    concepts.update(c for s, _, o in triples.values() for c in (s, o))
    names = _concept_labels(session, concepts)
    out = {}
    for unit in units:
        kind, _, key = unit.partition(":")
        if kind == "concept":
            out[unit] = names.get(key, key)
        elif kind == "pair":
            out[unit] = " | ".join(names.get(c, c) for c in key.split("|", 1))
        elif unit in triples:
            s, p, o = triples[unit]
            out[unit] = f"{names.get(s, s)} {p} {names.get(o, o)}"
    return out


def _concept_labels(session: Session, ids: set[str]) -> dict[str, str]:
    ids_ = sorted(ids)
    out = {}
    for i in range(0, len(ids_), _IN_BATCH):
        out.update((cid, label or cid) for cid, label in session.execute(
            select(C.c.id, C.c.pref_label).where(C.c.id.in_(ids_[i:i + _IN_BATCH]))))
    return out


# --- graph reports ------------------------------------------------------------------------------

def _concepts_where(discipline: str, condition):
    return (select(C.c.id, C.c.pref_label.label("label"), C.c.origin)
            .where(C.c.discipline == discipline, C.c.status == "active", C.c.origin != "external", condition))


def report_queries(discipline: str) -> dict:
    """The SELECT of each canned report for one discipline (rows ordered by id)."""
    key = literal("concept:") + C.c.id
    kept_example = (select(XD.c.unit).join(X, X.c.seq == XD.c.example)
                    .where(XD.c.unit == key, X.c.dropped.is_(None)))
    queries = {
        "no_definition": _concepts_where(discipline, or_(C.c.definition.is_(None), func.trim(C.c.definition) == "")),
        "no_evidence": _concepts_where(discipline, ~exists().where(E.c.concept_id == C.c.id)),
        "no_example": _concepts_where(discipline, ~exists(kept_example)),
        "no_item": _concepts_where(discipline, ~exists().where(IU.c.unit == key)),
        "relation_no_evidence": select(R.c.id, R.c.subject_id.label("subject"), R.c.predicate,
                                       R.c.object_id.label("object"), R.c.origin, R.c.status)
        .where(R.c.discipline == discipline, R.c.status.in_(LIVE), ~exists().where(E.c.relation_id == R.c.id)),
    }
    return {name: q.order_by(q.selected_columns[0]) for name, q in queries.items()}


def graph_report(session: Session, disciplines: list[str], limit: int | None = None,
                 only: tuple[str, ...] = REPORTS) -> dict[str, dict[str, dict]]:
    """Per discipline and report: the full ``count`` and the first *limit* ``rows`` (all when None)."""
    out: dict[str, dict[str, dict]] = {}
    for discipline in disciplines:
        section = out[discipline] = {}
        for name, q in report_queries(discipline).items():
            if name not in only:
                continue
            rows = [dict(r._mapping) for r in session.execute(q if limit is None else q.limit(limit))]
            count = len(rows) if limit is None or len(rows) < limit else \
                session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
            section[name] = {"count": count, "rows": rows}
    return out
