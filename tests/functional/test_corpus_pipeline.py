"""ingest -> extract -> chains on the sample workspace, in-process, with the real offline models."""
import json
import shutil
from pathlib import Path

import pytest
from snapshot import whole_store
from sqlalchemy import func, select

from syllabus.config import load_workspace
from syllabus.corpus.ingest import ingest
from syllabus.extract.chains import sync_chains
from syllabus.extract.run import extract
from syllabus.ontology.sync import declared_files, import_file
from syllabus.store import open_store
from syllabus.store.tables import Concept, Evidence, Relation

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_all(ws, workers=1, prune=False):
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            for name in ws.discipline_names():
                for f in declared_files(ws, name):
                    import_file(s, ws, name, f)
            ingested = [ingest(s, ws, name, None, prune) for name in ws.discipline_names()]
            extracted = extract(s, ws, ws.discipline_names(), workers)
            chained = [sync_chains(s, name, ws.config.chains) for name in ws.discipline_names()]
    finally:
        st.close()
    return ingested, extracted, chained


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    for sub in ("ontologies", "corpora"):
        shutil.copytree(REPO / sub, root / sub)
    shutil.copy(REPO / "syllabus.toml", root / "syllabus.toml")
    ws = load_workspace(root)
    first = run_all(ws)
    return ws, first


def count(ws, table, *where):
    st = open_store(ws.store_url)
    with st.transaction() as s:
        n = s.scalar(select(func.count()).select_from(table.__table__).where(*where))
    st.close()
    return n


def test_first_run_builds_a_graph_with_evidence(sample):
    ws, (ingested, extracted, chained) = sample
    for report in ingested:
        assert report.documents_added == 8 and report.words > 5000 and not report.skipped
    for report in extracted:
        assert report.chunks_parsed > 0 and report.mentions > 500 and report.relations_added > 10
        assert report.concepts_added >= 10
    C, R, E = Concept.__table__, Relation.__table__, Evidence.__table__
    # every extracted fact has evidence
    assert count(ws, Concept, C.c.origin == "extracted", C.c.id.not_in(select(E.c.concept_id).where(
        E.c.concept_id.isnot(None)))) == 0
    assert count(ws, Relation, R.c.origin == "extracted", R.c.id.not_in(select(E.c.relation_id).where(
        E.c.relation_id.isnot(None)))) == 0
    assert count(ws, Relation, R.c.origin == "extracted", R.c.status != "proposed") == 0
    # ontology relations gained textual evidence too
    assert count(ws, Evidence, E.c.relation_id.in_(select(R.c.id).where(R.c.origin == "ontology"))) > 20
    for report in chained:
        assert {"transitive_is_a", "causal_composition", "prerequisite_chain"} <= set(report.by_rule)
        assert sum(c["bench"] for c in report.by_rule.values()) > 0


def test_new_concepts_the_ontology_lacks_are_found(sample):
    ws, _ = sample
    st = open_store(ws.store_url)
    with st.transaction() as s:
        labels = set(s.scalars(select(Concept.__table__.c.pref_label).where(Concept.__table__.c.origin == "extracted")))
    st.close()
    assert {"drag force", "terminal velocity", "center of mass", "cytoskeleton", "centrosome"} <= labels


def test_second_run_changes_nothing(sample):
    ws, _ = sample
    before = whole_store(ws.store_url)
    ingested, extracted, chained = run_all(ws)
    assert all(r.documents_unchanged == 8 and not r.chunks_added for r in ingested)
    assert all(r.chunks_parsed == 0 and r.chunks_matched == 0 and not r.relations_added for r in extracted)
    assert all(r.added == 0 and r.removed == 0 for r in chained)
    assert whole_store(ws.store_url) == before


def test_concept_detail_points_at_document_lines(sample, cli):
    ws, _ = sample
    data = json.loads(cli(ws.root, "concepts", "show", "phys:NetForce", "--json").stdout)
    assert data["label"] == "net force" and data["evidence_total"] > 0
    ev = data["evidence"][0]
    source = (ws.root / ev["document"]).read_text().splitlines()
    assert ev["line"] and ev["text"].split()[0].lower() in source[ev["line"] - 1].lower()
    listed = json.loads(cli(ws.root, "concepts", "list", "--origin", "extracted", "--json").stdout)
    assert listed and all(c["origin"] == "extracted" and c["evidence"] > 0 for c in listed)
    chains = json.loads(cli(ws.root, "chains", "list", "--json").stdout)
    assert chains and all(len(c["steps"]) == c["hops"] >= 2 for c in chains)


def test_changed_and_deleted_files_replace_their_chunks_and_evidence(sample):
    ws, _ = sample
    target = ws.root / "corpora" / "physics" / "02-forces.md"
    text = target.read_text()
    paragraphs = text.split("\n\n")
    target.write_text("\n\n".join(paragraphs[: len(paragraphs) // 2]) + "\n\nDrag force causes terminal velocity.\n")
    (ws.root / "corpora" / "physics" / "05-momentum.txt").unlink()
    ingested, extracted, _ = run_all(ws, prune=True)
    physics = ingested[0]
    assert physics.documents_changed == 1 and physics.documents_removed == 1 and physics.chunks_removed > 0
    assert extracted[0].chunks_parsed >= 1  # only the new chunks are parsed again
    ingested, extracted, _ = run_all(ws)
    assert extracted[0].chunks_parsed == 0 and not extracted[0].relations_added


def test_bad_files_are_skipped_with_coded_warnings(sample):
    ws, _ = sample
    bad = ws.root / "corpora" / "biology"
    (bad / "junk.txt").write_bytes(b"\x00\x01binary")
    (bad / "latin.txt").write_bytes("caf\u00e9 au lait".encode("latin-1"))
    (bad / "empty.md").write_text("   \n")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (bad / "notes.docx").write_bytes(b"PK")
    (bad / "bad.jsonl").write_text('{"text": "fine"}\nnot json\n')
    before = count(ws, Concept)
    ingested, _, _ = run_all(ws)
    codes = {(Path(s.file).name, s.code) for s in ingested[1].skipped}
    assert codes == {("junk.txt", "E040"), ("latin.txt", "E041"), ("empty.md", "E042"), ("broken.pdf", "E043"),
                     ("notes.docx", "E045"), ("bad.jsonl", "E046")}
    assert count(ws, Concept) == before
    for name in ("junk.txt", "latin.txt", "empty.md", "broken.pdf", "notes.docx", "bad.jsonl"):
        (bad / name).unlink()


def test_two_workers_give_the_same_store(tmp_path, sample):
    ws, _ = sample
    root = tmp_path / "copy"
    for sub in ("ontologies", "corpora"):
        shutil.copytree(ws.root / sub, root / sub)
    shutil.copy(ws.root / "syllabus.toml", root / "syllabus.toml")
    ws2 = load_workspace(root)
    run_all(ws2, workers=2)
    fresh = tmp_path / "serial"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".syllabus"))
    ws3 = load_workspace(fresh)
    run_all(ws3, workers=1)
    a, b = whole_store(ws2.store_url), whole_store(ws3.store_url)
    for table in ("concept", "label", "relation", "chain", "chunk"):
        assert a[table] == b[table], table


def test_accepting_proposals_through_the_ontology_file(sample, cli):
    ws, _ = sample
    R, C = Relation.__table__, Concept.__table__
    st = open_store(ws.store_url)
    with st.transaction() as s:
        proposed = set(s.execute(select(R.c.subject_id, R.c.predicate, R.c.object_id).where(
            R.c.discipline == "physics", R.c.status == "proposed")).all())
        extracted = set(s.scalars(select(C.c.id).where(C.c.discipline == "physics", C.c.origin == "extracted")))
    st.close()
    out = ws.root / "ontologies" / "physics.ttl"
    result = cli(ws.root, "ontology", "export", "-d", "physics", "--include-proposed", "--out", str(out))
    assert result.exit_code == 0
    text = out.read_text()
    assert text.count("# PROPOSED") >= len(extracted)
    assert cli(ws.root, "ontology", "lint", "-d", "physics").exit_code in (0, 1)
    run_all(ws)
    st = open_store(ws.store_url)
    with st.transaction() as s:
        asserted = set(s.execute(select(R.c.subject_id, R.c.predicate, R.c.object_id).where(
            R.c.discipline == "physics", R.c.origin == "ontology", R.c.status == "asserted")).all())
        origins = dict(s.execute(select(C.c.id, C.c.origin).where(C.c.id.in_(extracted))).all())
    st.close()
    assert proposed <= asserted
    assert set(origins.values()) == {"ontology"}
