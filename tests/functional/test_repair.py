"""`syllabus repair`: budgets by score, patch examples through the incremental compiler, exact diffs."""
import json

import pytest
from sqlalchemy import insert, select, update

from syllabus.config import load_workspace
from syllabus.debug.repair import allocate
from syllabus.store import open_store
from syllabus.store.tables import Chain, Concept, Evidence, Gap, Item, Relation, Result, Run

pytestmark = pytest.mark.slow


def run_json(cli, ws, *args):
    result = cli(ws, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def build_examples(ws, build="latest"):
    from syllabus.compile.layout import iter_lines

    return {ex["id"]: ex for ex in map(json.loads, iter_lines(ws / "build" / build))}


def plant(ws, gaps, items=(), kind="definition_to_term", trace=None):
    """A run with failed items and the gaps a diagnosis would have written (real rows)."""
    st = open_store(load_workspace(ws).store_url)
    with st.transaction() as s:
        s.execute(insert(Run).values(id="r1", model="tiny", backend="transformers", params="{}", split="dev",
                                     started="2026-11-24T00:00:00", seconds=1.0))
        for item_id, choices, prediction in items:
            s.execute(insert(Item).values(id=item_id, discipline="physics", level="L1", kind=kind,
                                          source="generated", question="Which term ...?", choices=json.dumps(choices),
                                          answer=0, trace=json.dumps(trace or {}), split="dev"))
            s.execute(insert(Result).values(run_id="r1", item_id=item_id, prediction=prediction, correct=0))
        for gid, kind, unit, score, failed in gaps:
            s.execute(insert(Gap).values(id=gid, run_id="r1", kind=kind, unit=unit, discipline="physics", score=score,
                                         items=json.dumps(failed), detail="{}", status="open"))
    st.close()


def test_allocation_follows_scores_and_spends_the_budget():
    assert allocate([("a", 0.9), ("b", 0.6), ("c", 0.3)], 6) == {"a": 3, "b": 2, "c": 1}
    assert sum(allocate([("a", 0.5), ("b", 0.25), ("c", 0.25)], 7).values()) == 7
    assert allocate([("a", 0.0), ("b", 0.0)], 3) == {"a": 2, "b": 1}
    assert allocate([("a", 1.0)], 0) == {"a": 0}


def test_concept_gap_repair_adds_only_patch_examples_that_correct_the_chosen_distractor(sample_ws, cli):
    first = run_json(cli, sample_ws, "compile")["build"]
    plant(sample_ws, [("gap-x", "concept_gap", "concept:phys:Acceleration", 0.9, ["it-1", "it-2"])],
          [("it-1", ["acceleration", "velocity", "jerk", "speed"], 1),
           ("it-2", ["acceleration", "velocity", "jerk", "speed"], 1)])
    plan = run_json(cli, sample_ws, "repair", "--gap", "gap-x", "--budget", "4", "--plan")
    assert plan["repair"]["allocations"][0]["examples"] == 4
    assert plan["compile"]["counts"]["new"] == 4 and plan["compile"]["counts"]["changed"] == 0
    report = run_json(cli, sample_ws, "repair", "--gap", "gap-x", "--budget", "4")
    assert report["compile"]["counts"] == plan["compile"]["counts"]
    before, after = build_examples(sample_ws, first), build_examples(sample_ws)
    added = [after[i] for i in set(after) - set(before)]
    assert set(before) <= set(after) and len(added) == 4  # the build differs by the patch examples only
    assert {a["units"][0] for a in added} == {"gap:gap-x"}
    text = " ".join(a["messages"][2]["content"] for a in added)
    assert '"velocity"' in text and "acceleration" in text.lower()
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        gap = s.execute(select(Gap.status, Gap.build)).one()
    st.close()
    assert gap.status == "patched" and gap.build == report["compile"]["build"]
    again = run_json(cli, sample_ws, "compile")
    assert again["up_to_date"]


def _unrelated_comentioned_pair(ws):
    st = open_store(load_workspace(ws).store_url)
    with st.transaction() as s:
        rels = {frozenset((a, b)) for a, b in s.execute(select(Relation.subject_id, Relation.object_id))}
        rows = s.execute(select(Evidence.concept_id, Evidence.chunk_id, Evidence.sentence)
                         .where(Evidence.concept_id.like("phys:%"))).all()
    st.close()
    by_sentence: dict = {}
    for cid, chunk, sentence in rows:
        by_sentence.setdefault((chunk, sentence), set()).add(cid)
    for concepts in by_sentence.values():
        for a in sorted(concepts):
            for b in sorted(concepts):
                if a < b and frozenset((a, b)) not in rels and not a.startswith("phys:x-") and not b.startswith("phys:x-"):
                    return a, b
    raise AssertionError("no co-mentioned unrelated pair in the sample")


def test_missing_edge_becomes_a_proposal_and_teaches_only_once_accepted(sample_ws, cli):
    run_json(cli, sample_ws, "compile")
    a, b = _unrelated_comentioned_pair(sample_ws)
    plant(sample_ws, [("gap-m", "missing_edge", f"pair:{a}|{b}", 0.8, [])])
    proposed = run_json(cli, sample_ws, "repair", "--gap", "gap-m", "--budget", "3")
    assert proposed["repair"]["relations_proposed"] and proposed["compile"]["counts"]["new"] == 0
    rid = proposed["repair"]["relations_proposed"][0]
    accepted = run_json(cli, sample_ws, "repair", "--gap", "gap-m", "--budget", "3", "--accept-proposed")
    assert accepted["repair"]["relations_accepted"] == [rid]
    changes = accepted["compile"]["changes"]
    patch = [c for c in changes if c["unit"] == "gap:gap-m"]
    assert len(patch) == 3 and all(c["status"] == "new" for c in patch)
    # everything else that changed read one of the pair's edges or the new relation
    for c in changes:
        if c["unit"] != "gap:gap-m":
            assert any(r.startswith((f"out:{a}", f"in:{b}", f"relation:{rid}", f"{c['unit']} is new"))
                       or f"{rid}" in r for r in c["reasons"]), c


def test_reasoning_break_is_taught_from_train_chains_only(sample_ws, cli):
    run_json(cli, sample_ws, "compile")
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        bench = s.execute(select(Chain.id).where(Chain.split == "bench", Chain.rule == "transitive_is_a")).first()
    st.close()
    plant(sample_ws, [("gap-r", "reasoning_break", f"chain:{bench.id}", 0.7, [])])
    report = run_json(cli, sample_ws, "repair", "--gap", "gap-r", "--budget", "3")
    assert report["compile"]["counts"]["new"] == 3
    added = [e for e in build_examples(sample_ws).values() if e["units"][0] == "gap:gap-r"]
    assert len(added) == 3
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        for e in added:
            chain = [u for u in e["units"] if u.startswith("chain:")]
            assert chain and chain[0] != f"chain:{bench.id}"
            row = s.execute(select(Chain.split, Chain.rule).where(Chain.id == chain[0].split(":", 1)[1])).one()
            assert row.split == "train" and row.rule == "transitive_is_a"
    st.close()


def test_unknown_gap_is_a_coded_error_and_changes_nothing(sample_ws, cli):
    first = run_json(cli, sample_ws, "compile")["build"]
    result = cli(sample_ws, "repair", "--gap", "gap-nope")
    assert result.exit_code == 2 and "E086" in result.stderr
    assert (sample_ws / "build" / "latest").resolve().name == first


def test_discipline_selector_rerenders_patch_examples_of_an_edited_concept(sample_ws, cli):
    """`compile --select discipline:X` after a repair: the patch examples (gap units) of an edited concept
    are selected by their discipline like any other unit."""
    run_json(cli, sample_ws, "compile")
    plant(sample_ws, [("gap-x", "concept_gap", "concept:phys:Acceleration", 0.9, ["it-1"])],
          [("it-1", ["acceleration", "velocity", "jerk", "speed"], 1)])
    run_json(cli, sample_ws, "repair", "--gap", "gap-x", "--budget", "2")
    patched = {i for i, ex in build_examples(sample_ws).items() if ex["units"][0] == "gap:gap-x"}
    assert len(patched) == 2
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:  # an expert edits the concept the patch examples were rendered from
        s.execute(update(Concept).where(Concept.id == "phys:Acceleration")
                  .values(definition="The rate at which the velocity of a body changes with time."))
    st.close()
    report = run_json(cli, sample_ws, "compile", "--select", "discipline:physics")
    after = build_examples(sample_ws)
    now_patched = {i for i, ex in after.items() if ex["units"][0] == "gap:gap-x"}
    assert len(now_patched) == 2 and not now_patched & patched  # re-rendered from the new definition
    assert report["counts"]["changed"] >= 2
    assert any("velocity of a body changes with time" in json.dumps(after[i]) for i in now_patched)


def test_a_definition_chosen_by_the_model_is_contrasted_as_the_term_it_defines(sample_ws, cli):
    """A failed term_to_definition item: the wrong option is another concept's definition, so the
    contrast examples (which ask for a term) name that concept's term, never its definition."""
    run_json(cli, sample_ws, "compile")
    ids = ["phys:Acceleration", "phys:Velocity", "phys:Speed", "phys:Force"]
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        concepts = {r.id: r for r in s.execute(select(Concept.id, Concept.pref_label, Concept.definition)
                                               .where(Concept.id.in_(ids)))}
    st.close()
    assert set(concepts) == set(ids) and all(c.definition for c in concepts.values())
    definitions = [concepts[i].definition for i in ids]
    plant(sample_ws, [("gap-d", "concept_gap", "concept:phys:Acceleration", 0.9, ["it-d"])],
          [("it-d", definitions, 1)], kind="term_to_definition",
          trace={"concepts": ids[:1], "relations": [], "chain": None, "options": ids})
    report = run_json(cli, sample_ws, "repair", "--gap", "gap-d", "--budget", "4")
    assert report["compile"]["counts"]["new"] == 4
    added = [e for e in build_examples(sample_ws).values() if e["units"][0] == "gap:gap-d"]
    contrast = [e for e in added if e["task"].startswith("patch.contrast")]
    assert contrast
    for e in contrast:
        text = " ".join(m["content"] for m in e["messages"][1:])
        assert f'"{concepts["phys:Velocity"].pref_label}"' in text
        assert f'"{concepts["phys:Velocity"].definition}"' not in text
