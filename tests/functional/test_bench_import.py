"""`syllabus bench import`: external items linked to the sample graph's concepts; idempotent; bad files."""
import json

import pytest
from sqlalchemy import func, insert, select

from syllabus.config import load_workspace
from syllabus.store import open_store
from syllabus.store.tables import Item, ItemUnit, Result, Run

I, IU, RS = Item.__table__, ItemUnit.__table__, Result.__table__

CRAFTED = [
    {"id": "c1", "question": "What is the momentum of a moving body?",
     "choices": ["mass times velocity", "mass times acceleration", "force times distance", "energy per second"],
     "answer_index": 0},
    {"id": "c2", "question": "Which organelle of a plant cell carries out photosynthesis?",
     "choices": ["chloroplast", "nucleus", "ribosome", "vacuole"], "labels": ["A", "B", "C", "D"], "answer": "A"},
    {"id": "c3", "question": "How does moisture pass through a selectively permeable barrier toward the more "
                             "concentrated side?", "choices": ["by osmotic flow", "by convection"], "answer_index": 0},
    {"id": "c4", "question": "Which city hosted the Olympic Games in 1900?",
     "choices": ["Paris", "Athens", "London", "Rome"], "answer_index": 0, "source": "trivia"},
]


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def stored(root):
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            items = {r.external_id: r for r in s.execute(select(I))}
            units = {}
            for item_id, unit in s.execute(select(IU.c.item_id, IU.c.unit)):
                units.setdefault(item_id, set()).add(unit)
            return items, units
    finally:
        st.close()


def test_import_links_items_to_concepts_and_is_idempotent(sample_ws, cli):
    bench = write(sample_ws / "crafted.jsonl", CRAFTED)
    result = cli(sample_ws, "bench", "import", str(bench), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["items"], report["new"], report["linked"]) == (4, 4, 3)
    assert report["linked_share"] == 0.75 and report["linked_by"] == {"label": 2, "embedding": 3}
    assert report["by_discipline"]["biology"]["linked"] == 3 and report["by_discipline"]["physics"]["linked"] == 1

    items, units = stored(sample_ws)
    c1, c2, c3, c4 = (items[k] for k in ("c1", "c2", "c3", "c4"))
    assert (c1.level, c1.source, c1.kind, c1.benchmark, c1.answer) == ("EXT", "imported", "multiple_choice",
                                                                       "crafted.jsonl", 0)
    assert c1.id.startswith("it-") and json.loads(c1.choices)[0] == "mass times velocity"
    t1, t2, t3 = (json.loads(x.trace) for x in (c1, c2, c3))
    # label matching over question and choices (alt label "momentum"), lemma-aware
    assert {"phys:LinearMomentum", "phys:Mass", "phys:Velocity", "phys:Acceleration", "phys:Force"} <= set(t1["concepts"])
    assert t1["linked_by"]["phys:Velocity"]["label"] == ["choice:0"]
    assert "question" in t1["linked_by"]["phys:LinearMomentum"]["label"]
    assert t1["relations"] == [] and t1["chain"] is None
    assert {"BIO:0000006", "BIO:0000005", "BIO:0000046", "BIO:0000019"} <= set(t2["concepts"])
    assert c2.answer == 0 and c1.discipline == "physics" and c2.discipline == "biology"
    # embedding similarity only: no label of "osmosis" in the text
    assert "BIO:0000064" in t3["concepts"] and set(t3["linked_by"]["BIO:0000064"]) == {"similarity"}
    assert json.loads(c4.trace)["concepts"] == [] and c4.discipline == "physics"  # unlinked: first discipline
    for item in (c1, c2, c3, c4):
        assert units.get(item.id, set()) == {f"concept:{c}" for c in json.loads(item.trace)["concepts"]}

    again = json.loads(cli(sample_ws, "bench", "import", str(bench), "--json").stdout)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert stored(sample_ws) == (items, units)

    moved = json.loads(cli(sample_ws, "bench", "import", str(bench), "--split", "test", "--top-k", "0",
                           "--json").stdout)
    items2, units2 = stored(sample_ws)
    assert moved["new"] == 0 and len(items2) == 4 and {r.split for r in items2.values()} == {"test"}
    assert moved["linked_by"]["embedding"] == 0 and json.loads(items2["c3"].trace)["concepts"] == []
    assert items2["c3"].id not in units2

    write(bench, CRAFTED[:3])
    text = cli(sample_ws, "bench", "import", str(bench), "--discipline", "physics", "--prune")
    assert text.exit_code == 0, text.stderr
    assert "linked to at least one concept: " in text.stdout and "1 items of crafted.jsonl" in text.stdout
    items3, _ = stored(sample_ws)
    assert sorted(items3) == ["c1", "c2", "c3"] and {r.discipline for r in items3.values()} == {"physics"}


def test_bad_reimport_leaves_the_previous_import(sample_ws, cli):
    bench = write(sample_ws / "crafted.jsonl", CRAFTED[:1])
    assert cli(sample_ws, "bench", "import", str(bench), "--top-k", "0").exit_code == 0
    before = stored(sample_ws)
    write(bench, [CRAFTED[1], {**CRAFTED[0], "answer_index": 9}])
    result = cli(sample_ws, "bench", "import", str(bench), "--top-k", "0")
    assert result.exit_code == 2 and "E080" in result.stderr and "crafted.jsonl:2" in result.stderr
    assert stored(sample_ws) == before


def test_reworded_items_lose_their_results(workspace, cli):
    """On a store without concepts nothing is linked (and no model is loaded): cheap on both backends."""
    bench = write(workspace / "b.jsonl", CRAFTED)
    report = json.loads(cli(workspace, "bench", "import", str(bench), "--json").stdout)
    assert (report["new"], report["linked"], report["linked_share"]) == (4, 0, 0.0)
    items, _ = stored(workspace)
    ws = load_workspace(workspace)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            s.execute(insert(Run.__table__).values(id="r1", model="m", backend="file", params="{}", split=None,
                                                   started="t", seconds=0.0))
            s.execute(insert(RS), [dict(run_id="r1", item_id=items[k].id, prediction=0, correct=1, scores=None)
                                   for k in ("c1", "c2", "c3")])
    finally:
        st.close()
    write(bench, [{**CRAFTED[0], "answer_index": 1}, {**CRAFTED[1], "question": "Which organelle?"}, CRAFTED[2],
                  {**CRAFTED[3], "extra": 1}])
    again = json.loads(cli(workspace, "bench", "import", str(bench), "--split", "dev", "--json").stdout)
    assert again["results_cleared"] == 2 and again["new"] == 0
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            assert set(s.scalars(select(RS.c.item_id))) == {items["c3"].id}
            assert s.scalar(select(I.c.answer).where(I.c.id == items["c1"].id)) == 1
    finally:
        st.close()


@pytest.mark.parametrize("line, detail", [
    ('{"id": "x", "question": "Q", "choices": ["a", "b"], "answer_index": 0', "not valid JSON"),
    ('{"id": "x", "question": "Q", "answer_index": 0}', "missing key `choices`"),
    ('{"id": "x", "question": "Q", "choices": ["a", "b"], "answer_index": 3}', "answer_index 3 is out of range"),
    ('{"id": "x", "question": "Q", "choices": ["a", "b"], "answer": "Q"}', "names no choice"),
])
def test_bad_lines_exit_2_and_write_nothing(workspace, cli, line, detail):
    path = workspace / "bad.jsonl"
    path.write_text(json.dumps(CRAFTED[0]) + "\n" + line + "\n", encoding="utf-8")
    result = cli(workspace, "bench", "import", str(path))
    assert result.exit_code == 2
    assert "error E080" in result.stderr and "bad.jsonl:2" in result.stderr and detail in result.stderr
    assert '"answer_index"' in result.stderr  # what was expected
    ws = load_workspace(workspace)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            assert s.scalar(select(func.count()).select_from(I)) == 0
    finally:
        st.close()


def test_unknown_discipline_and_missing_file(workspace, cli):
    path = write(workspace / "b.jsonl", CRAFTED[:1])
    result = cli(workspace, "bench", "import", str(path), "--discipline", "nope")
    assert result.exit_code == 2 and "E004" in result.stderr
    result = cli(workspace, "bench", "import", str(workspace / "absent.jsonl"))
    assert result.exit_code == 2 and "E020" in result.stderr


@pytest.mark.slow
@pytest.mark.shared_data
def test_arc_easy_links_to_the_sample_graph(sample_ws, cli, shared_data, capsys):
    arc = shared_data / "benchmarks" / "arc-easy-validation.jsonl"
    result = cli(sample_ws, "bench", "import", str(arc), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["items"] == 570 and report["new"] == 570
    assert abs(report["splits"]["dev"] - report["splits"]["test"]) < 60
    with capsys.disabled():
        print(f"\nARC-Easy validation vs the sample graph: {report['linked']}/{report['items']} items linked "
              f"({report['linked_share']:.1%}; by label {report['linked_by']['label']}, by similarity "
              f"{report['linked_by']['embedding']}); per discipline "
              + ", ".join(f"{d} {v['share']:.1%}" for d, v in report["by_discipline"].items())
              + f"; seconds {report['seconds']}")
    assert report["linked_share"] > 0.5  # grade-school science: cells, energy, forces, water...
    again = json.loads(cli(sample_ws, "bench", "import", str(arc), "--json").stdout)
    assert again["unchanged"] == 570
