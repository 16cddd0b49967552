"""`syllabus diagnose` on the extracted sample workspace: planted gaps found and named through the CLI."""
from __future__ import annotations

import itertools
import json
from collections import defaultdict, deque

import pytest
from sqlalchemy import func, insert, select

from syllabus.config import load_workspace
from syllabus.store import open_store
from syllabus.store.tables import Chain, Concept, Evidence, Gap, Item, ItemUnit, Relation, Result, Run

USABLE = ("asserted", "proposed")


def _item(s, iid, discipline, level, concepts=(), relations=(), chain=None, split="dev", source="generated"):
    s.execute(insert(Item).values(
        id=iid, discipline=discipline, level=level, kind="probe", source=source, question=f"{iid}?",
        choices=json.dumps(["right", "wrong a", "wrong b", "wrong c"]), answer=0,
        trace=json.dumps({"concepts": sorted(set(concepts)), "relations": list(relations), "chain": chain}),
        split=split))
    units = {f"concept:{c}" for c in concepts} | {f"relation:{r}" for r in relations}
    units |= {f"chain:{chain}"} if chain else set()
    for u in sorted(units):
        s.execute(insert(ItemUnit).values(item_id=iid, unit=u))


def _far_pair(s, discipline):
    """Two concepts that share a corpus sentence but are more than 3 usable relations apart."""
    rows = s.execute(select(Relation.subject_id, Relation.object_id).where(
        Relation.discipline == discipline, Relation.status.in_(USABLE))).all()
    adj = defaultdict(set)
    for a, b in rows:
        adj[a].add(b)
        adj[b].add(a)

    def dist(a, b):
        seen, queue = {a: 0}, deque([a])
        while queue:
            n = queue.popleft()
            for m in adj[n]:
                if m not in seen:
                    seen[m] = seen[n] + 1
                    queue.append(m)
        return seen.get(b)

    groups = defaultdict(set)
    for cid, chunk, sentence in s.execute(select(Evidence.concept_id, Evidence.chunk_id, Evidence.sentence)
                                          .join(Concept, Concept.id == Evidence.concept_id)
                                          .where(Concept.discipline == discipline, Concept.status == "active",
                                                 Concept.origin != "external")):
        groups[(chunk, sentence)].add(cid)
    for key in sorted(groups):
        for a, b in itertools.combinations(sorted(groups[key]), 2):
            d = dist(a, b)
            if d is None or d > 3:
                return a, b
    raise AssertionError("the sample graph has no far pair")


@pytest.fixture
def bench_ws(sample_ws):
    """The sample workspace with L1/L2/L3 items for every concept, relation and bench chain, one EXT item."""
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        ok = {r.id: r.discipline for r in s.execute(select(Concept.id, Concept.discipline).where(
            Concept.status == "active", Concept.origin != "external", Concept.pref_label.is_not(None)))}
        for cid, disc in sorted(ok.items()):
            _item(s, f"l1:{cid}", disc, "L1", [cid])
            _item(s, f"t1:{cid}", disc, "L1", [cid], split="test")
        rels = {}
        for r in s.execute(select(Relation).where(Relation.status.in_(USABLE)).order_by(Relation.id)).scalars():
            if r.subject_id in ok and r.object_id in ok:
                rels[r.id] = r
                _item(s, f"l2:{r.id}", r.discipline, "L2", [r.subject_id, r.object_id], [r.id])
        chains = []
        for h in s.execute(select(Chain).where(Chain.split == "bench").order_by(Chain.id)).scalars():
            rids = json.loads(h.relation_ids)
            if all(r in rels for r in rids):
                concepts = [c for r in rids for c in (rels[r].subject_id, rels[r].object_id)]
                _item(s, f"l3:{h.id}", h.discipline, "L3", concepts, rids, h.id)
                chains.append(h)
        a, b = _far_pair(s, "physics")
        _item(s, "ext:far", "physics", "EXT", [a, b], source="imported")
    st.close()
    return sample_ws, chains, (a, b)


def _run(ws, run_id, failing):
    st = open_store(load_workspace(ws).store_url)
    with st.transaction() as s:
        s.execute(insert(Run).values(id=run_id, model="m", backend="test", params="{}", split="dev",
                                     started="2026-01-01T00:00:00", seconds=1.0))
        for iid in s.execute(select(Item.id).order_by(Item.id)).scalars():
            bad = iid in failing
            s.execute(insert(Result).values(run_id=run_id, item_id=iid, prediction=2 if bad else 0,
                                            correct=0 if bad else 1))
    st.close()


def _query(ws, stmt):
    st = open_store(load_workspace(ws).store_url)
    with st.transaction() as s:
        rows = s.execute(stmt).all()
    st.close()
    return rows


def test_planted_concept_gap_first(bench_ws, cli):
    ws, chains, _ = bench_ws
    x = json.loads(chains[0].relation_ids)
    target = _query(ws, select(Relation.subject_id).where(Relation.id == x[0]))[0][0]  # on a bench chain
    touching = {r[0] for r in _query(ws, select(ItemUnit.item_id).where(ItemUnit.unit == f"concept:{target}"))}
    _run(ws, "r1", touching)
    res = cli(ws, "diagnose", "r1", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    top = data["gaps"][0]
    assert (top["kind"], top["unit"]) == ("concept_gap", f"concept:{target}")
    assert top["items"] == [f"l1:{target}"] and top["detail"]["chosen"] == ["wrong b"]
    assert not [g for g in data["gaps"] if g["kind"] in ("weak_edge", "reasoning_break")]
    assert all(not i.startswith("t1:") for g in data["gaps"] for i in g["items"])  # test items never read
    assert set(data["by_level"]) == {"L1", "L2", "L3", "EXT"}
    assert data["by_level"]["L1"]["items"] == len([i for i in touching if i.startswith("l1:")]) + \
        data["by_level"]["L1"]["correct"]
    text = cli(ws, "diagnose", "r1")
    assert text.exit_code == 0
    assert "accuracy by level" in text.stdout and "accuracy by discipline" in text.stdout
    assert f"concept:{target}" in text.stdout and top["label"] in text.stdout


def test_planted_reasoning_break_and_missing_edge(bench_ws, cli):
    ws, chains, (a, b) = bench_ws
    chain = chains[0]
    _run(ws, "r1", {f"l3:{chain.id}", "ext:far", f"t1:{a}"})
    res = cli(ws, "diagnose", "r1", "--json")
    assert res.exit_code == 0, res.output
    gaps = {(g["kind"], g["unit"]): g for g in json.loads(res.stdout)["gaps"]}
    assert set(gaps) == {("reasoning_break", f"chain:{chain.id}"), ("missing_edge", f"pair:{a}|{b}")}
    brk = gaps[("reasoning_break", f"chain:{chain.id}")]
    assert brk["items"] == [f"l3:{chain.id}"] and brk["detail"]["relations"] == json.loads(chain.relation_ids)
    pair = gaps[("missing_edge", f"pair:{a}|{b}")]
    assert pair["items"] == ["ext:far"] and " | " in pair["label"]
    shared = {(r.chunk_id, r.sentence) for r in _query(ws, select(Evidence.chunk_id, Evidence.sentence)
                                                        .where(Evidence.concept_id == a))} & \
             {(r.chunk_id, r.sentence) for r in _query(ws, select(Evidence.chunk_id, Evidence.sentence)
                                                        .where(Evidence.concept_id == b))}
    assert pair["detail"]["evidence"] and {(e["chunk"], e["sentence"]) for e in pair["detail"]["evidence"]} <= shared
    # idempotent: a second diagnosis leaves the same rows
    before = _query(ws, select(Gap.__table__).order_by(Gap.id))
    assert cli(ws, "diagnose", "r1").exit_code == 0
    assert _query(ws, select(Gap.__table__).order_by(Gap.id)) == before


def test_unknown_run_and_test_split(bench_ws, cli):
    ws, _, _ = bench_ws
    res = cli(ws, "diagnose", "nope")
    assert res.exit_code == 2 and "E081" in res.stderr
    assert _query(ws, select(func.count()).select_from(Gap))[0][0] == 0
    _run(ws, "r1", set())
    res = cli(ws, "diagnose", "r1", "--split", "test")
    assert res.exit_code == 2 and "E152" in res.stderr and "dev items only" in res.stderr
    assert _query(ws, select(func.count()).select_from(Gap))[0][0] == 0
