"""`syllabus bench build|list` on the sample workspace: levels, held-out chains, distractors that are
wrong by every graph path, balance, stratified splits, idempotence, decontamination, bad input."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow  # builds on the extracted sample workspace and compiles it


def _run(ws: Path, *args: str):
    from syllabus.cli.main import app

    result = CliRunner().invoke(app, ["--workspace", str(ws), *args], catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def built(sample_graph, tmp_path_factory):
    """The sample compiled, then benchmarked (read-only for the tests that use it)."""
    root = tmp_path_factory.mktemp("bench-built") / "ws"
    shutil.copytree(sample_graph, root, symlinks=True)
    assert _run(root, "compile").exit_code == 0
    result = _run(root, "bench", "build", "--json")
    assert result.exit_code == 0, result.stderr
    items = json.loads(_run(root, "bench", "list", "--json").stdout)
    return root, json.loads(result.stdout), items


def _db(ws: Path) -> sqlite3.Connection:
    return sqlite3.connect(ws / ".syllabus" / "store.db")


def _usable_graph(ws: Path) -> tuple[dict[str, nx.DiGraph], dict[str, str]]:
    """Per predicate, a DiGraph of the store's usable relations ([compile] rules); related_to both ways."""
    from syllabus.config import load_workspace

    cfg = load_workspace(ws).config.compile
    con = _db(ws)
    ok = {r[0] for r in con.execute("SELECT id FROM concept WHERE status = 'active' AND origin != 'external' "
                                    "AND pref_label IS NOT NULL")}
    graphs: dict[str, nx.DiGraph] = defaultdict(nx.DiGraph)
    predicate_of = {}
    for rid, s, p, o, status, conf in con.execute(
            "SELECT id, subject_id, predicate, object_id, status, confidence FROM relation"):
        usable = status == "asserted" or (cfg.include_proposed and status == "proposed" and conf >= cfg.min_confidence)
        if usable and s in ok and o in ok:
            graphs[p].add_edge(s, o)
            if p == "related_to":
                graphs[p].add_edge(o, s)
            predicate_of[rid] = p
    con.close()
    return graphs, predicate_of


def _answers(graphs: dict[str, nx.DiGraph], x: str, p: str) -> set[str]:
    """What (x, p, ?) is true of by a graph path: is_a+ for is_a; else ends of p edges from x or an
    ancestor, anything reachable from them over p/is_a edges, and the kinds of those p-edge ends."""
    isa = graphs["is_a"]
    up = nx.descendants(isa, x) if x in isa else set()
    if p == "is_a":
        return up
    both = nx.compose(graphs[p], isa)
    ends = {v for s in {x} | up if s in graphs[p] for v in graphs[p].successors(s)}
    reach = set(ends) | {n for v in ends for n in nx.descendants(both, v)}
    kinds = {k for v in ends if v in isa for k in nx.ancestors(isa, v)}
    return reach | kinds


def test_items_exist_at_every_level_with_sound_shape(built):
    ws, report, items = built
    assert report["decontamination"]["leaked"] == 0  # built-in templates never copy an item's question
    for discipline in ("physics", "biology"):
        for level in ("L1", "L2", "L3"):
            assert report["counts"][discipline][level]["items"] > 0, (discipline, level)
    assert {i["kind"] for i in items} == {"definition_to_term", "term_to_definition", "relation_object",
                                          "relation_subject", "chain_conclusion"}
    con = _db(ws)
    units = defaultdict(set)
    for item_id, unit in con.execute("SELECT item_id, unit FROM item_unit"):
        units[item_id].add(unit)
    for it in items:
        assert len(it["choices"]) == 4 and len({c.casefold() for c in it["choices"]}) == 4
        t = it["trace"]
        assert t["sources"][it["answer"]] == "answer" and len(t["options"]) == 4
        expected = {f"concept:{c}" for c in t["concepts"]} | {f"relation:{r}" for r in t["relations"]}
        assert units[it["id"]] == expected | ({f"chain:{t['chain']}"} if t["chain"] else set())
        if it["level"] == "L1" and it["kind"] == "definition_to_term":
            label = con.execute("SELECT pref_label FROM concept WHERE id = ?", (t["concepts"][0],)).fetchone()[0]
            # the term is masked out (as a word: "ion" may stand inside "definition")
            assert not re.search(rf"(?<!\w){re.escape(label.casefold())}", it["question"].casefold()), it["question"]
    sources = Counter(s for it in items for s in it["trace"]["sources"])
    for source in ("sibling", "reversed", "other_predicate", "same_type", "near_miss"):
        assert sources[source] > 0, source


def test_no_l3_item_comes_from_a_train_chain(built):
    ws, _, items = built
    con = _db(ws)
    split = dict(con.execute("SELECT id, split FROM chain"))
    l3 = [i for i in items if i["level"] == "L3"]
    assert l3 and all(split[i["trace"]["chain"]] == "bench" for i in l3)
    assert not [i for i in items if i["level"] != "L3" and i["trace"]["chain"]]
    chained = {i["trace"]["chain"] for i in l3}
    assert len(chained) == len(l3) and len(chained) >= 0.9 * sum(v == "bench" for v in split.values())
    for it in l3:  # the answer is the chain's conclusion, the concepts its path
        subject, obj, rels = con.execute("SELECT subject_id, object_id, relation_ids FROM chain WHERE id = ?",
                                         (it["trace"]["chain"],)).fetchone()
        assert it["trace"]["options"][it["answer"]] == obj and it["trace"]["concepts"][0] == subject
        assert it["trace"]["relations"] == json.loads(rels)


def test_every_distractor_is_wrong_by_every_graph_path(built):
    ws, _, items = built
    graphs, predicate_of = _usable_graph(ws)
    con = _db(ws)
    chain = {h: (s, p) for h, s, p in con.execute("SELECT id, subject_id, predicate FROM chain")}
    labels = defaultdict(set)
    for cid, text in con.execute("SELECT concept_id, lower(text) FROM label"):
        labels[cid].add(text)
    defs = dict(con.execute("SELECT id, definition FROM concept"))
    checked = 0
    for it in items:
        t = it["trace"]
        answer = t["options"][it["answer"]]
        wrong = [c for i, c in enumerate(t["options"]) if i != it["answer"]]
        if it["level"] == "L1":
            x = t["concepts"][0]
            for d in wrong:
                assert not labels[d] & labels[x] and defs[d] != defs[x], (it["id"], d)
            continue
        if it["level"] == "L3":
            x, p = chain[t["chain"]]
            correct = _answers(graphs, x, p)
            assert answer in correct
            bad = [d for d in wrong if d in correct or d == x]
        elif it["kind"] == "relation_object":
            x, p = t["concepts"][0], predicate_of[t["relations"][0]]
            correct = _answers(graphs, x, p)
            assert answer in correct
            bad = [d for d in wrong if d in correct or d == x]
        else:
            y, p = t["concepts"][1], predicate_of[t["relations"][0]]
            bad = [d for d in wrong if d == y or y in _answers(graphs, d, p)]
        assert not bad, (it["id"], it["question"], bad)
        checked += len(wrong)
    assert checked > 1000


def test_answer_positions_and_lengths_are_balanced(built):
    _, _, items = built
    by_level = defaultdict(Counter)
    for it in items:
        by_level[(it["discipline"], it["level"])][it["answer"]] += 1
    for key, positions in by_level.items():
        n = sum(positions.values())
        assert all(0.15 <= positions[i] / n <= 0.35 for i in range(4)), (key, positions)
    by_kind = defaultdict(list)
    for it in items:
        lengths = [len(c) for c in it["choices"]]
        a = lengths[it["answer"]]
        by_kind[it["kind"]].append((a == max(lengths) and lengths.count(a) == 1, a / (sum(lengths) / 4)))
    for kind, rows in by_kind.items():
        longest = sum(x for x, _ in rows) / len(rows)
        ratio = sum(r for _, r in rows) / len(rows)
        assert longest <= 0.35 and 0.85 <= ratio <= 1.15, (kind, longest, ratio)


def test_split_is_stratified_and_deterministic(built, sample_ws):
    ws, _, items = built
    strata = defaultdict(Counter)
    for it in items:
        strata[(it["discipline"], it["level"], it["kind"])][it["split"]] += 1
    for key, c in strata.items():
        assert abs(c["dev"] - c["test"]) <= 1, (key, c)
    # a fresh build of the same graph (another copy, another compile) gives the same items and splits
    assert _run(sample_ws, "compile").exit_code == 0
    assert _run(sample_ws, "bench", "build").exit_code == 0
    again = json.loads(_run(sample_ws, "bench", "list", "--json").stdout)
    assert [(i["id"], i["split"]) for i in again] == [(i["id"], i["split"]) for i in items]


def test_rebuild_is_a_no_op(built, tmp_path):
    ws, first, items = built
    copy = tmp_path / "again"
    shutil.copytree(ws, copy, symlinks=True)
    before = _dump(copy)
    result = _run(copy, "bench", "build", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["new"], report["removed"], report["unchanged"]) == (0, 0, first["new"]) and first["new"] == len(items)
    assert report["decontamination"]["changed"] == 0
    assert _dump(copy) == before
    text = _run(copy, "bench", "build")
    assert "0 new, 0 removed" in text.stdout and "leaking items" in text.stdout and "physics" in text.stdout


def _dump(ws: Path) -> list:
    con = _db(ws)
    rows = [("item", *r) for r in con.execute("SELECT * FROM item ORDER BY id")]
    rows += [("unit", *r) for r in con.execute("SELECT * FROM item_unit ORDER BY item_id, unit")]
    rows += [("embedding", n) for (n,) in con.execute("SELECT count(*) FROM embedding")]
    con.close()
    return rows


def test_list_filters_and_shows_answer_and_trace(built):
    ws, _, items = built
    rows = json.loads(_run(ws, "bench", "list", "--level", "L3", "--split", "dev", "--discipline", "physics",
                           "--json").stdout)
    assert rows and all((r["level"], r["split"], r["discipline"]) == ("L3", "dev", "physics") for r in rows)
    assert all(r["answer_text"] == r["choices"][r["answer"]] and r["trace"]["chain"] for r in rows)
    text = _run(ws, "bench", "list", "--level", "L3", "--discipline", "physics").stdout
    assert rows[0]["id"] in text and "trace: " in text and f"* {'ABCD'[rows[0]['answer']]}." in text
    assert _run(ws, "bench", "list", "--leaked", "--json").stdout.strip() == "[]"
    assert _run(ws, "bench", "list", "--level", "L9").exit_code == 2


def test_decontamination_flags_a_question_planted_in_a_training_prompt(built, sample_ws):
    _, _, items = built
    # a template override that phrases relation.forward prompts exactly like the L2 items
    for variant in ("1", "2"):
        folder = sample_ws / "templates" / "relation" / "forward"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{variant}.j2").write_text(
            "{% block user %}{{ subject.label | capitalize_first }} {{ phrase.verb }} which of the following?"
            "{% endblock %}\n{% block assistant %}{{ objects | map(attribute='label') | join_and }}.{% endblock %}\n")
    assert _run(sample_ws, "compile").exit_code == 0
    result = _run(sample_ws, "bench", "build")
    assert result.exit_code == 0
    leaked = json.loads(_run(sample_ws, "bench", "list", "--leaked", "--json").stdout)
    assert leaked and all(i["leak"].startswith("verbatim") and "relation.forward" in i["leak"] for i in leaked)
    assert {i["kind"] for i in leaked} == {"relation_object"}
    assert f"{len(leaked)} leaking items" in result.stdout
    prompts = set()
    from syllabus.compile.layout import iter_lines

    for line in iter_lines(sample_ws / "build" / "latest"):
        ex = json.loads(line)
        prompts.update(m["content"] for m in ex["messages"] if m["role"] == "user")
    assert all(i["question"] in prompts for i in leaked)
    visible = json.loads(_run(sample_ws, "bench", "list", "--json").stdout)
    assert not [i for i in visible if i["question"] in prompts]  # every copied question is caught
    assert not {i["id"] for i in leaked} & {i["id"] for i in visible}
    assert len(visible) + len(leaked) == len(items)
    # the forward questions of predicates phrased differently (has_property) are not copies: not flagged
    assert not [i for i in leaked if i["question"].startswith("Which of the following is a property")]


def test_unknown_discipline_is_e004_and_writes_nothing(sample_ws):
    before = _dump(sample_ws)
    result = _run(sample_ws, "bench", "build", "--discipline", "astrology")
    assert result.exit_code == 2 and "E004" in result.stderr
    assert _dump(sample_ws) == before
    assert _run(sample_ws, "bench", "list", "--discipline", "astrology").exit_code == 2
