"""`syllabus extract` with `[extract] extractors = ["patterns", "llm"]` against a real `transformers serve`."""
from __future__ import annotations

import json

import pytest
from llm_server import EXTRACT_CORPUS, free_port
from snapshot import whole_store
from sqlalchemy import select

from syllabus.config import load_workspace
from syllabus.extract.llm_extractor import UNJUDGED_SCORE, extractor_version, find_quote
from syllabus.store import open_store
from syllabus.store.tables import Chunk, Concept, Evidence, Relation

pytestmark = pytest.mark.slow


def make_ws(root, url, model, extractors='["patterns", "llm"]', llm_extra=""):
    (root / "corpora" / "mech").mkdir(parents=True)
    for name, (raw, _chunk, _answer) in EXTRACT_CORPUS.items():
        (root / "corpora" / "mech" / name).write_text(raw, encoding="utf-8")
    (root / "syllabus.toml").write_text(f"""
[extract]
extractors = {extractors}

[llm]
base_url = "{url}"
model = "{model}"
retries = 1
backoff_s = 0.01
max_tokens = 400
max_concurrency = 1
{llm_extra}

[[disciplines]]
name = "mech"
prefix = "mech"
iri = "https://example.org/mech/"
corpora = ["corpora/mech"]
""", encoding="utf-8")
    return root


def rows(root, table, *where):
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            return [dict(r._mapping) for r in s.execute(select(table.__table__).where(*where))]
    finally:
        st.close()


def llm_report(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)[0]["llm"]


def test_quoted_facts_become_proposed_evidence_and_unquoted_ones_are_dropped(llm_server, llm_proxy, tmp_path, cli):
    root = make_ws(tmp_path / "ws", llm_proxy.url, llm_server.model)
    assert cli(root, "ingest").exit_code == 0
    chunks = {r["text"]: r["id"] for r in rows(root, Chunk)}
    assert set(chunks) == {chunk for _raw, chunk, _a in EXTRACT_CORPUS.values()}

    plan = cli(root, "extract", "--plan", "--json")
    assert plan.exit_code == 0 and llm_proxy.requests == 0
    assert json.loads(plan.stdout)[0] | {"prompt_tokens": 0} == {
        "discipline": "mech", "chunks": 3, "requests": 3, "cached": 0, "to_pay": 3, "prompt_tokens": 0,
        "completion_tokens": 1200, "notes": []}

    report = llm_report(cli(root, "extract", "--json"))
    assert report["chunks_asked"] == 3 and report["chunks_failed"] == 1
    assert report["failed_units"] == [f"chunk {chunks['Torque is a turning force.']} (corpora/mech/c.txt #0)"]
    assert report["dropped_quotes"] == 2  # the invented relation quote and the quote about Newton
    assert report["usage"]["paid_calls"] == 2 + 2 and report["usage"]["prompt_tokens"] > 0

    concepts = {r["pref_label"]: r for r in rows(root, Concept, Concept.source == "llm")}
    assert set(concepts) == {"Momentum", "vector quantity", "kinetic energy", "mass"}
    assert concepts["Momentum"]["definition"] == "Momentum is the product of mass and velocity."
    assert concepts["Momentum"]["origin"] == "extracted" and concepts["Momentum"]["id"] == "mech:llm-momentum"
    relations = {(r["subject_id"], r["predicate"], r["object_id"]): r for r in rows(root, Relation)}
    assert set(relations) == {("mech:llm-momentum", "is_a", "mech:llm-vector-quantity"),
                              ("mech:llm-kinetic-energy", "requires", "mech:llm-mass")}
    assert {(r["status"], r["confidence"], r["origin"]) for r in relations.values()} == {
        ("proposed", UNJUDGED_SCORE, "extracted")}
    evidence = rows(root, Evidence, Evidence.extractor.like("llm.%"))
    assert {e["extractor_version"] for e in evidence} == {extractor_version(llm_server.model)}
    texts = {cid: text for text, cid in chunks.items()}
    for e in evidence:  # every span is verbatim chunk text
        assert texts[e["chunk_id"]][e["char_start"]:e["char_end"]] == e["sentence"]
    kinetic = [e for e in evidence if e["extractor"] == "llm.relation" and "Kinetic" in e["sentence"]]
    assert [e["sentence"] for e in kinetic] == ["Kinetic energy requires mass."]

    # a second run pays nothing for what it has and changes nothing; the failed chunk is asked again
    before = whole_store(load_workspace(root).store_url)
    asked = llm_proxy.requests
    report = llm_report(cli(root, "extract", "--json"))
    assert report["chunks_asked"] == 1 and report["usage"]["cached"] == 0 and llm_proxy.requests == asked + 2
    assert whole_store(load_workspace(root).store_url) == before


def test_a_server_failure_exits_2_writes_nothing_and_the_next_run_resumes_from_the_cache(
        llm_server, llm_proxy, tmp_path, cli):
    root = make_ws(tmp_path / "ws", llm_proxy.url, llm_server.model)
    assert cli(root, "ingest").exit_code == 0
    before = whole_store(load_workspace(root).store_url)
    llm_proxy.faults = ["pass", "500", "500"]  # the first chunk's answer arrives, the second chunk's never does
    failed = cli(root, "extract")
    assert failed.exit_code == 2 and "E182" in failed.stderr and "chunk chk:" in failed.stderr
    assert whole_store(load_workspace(root).store_url) == before
    assert llm_proxy.requests == 3

    report = llm_report(cli(root, "extract", "--json"))
    assert report["usage"]["cached"] == 1 and report["usage"]["paid_calls"] == 1 + 2  # b, then c twice (invalid)
    assert len(rows(root, Relation)) == 2


def test_an_unreachable_server_is_e180_naming_the_chunk(llm_server, tmp_path, cli):
    root = make_ws(tmp_path / "ws", f"http://127.0.0.1:{free_port()}/v1", llm_server.model)
    assert cli(root, "ingest").exit_code == 0
    before = whole_store(load_workspace(root).store_url)
    failed = cli(root, "extract")
    assert failed.exit_code == 2 and "E180" in failed.stderr and "corpora/mech/" in failed.stderr
    assert whole_store(load_workspace(root).store_url) == before


def test_budget_exceeded_is_e184(llm_server, llm_proxy, tmp_path, cli):
    root = make_ws(tmp_path / "ws", llm_proxy.url, llm_server.model, llm_extra="budget_calls = 1")
    assert cli(root, "ingest").exit_code == 0
    failed = cli(root, "extract")
    assert failed.exit_code == 2 and "E184" in failed.stderr and "budget_calls" in failed.stderr


def test_configuration_errors(tmp_path, cli):
    root = make_ws(tmp_path / "a", "http://127.0.0.1:9/v1", "m", extractors='["patterns", "oracle"]')
    bad = cli(root, "extract")
    assert bad.exit_code == 2 and "E188" in bad.stderr and "oracle" in bad.stderr
    root = make_ws(tmp_path / "b", "http://127.0.0.1:9/v1", "m")
    toml = (root / "syllabus.toml").read_text().replace('base_url = "http://127.0.0.1:9/v1"\n', "")
    (root / "syllabus.toml").write_text(toml)
    missing = cli(root, "extract")
    assert missing.exit_code == 2 and "E186" in missing.stderr and "base_url" in missing.stderr


def test_find_quote_normalises_whitespace_only():
    text = "Kinetic energy requires mass. Momentum is conserved."
    assert find_quote(text, "energy  requires\nmass.") == (8, 29)
    assert find_quote(text, "energy requires Mass.") is None
    assert find_quote(text, "   ") is None


def test_the_judge_scores_proposed_relations_into_their_confidence(llm_server, llm_proxy, tmp_path, cli):
    root = make_ws(tmp_path / "ws", llm_proxy.url, llm_server.model)
    assert cli(root, "ingest").exit_code == 0
    result = cli(root, "extract", "--judge", "--json")
    assert result.exit_code == 0, result.output
    judged = json.loads(result.stdout)[0]["judge"]
    assert (judged["judged"], judged["failed"]) == (2, 0)
    confidence = {(r["subject_id"], r["predicate"]): r["confidence"] for r in rows(root, Relation)}
    assert confidence == {("mech:llm-momentum", "is_a"): 0.9, ("mech:llm-kinetic-energy", "requires"): 0.25}
    # judging again is answered by the cache and changes nothing
    before = whole_store(load_workspace(root).store_url)
    plan = json.loads(cli(root, "extract", "--plan", "--judge", "--json").stdout)[0]
    assert (plan["judge"]["requests"], plan["judge"]["cached"]) == (2, 2)
    again = json.loads(cli(root, "extract", "--judge", "--json").stdout)[0]["judge"]
    assert (again["usage"]["cached"], again["usage"]["paid_calls"]) == (2, 2)  # paid: the chunk that never parses
    assert whole_store(load_workspace(root).store_url) == before
