"""Item building pieces: correctness closure, balanced sticky positions/splits, stable ids, leak detection."""
import json
from collections import Counter, defaultdict

from syllabus.bench.decontaminate import N, Probe, find_leaks
from syllabus.bench.items import Draft, Settings, assign, closure, unit_keys


def _adjacency(edges):
    out, into = defaultdict(lambda: defaultdict(list)), defaultdict(lambda: defaultdict(list))
    for s, p, o in edges:
        out[p][s].append(o)
        into[p][o].append(s)
    return out, into


EDGES = [("a", "is_a", "b"), ("b", "causes", "c"), ("c", "causes", "d"), ("d", "is_a", "f"),
         ("e", "is_a", "d"), ("e", "causes", "g"), ("h", "is_a", "a"), ("x", "causes", "a"), ("f", "is_a", "root"),
         ("other", "is_a", "root")]


def test_closure_composes_inheritance_chains_and_kinds_of_answers():
    out, into = _adjacency(EDGES)
    # a is a b, b causes c causes d (a kind of f, itself a kind of root); e is a kind of d and causes g
    assert closure(out, into, "a", "causes") == {"c", "d", "f", "root", "e", "g"}
    assert closure(out, into, "a", "is_a") == {"b"}
    assert closure(out, into, "h", "is_a") == {"a", "b"}
    # what causes a is not caused by a; a's own kind h is not an effect; siblings under root stay out
    assert closure(out, into, "a", "causes").isdisjoint({"x", "h", "a", "b"})
    assert "other" not in closure(out, into, "a", "causes")  # a kind of root, but not of an effect of a


def _draft(i: int, discipline="d", level="L2", kind="relation_object") -> Draft:
    return Draft(discipline, level, kind, f"Q{i}?", (f"c{i}", f"answer {i}"),
                 [(f"x{i}{j}", f"wrong {i}.{j}", "sibling") for j in range(3)], [f"c{i}", f"c{i + 1}"], [f"r{i}"])


def test_positions_and_splits_are_balanced_per_stratum_and_deterministic():
    drafts = [_draft(i) for i in range(101)] + [_draft(i, level="L3", kind="chain_conclusion") for i in range(7)]
    rows = assign(drafts, {}, Settings())
    shuffled = assign(list(reversed(drafts)), {}, Settings())
    assert sorted((r["id"], r["split"]) for r in rows) == sorted((r["id"], r["split"]) for r in shuffled)
    for level, n in (("L2", 101), ("L3", 7)):
        mine = [r for r in rows if r["level"] == level]
        positions = Counter(r["answer"] for r in mine)
        splits = Counter(r["split"] for r in mine)
        assert len(mine) == n
        assert max(positions.values()) - min(positions.values()) <= 1 and len(positions) == 4
        assert abs(splits["dev"] - splits["test"]) <= 1
    for r in rows:
        trace = json.loads(r["trace"])
        choices = json.loads(r["choices"])
        assert trace["sources"][r["answer"]] == "answer" and choices[r["answer"]].startswith("answer")


def test_existing_items_keep_their_split_and_position_when_items_are_added():
    first = assign([_draft(i) for i in range(40)], {}, Settings())
    by_question = {r["question"]: r for r in first}
    previous = {_draft(i).key: (by_question[f"Q{i}?"]["split"], by_question[f"Q{i}?"]["answer"]) for i in range(40)}
    second = assign([_draft(i) for i in range(60)], previous, Settings())
    again = {r["question"]: r for r in second}
    for i in range(40):
        assert again[f"Q{i}?"]["split"] == by_question[f"Q{i}?"]["split"]
        assert again[f"Q{i}?"]["id"] == by_question[f"Q{i}?"]["id"]  # same content, same position: same id
    splits = Counter(r["split"] for r in second)
    assert abs(splits["dev"] - splits["test"]) <= 1


def test_item_id_is_a_content_hash():
    [a] = assign([_draft(1)], {}, Settings())
    [b] = assign([_draft(1)], {}, Settings())
    changed = _draft(1)
    changed.distractors = changed.distractors[:2] + [("y", "another wrong one", "near_miss")]
    [c] = assign([changed], {}, Settings())
    assert a["id"] == b["id"] != c["id"] and a["id"].startswith("it-")
    [three] = assign([_draft(1)], {}, Settings(options=3))  # fewer options than distractors: one left out
    assert len(json.loads(three["choices"])) == 3


def test_unit_keys_cover_concepts_relations_and_chain():
    trace = {"concepts": ["p:A", "p:B"], "relations": ["rel:1"], "chain": "chn:9", "options": ["p:B", "p:C"]}
    assert unit_keys(trace) == ["chain:chn:9", "concept:p:A", "concept:p:B", "relation:rel:1"]
    assert unit_keys({"concepts": ["p:A"], "relations": [], "chain": None}) == ["concept:p:A"]


# -- decontamination ------------------------------------------------------------------------------
LONG_DEF = ("a quantity that measures how strongly a body resists changes in its rotation about an axis; "
            "it depends on its mass and on how far that mass lies from the axis")


def _prompts(*texts):
    return [(f"ex-{i}", "task.x", t) for i, t in enumerate(texts)]


def test_a_short_question_copied_into_a_prompt_is_caught_whatever_the_case_and_punctuation():
    probes = [Probe("it-1", "Net force causes which of the following?"), Probe("it-2", "What is mass?")]
    leaks = find_leaks(probes, _prompts("Say: NET FORCE causes -- which of the following? Explain.", "What is a mass?"))
    assert set(leaks) == {"it-1"} and leaks["it-1"].startswith("verbatim") and "ex-0" in leaks["it-1"]


def test_a_long_question_copied_whole_is_verbatim_even_when_it_quotes_a_taught_definition():
    question = f"Which physics term matches this definition? {LONG_DEF}."
    probe = Probe("it-1", question, taught=(LONG_DEF,))
    leaks = find_leaks([probe], _prompts("unrelated", f"Context. {question} Answer with one word."))
    assert leaks["it-1"].startswith("verbatim") and "ex-1" in leaks["it-1"]


def test_taught_definitions_alone_do_not_make_a_leak_but_other_long_overlaps_do():
    question = f"Which physics term matches this definition? {LONG_DEF}."
    taught_only = find_leaks([Probe("it-1", question, taught=(LONG_DEF,))],
                             _prompts(f"Which mechanics term is defined as follows: {LONG_DEF}"))
    assert taught_only == {}
    untaught = find_leaks([Probe("it-1", question)], _prompts(f"Which mechanics term is defined as follows: {LONG_DEF}"))
    assert untaught["it-1"].startswith(f"overlap: {N}-gram")
    stem = "in this long and carefully worded benchmark question we ask which of the listed options names the thing"
    leaks = find_leaks([Probe("it-2", f"{stem}: {LONG_DEF}", taught=(LONG_DEF,))], _prompts(f"{stem}!"))
    assert leaks["it-2"].startswith("overlap")


def test_n_grams_never_span_two_prompts_and_short_fragments_do_not_count():
    question = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    halves = _prompts("one two three four five six seven", "eight nine ten eleven twelve thirteen fourteen")
    assert find_leaks([Probe("it-1", question)], halves) == {}
    assert find_leaks([Probe("it-1", "What does mass require?")], _prompts("What does mass")) == {}
    assert find_leaks([], _prompts("anything")) == {}
    assert find_leaks([Probe("it-1", "")], _prompts("anything")) == {}


# -- on both store backends -----------------------------------------------------------------------
def test_build_sync_and_removal_on_each_backend(workspace, cli):
    from sqlalchemy import insert, select

    from syllabus.config import load_workspace
    from syllabus.store import open_store
    from syllabus.store.tables import Item, Result, Run

    assert cli(workspace, "ontology", "import").exit_code == 0
    first = json.loads(cli(workspace, "bench", "build", "--options", "3", "--json").stdout)
    assert first["new"] > 0 and first["decontamination"]["build"] is None
    assert set(first["counts"]["mini"]) >= {"L1", "L2"}
    items = json.loads(cli(workspace, "bench", "list", "--json").stdout)
    causes = [i for i in items if i["kind"] == "relation_object" and i["question"].startswith("Force causes")]
    assert len(causes) == 1 and causes[0]["answer_text"] == "acceleration"
    assert "force" not in {c.casefold() for c in causes[0]["choices"]}
    again = json.loads(cli(workspace, "bench", "build", "--options", "3", "--json").stdout)
    assert (again["new"], again["removed"], again["unchanged"]) == (0, 0, first["new"])
    st = open_store(load_workspace(workspace).store_url)
    try:
        with st.transaction() as s:
            s.execute(insert(Run.__table__).values(id="r1", model="m", backend="b", params="{}", split=None,
                                                   started="2026-01-01T00:00:00", seconds=0.0))
            s.execute(insert(Result.__table__).values(run_id="r1", item_id=causes[0]["id"], prediction=0, correct=1))
    finally:
        st.close()
    ttl = workspace / "ontologies" / "mini.ttl"
    ttl.write_text(ttl.read_text().replace(
        "    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty syl:causes ; owl:someValuesFrom mini:Acceleration ] .",
        "    ."))
    assert cli(workspace, "ontology", "import").exit_code == 0
    third = json.loads(cli(workspace, "bench", "build", "--options", "3", "--json").stdout)
    assert third["removed"] >= 2 and third["removed_with_results"] == 1
    st = open_store(load_workspace(workspace).store_url)
    try:
        with st.transaction() as s:
            assert s.scalar(select(Item.__table__.c.id).where(Item.__table__.c.id == causes[0]["id"])) is None
            assert s.execute(select(Result.__table__)).all() == []
    finally:
        st.close()
