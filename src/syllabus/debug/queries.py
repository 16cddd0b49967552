"""Gap queries and canned graph reports, answered in SQL (never by loading the graph).

* :func:`list_gaps` filters diagnosed gaps by discipline, kind, status, score, run and by a
  concept subtree: ``under`` = the concept, its descendants through ``is_a`` / ``part_of``
  (asserted or proposed; a recursive CTE that SQLite and PostgreSQL both run), and the gaps
  whose unit touches one of them (``gap.concept_a`` / ``concept_b``: a concept, a relation's or a
  chain conclusion's subject or object, a pair's two concepts).
* :func:`graph_report` lists, per discipline, active concepts without a definition, without
  evidence, without a kept training example (no ``example_dep`` row of a kept example reads
  ``concept:ID``), without a benchmark item (no ``item_unit`` row ``concept:ID``), and asserted
  or proposed relations without evidence: ``NOT EXISTS`` over the indexed reverse tables.
"""
from __future__ import annotations

from sqlalchemy import JSON, Integer, String, and_, case, cast, exists, func, literal, or_, select, union
from sqlalchemy.orm import Session

from syllabus.debug.unit_keys import pair_ids, position, prefixed
from syllabus.errors import SyllabusError, check_choice
from syllabus.store.tables import Chain, Concept, Evidence, Example, ExampleDep, Gap, ItemUnit, Relation, Run
from syllabus.vocabulary import GAP_KINDS, GAP_STATUSES

C, R, H, G, E, X, XD, IU, RN = (t.__table__ for t in (Concept, Relation, Chain, Gap, Evidence, Example, ExampleDep,
                                                      ItemUnit, Run))

KINDS, STATUSES = GAP_KINDS, GAP_STATUSES
SORTS = ("score", "kind")
HIERARCHY = ("is_a", "part_of")
LIVE = ("asserted", "proposed")  # relation statuses that count as graph edges here
REPORTS = ("no_definition", "no_evidence", "no_example", "no_item", "relation_no_evidence")
COLUMNS = ("id", "kind", "unit", "label", "discipline", "score", "failing", "status", "run", "build")


# --- gaps ---------------------------------------------------------------------------------------

def subtree(concept_id: str):
    """Recursive CTE ``sub(id)``: *concept_id* and every concept below it by is_a / part_of.

    The step follows every relation into a concept and, for the ones that are not live hierarchy
    edges, yields that concept again (UNION drops the duplicate): a WHERE filter on the relation
    makes SQLite (3.38+) build a Bloom filter over the whole relation table for each query, ~50 ms
    at 200k relations, where the walk itself takes about a millisecond."""
    # unsized VARCHAR: PostgreSQL needs both terms of the same type, and CASE drops the length
    sub = select(cast(C.c.id, String).label("id")).where(C.c.id == concept_id).cte("sub", recursive=True)
    r = R.alias("r")
    edge = and_(r.c.predicate.in_(HIERARCHY), r.c.status.in_(LIVE))
    step = case((edge, r.c.subject_id), else_=sub.c.id)
    return sub.union(select(step).where(r.c.object_id == sub.c.id))


def _json_length(session: Session, text):
    """Length of the JSON array held in a text column, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        text = cast(text, JSON)
    return func.json_array_length(text, type_=Integer)


def under_gap_ids(concept_id: str):
    """A SELECT of the ids of gaps that touch *concept_id* or a concept below it."""
    ids = select(subtree(concept_id).c.id)
    return union(select(G.c.id).where(G.c.concept_a.in_(ids)), select(G.c.id).where(G.c.concept_b.in_(ids)))


def list_gaps(session: Session, *, discipline: str | None = None, kind: str | None = None,
              status: str | None = None, min_score: float | None = None, under: str | None = None,
              run: str | None = None, sort: str = "score", limit: int | None = None) -> list[dict]:
    """Gaps matching every given filter, best score first (or by kind), each with its unit's label."""
    check_choice("--sort", sort, SORTS)
    check_choice("--kind", kind, KINDS)
    check_choice("--status", status, STATUSES)
    if under is not None and session.scalar(select(C.c.id).where(C.c.id == under)) is None:
        raise SyllabusError("E030", id=under)
    if run is not None and session.scalar(select(RN.c.id).where(RN.c.id == run)) is None:
        raise SyllabusError("E081", run=run)
    q = select(G.c.id, G.c.kind, G.c.unit, G.c.discipline, G.c.score, G.c["items"].label("items"), G.c.status,
               G.c.run_id, G.c.build)
    for column, value in ((G.c.discipline, discipline), (G.c.kind, kind), (G.c.status, status), (G.c.run_id, run)):
        if value is not None:
            q = q.where(column == value)
    if min_score is not None:
        q = q.where(G.c.score >= min_score)
    if under is not None:
        q = q.where(G.c.id.in_(under_gap_ids(under)))
    if limit is not None:
        q = q.order_by(*_order(G.c, sort)).limit(limit)
    return [_gap_row(r) for r in session.execute(_labelled(session, q.subquery("page"), sort))]


def _order(cols, sort: str) -> list:
    return [cols.score.desc(), cols.kind, cols.id] if sort == "score" else [cols.kind, cols.score.desc(), cols.id]


def _key(unit, prefix: str):
    """The id in a unit key with *prefix*, else NULL (so the join skips the index look-up)."""
    return case((prefixed(unit, prefix), func.substr(unit, len(prefix) + 1)))


def _labelled(session: Session, page, sort: str):
    """*page* (gap rows) with the labels its unit keys need, joined by primary key, in order."""
    unit = page.c.unit
    c0, rs, ro, hs, ho, pa, pb = (C.alias(n) for n in ("c0", "rs", "ro", "hs", "ho", "pa", "pb"))
    r, h = R.alias("r"), H.alias("h")
    first, second = pair_ids(session, unit)
    is_pair = and_(prefixed(unit, "pair:"), position(session, unit, "|") > 0)
    return (select(page.c.id, page.c.kind, unit, page.c.discipline, page.c.score, page.c.status, page.c.run_id,
                   page.c.build, _json_length(session, page.c["items"]).label("failing"),
                   c0.c.pref_label.label("concept"), r.c.subject_id.label("r_s"), r.c.predicate.label("r_p"),
                   r.c.object_id.label("r_o"), rs.c.pref_label.label("r_sl"), ro.c.pref_label.label("r_ol"),
                   h.c.subject_id.label("h_s"), h.c.predicate.label("h_p"), h.c.object_id.label("h_o"),
                   hs.c.pref_label.label("h_sl"), ho.c.pref_label.label("h_ol"), pa.c.pref_label.label("pa"),
                   pb.c.pref_label.label("pb"))
            .select_from(page)
            .outerjoin(c0, c0.c.id == _key(unit, "concept:"))
            .outerjoin(r, r.c.id == _key(unit, "relation:"))
            .outerjoin(rs, rs.c.id == r.c.subject_id).outerjoin(ro, ro.c.id == r.c.object_id)
            .outerjoin(h, h.c.id == _key(unit, "chain:"))
            .outerjoin(hs, hs.c.id == h.c.subject_id).outerjoin(ho, ho.c.id == h.c.object_id)
            .outerjoin(pa, pa.c.id == case((is_pair, first))).outerjoin(pb, pb.c.id == case((is_pair, second)))
            .order_by(*_order(page.c, sort)))


def _gap_row(r) -> dict:
    kind, _, key = r.unit.partition(":")
    label = None
    if kind == "concept":
        label = r.concept or key
    elif kind == "relation" and r.r_p is not None:
        label = f"{r.r_sl or r.r_s} {r.r_p} {r.r_ol or r.r_o}"
    elif kind == "chain" and r.h_p is not None:
        label = f"{r.h_sl or r.h_s} {r.h_p} {r.h_ol or r.h_o}"
    elif kind == "pair" and "|" in key:
        a, b = key.split("|", 1)
        label = f"{r.pa or a} | {r.pb or b}"
    return dict(id=r.id, kind=r.kind, unit=r.unit, label=label, discipline=r.discipline, score=r.score,
                failing=r.failing or 0, status=r.status, run=r.run_id, build=r.build)


# --- graph reports ------------------------------------------------------------------------------

CONCEPT_COLUMNS = (C.c.id, C.c.pref_label.label("label"), C.c.origin)
RELATION_COLUMNS = (R.c.id, R.c.subject_id.label("subject"), R.c.predicate, R.c.object_id.label("object"), R.c.origin,
                    R.c.status)


def _scope(table, discipline: str) -> tuple:
    """The rows a report ranges over: a discipline's active, non-external concepts or its live relations."""
    if table is C:
        return C.c.discipline == discipline, C.c.status == "active", C.c.origin != "external"
    return R.c.discipline == discipline, R.c.status.in_(LIVE)


def report_conditions() -> dict[str, tuple]:
    """Each canned report as (the table it lists, the finding condition on a row of it)."""
    key = literal("concept:") + C.c.id
    kept_example = (select(XD.c.unit).join(X, X.c.seq == XD.c.example)
                    .where(XD.c.unit == key, X.c.dropped.is_(None)))
    return {
        "no_definition": (C, or_(C.c.definition.is_(None), func.trim(C.c.definition) == "")),
        "no_evidence": (C, ~exists().where(E.c.concept_id == C.c.id)),
        "no_example": (C, ~exists(kept_example)),
        "no_item": (C, ~exists().where(IU.c.unit == key)),
        "relation_no_evidence": (R, ~exists().where(E.c.relation_id == R.c.id)),
    }


def report_queries(discipline: str) -> dict:
    """The SELECT of each canned report for one discipline (rows ordered by id)."""
    return {name: select(*(CONCEPT_COLUMNS if table is C else RELATION_COLUMNS))
            .where(*_scope(table, discipline), condition).order_by(table.c.id)
            for name, (table, condition) in report_conditions().items()}


def report_counts(session: Session, discipline: str, only: tuple[str, ...] = REPORTS) -> dict[str, int]:
    """How many findings each report has: one scan of the discipline's concepts, one of its relations."""
    conditions = {n: c for n, c in report_conditions().items() if n in only}
    counts: dict[str, int] = {}
    for table in (C, R):
        sums = [func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(n)
                for n, (t, cond) in conditions.items() if t is table]
        if sums:
            counts.update(session.execute(select(*sums).select_from(table).where(*_scope(table, discipline)))
                          .one()._mapping)
    return {n: int(counts[n]) for n in conditions}


def graph_report(session: Session, disciplines: list[str], limit: int | None = None,
                 only: tuple[str, ...] = REPORTS) -> dict[str, dict[str, dict]]:
    """Per discipline and report: the full ``count`` and the first *limit* ``rows`` (all when None)."""
    out: dict[str, dict[str, dict]] = {}
    for discipline in disciplines:
        queries = report_queries(discipline)
        section = out[discipline] = {}
        for name, count in report_counts(session, discipline, only).items():
            # a page in id order reads only its first rows (the (discipline, id) indexes); none to read when empty
            rows = [] if count == 0 or limit == 0 else session.execute(queries[name].limit(limit)).all()
            section[name] = {"count": count, "rows": [dict(r._mapping) for r in rows]}
    return out
