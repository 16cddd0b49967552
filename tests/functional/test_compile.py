"""`syllabus compile` on the extracted sample workspace: builds, incremental exactness, selection,
templates, provenance, crash safety and locking."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as text_sql

from syllabus.compile.fingerprint import parse_deps
from syllabus.compile.layout import example_files, iter_lines
from syllabus.config import load_workspace
from syllabus.store import open_store
from syllabus.store.gate import relation_passes
from syllabus.store.tables import Chain, Example, ExampleDep, Relation

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def compile_json(cli, ws, *args):
    result = cli(ws, "compile", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def examples(ws, build="latest"):
    return [json.loads(line) for line in iter_lines(ws / "build" / build)]


def sha(path: Path) -> str:
    """sha256 of a file, or of a build folder's kept examples (its shard files read in order)."""
    h = hashlib.sha256()
    for file in example_files(path) if path.is_dir() else [path]:
        h.update(file.read_bytes())
    return h.hexdigest()


def edit_definition(ws: Path, old: str, new: str) -> None:
    ttl = ws / "ontologies" / "physics.ttl"
    text = ttl.read_text(encoding="utf-8")
    assert old in text
    ttl.write_text(text.replace(old, new), encoding="utf-8")


def clean_compile(ws: Path, cli, where: Path) -> Path:
    """A copy of the workspace with all compile state cleared, compiled from scratch."""
    shutil.copytree(ws, where, symlinks=True)
    shutil.rmtree(where / "build", ignore_errors=True)
    st = open_store(load_workspace(where).store_url)
    with st.transaction() as s:
        for table in ("example_dep", "example", "build", "unit", "graph_change"):
            s.execute(Example.metadata.tables[table].delete())
    st.close()
    compile_json(cli, where)
    return where


def test_first_build_has_examples_manifest_and_latest(sample_ws, cli):
    report = compile_json(cli, sample_ws)
    assert report["counts"]["new"] > 1000 and report["counts"]["changed"] == 0
    latest = sample_ws / "build" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == report["build"]
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["schema_version"] == 1 and manifest["parent"] is None
    assert set(manifest["settings"]["renderers"]) == {"concept", "relation", "chain", "patch"}
    assert set(manifest["input_fingerprints"]) == {"physics", "biology", "chemistry"}
    assert sum(manifest["counts"]["by_discipline"].values()) == manifest["counts"]["examples"]
    assert len(manifest["quality"]["removed"]) == manifest["counts"]["dropped"]
    rows = examples(sample_ws)
    assert len(rows) == manifest["counts"]["examples"]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    tasks = {r["task"] for r in rows}
    assert {"concept.definition", "concept.term", "concept.synonyms", "concept.true_false", "concept.choice",
            "relation.forward", "relation.backward", "relation.how_related", "relation.true_false",
            "chain.explain"} <= tasks
    for r in rows:
        assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant"]
        assert all(m["content"].strip() for m in r["messages"])
        primary = r["units"][0].split(":", 1)[1]
        assert r["split"] == "train" and any(k.endswith(":" + primary) for k in r["provenance"]["dependencies"])
        for ev in r["provenance"]["evidence"]:  # provenance sits in the metadata, never in the prompt
            assert ev["document"] not in r["messages"][1]["content"]
    # bench chains never feed training examples
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        bench = {f"chain:{c}" for c in s.scalars(select(Chain.id).where(Chain.split == "bench"))}
        builds = set(s.scalars(select(Example.build).distinct()))
    st.close()
    assert bench and not bench & {r["units"][0] for r in rows}
    assert builds == {report["build"]}  # rows written while rendering carry the build's name


def test_choice_distractors_are_never_correct(sample_ws, cli):
    compile_json(cli, sample_ws)
    cfg = load_workspace(sample_ws).config.compile
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:  # the facts compile uses: those the review gate passes
        edges = s.execute(select(Relation.subject_id, Relation.predicate, Relation.object_id).where(
            relation_passes(cfg.min_confidence, cfg.include_proposed))).all()
    st.close()
    parents: dict = {}
    for subj, pred, obj in edges:
        parents.setdefault((subj, pred), set()).add(obj)

    def under(node, top, pred, seen=()):
        return any(p == top or (p not in seen and under(p, top, pred, (*seen, p)))
                   for p in parents.get((node, pred), ()))

    choices = [r for r in examples(sample_ws) if r["task"] == "concept.choice"]
    assert choices
    for r in choices:
        concept = r["units"][0].split(":", 1)[1]
        pred = "is_a" if "kind of" in r["messages"][1]["content"] else "part_of"
        options = [u.split(":", 1)[1] for u in r["units"][1:] if u != f"label:{concept}"]
        assert len(options) == 4
        correct = [o for o in options if under(o, concept, pred)]
        assert len(correct) == 1, (r["id"], options)
        letter = r["messages"][2]["content"].lstrip("(")[0]
        assert letter in "ABCD"


def test_a_true_statement_depends_on_no_relative_it_does_not_name(sample_ws, cli):
    from syllabus.compile.renderers import Choice

    compile_json(cli, sample_ws)
    seed = load_workspace(sample_ws).config.compile.seed
    statements = [r for r in examples(sample_ws) if r["task"] == "concept.true_false"]
    asked_true = [r for r in statements if Choice(seed, r["units"][0]).flag("truth")]
    asked_false = [r for r in statements if not Choice(seed, r["units"][0]).flag("truth")]
    assert asked_true and asked_false
    for r in asked_true:  # the concept, its edges up and the parent's name: no sibling, no child list
        deps = r["provenance"]["dependencies"]
        assert r["messages"][2]["content"].startswith(("True.", "True:"))
        assert [k for k in deps if k.startswith(("concept:", "in:"))] == [r["units"][0]], deps
    # a false statement had to look among the relatives for something false to say
    assert any(k.startswith("in:") for r in asked_false for k in r["provenance"]["dependencies"])


def test_edit_rerenders_exactly_the_dependents_and_matches_a_clean_compile(sample_ws, cli, tmp_path):
    compile_json(cli, sample_ws)
    before = {r["id"]: r for r in examples(sample_ws)}
    dropped_before = {json.loads(x)["id"] for x in (sample_ws / "build/latest/dropped.jsonl").read_text().splitlines()}
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time",
                    "How quickly the velocity of a body changes over time")
    assert cli(sample_ws, "ontology", "import").exit_code == 0
    plan = compile_json(cli, sample_ws, "--plan")
    # exactly the examples that read the concept's content are re-rendered
    dependents = {eid for eid, r in before.items() if "concept:phys:Acceleration" in r["provenance"]["dependencies"]}
    planned_old = {c["old_id"] for c in plan["changes"] if c["status"] == "changed"}
    assert planned_old - dropped_before == dependents
    assert all("concept:phys:Acceleration changed: definition" in c["reasons"] for c in plan["changes"])
    assert plan["counts"]["rendered"] == len(plan["changes"])
    report = compile_json(cli, sample_ws)
    assert report["counts"] == plan["counts"]
    old_lines = _lines_by_id(sample_ws / "build" / plan_parent(sample_ws))
    new_lines = _lines_by_id(sample_ws / "build/latest")
    common = old_lines.keys() & new_lines.keys()
    assert all(old_lines[i] == new_lines[i] for i in common)  # reused byte for byte
    assert len(common) >= len(before) - len(dependents) - 2  # at most a dedup flip or two besides the dependents
    assert_dependency_index_matches(sample_ws)  # the replaced examples' dependency rows went with them
    # incremental == clean, byte for byte
    clean = clean_compile(sample_ws, cli, tmp_path / "clean")
    for name in (".", "dropped.jsonl"):  # "." : the build's kept examples
        assert sha(clean / "build/latest" / name) == sha(sample_ws / "build/latest" / name)
    assert compile_json(cli, sample_ws)["up_to_date"]


def test_an_incremental_build_links_the_shards_it_did_not_change(sample_ws, cli):
    first = compile_json(cli, sample_ws)["build"]
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    report = compile_json(cli, sample_ws)
    old, new = sample_ws / "build" / first, sample_ws / "build" / report["build"]
    names = sorted({p.name for p in example_files(old)} | {p.name for p in example_files(new)})
    linked = rewritten = 0
    for name in names:
        a, b = old / "examples" / name, new / "examples" / name
        same = a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
        assert same == (b.is_file() and a.is_file() and os.stat(a).st_ino == os.stat(b).st_ino), name
        linked, rewritten = linked + same, rewritten + (not same)
    assert 0 < rewritten <= 2 * report["counts"]["rendered"] + 2 and linked > rewritten
    assert sha(new) == sha(clean_compile(sample_ws, cli, sample_ws.parent / "clean") / "build/latest")


def _to_single_file_layout(folder: Path) -> None:
    """Rewrite a build as builds were written before shards: one examples.jsonl, offsets into it, and
    the index in index.npz (as builds were written before index.npy)."""
    import numpy as np

    from syllabus.compile.index_file import INDEX, read_index

    data = b"".join(p.read_bytes() for p in example_files(folder))
    arrays = read_index(folder)
    kept = np.nonzero(~arrays["dropped"])[0]
    lengths = arrays["len"][kept]
    arrays["off"][kept] = np.cumsum(np.r_[0, lengths[:-1]])
    np.savez(folder / "index.npz", **arrays)
    (folder / INDEX).unlink()
    shutil.rmtree(folder / "examples")
    (folder / "examples.jsonl").write_bytes(data)


def test_a_parent_build_in_the_single_file_layout_is_read_and_reused(sample_ws, cli, tmp_path):
    first = compile_json(cli, sample_ws)["build"]
    old = sample_ws / "build" / first
    kept_sha = sha(old)
    _to_single_file_layout(old)
    assert sha(old) == kept_sha and example_files(old) == [old / "examples.jsonl"]
    row = examples(sample_ws)[-1]
    shown = json.loads(cli(sample_ws, "explain", row["id"], "--json").stdout)
    assert shown["build"] == first and shown["messages"] == row["messages"]
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    plan = compile_json(cli, sample_ws, "--plan")
    report = compile_json(cli, sample_ws)
    assert report["counts"]["rendered"] == plan["counts"]["rendered"] < len(examples(sample_ws)) // 10
    diff = json.loads(cli(sample_ws, "builds", "diff", first, report["build"], "--json").stdout)
    assert diff["changed"] > 0 and diff["unchanged"] > 1000
    new = sample_ws / "build" / report["build"]
    assert (new / "examples").is_dir() and not (new / "examples.jsonl").exists()
    assert sha(new) == sha(clean_compile(sample_ws, cli, tmp_path / "clean") / "build/latest")


def assert_dependency_index_matches(ws: Path) -> None:
    """example_dep holds exactly the (unit, example) pairs the examples' deps columns list."""
    st = open_store(load_workspace(ws).store_url)
    XE, XD = Example.__table__, ExampleDep.__table__
    with st.transaction() as s:
        want = {(k, seq) for seq, deps in s.execute(select(XE.c.seq, XE.c.deps)) for k in parse_deps(deps)}
        got = set(s.execute(select(XD.c.unit, XD.c.example)).all())
    st.close()
    assert want and got == want
    assert_example_indexes(ws)


def assert_example_indexes(ws: Path) -> None:
    """The example table has its indexes (a compile from nothing drops them while it inserts)."""
    from sqlalchemy import inspect

    st = open_store(load_workspace(ws).store_url)
    with st.engine.connect() as conn:
        indexes = {i["name"]: (tuple(i["column_names"]), bool(i["unique"])) for i in inspect(conn).get_indexes("example")}
    st.close()
    assert indexes == {"ix_example_id": (("id",), True), "ix_example_stale": (("stale",), False),
                       "ix_example_unit": (("unit",), False)}


def _lines_by_id(folder: Path) -> dict[str, bytes]:
    return {json.loads(line)["id"]: line for line in iter_lines(folder)}


def plan_parent(ws: Path) -> str:
    manifest = json.loads((ws / "build/latest/manifest.json").read_text())
    return manifest["parent"]


def test_plan_writes_nothing(sample_ws, cli):
    compile_json(cli, sample_ws)
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    listing = sorted(p.relative_to(sample_ws).as_posix() for p in (sample_ws / "build").rglob("*"))
    first = compile_json(cli, sample_ws, "--plan")
    second = compile_json(cli, sample_ws, "--plan")
    assert first == second and first["counts"]["changed"] > 0
    assert sorted(p.relative_to(sample_ws).as_posix() for p in (sample_ws / "build").rglob("*")) == listing


def test_trace_reports_each_phase_only_when_asked(sample_ws, cli, monkeypatch):
    quiet = cli(sample_ws, "compile")
    assert quiet.exit_code == 0 and "syllabus trace:" not in quiet.stderr
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    monkeypatch.setenv("SYLLABUS_TRACE", "1")
    traced = cli(sample_ws, "compile")
    assert traced.exit_code == 0, traced.output
    lines = [line for line in traced.stderr.splitlines() if line.startswith("syllabus trace:")]
    phases = [line.split("workers' CPU", 1)[1].strip() for line in lines]
    for phase in ("parent build read", "fingerprints", "duplicate check", "examples written",
                  "build files staged", "store rows written", "committed", "published"):
        assert any(p.startswith(phase) for p in phases), (phase, phases)
    assert any(p.startswith("rendered ") for p in phases)
    seconds = [float(line.split()[2]) for line in lines]
    assert seconds == sorted(seconds)
    cpu = [float(line.split("GB", 1)[1].split()[0]) for line in lines]
    assert cpu == sorted(cpu) and cpu[-1] > 0


def test_two_clean_compiles_are_byte_identical(sample_ws, cli, tmp_path):
    a = clean_compile(sample_ws, cli, tmp_path / "a")
    b = clean_compile(sample_ws, cli, tmp_path / "b")
    assert sha(a / "build/latest") == sha(b / "build/latest")
    assert os.readlink(a / "build/latest") == os.readlink(b / "build/latest")


def test_template_override_rebuilds_exactly_that_templates_examples(sample_ws, cli):
    compile_json(cli, sample_ws)
    before = examples(sample_ws)
    target = [r["id"] for r in before if r["provenance"]["template"] == "concept/definition/1.j2"]
    assert target
    override = sample_ws / "templates" / "concept" / "definition" / "1.j2"
    override.parent.mkdir(parents=True)
    override.write_text('{% block user %}What does "{{ concept.label }}" mean?{% endblock %}\n'
                        '{% block assistant %}{{ concept | define }}{% endblock %}\n', encoding="utf-8")
    report = compile_json(cli, sample_ws)
    assert sorted(c["old_id"] for c in report["changes"]) == sorted(target)
    assert all(c["reasons"] == ["template concept/definition/1.j2 changed"] for c in report["changes"])
    assert any(r["messages"][1]["content"].startswith("What does") for r in examples(sample_ws))


def test_template_errors_are_coded_and_change_nothing(sample_ws, cli):
    compile_json(cli, sample_ws)
    latest = os.readlink(sample_ws / "build/latest")
    bad = sample_ws / "templates" / "relation" / "how_related" / "1.j2"
    bad.parent.mkdir(parents=True)
    bad.write_text("{% block user %}How?{% endblock %}\n{% block assistant %}\n{{ no_such_variable }}{% endblock %}\n")
    result = cli(sample_ws, "compile")
    assert result.exit_code == 2
    assert "E060" in result.stderr and "relation/how_related/1.j2:3" in result.stderr
    bad.write_text("{% block user %}How{% endblock %\n")
    result = cli(sample_ws, "compile")
    assert result.exit_code == 2 and "E060" in result.stderr and "syntax error" in result.stderr
    bad.write_text("{% block user %}How?{% endblock %}{% block assistant %}TODO{% endblock %}")
    result = cli(sample_ws, "compile")
    assert result.exit_code == 2 and "E061" in result.stderr and "relation:rel:" in result.stderr
    assert os.readlink(sample_ws / "build/latest") == latest
    assert sorted(p.name for p in (sample_ws / "build").iterdir() if not p.name.startswith(".")) == [latest, "latest"]


def test_renderer_version_rebuilds_exactly_its_examples(sample_ws, cli, monkeypatch):
    import dataclasses

    from syllabus.compile import renderers

    compile_json(cli, sample_ws)
    before = examples(sample_ws)
    chain = next(r for r in renderers.BUILTIN if r.name == "chain")
    bumped = tuple(dataclasses.replace(r, version=chain.version + 1) if r is chain else r for r in renderers.BUILTIN)
    monkeypatch.setattr(renderers, "BUILTIN", bumped)
    report = compile_json(cli, sample_ws)
    chain_ids = {r["id"] for r in before if r["provenance"]["renderer"] == chain.ref}
    changed = {c["old_id"] for c in report["changes"]}
    dropped = {json.loads(x)["id"] for x in (sample_ws / "build" / plan_parent(sample_ws) / "dropped.jsonl")
               .read_text().splitlines()}
    assert changed - dropped == chain_ids
    assert {r["provenance"]["renderer"] for r in examples(sample_ws) if r["task"] == "chain.explain"} == {
        f"chain@{chain.version + 1}"}


def test_selection_leaves_unselected_units_stale_until_selected(sample_ws, cli):
    compile_json(cli, sample_ws)
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    only = compile_json(cli, sample_ws, "--select", "concept:phys:Acceleration")
    assert {c["unit"] for c in only["changes"]} == {"concept:phys:Acceleration"}
    assert only["pending"]  # siblings' true/false and relation examples wait
    plus = compile_json(cli, sample_ws, "--plan", "--select", "concept:phys:Acceleration+")
    units = {c["unit"] for c in plus["changes"]}
    assert any(u.startswith("relation:") for u in units) and "concept:phys:Velocity" not in units
    rest = compile_json(cli, sample_ws, "--select", "state:modified")
    assert rest["changes"] and not rest["pending"]
    assert compile_json(cli, sample_ws)["up_to_date"]
    bad = cli(sample_ws, "compile", "--select", "concept:phys:NoSuchThing")
    assert bad.exit_code == 2 and "E062" in bad.stderr
    bad = cli(sample_ws, "compile", "--select", "colour:blue")
    assert bad.exit_code == 2 and "E062" in bad.stderr


def test_discipline_selection(sample_ws, cli):
    report = compile_json(cli, sample_ws, "--discipline", "biology")
    assert {r["discipline"] for r in examples(sample_ws)} == {"biology"}
    assert report["pending"]
    report = compile_json(cli, sample_ws)
    assert {r["discipline"] for r in examples(sample_ws)} == {"biology", "chemistry", "physics"}


def test_explain_names_renderer_template_units_and_evidence_lines(sample_ws, cli):
    compile_json(cli, sample_ws)
    row = next(r for r in examples(sample_ws) if r["task"] == "relation.how_related" and r["provenance"]["evidence"])
    result = cli(sample_ws, "explain", row["id"], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["renderer"] == "relation@2" and data["template"].startswith("relation/how_related/")
    assert {u["unit"] for u in data["units"]} == set(row["provenance"]["dependencies"])
    assert not any(u["stale"] for u in data["units"])
    ev = data["evidence"][0]
    assert ev["document"].startswith("corpora/") and ev["line"] >= 1 and ev["sentence"]
    source = (sample_ws / ev["document"]).read_text(encoding="utf-8").splitlines()
    assert ev["sentence"].split()[0] in source[ev["line"] - 1]
    text = cli(sample_ws, "explain", row["id"])
    assert f"{ev['document']}:{ev['line']}" in text.stdout
    missing = cli(sample_ws, "explain", "ex-00000000000000000000000000000000")
    assert missing.exit_code == 2 and "E071" in missing.stderr


def test_builds_list_and_diff(sample_ws, cli):
    first = compile_json(cli, sample_ws)["build"]
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    second = compile_json(cli, sample_ws)["build"]
    listed = json.loads(cli(sample_ws, "builds", "list", "--json").stdout)
    assert [b["id"] for b in listed] == [first, second] and listed[1]["parent"] == first
    diff = json.loads(cli(sample_ws, "builds", "diff", first, second, "--json").stdout)
    assert diff["changed"] > 0 and diff["unchanged"] > 1000
    assert all(k.startswith("physics/") for k in diff["by_discipline_task"]["changed"])
    assert cli(sample_ws, "builds", "diff", first, "9999-nothing").exit_code == 2


def test_export_every_format_from_the_cli(sample_ws, cli, tmp_path):
    compile_json(cli, sample_ws)
    n = len(examples(sample_ws))
    for fmt in ("openai", "sharegpt", "alpaca", "parquet"):
        out = tmp_path / fmt
        result = cli(sample_ws, "export", "--format", fmt, "--out", str(out), "--validation", "0.1", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["counts"]["train"] + report["counts"]["validation"] == n
    lines = (tmp_path / "openai" / "train.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["messages"][0]["role"] == "system"
    bad = cli(sample_ws, "export", "--format", "csv", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 2 and "E072" in bad.stderr


def _run(ws: Path, *args, env=None):
    return subprocess.run([sys.executable, "-m", "syllabus.cli.main", "--workspace", str(ws), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)


@pytest.mark.parametrize("point", ["writing", "staged", "committed"])
def test_a_compile_killed_midway_leaves_the_previous_build_and_the_next_compile_completes(sample_ws, cli, point,
                                                                                          tmp_path):
    first = compile_json(cli, sample_ws)
    latest = sample_ws / "build" / "latest"
    before = sha(latest)
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    killed = _run(sample_ws, "compile", env={"SYLLABUS_FAILPOINT": point})
    assert killed.returncode == -9, killed.stderr
    assert os.readlink(latest) == first["build"] and sha(latest) == before
    done = _run(sample_ws, "compile", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout[done.stdout.index("{"):])
    assert not list((sample_ws / "build").glob(".tmp-*"))
    assert os.readlink(latest) != first["build"]
    if point == "committed":  # the store had committed: the staged build is published, nothing left to do
        assert "published" in done.stdout and report["up_to_date"]
    else:
        assert report["counts"]["changed"] > 0
    clean = clean_compile(sample_ws, cli, tmp_path / "clean")
    assert sha(clean / "build/latest") == sha(latest)


def _journal_mode(ws: Path) -> str:
    """The store file's journal mode as a plain connection finds it (no switch to WAL on opening)."""
    conn = sqlite3.connect(load_workspace(ws).store_url.removeprefix("sqlite:///"))
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_a_compile_from_nothing_writes_with_a_rollback_journal_and_leaves_the_store_in_wal(sample_ws, cli):
    from syllabus.compile.pipeline import build_root, run_compile

    ws = load_workspace(sample_ws)
    modes = []

    def note_mode(session):
        modes.append(session.execute(text_sql("PRAGMA journal_mode")).scalar())

    run_compile(ws, root=build_root(ws), prepare=note_mode)
    assert _journal_mode(sample_ws) == "wal"
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")
    incremental = run_compile(ws, root=build_root(ws), prepare=note_mode)  # the store stays in WAL
    assert incremental.compiled.counts["changed"] > 0
    run_compile(ws, root=build_root(ws), plan=True, prepare=note_mode)
    assert modes == ["delete", "wal", "wal"]
    assert _journal_mode(sample_ws) == "wal"


@pytest.mark.parametrize("point", ["writing", "staged"])
def test_a_compile_from_nothing_killed_midway_leaves_an_empty_store_and_the_next_compile_completes(sample_ws, cli,
                                                                                                    point, tmp_path):
    killed = _run(sample_ws, "compile", env={"SYLLABUS_FAILPOINT": point})
    assert killed.returncode == -9, killed.stderr
    db = load_workspace(sample_ws).store_url.removeprefix("sqlite:///")
    assert Path(db + "-journal").is_file()  # the killed compile's rows are in the file, the old pages here
    assert _journal_mode(sample_ws) == "delete"
    st = open_store(load_workspace(sample_ws).store_url)  # the next connection rolls the journal back
    with st.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Example)) == 0
        assert s.scalar(select(func.count()).select_from(ExampleDep)) == 0
        assert s.execute(text_sql("PRAGMA integrity_check")).scalar() == "ok"
    st.close()
    assert _journal_mode(sample_ws) == "wal" and not Path(db + "-journal").exists()
    assert not [p for p in (sample_ws / "build").iterdir() if p.name == "latest" or p.name[0].isdigit()]
    done = _run(sample_ws, "compile", "--json")
    assert done.returncode == 0, done.stderr
    assert not list((sample_ws / "build").glob(".tmp-*"))
    clean = clean_compile(sample_ws, cli, tmp_path / "clean")
    assert sha(clean / "build/latest") == sha(sample_ws / "build/latest")


def test_a_command_kept_out_by_a_compile_from_nothing_fails_with_a_coded_error(sample_ws, cli):
    compile_json(cli, sample_ws)
    writer = sqlite3.connect(load_workspace(sample_ws).store_url.removeprefix("sqlite:///"), isolation_level=None)
    try:  # what a compile from nothing holds once its rows spill from the cache: the file, exclusively
        writer.execute("PRAGMA journal_mode=DELETE")
        writer.execute("BEGIN EXCLUSIVE")
        result = cli(sample_ws, "builds", "list")
        assert result.exit_code == 2 and "E014" in result.stderr and "busy" in result.stderr
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert cli(sample_ws, "builds", "list").exit_code == 0
    assert _journal_mode(sample_ws) == "wal"


def test_a_write_error_while_staging_is_coded_and_changes_nothing(sample_ws, cli, monkeypatch):
    import errno

    from syllabus.compile import output

    first = compile_json(cli, sample_ws)
    latest = sample_ws / "build" / "latest"
    before = sha(latest)
    edit_definition(sample_ws, "The rate at which the velocity of a body changes with time", "Velocity's rate of change")
    cli(sample_ws, "ontology", "import")

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "_write_index_and_manifest", full_disk)  # fails while the lines are copied
    result = cli(sample_ws, "compile")
    assert result.exit_code == 2 and "E074" in result.stderr and "No space left" in result.stderr
    assert not list((sample_ws / "build").glob(".tmp-*"))
    assert os.readlink(latest) == first["build"] and sha(latest) == before
    assert [b.name for b in (sample_ws / "build").iterdir() if b.name[0].isdigit()] == [first["build"]]
    monkeypatch.undo()
    assert compile_json(cli, sample_ws)["counts"]["changed"] > 0


def test_a_failure_of_the_background_store_write_rolls_the_whole_compile_back(sample_ws, cli, monkeypatch):
    from syllabus.compile import output

    def failing(dbapi, statements):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(output, "_run_sql", failing)  # the first compile streams its rows: the thread is used
    with pytest.raises(RuntimeError, match="the disk is full"):
        cli(sample_ws, "compile")
    assert not [p for p in (sample_ws / "build").iterdir() if p.name != ".lock"]
    st = open_store(load_workspace(sample_ws).store_url)
    with st.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Example)) == 0
        assert s.scalar(select(func.count()).select_from(ExampleDep)) == 0
    st.close()
    assert_example_indexes(sample_ws)  # dropped for the inserts, back with the rollback
    monkeypatch.undo()
    report = compile_json(cli, sample_ws)
    assert report["counts"]["new"] > 1000
    assert_dependency_index_matches(sample_ws)


def test_a_second_compile_waits_or_fails_with_a_coded_error(sample_ws, cli):
    from syllabus.compile.output import compile_lock

    with compile_lock(sample_ws / "build"):
        result = cli(sample_ws, "compile", "--wait", "0.3")
        assert result.exit_code == 2 and "E063" in result.stderr and str(os.getpid()) in result.stderr
    assert compile_json(cli, sample_ws, "--wait", "1")["build"]


def test_a_deleted_build_folder_is_rebuilt_in_full(sample_ws, cli, tmp_path):
    first = compile_json(cli, sample_ws)
    before = sha(sample_ws / "build/latest")
    shutil.rmtree(sample_ws / "build")
    again = compile_json(cli, sample_ws)
    assert again["counts"]["rendered"] == first["counts"]["rendered"]
    assert sha(sample_ws / "build/latest") == before


def test_forked_workers_compile_byte_identical_builds(sample_ws, cli, tmp_path, monkeypatch):
    """Workers share a compile's units; units a worker cannot see without the store go back to the parent."""
    import zlib

    import syllabus.compile.build as build
    import syllabus.compile.workers as workers
    from syllabus.compile.graph import Graph

    real_preload = Graph.preload

    def preload_leaving_some_out(self, discipline):  # every other concept must then be read from the store
        real_preload(self, discipline)
        for cid in [c for c in self._concepts if zlib.crc32(c.encode()) % 2]:
            del self._concepts[cid]

    deferred = []  # per block of results: the units a worker handed back
    fingerprinted = []  # the units of each part fingerprinted as the graph loads
    real_map, real_map_as_loaded = build.map_blocks, build.map_as_loaded

    def counting_map(fn, blocks, n, detach, forked=None):
        for result in real_map(fn, blocks, n, detach, forked):
            deferred.append(len(result.deferred))
            yield result

    def counting_map_as_loaded(fn, parts, n, detach, min_items):
        def recorded():
            for items in parts:
                fingerprinted.append(list(items))
                yield items
        for result in real_map_as_loaded(fn, recorded(), n, detach, min_items):
            deferred.append(len(result.deferred))
            yield result

    graphs = []  # Graph objects made in this (the parent) process
    real_init = Graph.__init__

    def counting_init(self, *args, **kwargs):
        graphs.append(os.getpid())
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Graph, "__init__", counting_init)
    monkeypatch.setattr(Graph, "preload", preload_leaving_some_out)
    monkeypatch.setattr(build, "map_blocks", counting_map)
    monkeypatch.setattr(build, "map_as_loaded", counting_map_as_loaded)
    monkeypatch.setattr(build, "PARALLEL_MIN_UNITS", 1)
    monkeypatch.setattr(workers, "BLOCK_UNITS", 97)
    serial = tmp_path / "serial"
    shutil.copytree(sample_ws, serial, symlinks=True)
    one = compile_json(cli, serial, "--workers", "1")
    assert sum(deferred) == 0 and graphs == [os.getpid()]
    graphs.clear()
    fingerprinted.clear()
    two = compile_json(cli, sample_ws, "--workers", "2")
    assert sum(deferred) > 0 and len(deferred) > 2  # several blocks, some units done by the parent
    # once the render workers are forked, the parent lets the loaded graph go and loads on demand
    assert graphs == [os.getpid(), os.getpid()]
    # each discipline's units were fingerprinted (forked) as soon as it was loaded, one part each
    store = sqlite3.connect(sample_ws / ".syllabus" / "store.db")
    discipline = dict(store.execute("SELECT key, discipline FROM unit"))
    store.close()
    parts = [units for units in fingerprinted if units]
    assert len(parts) == len(set(discipline.values())) > 1
    assert all(len({discipline[k] for k in units}) == 1 for units in parts)
    assert sorted(k for units in parts for k in units) == sorted(discipline)
    assert one["counts"] == two["counts"] and one["changes"] == two["changes"]
    for name in (".", "dropped.jsonl", "manifest.json"):  # "." : the build's kept examples
        assert sha(serial / "build/latest" / name) == sha(sample_ws / "build/latest" / name)
    assert_dependency_index_matches(sample_ws)
    assert not list((sample_ws / "build").glob(".tmp-*"))  # the spool folder is gone
    # an error raised in a worker reaches the parent as the same coded error, and nothing changes
    latest = os.readlink(sample_ws / "build/latest")
    bad = sample_ws / "templates" / "relation" / "how_related" / "1.j2"
    bad.parent.mkdir(parents=True)
    bad.write_text("{% block user %}How?{% endblock %}\n{% block assistant %}\n{{ no_such_variable }}{% endblock %}\n")
    result = cli(sample_ws, "compile", "--workers", "2")
    assert result.exit_code == 2 and "E060" in result.stderr and "relation/how_related/1.j2:3" in result.stderr
    assert os.readlink(sample_ws / "build/latest") == latest
    assert not list((sample_ws / "build").glob(".tmp-*"))


def test_templates_compiled_to_python_give_the_build_jinja_gives(sample_ws, cli, tmp_path, monkeypatch):
    import syllabus.compile.templates as templates
    from syllabus.compile.templates import Templates

    by_jinja = []  # the template of each example Jinja's own runtime rendered
    real_context = templates.new_context
    monkeypatch.setattr(templates, "new_context", lambda env, name, *a, **k: by_jinja.append(name)
                        or real_context(env, name, *a, **k))
    fast = clean_compile(sample_ws, cli, tmp_path / "fast")
    assert by_jinja == []  # every example of the sample went through the compiled code
    monkeypatch.setattr(Templates, "_compile_code", lambda self, name: None)
    jinja = clean_compile(sample_ws, cli, tmp_path / "jinja")
    assert by_jinja  # and now through Jinja
    for name in (".", "dropped.jsonl", "manifest.json"):
        assert sha(fast / "build/latest" / name) == sha(jinja / "build/latest" / name)
