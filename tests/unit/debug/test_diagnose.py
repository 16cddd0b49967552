"""Diagnosis on a small hand-built graph: each gap kind planted and found, dev only, idempotent, verification."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select, update

from syllabus.debug.diagnose import diagnose, gap_id, laplace, ochiai
from syllabus.errors import SyllabusError
from syllabus.store import open_store
from syllabus.store.tables import (
    Chain,
    Chunk,
    Concept,
    Discipline,
    Document,
    Evidence,
    Example,
    Gap,
    Item,
    ItemUnit,
    Relation,
    Result,
    Run,
)

CONCEPTS = ("A", "B", "C", "D", "X", "P", "Q", "U", "V")
RELATIONS = {"ab": ("A", "is_a", "B"), "bc": ("B", "is_a", "C"), "xa": ("X", "causes", "A"),
             "xd": ("X", "requires", "D"), "cd": ("C", "part_of", "D"), "uv": ("U", "used_for", "V")}
CHAINS = {"ch1": ["ab", "bc"], "ch2": ["xa", "ab"], "ch3": ["uv"]}


def _item(s, iid, level, concepts=(), relations=(), chain=None, split="dev", source="generated"):
    s.execute(insert(Item).values(
        id=iid, discipline="phys", level=level, kind="probe", source=source, question=f"question {iid}?",
        choices=json.dumps([f"{iid} right", f"{iid} wrong 1", f"{iid} wrong 2", f"{iid} wrong 3"]), answer=0,
        trace=json.dumps({"concepts": list(concepts), "relations": list(relations), "chain": chain}), split=split))
    units = [f"concept:{c}" for c in concepts] + [f"relation:{r}" for r in relations]
    units += [f"chain:{chain}"] if chain else []
    for u in sorted(set(units)):
        s.execute(insert(ItemUnit).values(item_id=iid, unit=u))


@pytest.fixture
def store(store_url):
    st = open_store(store_url)
    with st.transaction() as s:
        s.execute(insert(Discipline).values(name="phys", prefix="phys", iri="https://x/"))
        for c in CONCEPTS:
            s.execute(insert(Concept).values(id=c, discipline="phys", pref_label=f"label {c}", origin="ontology",
                                             status="active"))
        for rid, (sub, pred, obj) in RELATIONS.items():
            s.execute(insert(Relation).values(id=rid, discipline="phys", subject_id=sub, predicate=pred, object_id=obj,
                                              origin="ontology", status="asserted", confidence=1.0))
        for hid, rids in CHAINS.items():
            s.execute(insert(Chain).values(id=hid, discipline="phys", rule="r", relation_ids=json.dumps(rids),
                                           hops=len(rids), subject_id=RELATIONS[rids[0]][0], predicate="p",
                                           object_id=RELATIONS[rids[-1]][2], split="bench"))
        s.execute(insert(Document).values(id=1, discipline="phys", path="a.txt", sha256="x", n_words=9))
        s.execute(insert(Chunk).values(id="k1", document_id=1, ordinal=0, char_start=0, char_end=30,
                                       text="P goes with Q. Only P here.", sha256="x"))
        for cid, sentence in (("P", "P goes with Q."), ("Q", "P goes with Q."), ("P", "Only P here.")):
            s.execute(insert(Evidence).values(concept_id=cid, chunk_id="k1", char_start=0, char_end=1,
                                              sentence=sentence, extractor="t", extractor_version="1"))
        for c in ("A", "B", "C", "D", "P", "Q", "V"):
            _item(s, f"l1-{c}", "L1", [c])
        _item(s, "l1-X-a", "L1", ["X"])
        _item(s, "l1-X-b", "L1", ["X"])
        for rid in ("ab", "bc", "xa", "xd", "cd"):
            sub, _, obj = RELATIONS[rid]
            _item(s, f"l2-{rid}", "L2", [sub, obj], [rid])
        for hid, rids in CHAINS.items():
            concepts = sorted({c for r in rids for c in (RELATIONS[r][0], RELATIONS[r][2])})
            _item(s, f"l3-{hid}", "L3", concepts, rids, hid)
        _item(s, "ext-pq", "EXT", ["P", "Q"], source="imported")
        _item(s, "ext-ac", "EXT", ["A", "C"], source="imported")
        _item(s, "test-l1-D", "L1", ["D"], split="test")
        _item(s, "test-ext-pq", "EXT", ["P", "Q"], split="test", source="imported")
    yield st
    st.close()


def _run(st, run_id, failing, started="2026-01-01T00:00:00"):
    """A run over every item; the items in *failing* chose option 1 (a distractor), all others the answer."""
    with st.transaction() as s:
        s.execute(insert(Run).values(id=run_id, model="m", backend="test", params="{}", split="dev", started=started,
                                     seconds=1.0))
        for iid in s.execute(select(Item.id).order_by(Item.id)).scalars():
            bad = iid in failing
            s.execute(insert(Result).values(run_id=run_id, item_id=iid, prediction=1 if bad else 0,
                                            correct=0 if bad else 1))


def _diagnose(st, run_id, **kw):
    with st.transaction() as s:
        return diagnose(s, run_id, **kw)


def _gap_rows(st):
    with st.transaction() as s:
        G = Gap.__table__  # every column, ending with status and build
        columns = [c for c in G.c if c.name not in ("status", "build")] + [G.c.status, G.c.build]
        return [tuple(r) for r in s.execute(select(*columns).order_by(Gap.id)).all()]


def _touching(st, unit):
    with st.transaction() as s:
        return set(s.execute(select(ItemUnit.item_id).where(ItemUnit.unit == unit)).scalars())


def test_planted_concept_gap_ranks_first(store):
    _run(store, "r1", _touching(store, "concept:X"))
    report = _diagnose(store, "r1")
    top = report.gaps[0]
    assert (top.kind, top.unit, top.label) == ("concept_gap", "concept:X", "label X")
    assert top.score == pytest.approx(laplace(2, 2))
    assert top.items == ["l1-X-a", "l1-X-b"]
    assert top.detail["chosen"] == ["l1-X-a wrong 1", "l1-X-b wrong 1"]
    assert {f["expected"] for f in top.detail["failures"]} == {"l1-X-a right", "l1-X-b right"}
    # the failing L2/L3 items through X are explained by X, not by weak edges or reasoning breaks
    assert [g.unit for g in report.gaps] == ["concept:X"]
    assert report.by_level["L1"] == {"items": 9, "correct": 7, "accuracy": round(7 / 9, 4)}
    assert report.by_discipline["phys"]["items"] == 19  # dev items only
    assert report.written == 1


def test_reasoning_break_weak_edge_missing_edge(store):
    _run(store, "r1", {"l3-ch1", "l2-cd", "ext-pq", "ext-ac", "test-l1-D", "test-ext-pq"})
    report = _diagnose(store, "r1")
    found = {(g.kind, g.unit) for g in report.gaps}
    assert found == {("reasoning_break", "chain:ch1"), ("weak_edge", "relation:cd"), ("missing_edge", "pair:P|Q")}
    gaps = {g.unit: g for g in report.gaps}
    assert gaps["chain:ch1"].items == ["l3-ch1"]
    assert gaps["chain:ch1"].detail["probes_passed"] == 5  # L1 of A, B, C; L2 of ab, bc
    assert gaps["relation:cd"].label == "label C part_of label D"
    assert gaps["relation:cd"].detail["endpoints"] == ["C", "D"]
    pair = gaps["pair:P|Q"]
    assert pair.items == ["ext-pq"]  # the failing test item is never read
    assert pair.label == "label P | label Q"
    assert pair.detail["evidence"] == [{"chunk": "k1", "sentence": "P goes with Q."}]
    # A and C are two hops apart: with --max-path 1 their EXT item proposes an edge too
    units = {g.unit for g in _diagnose(store, "r1", max_path=1).gaps if g.kind == "missing_edge"}
    assert units == {"pair:P|Q", "pair:A|C"}


def test_failing_test_items_make_no_gaps(store):
    _run(store, "r1", {"test-l1-D", "test-ext-pq"})
    report = _diagnose(store, "r1")
    assert report.gaps == [] and report.correct == report.items == 19
    assert _gap_rows(store) == []
    with pytest.raises(SyllabusError) as refused:
        _diagnose(store, "r1", split="test")
    assert refused.value.code == "E152" and "dev items only" in refused.value.message


def test_suspicious_and_no_example(store):
    _run(store, "r1", {"l3-ch3"})
    report = _diagnose(store, "r1")
    kinds = {g.unit: (g.kind, g.score) for g in report.gaps}
    # U has no L1 probe and uv no L2 probe: Ochiai over the one failing item that touches them
    assert kinds["concept:U"] == ("suspicious", ochiai(1, 0, 1))
    assert kinds["relation:uv"] == ("suspicious", 1.0)
    assert kinds["chain:ch3"][0] == "reasoning_break"
    assert "concept:V" not in kinds  # its L1 probe passes
    # once the discipline is compiled, a probe-less concept without any kept example is a concept gap
    with store.transaction() as s:
        s.execute(insert(Example).values(seq=1, id="e1", unit="concept:V", discipline="phys", renderer="r@1",
                                         task="t", template="t", template_sha="x", deps="{}", build="b1"))
    kinds = {g.unit: (g.kind, g.detail.get("reason")) for g in _diagnose(store, "r1").gaps}
    assert kinds["concept:U"] == ("concept_gap", "no_example")
    # a minimum suspicion drops weak spectrum evidence
    assert not [g for g in _diagnose(store, "r1", min_suspicion=1.01).gaps if g.kind == "suspicious"]


def test_idempotent_and_keeps_handled_gaps(store):
    _run(store, "r1", {"l3-ch1", "l2-cd", "ext-pq"})
    _diagnose(store, "r1")
    first = _gap_rows(store)
    assert len(first) == 3
    with store.transaction() as s:  # each written gap knows the concepts its unit touches (gaps --under)
        touched = s.execute(select(Gap.unit, Gap.concept_a, Gap.concept_b)).all()
    assert touched and all(a and (b or unit.startswith("concept:")) for unit, a, b in touched)
    _diagnose(store, "r1")
    assert _gap_rows(store) == first
    patched = gap_id("r1", "weak_edge", "relation:cd")
    with store.transaction() as s:
        s.execute(update(Gap).where(Gap.id == patched).values(status="patched", build="b1"))
    report = _diagnose(store, "r1")
    assert patched in report.kept and report.written == 2
    rows = {r[0]: r for r in _gap_rows(store)}
    assert rows[patched][-2:] == ("patched", "b1") and len(rows) == 3


def test_later_passing_run_verifies_patched_gaps(store):
    _run(store, "r1", _touching(store, "concept:X") | {"l2-cd"})
    _diagnose(store, "r1")
    gx, gcd = gap_id("r1", "concept_gap", "concept:X"), gap_id("r1", "weak_edge", "relation:cd")
    with store.transaction() as s:
        s.execute(update(Gap).where(Gap.id.in_([gx, gcd])).values(status="patched", build="b1"))
    _run(store, "r2", {"l2-cd"}, started="2026-02-01T00:00:00")  # X's items pass now, cd's still fails
    report = _diagnose(store, "r2")
    assert report.verified == [gx]
    status = {r[0]: r[-2] for r in _gap_rows(store)}
    assert status[gx] == "verified" and status[gcd] == "patched"
    assert status[gap_id("r2", "weak_edge", "relation:cd")] == "open"
    # an earlier run never verifies a later run's patched gap
    _run(store, "r0", set(), started="2025-01-01T00:00:00")
    assert _diagnose(store, "r0").verified == []


def test_unknown_run_is_e081(store):
    with pytest.raises(SyllabusError) as err:
        _diagnose(store, "nope")
    assert err.value.code == "E081"
