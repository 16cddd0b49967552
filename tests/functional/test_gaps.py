"""`syllabus gaps` and `gaps report` on a small hand-built graph, on SQLite and PostgreSQL.

Graph of discipline d (is_a / part_of edges point from child to parent):

    Root <- A <- B <- C (part_of) <- D (rejected: not an edge)
                 B <- E (proposed)
    Root <- Other;  F <-> G (a cycle);  X causes B;  Other requires Root
"""
import csv
import io
import json

import pytest
from sqlalchemy import insert

from syllabus.config import load_workspace
from syllabus.debug.queries import graph_report, list_gaps
from syllabus.debug.unit_keys import fill_gap_concepts
from syllabus.errors import SyllabusError
from syllabus.store import open_store
from syllabus.store.ids import relation_id
from syllabus.store.tables import (
    Chain,
    Chunk,
    Concept,
    Discipline,
    Document,
    Evidence,
    Example,
    ExampleDep,
    Gap,
    Item,
    ItemUnit,
    Relation,
    Run,
)

CONFIG = """[store]
url = "{url}"

[[disciplines]]
name = "d"
prefix = "d"
iri = "https://example.org/d/"

[[disciplines]]
name = "e"
prefix = "e"
iri = "https://example.org/e/"
"""

EDGES = [("A", "is_a", "Root", "asserted"), ("B", "is_a", "A", "asserted"), ("C", "part_of", "B", "asserted"),
         ("D", "is_a", "C", "rejected"), ("E", "is_a", "B", "proposed"), ("Other", "is_a", "Root", "asserted"),
         ("F", "is_a", "G", "asserted"), ("G", "is_a", "F", "asserted"), ("X", "causes", "B", "asserted"),
         ("Other", "requires", "Root", "asserted")]
CONCEPTS = ["Root", "A", "B", "C", "D", "E", "F", "G", "Other", "X", "A_1"]


def rid(s, p, o):
    return relation_id(f"d:{s}", p, f"d:{o}", "ontology")


# gap id -> (kind, unit, score, status, run, failing items)
GAPS = {
    "g-b": ("concept_gap", "concept:d:B", 0.9, "open", "r1", 3),
    "g-other": ("concept_gap", "concept:d:Other", 0.8, "open", "r1", 1),
    "g-xb": ("weak_edge", f"relation:{rid('X', 'causes', 'B')}", 0.7, "open", "r1", 2),
    "g-or": ("weak_edge", f"relation:{rid('Other', 'requires', 'Root')}", 0.6, "patched", "r1", 1),
    "g-ch1": ("reasoning_break", "chain:ch1", 0.5, "open", "r2", 1),
    "g-ch2": ("reasoning_break", "chain:ch2", 0.4, "open", "r2", 1),
    "g-pair": ("missing_edge", "pair:d:X|d:C", 0.3, "open", "r2", 2),
    "g-pair2": ("missing_edge", "pair:d:Other|d:Root", 0.2, "open", "r2", 1),
    "g-d": ("concept_gap", "concept:d:D", 0.15, "open", "r2", 1),
    "g-e": ("suspicious", "concept:d:E", 0.1, "verified", "r2", 0),
    "g-f": ("concept_gap", "concept:d:G", 0.05, "dismissed", "r2", 1),
    "g-a1": ("concept_gap", "concept:d:A_1", 0.04, "open", "r2", 1),
    "g-z": ("concept_gap", "concept:e:Z", 0.95, "open", "r1", 1),
}


def build(root, url):
    root.mkdir()
    (root / "syllabus.toml").write_text(CONFIG.format(url=url), encoding="utf-8")
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    T = {t.__tablename__: t.__table__ for t in (Discipline, Concept, Relation, Document, Chunk, Evidence, Chain,
                                                Run, Gap, Example, ExampleDep, Item, ItemUnit)}
    try:
        with st.transaction() as s:
            s.execute(insert(T["discipline"]), [dict(name=n, prefix=n, iri=f"https://example.org/{n}/") for n in "de"])
            defs = {"X": None, "Other": "   "}
            s.execute(insert(T["concept"]), [dict(id=f"d:{c}", discipline="d", pref_label=c.lower(),
                                                  definition=defs.get(c, f"The {c}."), origin="ontology",
                                                  status="active") for c in CONCEPTS]
                      + [dict(id="e:Z", discipline="e", pref_label="zed", definition="Z.", origin="ontology",
                              status="active")])
            s.execute(insert(T["relation"]), [dict(id=rid(a, p, b), discipline="d", subject_id=f"d:{a}", predicate=p,
                                                   object_id=f"d:{b}", origin="ontology", status=st_, confidence=1.0)
                                              for a, p, b, st_ in EDGES])
            s.execute(insert(T["document"]), [dict(id=1, discipline="d", path="doc.txt", sha256="0" * 64, n_words=9)])
            s.execute(insert(T["chunk"]), [dict(id="k1", document_id=1, ordinal=0, char_start=0, char_end=9,
                                                text="A B text.", sha256="0" * 64)])
            ev = dict(chunk_id="k1", char_start=0, char_end=1, sentence="A B text.", extractor="t",
                      extractor_version="1", score=1.0, concept_id=None, relation_id=None)
            s.execute(insert(T["evidence"]), [dict(ev, concept_id="d:A"), dict(ev, concept_id="d:B"),
                                              dict(ev, relation_id=rid("A", "is_a", "Root"))])
            s.execute(insert(T["chain"]), [
                dict(id="ch1", discipline="d", rule="transitive_is_a", relation_ids="[]", hops=2, subject_id="d:C",
                     predicate="is_a", object_id="d:A", split="bench"),
                dict(id="ch2", discipline="d", rule="transitive_is_a", relation_ids="[]", hops=2,
                     subject_id="d:Other", predicate="is_a", object_id="d:Root", split="bench")])
            s.execute(insert(T["run"]), [dict(id=r, model="m", backend="b", params="{}", split="dev", started="t",
                                              seconds=0.0) for r in ("r1", "r2")])
            s.execute(insert(T["gap"]), [
                dict(id=g, kind=k, unit=u, discipline="e" if u.startswith("concept:e:") else "d", score=sc, status=stt, run_id=r,
                     items=json.dumps([f"it-{n}" for n in range(n_items)]), detail=None,
                     build="b1" if stt == "patched" else None)
                for g, (k, u, sc, stt, r, n_items) in GAPS.items()])
            for run in ("r1", "r2"):  # as diagnose does after writing a run's gaps
                fill_gap_concepts(s, run)
            ex = dict(discipline="d", renderer="r@1", task="t", template="t", template_sha="0", deps="{}", stale=0,
                      build="b1")
            s.execute(insert(T["example"]), [dict(ex, seq=1, id="ex1", unit="concept:d:A", dropped=None),
                                             dict(ex, seq=2, id="ex2", unit="concept:d:B", dropped="duplicate")])
            s.execute(insert(T["example_dep"]), [dict(unit="concept:d:A", example=1), dict(unit="concept:d:C", example=1),
                                                 dict(unit="concept:d:B", example=2)])
            s.execute(insert(T["item"]), [dict(id="it-1", discipline="d", level="EXT", kind="mc", source="imported",
                                               question="Q?", choices="[]", answer=0, trace="{}", split="dev")])
            s.execute(insert(T["item_unit"]), [dict(item_id="it-1", unit="concept:d:C")])
    finally:
        st.close()
    return ws


@pytest.fixture
def graph(tmp_path, store_url):
    return build(tmp_path / "ws", store_url)


def query(ws, fn, **kw):
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            return fn(s, **kw)
    finally:
        st.close()


def ids(rows):
    return {r["id"] for r in rows}


def test_under_follows_is_a_and_part_of_down_and_touching_units(graph):
    # A's subtree: A, B, C (part_of), E (proposed is_a); not D (rejected edge), not A_1 (a look-alike id)
    assert ids(query(graph, list_gaps, under="d:A")) == {"g-b", "g-xb", "g-ch1", "g-pair", "g-e"}
    assert ids(query(graph, list_gaps, under="d:C")) == {"g-ch1", "g-pair"}
    assert ids(query(graph, list_gaps, under="d:D")) == {"g-d"}
    assert ids(query(graph, list_gaps, under="d:F")) == {"g-f"}  # F <-> G cycle terminates
    everything = ids(query(graph, list_gaps, under="d:Root"))
    assert everything == set(GAPS) - {"g-d", "g-f", "g-a1", "g-z"}
    assert ids(query(graph, list_gaps, under="d:A", status="open", kind="concept_gap")) == {"g-b"}


def test_filters_sort_limit_and_labels(graph):
    rows = query(graph, list_gaps)
    assert [r["id"] for r in rows] == sorted(GAPS, key=lambda g: -GAPS[g][2])
    assert rows[0] == dict(id="g-z", kind="concept_gap", unit="concept:e:Z", label="zed", discipline="e",
                           score=0.95, failing=1, status="open", run="r1", build=None)
    by_id = {r["id"]: r for r in rows}
    assert by_id["g-xb"]["label"] == "x causes b" and by_id["g-xb"]["failing"] == 2
    assert by_id["g-ch1"]["label"] == "c is_a a" and by_id["g-pair"]["label"] == "x | c"
    assert by_id["g-or"]["build"] == "b1"
    assert ids(query(graph, list_gaps, discipline="e")) == {"g-z"}
    assert ids(query(graph, list_gaps, kind="missing_edge")) == {"g-pair", "g-pair2"}
    assert ids(query(graph, list_gaps, status="patched")) == {"g-or"}
    assert ids(query(graph, list_gaps, min_score=0.7)) == {"g-z", "g-b", "g-other", "g-xb"}
    assert ids(query(graph, list_gaps, run="r1", discipline="d")) == {"g-b", "g-other", "g-xb", "g-or"}
    by_kind = query(graph, list_gaps, sort="kind", limit=3)
    assert [r["id"] for r in by_kind] == ["g-z", "g-b", "g-other"]
    assert [r["kind"] for r in query(graph, list_gaps, sort="kind")][-1] == "weak_edge"
    for kw, code in ((dict(under="d:Nope"), "E030"), (dict(run="r9"), "E081")):
        with pytest.raises(SyllabusError) as err:
            query(graph, list_gaps, **kw)
        assert err.value.code == code


def test_graph_report_lists_what_is_missing(graph):
    report = query(graph, graph_report, disciplines=["d", "e"])
    d = report["d"]
    all_d = {f"d:{c}" for c in CONCEPTS}
    assert {r["id"] for r in d["no_definition"]["rows"]} == {"d:X", "d:Other"}
    assert {r["id"] for r in d["no_evidence"]["rows"]} == all_d - {"d:A", "d:B"}
    assert {r["id"] for r in d["no_example"]["rows"]} == all_d - {"d:A", "d:C"}  # ex2 (reads B) was dropped
    assert {r["id"] for r in d["no_item"]["rows"]} == all_d - {"d:C"}
    assert [r["id"] for r in d["no_item"]["rows"]] == sorted(all_d - {"d:C"})
    assert {(r["subject"], r["predicate"], r["object"]) for r in d["relation_no_evidence"]["rows"]} == {
        (f"d:{a}", p, f"d:{b}") for a, p, b, st in EDGES if st != "rejected" and (a, b) != ("A", "Root")}
    assert d["no_item"]["rows"][0] == {"id": "d:A", "label": "a", "origin": "ontology"}
    assert {name: r["count"] for name, r in report["e"].items()} == {
        "no_definition": 0, "no_evidence": 1, "no_example": 1, "no_item": 1, "relation_no_evidence": 0}
    limited = query(graph, graph_report, disciplines=["d"], limit=2)["d"]
    assert limited["no_item"]["count"] == len(all_d) - 1 and len(limited["no_item"]["rows"]) == 2
    assert limited["no_definition"]["count"] == 2


def test_gaps_cli_json_csv_and_errors(graph, cli):
    root = graph.root
    result = cli(root, "gaps", "--under", "d:A", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == ["g-b", "g-xb", "g-ch1", "g-pair", "g-e"]
    result = cli(root, "gaps", "--kind", "weak_edge", "--csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["g-xb", "g-or"] and rows[0]["label"] == "x causes b"
    assert list(rows[0]) == ["id", "kind", "unit", "label", "discipline", "score", "failing", "status", "run", "build"]
    text = cli(root, "gaps", "--discipline", "d", "--min-score", "0.5", "--sort", "kind")
    assert text.exit_code == 0 and "g-ch1" in text.stdout and "g-d " not in text.stdout
    assert cli(root, "gaps", "--limit", "2", "--json").stdout.count('"id"') == 2
    for args, code in ((("--discipline", "nope"), "E004"), (("--under", "d:Nope"), "E030"), (("--run", "r9"), "E081")):
        bad = cli(root, "gaps", *args)
        assert bad.exit_code == 2 and f"error {code}" in bad.stderr
    assert cli(root, "gaps", "--kind", "bogus").exit_code == 2


def test_gaps_report_cli_exit_codes_json_and_csv(graph, cli):
    root = graph.root
    result = cli(root, "gaps", "report", "--json")
    assert result.exit_code == 1  # done, with findings
    data = json.loads(result.stdout)
    assert data["findings"] > 0 and data["disciplines"]["d"]["no_definition"]["count"] == 2
    result = cli(root, "gaps", "report", "--discipline", "e", "--csv")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["report"], r["id"]) for r in rows} == {("no_evidence", "e:Z"), ("no_example", "e:Z"),
                                                      ("no_item", "e:Z")}
    text = cli(root, "gaps", "report", "--discipline", "d", "--limit", "1")
    assert text.exit_code == 1 and "d no_item (10):" in text.stdout and "... 9 more" in text.stdout
    assert cli(root, "gaps", "report", "--discipline", "nope").exit_code == 2


def test_gaps_report_on_an_empty_discipline_exits_0(tmp_path, cli):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "syllabus.toml").write_text(CONFIG.format(url=f"sqlite:///{tmp_path / 's.db'}"), encoding="utf-8")
    result = cli(root, "gaps", "report", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["findings"] == 0
    assert json.loads(cli(root, "gaps", "--json").stdout) == []
