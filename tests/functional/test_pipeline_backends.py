"""ingest + extract + chains run the same on SQLite and PostgreSQL (a small corpus)."""
import shutil
from pathlib import Path

from snapshot import graph_contents, whole_store

from syllabus.config import load_workspace
from syllabus.corpus.ingest import ingest
from syllabus.extract.chains import sync_chains
from syllabus.extract.run import extract
from syllabus.ontology.sync import import_file
from syllabus.store import open_store

REPO = Path(__file__).resolve().parents[2]


def _run(ws):
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            import_file(s, ws, "physics", ws.path("ontologies/physics.ttl"))
            ing = ingest(s, ws, "physics")
            ext = extract(s, ws, ["physics"])
            ch = sync_chains(s, "physics", ws.config.chains)
    finally:
        st.close()
    return ing, ext[0], ch


def test_small_pipeline_on_each_backend(tmp_path, store_url, cli):
    root = tmp_path / "ws"
    (root / "corpora" / "physics").mkdir(parents=True)
    (root / "ontologies").mkdir()
    shutil.copy(REPO / "ontologies" / "physics.ttl", root / "ontologies")
    for name in ("02-forces.md", "01-kinematics.md"):
        shutil.copy(REPO / "corpora" / "physics" / name, root / "corpora" / "physics")
    (root / "syllabus.toml").write_text(
        f'[store]\nurl = "{store_url}"\n\n[extract]\nmin_term_documents = 1\n\n'
        '[[disciplines]]\nname = "physics"\nprefix = "phys"\niri = "https://w3id.org/syllabus/sample/physics/"\n'
        'ontologies = ["ontologies/physics.ttl"]\ncorpora = ["corpora/physics"]\n')
    ws = load_workspace(root)
    ing, ext, ch = _run(ws)
    assert ing.documents_added == 2 and ext.chunks_parsed > 0 and ext.mentions > 100 and ch.added > 0
    first = graph_contents(ws.store_url)
    before = whole_store(ws.store_url)
    ing, ext, ch = _run(ws)
    assert ext.chunks_parsed == 0 and ext.chunks_matched == 0 and ch.added == 0
    assert whole_store(ws.store_url) == before
    assert any(c[5] == "extracted" for c in first["concepts"])
    _compile_incrementally(ws, cli, tmp_path)


def _compile_incrementally(ws, cli, tmp_path):
    """compile, edit one definition (the journal triggers see it), compile again: only dependents change."""
    import json

    from sqlalchemy import update

    from syllabus.store.tables import Concept

    first = json.loads(cli(ws.root, "compile", "--json").stdout)
    assert first["counts"]["new"] > 100
    _assert_dependency_rows_match(ws)  # made by the database from the deps column (a compile from nothing)
    st = open_store(ws.store_url)
    with st.transaction() as s:
        s.execute(update(Concept).where(Concept.id == "phys:Acceleration").values(definition="How fast velocity changes."))
    st.close()
    second = json.loads(cli(ws.root, "compile", "--json").stdout)
    assert 0 < second["counts"]["changed"] < first["counts"]["new"] // 5
    assert all("concept:phys:Acceleration changed: definition" in c["reasons"] for c in second["changes"])
    assert json.loads(cli(ws.root, "compile", "--json").stdout)["up_to_date"]
    _assert_dependency_rows_match(ws)  # replaced examples' rows went, the new ones' came (written from Python)


def _assert_dependency_rows_match(ws) -> None:
    """example_dep holds exactly the (unit, example) pairs the example rows' deps columns list."""
    from sqlalchemy import select

    from syllabus.compile.fingerprint import parse_deps
    from syllabus.store.tables import Example, ExampleDep

    st = open_store(ws.store_url)
    with st.transaction() as s:
        deps = s.execute(select(Example.seq, Example.deps)).all()
        got = set(s.execute(select(ExampleDep.unit, ExampleDep.example)).all())
    st.close()
    assert all(text.startswith("{") for _, text in deps)
    assert got and got == {(k, seq) for seq, text in deps for k in parse_deps(text)}


def test_cli_ingest_extract_chains_json(tmp_path, cli):
    import json

    root = tmp_path / "ws"
    (root / "corpora" / "physics").mkdir(parents=True)
    shutil.copy(REPO / "corpora" / "physics" / "02-forces.md", root / "corpora" / "physics")
    (root / "corpora" / "physics" / "junk.txt").write_bytes(b"\x00\x00")
    (root / "ontologies").mkdir()
    shutil.copy(REPO / "ontologies" / "physics.ttl", root / "ontologies")
    (root / "syllabus.toml").write_text(
        '[[disciplines]]\nname = "physics"\nprefix = "phys"\niri = "https://w3id.org/syllabus/sample/physics/"\n'
        'ontologies = ["ontologies/physics.ttl"]\ncorpora = ["corpora/physics"]\n')
    assert cli(root, "ontology", "import").exit_code == 0
    ing = cli(root, "ingest", "--json")
    assert ing.exit_code == 0
    [report] = json.loads(ing.stdout)
    assert report["documents_added"] == 1 and report["skipped"][0]["code"] == "E040"
    plain = cli(root, "ingest")
    assert "warning: skipped corpora/physics/junk.txt: E040" in plain.stderr
    ext = json.loads(cli(root, "extract", "--json").stdout)[0]
    assert ext["chunks_parsed"] > 0 and ext["evidence"] > 0
    chains = json.loads(cli(root, "chains", "--json").stdout)[0]
    assert chains["added"] > 0
    bad = cli(root, "extract", "--discipline", "chemistry")
    assert bad.exit_code == 2 and "E004" in bad.stderr
    missing = cli(root, "concepts", "show", "phys:Nope")
    assert missing.exit_code == 2 and "E030" in missing.stderr
