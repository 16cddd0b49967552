"""`syllabus review`: decisions on extracted facts are store rows that outlive re-ingest and
re-extraction; accepting a gated relation compiles it; a bad id changes nothing (exit 2)."""
import hashlib
import json
import re
import sqlite3

import pytest

from syllabus.extract.review import text_sha

pytestmark = pytest.mark.slow


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _db(ws):
    return sqlite3.connect(ws / ".syllabus" / "store.db")


def _fingerprint(ws) -> str:
    with _db(ws) as con:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()


def _relation_status(ws, rid):
    with _db(ws) as con:
        row = con.execute("select status from relation where id = ?", (rid,)).fetchone()
    return row and row[0]


def _concept(ws, cid):
    with _db(ws) as con:
        return con.execute("select pref_label, definition from concept where id = ?", (cid,)).fetchone()


def test_review_decisions_survive_reingest_and_reextraction(sample_ws, cli):
    ws = sample_ws
    with open(ws / "syllabus.toml", "a", encoding="utf-8") as f:
        f.write("\n[compile]\nmin_confidence = 0.9\n")
    listing = _json(cli(ws, "review", "--json"))
    facts = listing["facts"]
    assert listing["waiting"] == len(facts) and listing["gated"] == sum(f["gated"] for f in facts)
    relations = [f for f in facts if f["kind"] == "relation"]
    gated = [f for f in relations if f["gated"]]
    open_ = [f for f in relations if not f["gated"]]
    assert gated and open_, "the sample needs relations on both sides of the gate"
    assert all(f["evidence"] and f["evidence"][0]["sentence"] for f in relations)
    in_relations = {c for f in relations for c in f["statement"].split()}
    definitions = [f for f in facts if f["kind"] == "definition"]
    concepts = [f for f in facts if f["kind"] == "concept" and f["id"] not in {d["id"][4:] for d in definitions}]
    assert definitions and concepts
    reject_rel, accept_rel, defn = open_[0]["id"], gated[0]["id"], definitions[0]["id"]
    concept = next(c["id"] for c in concepts if c["statement"] not in in_relations)
    defined_id = defn[len("def:"):]
    rejected_text = _concept(ws, defined_id)[1]

    plan = _json(cli(ws, "compile", "--plan", "--json"))
    held_before = sum(d["held_back"] for d in plan["review"].values())
    assert held_before == listing["gated"] >= len(gated)

    done = _json(cli(ws, "review", "reject", reject_rel, concept, defn, "--by", "ana", "--note", "wrong", "--json"))
    assert {d["id"] for d in done["decisions"]} == {reject_rel, concept, defn}
    assert all(d["reviewer"] == "ana" and d["decided_at"].endswith("Z") for d in done["decisions"])
    _json(cli(ws, "review", "accept", accept_rel, "--by", "ben", "--json"))

    def check():
        assert _relation_status(ws, reject_rel) == "rejected"
        assert _relation_status(ws, accept_rel) == "asserted"
        assert _concept(ws, concept) is None
        definition = _concept(ws, defined_id)[1]
        assert definition is None or text_sha(definition) != text_sha(rejected_text)
        waiting = {f["id"]: f for f in _json(cli(ws, "review", "--json"))["facts"]}
        assert not waiting.keys() & {reject_rel, accept_rel, concept}
        if defn in waiting:  # another definitional sentence may be chosen; it waits for its own review
            assert " ".join(rejected_text.split()) not in waiting[defn]["statement"]

    check()
    with _db(ws) as con:
        rows = con.execute("select kind, target, decision, reviewer, note from review_decision order by id").fetchall()
    assert ("relation", reject_rel, "reject", "ana", "wrong") in rows and ("relation", accept_rel, "accept", "ben", None) in rows
    gated_after = _json(cli(ws, "review", "--json"))["gated"]
    assert gated_after < held_before
    plan = _json(cli(ws, "compile", "--plan", "--json"))
    assert sum(d["held_back"] for d in plan["review"].values()) == gated_after
    report = cli(ws, "gaps", "report", "--json")
    assert sum(d["held_back"] for d in json.loads(report.stdout)["review"].values()) == gated_after

    # extract again, then re-ingest changed documents and extract: the decisions hold
    assert cli(ws, "extract").exit_code == 0
    check()
    for path in sorted((ws / "corpora").rglob("*.md"))[:3]:
        path.write_text(path.read_text(encoding="utf-8") + "\n\nA closing remark, added for the test.\n",
                        encoding="utf-8")
    assert cli(ws, "ingest").exit_code == 0
    assert cli(ws, "extract").exit_code == 0
    check()


def test_unknown_id_is_e160_and_changes_nothing(sample_ws, cli):
    ws = sample_ws
    facts = _json(cli(ws, "review", "--json", "--kind", "relation"))["facts"]
    before = _fingerprint(ws)
    result = cli(ws, "review", "reject", facts[0]["id"], "rel:no-such-fact", "--by", "ana")
    assert result.exit_code == 2
    assert "E160" in result.output and "rel:no-such-fact" in result.output
    assert _fingerprint(ws) == before
    bad_kind = cli(ws, "review", "--kind", "opinion")
    assert bad_kind.exit_code == 2 and "opinion" in bad_kind.output


def _stanzas(text):
    return text.split("\n\n")


@pytest.mark.parametrize("fmt", ["obo", "ttl"])
def test_review_through_the_exported_file(sample_ws, cli, tmp_path, fmt):
    ws = sample_ws
    discipline = "biology" if fmt == "obo" else "physics"
    out = tmp_path / f"review.{fmt}"
    assert cli(ws, "ontology", "export", "-d", discipline, "--include-proposed", "--out", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    marked = [line for line in text.splitlines() if ("status=\"proposed\"" in line or "# PROPOSED " in line)
              and ("is_a" in line or "relationship" in line or "subClassOf" in line)]
    assert len(marked) >= 2, "the sample needs two proposed relations in the export"
    def ends_block(line):
        return line.split("  # PROPOSED")[0].rstrip().endswith(".")

    reject_line = next(line for line in marked if fmt == "obo" or not ends_block(line))
    accept_line = next(line for line in marked if line != reject_line)
    accepted = re.sub(r' \{status="proposed"[^}]*\}|  # PROPOSED.*$', "", accept_line)
    text = text.replace(accept_line + "\n", accepted + "\n", 1).replace(reject_line + "\n", "", 1)
    out.write_text(text, encoding="utf-8")
    before = _fingerprint(ws)
    plan = _json(cli(ws, "review", "apply", out, "-d", discipline, "--plan", "--json"))
    assert len(plan["accept"]) >= 1 and len(plan["reject"]) >= 1 and plan["decisions"] == []
    assert _fingerprint(ws) == before
    done = _json(cli(ws, "review", "apply", out, "-d", discipline, "--by", "cora", "--json"))
    statuses = {d["id"]: _relation_status(ws, d["id"]) for d in done["decisions"] if d["kind"] == "relation"}
    assert "asserted" in statuses.values() and "rejected" in statuses.values()
    assert all(d["reviewer"] == "cora" for d in done["decisions"])
    # applying the same file again decides nothing new
    again = _json(cli(ws, "review", "apply", out, "-d", discipline, "--plan", "--json"))
    assert again["accept"] == [] and again["reject"] == []


def test_review_file_errors_are_coded(sample_ws, cli, tmp_path):
    bad = tmp_path / "broken.obo"
    bad.write_text("format-version: 1.4\n[Term]\nname: no id here\n", encoding="utf-8")
    before = _fingerprint(sample_ws)
    result = cli(sample_ws, "review", "apply", bad, "-d", "biology")
    assert result.exit_code == 2 and "E022" in result.output and "broken.obo" in result.output
    assert _fingerprint(sample_ws) == before
